"""The failover manifests (envoy/istio/failover-gateway.yaml, envoy/envoy-gateway/failover.yaml)
turned into the Envoy configuration their control plane generates, run in real Envoy with two
simulated regions: a request throttled in us-east-1 completes from us-west-2, translated and signed
again there (the same check as test_failover.py, with the route and cluster from the manifest).

Istio and Envoy Gateway are not run here; their translation is modelled from their source:
- Istio: the VirtualService's retries → Envoy RetryPolicy as ConvertPolicy does
  (istio/istio pilot/pkg/networking/core/route/retry/retry.go: default policy, status codes in
  retryOn → retriable_status_codes, retryRemoteLocalities → previous_priorities with
  update_frequency 2), then the EnvoyFilter's patches applied as Istio applies them (CLUSTER ADD:
  the cluster as written; HTTP_ROUTE MERGE: protobuf merge, messages merged, repeated fields
  appended, scalars replaced);
- Envoy Gateway: the route rule's cluster as internal/xds/translator/cluster.go builds it for two
  FQDN Backends with TLS (STRICT_DNS, inline load assignment, one locality per backendRef with
  the fallback one at priority 1, transport socket match metadata, HttpProtocolOptions present),
  the BackendTrafficPolicy retry as its route translator builds it, then the EnvoyPatchPolicy's
  JSON patches applied (RFC 6902 add).
Only what cannot work locally is changed afterwards: endpoints → the simulators, TLS → plain HTTP,
the module path, credentials from the environment."""

import copy
import re

import openai
import pytest

import shipped
from conftest import SimControl
from harness import ROOT
from test_failover import ENV, HI, completes_from_the_other_region, regions, throttle  # noqa: F401 (regions: a fixture)
from test_manifests import docs

PREVIOUS_HOSTS = {"name": "envoy.retry_host_predicates.previous_hosts", "typed_config": {
    "@type": "type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate"}}
PREVIOUS_PRIORITIES = "envoy.retry_priorities.previous_priorities"
PRIORITIES_TYPE = "type.googleapis.com/envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig"
HTTP_OPTIONS = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"


def kind(path: str, k: str) -> list:
    return [d for d in docs(ROOT / "envoy" / path) if d["kind"] == k]


def proto_merge(dst: dict, src: dict):
    """Protobuf merge of JSON forms, as an EnvoyFilter MERGE patch does it."""
    for k, v in src.items():
        if isinstance(v, dict) and isinstance(dst.get(k), dict):
            proto_merge(dst[k], v)
        elif isinstance(v, list) and isinstance(dst.get(k), list):
            dst[k] = dst[k] + copy.deepcopy(v)
        else:
            dst[k] = copy.deepcopy(v)


def istio_retry_policy(retries: dict) -> dict:
    """Istio's ConvertPolicy for a VirtualService's HTTPRetry (retry.go, see the module docstring)."""
    out = {"num_retries": retries["attempts"], "host_selection_retry_max_attempts": "5",
           "retry_host_predicate": [PREVIOUS_HOSTS]}
    parts = [p.strip() for p in retries["retryOn"].split(",") if p.strip()]
    codes = [int(p) for p in parts if p.isdigit()]
    out["retry_on"] = ",".join(p for p in parts if not p.isdigit())
    out["retriable_status_codes"] = codes
    if codes and "retriable-status-codes" not in out["retry_on"]:
        out["retry_on"] += ",retriable-status-codes"
    if retries.get("retryRemoteLocalities"):
        out["retry_priority"] = {"name": PREVIOUS_PRIORITIES,
                                 "typed_config": {"@type": PRIORITIES_TYPE, "update_frequency": 2}}
    return out


