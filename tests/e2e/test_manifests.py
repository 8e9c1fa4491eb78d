"""Every shipped manifest (Istio EnvoyFilter, Envoy Gateway EnvoyExtensionPolicy + EnvoyPatchPolicy):

- validates against the real CRD schemas in ../shared/k8s-schemas (unknown fields rejected, as
  `kubectl apply --validate=strict` would); a missing schema directory fails in CI (CI=true);
- carries a filter configuration that the real filter loads in real Envoy and that serves a
  request, signed by the filter (static keys from the environment) or, for the "signing": "envoy"
  variants, by the Envoy signer block of the same manifest; the ECDS recipe is run through
  Envoy's extension config discovery, as istio-agent hands it over (module made local).
A typo or an unknown field would otherwise only show up in a user's cluster."""

import copy
import json
import os
import subprocess
from pathlib import Path

import openai
import pytest
import yaml

from conftest import AKID, SECRET, TOKEN
from harness import ROOT, SIGNER_EXCLUDED_HEADERS, WASM, Envoy, envoy_binary, signer_filter
from shipped import wasm_filters
from sim_mantle import start_mantle_sim

MANIFESTS = sorted((ROOT / "envoy").glob("*/*.yaml"))
AWS_KEYS = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_BEARER_TOKEN_BEDROCK"}
WASM_TYPE = "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm"
SIGNER = "envoy.filters.http.aws_request_signing"
SHARED = Path(os.environ.get("BEDROCK_BRIDGE_SHARED") or ROOT.parent / "shared")
SCHEMAS = SHARED / "k8s-schemas"
# Kubernetes' own kinds are not CRDs: no schema in k8s-schemas.
CORE_KINDS = {("v1", "ServiceAccount"), ("v1", "Service"), ("v1", "ConfigMap"), ("v1", "Secret"),
              ("apps/v1", "Deployment")}


def docs(path: Path):
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def upstream_wasm_config(c: dict) -> dict:
    """A wasm filter placed in a cluster's upstream filter chain (an EnvoyFilter CLUSTER patch or an
    EnvoyPatchPolicy's JSON patch value): its full Envoy config is there."""
    assert c["vm_config"]["runtime"] == "envoy.wasm.runtime.v8"
    return {"cfg": json.loads(c["configuration"]["value"]), "index": None, "wasm": None, "ecds": None,
            "fail_open": c.get("fail_open", False) or c.get("failure_policy") == "FAIL_OPEN",
            "env_keys": c["vm_config"].get("environment_variables", {}).get("host_env_keys", []),
            "stop_iteration": c.get("allow_on_headers_stop_iteration"), "upstream": True}


