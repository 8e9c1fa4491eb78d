#!/usr/bin/env bash
# The host-free core's tests under wasm-bindgen-test: compiled to wasm32-unknown-unknown and run by
# wasm-bindgen-test-runner in Node's V8 (no browser configured: Node mode). These test files carry
# `use wasm_bindgen_test::wasm_bindgen_test as test;` on that target, so the same tests run
# natively as plain #[test]s:
#   request, responses_request, anthropic_request (chat / Responses / Anthropic front doors),
#   exchange (the per-request state machine with the test host), embedded_fixtures (eventstream
#   decoder vectors and recorded streams, embedded with include_bytes!: this target has no
#   filesystem).
# Everything else (unit tests in src/, the fixture-directory tests, proptest) runs natively and
# under WASI (scripts/test-wasm32.sh), which has a filesystem.
#
# Prints the number of tests that passed. wasm-bindgen-cli comes from scripts/wasm-bindgen-cli.sh
# (installed once per machine, cached by version).
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=wasm32-unknown-unknown
TESTS=(--test request --test responses_request --test anthropic_request --test exchange --test embedded_fixtures)
command -v node >/dev/null || { echo "test-wasm-bindgen: node (>= 20) is needed" >&2; exit 1; }
bin="$(scripts/wasm-bindgen-cli.sh)"
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER="$bin/wasm-bindgen-test-runner"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

have_rustup_target() {
  command -v rustup >/dev/null 2>&1 && rustup target list --installed 2>/dev/null | grep -qx "$TARGET"
}
if have_rustup_target || { command -v rustup >/dev/null 2>&1 && timeout 60 rustup target add "$TARGET" >/dev/null 2>&1 && have_rustup_target; }; then
  CARGO_TARGET_DIR=target/wasm-bindgen-test \
    "$(rustup which cargo)" test --target "$TARGET" -p bedrock-bridge "${TESTS[@]}" "$@" 2>&1 | tee "$log"
else
  # Debian's toolchain (see scripts/build-wasm.sh), std and libtest built from source.
  scripts/build-wasm.sh >/dev/null
  PATH=/usr/bin:$PATH RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 \
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=wasm-ld-19 CARGO_TARGET_DIR=target/wasm-bindgen-test-debian \
    /usr/bin/cargo test --target "$TARGET" -p bedrock-bridge -Z build-std=std,panic_abort,test \
    "${TESTS[@]}" "$@" 2>&1 | tee "$log"
fi
passed="$(grep -Eo '[0-9]+ passed' "$log" | awk '{ n += $1 } END { print n + 0 }')"
echo "test-wasm-bindgen: $passed wasm-bindgen-test tests passed in Node's V8 (wasm32-unknown-unknown)"
[ "$passed" -gt 0 ]
