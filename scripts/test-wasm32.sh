#!/usr/bin/env bash
# The host-free core's tests compiled to wasm32-wasip1 and run inside V8 (Node's, through
# node:wasi): 32-bit usize, wasm's allocator and codegen, the engine Envoy runs the module in.
# Every test of the filter crate runs (unit tests and tests/*.rs); the host shell compiles too
# but has no host there (its calls fail cleanly, as natively). fastjson's tests run once more
# with WebAssembly SIMD (its string scan's other path).
#
# Toolchain as scripts/build-wasm.sh: rustup's wasm32-wasip1 target, else Debian's rustc-web
# with std (and libtest) built from source. Needs Node >= 20 (node:wasi).
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=wasm32-wasip1
RUNNER="node $PWD/scripts/wasi-runner.cjs"
export NODE_NO_WARNINGS=1   # node:wasi is "experimental": no warning per test binary
command -v node >/dev/null || { echo "test-wasm32: node (>= 20) is needed" >&2; exit 1; }

have_rustup_target() {
  command -v rustup >/dev/null 2>&1 && rustup target list --installed 2>/dev/null | grep -qx "$TARGET"
}
choice="${WASM_TOOLCHAIN:-}"
if [ -z "$choice" ]; then
  if have_rustup_target || { command -v rustup >/dev/null 2>&1 && timeout 60 rustup target add "$TARGET" >/dev/null 2>&1 && have_rustup_target; }; then
    choice=rustup
  else
    choice=debian
  fi
fi
case "$choice" in
  rustup)
    CARGO_TARGET_WASM32_WASIP1_RUNNER="$RUNNER" CARGO_TARGET_DIR=target/wasm32-test \
      "$(rustup which cargo)" test --target "$TARGET" -p bedrock-bridge "$@"
    # fastjson's string scan has a WebAssembly SIMD path (the module is built with simd128).
    RUSTFLAGS="-Ctarget-feature=+simd128" CARGO_TARGET_WASM32_WASIP1_RUNNER="$RUNNER" \
      CARGO_TARGET_DIR=target/wasm32-test-simd "$(rustup which cargo)" test --target "$TARGET" -p fastjson --quiet
    ;;
  debian)
    scripts/build-wasm.sh >/dev/null   # installs Debian's toolchain when it is missing
    PATH=/usr/bin:$PATH RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 \
      CARGO_TARGET_WASM32_WASIP1_LINKER=wasm-ld-19 RUSTFLAGS="-L /usr/lib/wasm32-wasi" \
      CARGO_TARGET_WASM32_WASIP1_RUNNER="$RUNNER" CARGO_TARGET_DIR=target/wasm32-test-debian \
      /usr/bin/cargo test --target "$TARGET" -p bedrock-bridge -Z build-std=std,panic_abort,test "$@"
    PATH=/usr/bin:$PATH RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 \
      CARGO_TARGET_WASM32_WASIP1_LINKER=wasm-ld-19 RUSTFLAGS="-L /usr/lib/wasm32-wasi -Ctarget-feature=+simd128" \
      CARGO_TARGET_WASM32_WASIP1_RUNNER="$RUNNER" CARGO_TARGET_DIR=target/wasm32-test-debian-simd \
      /usr/bin/cargo test --target "$TARGET" -p fastjson --quiet -Z build-std=std,panic_abort,test
    ;;
  *) echo "WASM_TOOLCHAIN must be rustup or debian" >&2; exit 2 ;;
esac
