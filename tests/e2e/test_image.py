"""`make image` (scripts/build-oci.py): the OCI image layout is read back the way Istio's and Envoy
Gateway's image fetchers read a pulled image (manifest -> last layer, OCI tar+gzip -> the file
`plugin.wasm`), every blob matches its digest, the module bytes are the built module's, and two
builds are byte-identical. With skopeo installed (Debian `skopeo`), skopeo must read it too."""

import gzip
import hashlib
import io
import json
import shutil
import subprocess
import sys
import tarfile

import pytest

from harness import ROOT, WASM

SCRIPT = ROOT / "scripts" / "build-oci.py"


def build(out, tag="test"):
    subprocess.run([sys.executable, str(SCRIPT), "--wasm", str(WASM), "--out", str(out), "--tag", tag],
                   check=True, capture_output=True)


def blob(layout, desc):
    algo, hexd = desc["digest"].split(":")
    data = (layout / "blobs" / algo / hexd).read_bytes()
    assert algo == "sha256" and hashlib.sha256(data).hexdigest() == hexd, desc
    assert len(data) == desc["size"], desc
    return data


def read_module(layout, tag):
    assert json.loads((layout / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}
    index = json.loads((layout / "index.json").read_text())
    [entry] = [m for m in index["manifests"] if m["annotations"]["org.opencontainers.image.ref.name"] == tag]
    assert entry["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    manifest = json.loads(blob(layout, entry))
    assert manifest["schemaVersion"] == 2
    config = json.loads(blob(layout, manifest["config"]))
    assert manifest["config"]["mediaType"] == "application/vnd.oci.image.config.v1+json"
    # Istio: not a Docker manifest, so the "compat" variant: the last layer, OCI tar+gzip.
    [layer] = manifest["layers"]
    assert layer["mediaType"] == "application/vnd.oci.image.layer.v1.tar+gzip"
    compressed = blob(layout, layer)
    tar_bytes = gzip.decompress(compressed)
    assert config["rootfs"]["diff_ids"] == ["sha256:" + hashlib.sha256(tar_bytes).hexdigest()]
    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tar:
        members = tar.getmembers()
        assert [m.name for m in members] == ["plugin.wasm"]
        return tar.extractfile(members[0]).read()


def test_image_layout_holds_the_module_and_is_reproducible(tmp_path):
    module = WASM.read_bytes()
    build(tmp_path / "a", tag="1.2.3")
    build(tmp_path / "b", tag="1.2.3")
    assert read_module(tmp_path / "a", "1.2.3") == module
    files = lambda d: {p.relative_to(d).as_posix(): p.read_bytes() for p in d.rglob("*") if p.is_file()}
    assert files(tmp_path / "a") == files(tmp_path / "b"), "two builds of the same module differ"
    assert len(files(tmp_path / "a")) == 5  # oci-layout, index.json, manifest, config, layer


def test_skopeo_reads_the_layout(tmp_path):
    # Not skipped when missing: `make e2e` installs it (scripts/install-test-tools.sh).
    assert shutil.which("skopeo"), "skopeo is not installed: run scripts/install-test-tools.sh (Debian package skopeo)"
    build(tmp_path / "oci", tag="1.2.3")
    out = subprocess.run(["skopeo", "inspect", "--raw", f"oci:{tmp_path / 'oci'}:1.2.3"],
                         check=True, capture_output=True, text=True).stdout
    assert json.loads(out)["layers"][0]["mediaType"] == "application/vnd.oci.image.layer.v1.tar+gzip"
    # Copy it as a push would (to a directory instead of a registry) and read the module back.
    subprocess.run(["skopeo", "copy", "-q", f"oci:{tmp_path / 'oci'}:1.2.3", f"oci:{tmp_path / 'copy'}:pushed"],
                   check=True, capture_output=True)
    assert read_module(tmp_path / "copy", "pushed") == WASM.read_bytes()
