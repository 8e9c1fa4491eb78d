#!/usr/bin/env bash
# Prints the bin directory of wasm-bindgen-cli (wasm-bindgen-test-runner), installing it first when
# it is missing. The CLI must be the exact `wasm-bindgen` version Cargo.lock resolves (pulled in by
# `wasm-bindgen-test`), so the cache is keyed by that version:
#   ${WASM_BINDGEN_CACHE:-~/.cache}/wasm-bindgen-cli-<version>/bin
# A fresh machine builds it once (~7 min on 2 cores); later runs (and CI on the same machine)
# reuse it. Installed without `--locked`: the CLI's own lockfile asks for a crate version the
# registry does not serve (see ../shared/TOOLCHAIN.md).
set -euo pipefail
cd "$(dirname "$0")/.."
version="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)"
if [ -z "$version" ]; then
  echo "wasm-bindgen-cli: Cargo.lock resolves no wasm-bindgen (is wasm-bindgen-test a dev-dependency?)" >&2
  exit 1
fi
root="${WASM_BINDGEN_CACHE:-$HOME/.cache}/wasm-bindgen-cli-$version"
runner="$root/bin/wasm-bindgen-test-runner"
if [ ! -x "$runner" ] || ! "$runner" --version 2>/dev/null | grep -q "$version"; then
  echo "wasm-bindgen-cli: installing $version into $root (one time, several minutes)" >&2
  CARGO="$(command -v rustup >/dev/null 2>&1 && rustup which cargo 2>/dev/null || command -v cargo)"
  # Into a temporary root first: an interrupted build never leaves a half-installed cache.
  rm -rf "$root.tmp"
  nice -n 5 "$CARGO" install wasm-bindgen-cli --version "=$version" --root "$root.tmp" --quiet >&2
  rm -rf "$root"
  mv "$root.tmp" "$root"
fi
echo "$root/bin"
