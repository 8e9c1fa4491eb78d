#!/usr/bin/env bash
# Build the release filter module into dist/bedrock_bridge.wasm (wasm32-wasip1).
#
# Toolchain choice (override with WASM_TOOLCHAIN=rustup|debian):
#  - rustup, when it has the wasm32-wasip1 target or can add it within 60 s (a laptop);
#  - otherwise Debian's rustc-web/cargo-web + rust-web-src + lld-19 + wasi-libc, building std
#    from source (machines whose network reaches only package registries). Installed on demand.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=wasm32-wasip1
OUT=dist/bedrock_bridge.wasm
choice="${WASM_TOOLCHAIN:-}"

have_rustup_target() {
  command -v rustup >/dev/null 2>&1 && rustup target list --installed 2>/dev/null | grep -qx "$TARGET"
}

if [ -z "$choice" ]; then
  if have_rustup_target; then
    choice=rustup
  elif command -v rustup >/dev/null 2>&1 && timeout 60 rustup target add "$TARGET" >/dev/null 2>&1 && have_rustup_target; then
    choice=rustup
  else
    choice=debian
  fi
fi

mkdir -p dist
# Size: std is rebuilt for the module (build-std) with `optimize_for_size`, and panics abort at
# once (`-C panic=immediate-abort`): no panic message formatting is linked in. The filter never
# panics by design (a panic traps the VM either way); what is lost is only the panic message in
# Envoy's log. Both are nightly flags, enabled on the stable toolchain with RUSTC_BOOTSTRAP=1.
# 700 KB -> 611 KB with all front doors (measured 2026-11-29).
# SHA-256 (SigV4 hashes the whole body) is built for speed: sha2 at opt-level 3 (Cargo.toml), never
# its compact backend (7 KB smaller, but then a third of the module's CPU for a 300 KiB request).
# WebAssembly SIMD (`+simd128`, in every V8 since 9.1, so in every Envoy the filter supports): sha2
# then compresses with its wasm32 SIMD backend (0.92 against 1.40 ms for 310 KB with its software
# one, in V8), fastjson scans strings 16 bytes at a time, and the module is smaller (758,908 ->
# 741,716 B on 2026-12-07; -0.1 to -0.3 ms per 300 KiB request in V8, bench/v8/request.js).
SIZE_STD=(-Z build-std=std,panic_abort -Z build-std-features=optimize_for_size)
SIZE_RUSTFLAGS='-Zunstable-options -Cpanic=immediate-abort -Ctarget-feature=+simd128'
case "$choice" in
  rustup)
    echo "build-wasm: rustup toolchain ($(rustup which cargo))" >&2
    sysroot="$(rustup which rustc | xargs dirname)/.."
    if [ -d "$sysroot/lib/rustlib/src/rust/library" ] || timeout 90 rustup component add rust-src >/dev/null 2>&1; then
      RUSTC_BOOTSTRAP=1 RUSTFLAGS="$SIZE_RUSTFLAGS" CARGO_TARGET_DIR=target/rustup-wasm \
        "$(rustup which cargo)" build --release --target "$TARGET" -p bedrock-bridge "${SIZE_STD[@]}"
    else
      echo "build-wasm: rust-src unavailable: std not rebuilt (a larger module)" >&2
      CARGO_TARGET_DIR=target/rustup-wasm "$(rustup which cargo)" build --release --target "$TARGET" -p bedrock-bridge
    fi
    cp target/rustup-wasm/$TARGET/release/bedrock_bridge.wasm "$OUT.tmp"
    ;;
  debian)
    need=()
    [ -x /usr/bin/cargo ] && /usr/bin/rustc --print sysroot >/dev/null 2>&1 || need+=(rustc-web cargo-web)
    [ -d /usr/lib/rustlib/src/rust/library ] || [ -d "$(/usr/bin/rustc --print sysroot 2>/dev/null)/lib/rustlib/src/rust/library" ] || need+=(rust-web-src)
    command -v wasm-ld-19 >/dev/null 2>&1 || need+=(lld-19)
    command -v wasm-opt >/dev/null 2>&1 || need+=(binaryen)
    [ -f /usr/lib/wasm32-wasi/libc.a ] || need+=(wasi-libc)
    if [ ${#need[@]} -gt 0 ]; then
      echo "build-wasm: installing ${need[*]} from Debian" >&2
      SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
      $SUDO apt-get update -qq
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq rustc-web cargo-web rust-web-src lld-19 wasi-libc binaryen >/dev/null
    fi
    echo "build-wasm: Debian toolchain ($(/usr/bin/rustc --version)), std built from source" >&2
    PATH=/usr/bin:$PATH RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 \
      CARGO_TARGET_WASM32_WASIP1_LINKER=wasm-ld-19 \
      RUSTFLAGS="-L /usr/lib/wasm32-wasi $SIZE_RUSTFLAGS" \
      CARGO_TARGET_DIR=target/debian-wasm \
      /usr/bin/cargo build --release --target "$TARGET" -p bedrock-bridge "${SIZE_STD[@]}"
    cp target/debian-wasm/$TARGET/release/bedrock_bridge.wasm "$OUT.tmp"
    ;;
  *) echo "WASM_TOOLCHAIN must be rustup or debian" >&2; exit 2 ;;
esac
# binaryen's wasm-opt shrinks the module by ~20% (622 KB -> ~500 KB); install it where apt exists.
if ! command -v wasm-opt >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  echo "build-wasm: installing binaryen (wasm-opt) from Debian" >&2
  { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq binaryen >/dev/null; } || true
fi
if command -v wasm-opt >/dev/null 2>&1; then
  wasm-opt -Oz --enable-simd --enable-bulk-memory --enable-sign-ext --enable-nontrapping-float-to-int \
    --enable-mutable-globals "$OUT.tmp" -o "$OUT.opt" && mv "$OUT.opt" "$OUT.tmp"
else
  echo "build-wasm: wasm-opt not found (Debian/Ubuntu: apt-get install binaryen); module left as built" >&2
fi
# Replace the module atomically: a running Envoy (or test) never reads a half-written file.
mv "$OUT.tmp" "$OUT"
echo "build-wasm: $OUT $(stat -c %s "$OUT" 2>/dev/null || wc -c <"$OUT") bytes, $(gzip -9c "$OUT" | wc -c) gzipped" >&2