def istio_route_and_cluster(patch_route=True, remote_localities=False):
    (vs,) = kind("istio/failover-gateway.yaml", "VirtualService")
    (ef,) = kind("istio/failover-gateway.yaml", "EnvoyFilter")
    (http,) = vs["spec"]["http"]
    dest = http["route"][0]["destination"]
    retries = dict(http["retries"], retryRemoteLocalities=remote_localities)
    route = {"name": http["name"], "match": {"prefix": "/"},
             "route": {"cluster": f"outbound|{dest['port']['number']}||{dest['host']}", "timeout": http["timeout"],
                       "retry_policy": istio_retry_policy(retries)}}
    patches = ef["spec"]["configPatches"]
    (cluster,) = [copy.deepcopy(p["patch"]["value"]) for p in patches if p["applyTo"] == "CLUSTER"]
    assert all(p["patch"]["operation"] == "ADD" for p in patches if p["applyTo"] == "CLUSTER")
    (rp,) = [p for p in patches if p["applyTo"] == "HTTP_ROUTE"]
    assert rp["patch"]["operation"] == "MERGE" and rp["match"]["routeConfiguration"]["vhost"]["route"]["name"] == http["name"]
    if patch_route:
        proto_merge(route, rp["patch"]["value"])
    else:
        route["route"]["cluster"] = cluster["name"]
    (lp,) = [p for p in patches if p["applyTo"] == "LISTENER"]
    return route, cluster, lp["patch"]["value"]


def json_patch_add(doc, pointer: str, value):
    """RFC 6902 `add` (the only operation the manifest uses); every parent must exist."""
    *parents, last = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
    node = doc
    for p in parents:
        node = node[int(p)] if isinstance(node, list) else node[p]
    if isinstance(node, list):
        node.insert(len(node) if last == "-" else int(last), copy.deepcopy(value))
    else:
        node[last] = copy.deepcopy(value)


def eg_cluster(name: str, backends: list) -> dict:
    """The cluster Envoy Gateway generates for a route rule with these FQDN Backends and a
    BackendTLSPolicy each (cluster.go: buildXdsCluster, buildXdsClusterLoadAssignment,
    buildWeightedLocalities)."""
    tls_name = [f"{name}/tls/{i}" for i in range(len(backends))]
    return {
        "name": name, "type": "STRICT_DNS", "dns_lookup_family": "V4_PREFERRED", "connect_timeout": "10s",
        "ignore_health_on_host_removal": True, "common_lb_config": {},
        "load_assignment": {"cluster_name": name, "endpoints": [{
            "locality": {"region": f"{name}/backend/{i}"}, "priority": 1 if b["spec"].get("fallback") else 0,
            "load_balancing_weight": 1,
            "lb_endpoints": [{"endpoint": {"hostname": ep["fqdn"]["hostname"], "address": {"socket_address": {
                "address": ep["fqdn"]["hostname"], "port_value": ep["fqdn"]["port"]}}},
                "load_balancing_weight": 1,
                "metadata": {"filter_metadata": {"envoy.transport_socket_match": {"name": tls_name[i]}}}}
                for ep in b["spec"]["endpoints"]]} for i, b in enumerate(backends)]},
        "transport_socket_matches": [{"name": n, "match": {"name": n}, "transport_socket": {
            "name": "envoy.transport_sockets.tls", "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext"}}}
            for n in tls_name],
        "typed_extension_protocol_options": {HTTP_OPTIONS: {
            "@type": f"type.googleapis.com/{HTTP_OPTIONS}", "auto_config": {"http_protocol_options": {}}}},
    }


def eg_retry_policy(retry: dict) -> dict:
    """BackendTrafficPolicy retry → Envoy RetryPolicy, as Envoy Gateway's route translator builds it."""
    out = {"retry_on": ",".join(retry["retryOn"]["triggers"]),
           "retriable_status_codes": retry["retryOn"]["httpStatusCodes"], "num_retries": retry["numRetries"],
           "retry_host_predicate": [PREVIOUS_HOSTS], "host_selection_retry_max_attempts": "5"}
    if retry.get("numAttemptsPerPriority"):
        out["retry_priority"] = {"name": PREVIOUS_PRIORITIES, "typed_config": {
            "@type": PRIORITIES_TYPE, "update_frequency": retry["numAttemptsPerPriority"]}}
    back_off = retry.get("perRetry", {}).get("backOff")
    if back_off:
        out["retry_back_off"] = {"base_interval": seconds(back_off["baseInterval"]),
                                 "max_interval": seconds(back_off["maxInterval"])}
    return out


def seconds(duration: str) -> str:
    """A Gateway API duration (`10ms`, `2s`, `1m`) as a protobuf JSON Duration."""
    m = re.fullmatch(r"(\d+)(ms|s|m|h)", duration)
    assert m, duration
    return f"{int(m[1]) * {'ms': 0.001, 's': 1, 'm': 60, 'h': 3600}[m[2]]:g}s"