def wasm_configs(path: Path):
    """One dict per bedrock-bridge wasm filter: cfg (the filter's JSON configuration), env_keys,
    stop_iteration, and for EnvoyFilters the Wasm typed config and its ECDS name, if any."""
    found = []
    ds = docs(path)
    for doc in ds:
        if doc["kind"] == "EnvoyPatchPolicy":
            found += [upstream_wasm_config(c) for jp in doc["spec"]["jsonPatches"]
                      for c in wasm_filters(jp["operation"].get("value"))]
        if doc["kind"] == "EnvoyFilter":
            found += [upstream_wasm_config(c) for p in doc["spec"]["configPatches"] if p["applyTo"] == "CLUSTER"
                      for c in wasm_filters(p["patch"]["value"])]
            patches = doc["spec"]["configPatches"]
            ecds = {p["patch"]["value"]["name"]: p["patch"]["value"]["typed_config"]
                    for p in patches if p["applyTo"] == "EXTENSION_CONFIG"}
            for i, p in enumerate(patches):
                value = p["patch"]["value"]
                if p["applyTo"] != "HTTP_FILTER":
                    continue
                if value.get("name") == "envoy.filters.http.wasm":
                    wasm, ecds_name = value["typed_config"], None
                elif "config_discovery" in value:
                    assert value["config_discovery"]["type_urls"] == [WASM_TYPE]
                    ecds_name = value["name"]
                    assert ecds_name in ecds, f"{path}: no EXTENSION_CONFIG ADD named {ecds_name}"
                    wasm = ecds[ecds_name]
                else:
                    continue
                assert wasm["@type"] == WASM_TYPE
                c = wasm["config"]
                assert c["vm_config"]["runtime"] == "envoy.wasm.runtime.v8"
                found.append({"cfg": json.loads(c["configuration"]["value"]), "index": i, "wasm": wasm,
                              "ecds": ecds_name,
                              "fail_open": c.get("fail_open", False) or c.get("failure_policy") == "FAIL_OPEN",
                              "env_keys": c["vm_config"].get("environment_variables", {}).get("host_env_keys", []),
                              "stop_iteration": c.get("allow_on_headers_stop_iteration")})
        elif doc["kind"] == "EnvoyExtensionPolicy":
            patched = any(d["kind"] == "EnvoyPatchPolicy" and any(
                op["operation"].get("path") == "/allow_on_headers_stop_iteration" and op["operation"]["value"] is True
                for op in d["spec"]["jsonPatches"]) for d in ds)
            for w in doc["spec"]["wasm"]:
                found.append({"cfg": w["config"], "env_keys": w.get("env", {}).get("hostKeys", []),
                              "stop_iteration": patched, "wasm": None, "ecds": None, "index": None,
                              "fail_open": w.get("failOpen", False)})
    return found


def signers(path: Path):
    """(AwsRequestSigning body, EnvoyFilter patch index or None) for every Envoy signer the file adds."""
    out = []
    for doc in docs(path):
        if doc["kind"] == "EnvoyFilter":
            for i, p in enumerate(doc["spec"]["configPatches"]):
                if p["applyTo"] == "HTTP_FILTER" and p["patch"]["value"].get("name") == SIGNER:
                    assert p["patch"]["operation"] == "INSERT_BEFORE"
                    assert p["match"]["listener"]["filterChain"]["filter"]["subFilter"]["name"] == "envoy.filters.http.router"
                    out.append((p["patch"]["value"]["typed_config"], i))
        elif doc["kind"] == "EnvoyPatchPolicy":
            for jp in doc["spec"]["jsonPatches"]:
                op = jp["operation"]
                if isinstance(op.get("value"), dict) and op["value"].get("name") == SIGNER:
                    # Inserted at the router's index, i.e. just before it.
                    assert op["op"] == "add" and "envoy.filters.http.router" in op["jsonPath"] and not op.get("path")
                    out.append((op["value"]["typed_config"], None))
    return out


def walk(node):
    """Every dict inside a YAML document."""
    if isinstance(node, dict):
        yield node
        for v in node.values():
            yield from walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from walk(v)


PER_ROUTE = "type.googleapis.com/envoy.extensions.filters.http.aws_request_signing.v3.AwsRequestSigningPerRoute"


def mantle_signers(path: Path):
    """The signer's per-route overrides the file carries (for Bedrock Mantle's route)."""
    return [d for doc in docs(path) for d in walk(doc) if d.get("@type") == PER_ROUTE]


@pytest.fixture(scope="module")
def msim():
    server, port, sim = start_mantle_sim(region="us-east-1", access_key=AKID, secret_key=SECRET, session_token=TOKEN)
    yield port, sim
    server.shutdown()


def test_every_manifest_is_found():
    names = {p.relative_to(ROOT / "envoy").as_posix() for p in MANIFESTS}
    assert {"istio/envoyfilter-gateway.yaml", "istio/envoyfilter-sidecar.yaml", "envoy-gateway/bedrock-bridge.yaml",
            "istio/envoyfilter-gateway-iam.yaml", "istio/envoyfilter-sidecar-iam.yaml", "istio/ecds-oci-gateway.yaml",
            "envoy-gateway/bedrock-bridge-iam.yaml", "istio/failover-gateway.yaml", "envoy-gateway/failover.yaml"} <= names, names
    for p in MANIFESTS:
        assert wasm_configs(p), f"{p}: no bedrock-bridge wasm filter found"


