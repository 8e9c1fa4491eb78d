#!/usr/bin/env bash
# Print the path of limitador-server (Kuadrant Limitador, commit 2981b2b), building it once per
# machine into a cache directory when it is missing. The e2e test of the global token limit
# (tests/e2e/test_global_limit.py) runs it against Redis.
#
# Before building, scripts/limitador-hits-addend.py teaches it Envoy's descriptor-level hits_addend
# (how Envoy sends a stream-end token charge). The build compiles RocksDB's C++ (librocksdb-sys),
# which the server always links; it builds unoptimised and without debug info (a test service),
# once per machine; afterwards this script returns at once.
# Needs cargo, protobuf-compiler (protoc) and libclang-dev (Debian package names).
#
# Source: $BEDROCK_BRIDGE_SHARED/vendor/limitador-2981b2b.tar.gz (../shared next to the repository
# by default), else a clone of github.com/Kuadrant/limitador at that commit.
set -euo pipefail
REV=2981b2bd389d42cf668519f9aa981a53541c4278
CACHE=${LIMITADOR_CACHE:-$HOME/.cache/limitador-2981b2b-hits}
BIN=$CACHE/bin/limitador-server
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${BEDROCK_BRIDGE_SHARED:-$ROOT/../shared}
TARBALL=$SHARED/vendor/limitador-2981b2b.tar.gz

if [ -x "$BIN" ]; then
  echo "$BIN"
  exit 0
fi
mkdir -p "$CACHE"
exec 9>"$CACHE/.build.lock"
flock 9 # one build at a time; a second caller waits and then finds the binary
if [ -x "$BIN" ]; then
  echo "$BIN"
  exit 0
fi
# The same cargo as the Makefile: rustup's when present, with its own rustc named explicitly
# (RUSTC): a dependency's rust-toolchain.toml (dashmap pins 1.65) must not send rustup's rustc
# proxy looking for another toolchain.
if command -v rustup >/dev/null 2>&1 && rustup which cargo >/dev/null 2>&1; then
  CARGO="$(rustup which cargo)"
  RUSTC="$(rustup which rustc)"
  export RUSTC
else
  CARGO="$(command -v cargo || true)"
fi
[ -n "$CARGO" ] || { echo "limitador.sh: cargo is required" >&2; exit 1; }
command -v protoc >/dev/null || { echo "limitador.sh: protoc is required (Debian: protobuf-compiler, libclang-dev)" >&2; exit 1; }
SRC=$CACHE/src
rm -rf "$SRC"
mkdir -p "$SRC"
if [ -f "$TARBALL" ]; then
  tar xzf "$TARBALL" -C "$SRC"
else
  git clone -q https://github.com/Kuadrant/limitador "$SRC/limitador"
  git -C "$SRC/limitador" checkout -q "$REV"
fi
start=$(date +%s)
python3 "$ROOT/scripts/limitador-hits-addend.py" "$SRC/limitador"
echo "limitador.sh: building limitador-server (once per machine)..." >&2
(cd "$SRC/limitador" && CARGO_PROFILE_DEV_DEBUG=0 CARGO_INCREMENTAL=0 nice -n 5 "$CARGO" build -p limitador-server >&2)
install -D -m 755 "$SRC/limitador/target/debug/limitador-server" "$BIN"
rm -rf "$SRC"
echo "limitador.sh: built in $(( $(date +%s) - start )) s: $BIN" >&2
echo "$BIN"
