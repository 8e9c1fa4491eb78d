#!/usr/bin/env python3
"""Write the filter module as an OCI image layout (dist/oci/: oci-layout, index.json,
blobs/sha256/...), without a container daemon and byte-for-byte reproducibly.

Format: the "compat" Wasm image that Istio's image fetcher (WasmPlugin `url: oci://...`) and Envoy
Gateway (EnvoyExtensionPolicy `code.type: Image`) accept: an OCI image manifest whose single layer
is a gzip tar holding one file, `plugin.wasm`. Every timestamp, owner and gzip header field is
fixed, so the same module always gives the same digests.

Push it with skopeo (no daemon):  skopeo copy oci:dist/oci:<version> docker://REGISTRY/bedrock-bridge:<version>

Usage: scripts/build-oci.py [--wasm dist/bedrock_bridge.wasm] [--out dist/oci] [--tag 0.1.0]
"""

import argparse
import gzip
import hashlib
import io
import json
import re
import shutil
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
CONFIG_TYPE = "application/vnd.oci.image.config.v1+json"
LAYER_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip"


def crate_version() -> str:
    m = re.search(r'^version\s*=\s*"([^"]+)"', (ROOT / "filter" / "Cargo.toml").read_text(), re.M)
    return m.group(1) if m else "latest"


def canonical(obj) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def layer_tar(module: bytes) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo("plugin.wasm")
        info.size, info.mode, info.mtime = len(module), 0o444, 0
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        tar.addfile(info, io.BytesIO(module))
    return buf.getvalue()


def gz(data: bytes) -> bytes:
    out = io.BytesIO()
    # mtime=0 and no file name in the header: the same input always gives the same bytes.
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, compresslevel=9, mtime=0) as f:
        f.write(data)
    return out.getvalue()


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def build(module: bytes, out: Path, tag: str) -> dict:
    tar = layer_tar(module)
    layer = gz(tar)
    config = canonical({
        "architecture": "wasm", "os": "wasip1",
        "config": {"Labels": {"org.opencontainers.image.title": "bedrock-bridge"}},
        "rootfs": {"type": "layers", "diff_ids": [digest(tar)]},
    })
    manifest = canonical({
        "schemaVersion": 2,
        "mediaType": MANIFEST_TYPE,
        "config": {"mediaType": CONFIG_TYPE, "digest": digest(config), "size": len(config)},
        "layers": [{"mediaType": LAYER_TYPE, "digest": digest(layer), "size": len(layer),
                    "annotations": {"org.opencontainers.image.title": "plugin.wasm"}}],
        "annotations": {"org.opencontainers.image.title": "bedrock-bridge",
                        "org.opencontainers.image.version": tag},
    })
    index = canonical({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": MANIFEST_TYPE, "digest": digest(manifest), "size": len(manifest),
                       "annotations": {"org.opencontainers.image.ref.name": tag}}],
    })
    if out.exists():
        shutil.rmtree(out)
    blobs = out / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    for blob in (layer, config, manifest):
        (blobs / digest(blob).split(":", 1)[1]).write_bytes(blob)
    (out / "oci-layout").write_bytes(canonical({"imageLayoutVersion": "1.0.0"}))
    (out / "index.json").write_bytes(index)
    return {"manifest": digest(manifest), "layer": digest(layer), "module_sha256": hashlib.sha256(module).hexdigest()}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--wasm", type=Path, default=ROOT / "dist" / "bedrock_bridge.wasm")
    ap.add_argument("--out", type=Path, default=ROOT / "dist" / "oci")
    ap.add_argument("--tag", default=crate_version())
    args = ap.parse_args()
    module = args.wasm.read_bytes()
    if module[:4] != b"\0asm":
        sys.exit(f"{args.wasm} is not a wasm module")
    info = build(module, args.out, args.tag)
    print(f"{args.out}: tag {args.tag}, manifest {info['manifest']}, plugin.wasm sha256 {info['module_sha256']}")


if __name__ == "__main__":
    main()