def test_every_static_recipe_has_an_iam_variant():
    """Each Istio / Envoy Gateway recipe shows IRSA (ServiceAccount annotation) and Pod Identity next to it."""
    for p in MANIFESTS:
        text = p.read_text()
        if p.stem.startswith("ecds-"):
            # Replaces the EnvoyFilter of the IAM gateway recipe, which holds the identity.
            assert "kubectl apply -f envoy/istio/envoyfilter-gateway-iam.yaml" in text, p
            continue
        if p.stem.startswith("failover"):
            # Envoy's signer signs for one fixed region, not per try: the filter signs.
            assert "No IAM variant: Envoy's aws_request_signing filter signs for one fixed region" in text, p
            continue
        if p.stem.endswith("-iam"):
            assert "pod-identity-association" in text and "eks.amazonaws.com/role-arn" in text, p
            continue
        variant = p.with_name(p.stem + "-iam.yaml")
        assert variant.exists(), f"{p}: no IAM variant {variant.name}"


def strict(schema):
    """The CRD schema with unknown fields refused (kubectl's strict field validation), except where
    the schema itself preserves unknown fields."""
    if isinstance(schema, list):
        return [strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: strict(v) for k, v in schema.items()}
    if "properties" in out and "additionalProperties" not in out and not out.get("x-kubernetes-preserve-unknown-fields"):
        out["additionalProperties"] = False
    return out


@pytest.fixture(scope="module")
def crd_schemas():
    if not SCHEMAS.is_dir():
        msg = f"CRD schemas not found at {SCHEMAS} (expected ../shared/k8s-schemas next to the repository, or BEDROCK_BRIDGE_SHARED)"
        if os.environ.get("CI") == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    found = {}
    for f in sorted(SCHEMAS.rglob("*.yaml")):
        # libyaml's loader: the pure-Python one takes minutes over these 5 MB.
        for d in yaml.load_all(f.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
            if not d or d.get("kind") != "CustomResourceDefinition":
                continue
            group, kind = d["spec"]["group"], d["spec"]["names"]["kind"]
            for v in d["spec"]["versions"]:
                # The API server checks apiVersion, kind and metadata itself; the CRD schema is for spec.
                found[(f"{group}/{v['name']}", kind)] = strict(v["schema"]["openAPIV3Schema"]["properties"]["spec"])
    assert len(found) > 20, found.keys()
    return found


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.relative_to(ROOT / "envoy").as_posix())
def test_manifest_validates_against_the_crd_schemas(path, crd_schemas):
    import jsonschema
    for doc in docs(path):
        key = (doc["apiVersion"], doc["kind"])
        assert doc.get("metadata", {}).get("name"), f"{path}: {key} without metadata.name"
        if key in CORE_KINDS:
            continue
        assert key in crd_schemas, f"{path}: no CRD schema for {key}"
        errors = sorted(jsonschema.Draft7Validator(crd_schemas[key]).iter_errors(doc["spec"]), key=lambda e: list(e.path))
        assert not errors, f"{path} {key} {doc['metadata']['name']}: " + "; ".join(
            f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors[:5])