def eg_route_and_cluster():
    path = "envoy-gateway/failover.yaml"
    (route_doc,) = kind(path, "HTTPRoute")
    (rule,) = route_doc["spec"]["rules"]
    backends = {b["metadata"]["name"]: b for b in kind(path, "Backend")}
    name = f"httproute/{route_doc['metadata']['namespace']}/{route_doc['metadata']['name']}/rule/0"
    cluster = eg_cluster(name, [backends[r["name"]] for r in rule["backendRefs"]])
    (btp,) = kind(path, "BackendTrafficPolicy")
    assert btp["spec"]["targetRefs"][0]["name"] == route_doc["metadata"]["name"]
    route = {"match": {"prefix": "/"}, "route": {"cluster": name, "timeout": rule["timeouts"]["request"],
                                                  "retry_policy": eg_retry_policy(btp["spec"]["retry"])}}
    (epp,) = kind(path, "EnvoyPatchPolicy")
    for jp in epp["spec"]["jsonPatches"]:
        assert jp["type"] == "type.googleapis.com/envoy.config.cluster.v3.Cluster" and jp["name"] == name, jp
        assert jp["operation"]["op"] == "add"
        json_patch_add(cluster, jp["operation"]["path"], jp["operation"]["value"])
    return route, cluster, None


def run_locally(route: dict, cluster: dict, listener_merge, east: SimControl, west: SimControl):
    """envoy/failover.yaml's listener and admin with this route and this cluster, pointed at the
    two simulators over plain HTTP."""
    cfg = shipped.load("failover.yaml")
    listener = cfg["static_resources"]["listeners"][0]
    if listener_merge:
        proto_merge(listener, listener_merge)
    hcm = listener["filter_chains"][0]["filters"][0]["typed_config"]
    hcm["route_config"]["virtual_hosts"][0]["routes"] = [route]
    cluster = copy.deepcopy(cluster)
    cluster["type"] = "STATIC"
    cluster.pop("dns_lookup_family", None)
    cluster.pop("transport_socket_matches", None)
    options = cluster["typed_extension_protocol_options"][HTTP_OPTIONS]
    if "auto_config" in options:  # ALPN needs TLS; the simulators speak HTTP/1.1 in the clear
        options["explicit_http_config"] = {"http_protocol_options": options.pop("auto_config")["http_protocol_options"]}
    for group, sim in zip(cluster["load_assignment"]["endpoints"], (east, west)):
        for ep in group["lb_endpoints"]:
            ep["endpoint"].pop("hostname", None)
            ep["endpoint"]["address"]["socket_address"].update(address="127.0.0.1", port_value=sim.port)
    cfg["static_resources"]["clusters"] = [cluster]
    return shipped.start(cfg, "failover-manifest", env=ENV)


@pytest.mark.parametrize("build", [istio_route_and_cluster, eg_route_and_cluster], ids=["istio", "envoy-gateway"])
@pytest.mark.parametrize("stream", [True, False])
def test_a_throttled_request_completes_from_the_other_region(regions, build, stream):
    east, west = regions
    for s in regions:
        s.reset()
    e = run_locally(*build(), east, west)
    try:
        client = openai.OpenAI(base_url=e.base_url, api_key="sk-client", max_retries=0, timeout=30)
        assert client.chat.completions.create(model="claude", messages=HI).choices[0].message.content
        assert len(east.requests) == 1 and not west.requests, "no throttle: served by the first priority"
        east.reset()
        completes_from_the_other_region(client, east, west, *((429, "ThrottlingException") if stream else
                                                               (503, "ServiceUnavailableException")), stream)
    finally:
        e.stop()


def test_istio_retry_remote_localities_alone_retries_the_same_region(regions):
    """Why the EnvoyFilter sets the retry priority itself: Istio's retryRemoteLocalities gives
    previous_priorities an update_frequency of 2, so the one retry goes to the throttled region again."""
    east, west = regions
    for s in regions:
        s.reset()
    e = run_locally(*istio_route_and_cluster(patch_route=False, remote_localities=True), east, west)
    try:
        client = openai.OpenAI(base_url=e.base_url, api_key="sk-client", max_retries=0, timeout=30)
        throttle(east)
        with pytest.raises(openai.RateLimitError):
            client.chat.completions.create(model="claude", messages=HI)
        assert len(east.requests) == 2 and not west.requests
    finally:
        e.stop()
