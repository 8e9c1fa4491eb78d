"""The filter configuration inside each shipped manifest (Istio EnvoyFilter, Envoy Gateway
EnvoyExtensionPolicy) is loaded by the real filter in real Envoy and serves a request: a typo or an
unknown field there would otherwise only show up in a user's cluster."""

import json
from pathlib import Path

import openai
import pytest
import yaml

from conftest import AKID, SECRET, TOKEN
from harness import ROOT

MANIFESTS = sorted((ROOT / "envoy").glob("*/*.yaml"))
AWS_KEYS = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_BEARER_TOKEN_BEDROCK"}


def wasm_configs(path: Path):
    """(filter JSON configuration, host env keys, allow_on_headers_stop_iteration) per wasm filter."""
    found = []
    for doc in yaml.safe_load_all(path.read_text()):
        if not doc:
            continue
        if doc["kind"] == "EnvoyFilter":
            for p in doc["spec"]["configPatches"]:
                value = p["patch"]["value"]
                if value.get("name") == "envoy.filters.http.wasm":
                    c = value["typed_config"]["config"]
                    assert c["vm_config"]["runtime"] == "envoy.wasm.runtime.v8"
                    found.append((json.loads(c["configuration"]["value"]),
                                  c["vm_config"]["environment_variables"]["host_env_keys"],
                                  c.get("allow_on_headers_stop_iteration")))
        elif doc["kind"] == "EnvoyExtensionPolicy":
            patched = any(d["kind"] == "EnvoyPatchPolicy" and any(
                op["operation"]["path"] == "/allow_on_headers_stop_iteration" and op["operation"]["value"] is True
                for op in d["spec"]["jsonPatches"]) for d in yaml.safe_load_all(path.read_text()) if d)
            for w in doc["spec"]["wasm"]:
                found.append((w["config"], w["env"]["hostKeys"], patched))
    return found


def test_every_manifest_is_found():
    names = {p.relative_to(ROOT / "envoy").as_posix() for p in MANIFESTS}
    assert {"istio/envoyfilter-gateway.yaml", "istio/envoyfilter-sidecar.yaml",
            "envoy-gateway/bedrock-bridge.yaml"} <= names, names
    for p in MANIFESTS:
        assert wasm_configs(p), f"{p}: no bedrock-bridge wasm filter found"


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.relative_to(ROOT / "envoy").as_posix())
def test_manifest_filter_config_serves_requests(path, sim, start_envoy):
    for cfg, env_keys, stop_iteration in wasm_configs(path):
        assert stop_iteration is True, f"{path}: allow_on_headers_stop_iteration must be set"
        assert AWS_KEYS <= set(env_keys), env_keys
        assert "credentials" not in cfg, "credentials belong in the environment, not in a manifest"
        sim.reset()
        # Credentials from the environment, as the manifests deliver them.
        e = start_envoy(cfg, env={"AWS_ACCESS_KEY_ID": AKID, "AWS_SECRET_ACCESS_KEY": SECRET,
                                  "AWS_SESSION_TOKEN": TOKEN})
        client = openai.OpenAI(base_url=e.base_url, api_key="x", max_retries=0, timeout=30)
        assert {m.id for m in client.models.list()} == set(cfg["models"])
        alias, target = next((a, t) for a, t in cfg["models"].items() if isinstance(t, str))
        r = client.chat.completions.create(model=alias, messages=[{"role": "user", "content": "ping"}])
        assert r.choices[0].message.content == "You said: ping"
        [req] = sim.requests
        assert req["signature_ok"], req
        assert req["path"].startswith("/model/" + target.replace(":", "%3A") + "/converse")
        assert req["headers"].get("host", req["headers"].get("Host")) == f"bedrock-runtime.{cfg['region']}.amazonaws.com"