def test_schema_check_catches_a_typo(crd_schemas):
    """The strict schemas do refuse what the API server would silently drop."""
    import jsonschema
    doc = docs(ROOT / "envoy" / "envoy-gateway" / "bedrock-bridge.yaml")
    eep = copy.deepcopy(next(d for d in doc if d["kind"] == "EnvoyExtensionPolicy"))
    eep["spec"]["wasm"][0]["rootId"] = eep["spec"]["wasm"][0].pop("rootID")
    assert list(jsonschema.Draft7Validator(crd_schemas[(eep["apiVersion"], eep["kind"])]).iter_errors(eep["spec"]))


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.relative_to(ROOT / "envoy").as_posix())
def test_manifest_filter_config_serves_requests(path, sim, msim, start_envoy, tmp_path):
    found_signers = signers(path)
    for w in wasm_configs(path):
        cfg = w["cfg"]
        assert w["stop_iteration"] is True, f"{path}: allow_on_headers_stop_iteration must be set"
        assert "credentials" not in cfg, "credentials belong in the environment, not in a manifest"
        # Fail-open would let requests past a crashed filter, untranslated, to Bedrock (and with
        # signing envoy, to the signer).
        assert w["fail_open"] is False, f"{path}: the filter must fail closed"
        kw = {}
        if cfg.get("signing") == "envoy":
            assert len(found_signers) == 1, f"{path}: signing envoy needs exactly one aws_request_signing filter"
            signer, idx = found_signers[0]
            if idx is not None and w["index"] is not None:
                assert w["index"] < idx, f"{path}: the signer must come after the filter"
            assert signer["service_name"] == "bedrock" and signer["region"] == cfg["region"]
            assert signer.get("use_unsigned_payload", False) is False
            assert all(h in signer["match_excluded_headers"] for h in SIGNER_EXCLUDED_HEADERS)
            assert not AWS_KEYS & set(w["env_keys"]), "the filter holds no credentials with signing envoy"
            assert cfg.get("unknown_paths", "reject") == "reject"
            body = {k: v for k, v in signer.items() if k != "@type"}
            kw["signer"] = body
            # The signer's default chain, from the environment; no IMDS probe.
            kw["env"] = {"AWS_ACCESS_KEY_ID": AKID, "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_SESSION_TOKEN": TOKEN,
                         "AWS_EC2_METADATA_DISABLED": "true", "HOME": str(tmp_path)}
            if w["ecds"]:
                kw["http_filters"] = ecds_filters(w, body, tmp_path)
        else:
            assert not found_signers, f"{path}: a signer with a filter that signs itself"
            assert AWS_KEYS <= set(w["env_keys"]), w["env_keys"]
            # Credentials from the environment, as the manifests deliver them.
            kw["env"] = {"AWS_ACCESS_KEY_ID": AKID, "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_SESSION_TOKEN": TOKEN}
        sim.reset()
        e = start_envoy(cfg, **kw)
        client = openai.OpenAI(base_url=e.base_url, api_key="x", max_retries=0, timeout=30)
        assert {m.id for m in client.models.list()} == set(cfg["models"])
        alias, target = next((a, t) for a, t in cfg["models"].items() if isinstance(t, str))
        r = client.chat.completions.create(model=alias, messages=[{"role": "user", "content": "ping"}])
        assert r.choices[0].message.content == "You said: ping"
        [req] = sim.requests
        assert req["signature_ok"], req
        assert req["access_key"] == AKID
        assert req["path"].startswith("/model/" + target.replace(":", "%3A") + "/converse")
        assert req["headers"].get("host", req["headers"].get("Host")) == f"bedrock-runtime.{cfg['region']}.amazonaws.com"
        if path.stem.startswith("failover"):
            # Region failover recipes move bedrock-runtime requests between regions (their own
            # tests: test_manifests_failover.py); Mantle is not part of them.
            assert not any(isinstance(t, dict) and t.get("api") == "mantle" for t in cfg["models"].values()), path
        else:
            serves_mantle(path, cfg, kw, msim)


