#!/usr/bin/env bash
# Debian packages the e2e tests need, installed when missing (so `make test` runs them instead of
# skipping): skopeo (tests/e2e/test_image.py reads and copies the OCI layout), iproute2 and
# util-linux (`ip`, `unshare`: the instance-profile IMDS test in its own network namespace),
# redis-server (the global token limit test's Limitador store), protobuf-compiler and libclang-dev
# (building Limitador: scripts/limitador.sh).
set -euo pipefail
need=()
command -v skopeo >/dev/null 2>&1 || need+=(skopeo)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v unshare >/dev/null 2>&1 || need+=(util-linux)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v protoc >/dev/null 2>&1 || need+=(protobuf-compiler)
# libclang itself (bindgen loads it), not libclang-cpp, which other packages bring
ls /usr/lib/llvm-*/lib/libclang.so* >/dev/null 2>&1 || need+=(libclang-dev)
[ ${#need[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-test-tools: install ${need[*]} with your package manager" >&2
  exit 1
fi
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
echo "install-test-tools: installing ${need[*]} from Debian" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
