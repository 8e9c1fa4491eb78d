#!/usr/bin/env python3
"""Teach a Limitador source tree (commit 2981b2b) the descriptor-level `hits_addend`.

Envoy (1.35 and later) sends the tokens of a stream-end charge as the descriptor's own
`RateLimitDescriptor.hits_addend` (field 3, a `google.protobuf.UInt64Value`); Limitador at
2981b2b vendors an older copy of that proto and reads only the request-level `hits_addend`, so
each charge would count one hit. This script, run by scripts/limitador.sh before the build:

1. adds field 3 to the vendored `RateLimitDescriptor` message, and
2. makes the Envoy RLS handler use the largest descriptor-level value when any descriptor
   carries one (Envoy's rule: a descriptor's value overrides the request's), else the
   request-level value as before, and
3. builds RocksDB (linked for the disk storage the tests never use) without its compression
   libraries (snappy, lz4, zstd, zlib, bzip2: C code compiled from source), to shorten the build.

It edits three files in place and fails loudly when an anchor is missing (another commit), so a
changed upstream never builds silently unpatched. Usage: limitador-hits-addend.py <limitador dir>
"""
import pathlib
import sys

PROTO = "limitador-server/vendor/protobufs/data-plane-api/envoy/extensions/common/ratelimit/v3/ratelimit.proto"
SERVER = "limitador-server/src/envoy_rls/server.rs"
LIB_MANIFEST = "limitador/Cargo.toml"


def edit(path: pathlib.Path, edits: list[tuple[str, str]]) -> None:
    text = path.read_text()
    for anchor, replacement in edits:
        if replacement in text:
            continue  # already patched
        if text.count(anchor) != 1:
            sys.exit(f"limitador-hits-addend: anchor not found once in {path}: {anchor!r}")
        text = text.replace(anchor, replacement)
    path.write_text(text)


def main() -> None:
    root = pathlib.Path(sys.argv[1])
    edit(
        root / PROTO,
        [
            (
                'import "envoy/type/v3/ratelimit_unit.proto";',
                'import "envoy/type/v3/ratelimit_unit.proto";\nimport "google/protobuf/wrappers.proto";',
            ),
            (
                "RateLimitOverride limit = 2;\n}",
                "RateLimitOverride limit = 2;\n\n  // Added by bedrock-bridge's build: Envoy's per-descriptor hits.\n"
                "  google.protobuf.UInt64Value hits_addend = 3;\n}",
            ),
        ],
    )
    edit(
        root / LIB_MANIFEST,
        [
            (
                'rocksdb = { version = "0.22", optional = true, features = ["multi-threaded-cf"] }',
                'rocksdb = { version = "0.22", optional = true, default-features = false, features = ["multi-threaded-cf"] }',
            ),
        ],
    )
    edit(
        root / SERVER,
        [
            (
                "let hits_addend = if req.hits_addend == 0 {",
                "let descriptor_hits = req.descriptors.iter().filter_map(|d| d.hits_addend).max();\n"
                "        let hits_addend = if let Some(hits) = descriptor_hits {\n"
                "            hits as u32\n"
                "        } else if req.hits_addend == 0 {",
            ),
        ],
    )


if __name__ == "__main__":
    main()