def serves_mantle(path, cfg, kw, msim):
    """The manifest's Mantle parts: a Claude alias configured "api": "mantle", Mantle's host
    declared as a mesh-external service / Backend (the ECDS recipe reuses the IAM gateway's), and
    with "signing": "envoy" the signer's per-route override for service bedrock-mantle, loaded in
    real Envoy on the route Mantle's host matches: a chat request reaches the Mantle simulator,
    which checks its SigV4 with botocore for service bedrock-mantle."""
    host = f"bedrock-mantle.{cfg['region']}.api.aws"
    alias = next(a for a, t in cfg["models"].items() if isinstance(t, dict) and t.get("api") == "mantle")
    kinds = {d["kind"] for d in docs(path) if host in json.dumps(d)}
    if not path.stem.startswith("ecds-"):
        assert kinds & {"ServiceEntry", "Backend"}, f"{path}: {host} is not declared"
    per_route = mantle_signers(path)
    route = {"match": {"prefix": "/", "headers": [{"name": ":authority", "string_match": {"exact": host}}]},
             "route": {"cluster": "bedrock", "timeout": "30s"}}
    if cfg.get("signing") == "envoy":
        if not path.stem.startswith("ecds-"):
            assert len(per_route) == 1, f"{path}: one per-route signer override for Mantle"
            o = per_route[0]["aws_request_signing"]
            assert o["service_name"] == "bedrock-mantle" and o["region"] == cfg["region"]
            assert o.get("use_unsigned_payload", False) is False
            assert all(h in o["match_excluded_headers"] for h in SIGNER_EXCLUDED_HEADERS)
            route["typed_per_filter_config"] = {SIGNER: per_route[0]}
        else:
            iam = docs(path.with_name("envoyfilter-gateway-iam.yaml"))
            [o] = [d for doc in iam for d in walk(doc) if d.get("@type") == PER_ROUTE]
            route["typed_per_filter_config"] = {SIGNER: o}
    else:
        assert not per_route, f"{path}: the filter signs Mantle requests itself"
    port, sim = msim
    with sim.lock:
        sim.requests.clear()
    # The ECDS recipe's filter is the same module with the same configuration: loaded directly here.
    kw = {k: v for k, v in kw.items() if k != "http_filters"}
    e = Envoy(cfg, upstream=("127.0.0.1", port), name="manifest-mantle",
              routes=[route, {"match": {"prefix": "/"}, "route": {"cluster": "bedrock", "timeout": "30s"}}], **kw)
    try:
        client = openai.OpenAI(base_url=e.base_url, api_key="x", max_retries=0, timeout=30)
        r = client.chat.completions.create(model=alias, messages=[{"role": "user", "content": "ping"}])
        assert r.choices[0].message.content == "You said: ping"
    finally:
        e.stop()
    [req] = sim.requests
    assert req["path"] == "/anthropic/v1/messages" and req["signature_ok"], req
    assert "/bedrock-mantle/aws4_request" in req["headers"]["authorization"]


def ecds_filters(w, signer_body, tmp_path):
    """The HTTP filters Envoy gets from the ECDS recipe: the filter by extension config discovery
    (here from a file; in Istio from istiod, with the module made local by istio-agent), the signer,
    the router."""
    wasm = copy.deepcopy(w["wasm"])
    remote = wasm["config"]["vm_config"]["code"]["remote"]
    assert remote["http_uri"]["uri"].startswith("oci://")
    wasm["config"]["vm_config"]["code"] = {"local": {"filename": str(WASM)}}
    resource = {"@type": "type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig", "name": w["ecds"],
                "typed_config": wasm}
    ecds_file = tmp_path / "ecds.json"
    ecds_file.write_text(json.dumps({"version_info": "1", "resources": [resource]}))
    return [
        {"name": w["ecds"], "config_discovery": {
            "config_source": {"path_config_source": {"path": str(ecds_file)}, "resource_api_version": "V3"},
            "type_urls": [WASM_TYPE]}},
        signer_filter(signer_body),
        {"name": "envoy.filters.http.router",
         "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}},
    ]


def test_plain_envoy_signer_config_is_valid():
    r = subprocess.run([envoy_binary(), "--mode", "validate", "-c", "envoy/envoy-signer.yaml", "--base-id", "4244"],
                       cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    cfg = yaml.safe_load((ROOT / "envoy" / "envoy-signer.yaml").read_text())
    filters = cfg["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]["http_filters"]
    assert [f["name"] for f in filters] == ["envoy.filters.http.wasm", SIGNER, "envoy.filters.http.router"]
    assert json.loads(filters[0]["typed_config"]["config"]["configuration"]["value"])["signing"] == "envoy"
