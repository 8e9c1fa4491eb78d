"""In real Envoy: a tenant's token budget shared by two Envoy replicas through
Envoy's global rate limit filter and a real rate limit service, Limitador on Redis, with the
configuration shipped in envoy/global-limit.yaml and envoy/global-limit-limits.yaml (ports, module path and the simulator patched in; the
budget lowered to 100 tokens). Each request costs 1 admission hit plus its tokens at stream end;
the simulator's generated answer to a 40-character message uses 11 + 21 tokens: 33 hits each.

Limitador is built once per machine by scripts/limitador.sh (`make limitador`, a dependency of
`make e2e`), patched at build time to read Envoy's descriptor-level hits_addend (the way Envoy
sends the stream-end charge). A recording rate limit service (tests/e2e/rls.py) shows what Envoy
sends the RLS and what the client gets when the RLS refuses or is down."""

import time

import anthropic
import openai
import pytest
import yaml

import rls
import shipped
from conftest import filter_config
from harness import ARTIFACTS

BUDGET = 100
HI = [{"role": "user", "content": "x" * 40}]


def limits_file(budget=BUDGET):
    limits = yaml.safe_load((shipped.ROOT / "envoy" / "global-limit-limits.yaml").read_text())
    admit = [lim for lim in limits if "admit" in lim["conditions"][0]]
    assert len(admit) == 1
    admit[0]["max_value"] = budget
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / "limits.yaml"
    path.write_text(yaml.safe_dump(limits))
    return path


def replica(name, sim_port, rls_port, deny=False):
    """A replica from envoy/global-limit.yaml: tenants `default` and `team-b` (route named
    team-b for requests with x-tenant: team-b)."""
    cfg = shipped.load("global-limit.yaml")
    shipped.point_cluster(cfg, "bedrock", sim_port)
    shipped.point_cluster(cfg, "ratelimit", rls_port)
    (w,) = shipped.wasm_filters(cfg)
    shipped.set_plugin_config(w, filter_config(profiles={"team-b": {}}))
    hcm = cfg["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
    routes = hcm["route_config"]["virtual_hosts"][0]["routes"]
    tenant = dict(routes[0], name="team-b",
                  match={"prefix": "/v1/", "headers": [{"name": "x-tenant", "string_match": {"exact": "team-b"}}]})
    routes.insert(0, tenant)
    for rl in [f for f in hcm["http_filters"] if f["name"] == "envoy.filters.http.ratelimit"]:
        rl["typed_config"]["failure_mode_deny"] = deny
    return shipped.start(cfg, name)


@pytest.fixture(scope="module")
def services():
    r = rls.redis()
    lim = rls.Limitador(limits_file(), r.port)
    yield r, lim
    lim.stop()
    r.stop()


def oai(envoy, **headers):
    return openai.OpenAI(base_url=envoy.base_url, api_key="sk-x", max_retries=0, timeout=30, default_headers=headers)


def chat(client, stream):
    out = client.chat.completions.create(model="claude", messages=HI, stream=stream,
                                         **({"stream_options": {"include_usage": True}} if stream else {}))
    if stream:
        chunks = list(out)
        return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    return out.choices[0].message.content


def test_a_budget_spent_through_one_replica_is_refused_by_the_other(sim, services):
    sim.reset()
    _, lim = services
    a = replica("global-a", sim.port, lim.port)
    b = replica("global-b", sim.port, lim.port)
    try:
        assert "You said" in chat(oai(b), stream=False)  # 33 of 100
        for stream in (True, False, True):  # 66, 99, 132: A's last admission saw 99 + 1 <= 100
            assert "You said" in chat(oai(a), stream)
        # One counter per tenant in Redis, holding both phases' hits: 4 admissions + 4 x 32 tokens.
        assert lim.redis_counters() == [4 * 33], lim.redis_counters()

        with pytest.raises(openai.RateLimitError) as e:
            chat(oai(b), stream=True)
        err = e.value
        assert err.status_code == 429
        body = err.body
        assert body["type"] == "rate_limit_error" and body["code"] == "rate_limit_exceeded", body
        assert "global rate limit" in body["message"], body
        retry = int(err.response.headers["retry-after"])
        assert 0 < retry <= 60

        # Anthropic's API gets Anthropic's error shape from the same refusal.
        ant = anthropic.Anthropic(base_url=f"http://127.0.0.1:{b.port}", api_key="sk-ant", max_retries=0, timeout=30)
        with pytest.raises(anthropic.RateLimitError) as e:
            ant.messages.create(model="claude", max_tokens=50, messages=HI)
        assert e.value.status_code == 429
        assert e.value.body["type"] == "error" and e.value.body["error"]["type"] == "rate_limit_error", e.value.body
        assert e.value.response.headers.get("retry-after")

        # Another tenant has its own budget.
        assert "You said" in chat(oai(b, **{"x-tenant": "team-b"}), stream=True)
        # Only the refused requests stopped before Bedrock: 4 + 1 answered, 2 refused.
        assert len([r for r in sim.requests if r.get("model_id")]) == 5
        assert a.alive() and b.alive()
    finally:
        a.stop()
        b.stop()


def test_rls_down_fails_open_or_closed_as_configured(sim):
    """No rate limit service at all: failure_mode_deny false lets requests through, true refuses
    them with a 500 in the API's error shape."""
    sim.reset()
    dead = rls.free_port()
    opened = replica("global-open", sim.port, dead, deny=False)
    closed = replica("global-closed", sim.port, dead, deny=True)
    try:
        assert "You said" in chat(oai(opened), stream=True)
        with pytest.raises(openai.InternalServerError) as e:
            chat(oai(closed), stream=True)
        assert e.value.status_code == 500
        assert "rate limit service" in e.value.body["message"], e.value.body
        assert len([r for r in sim.requests if r.get("model_id")]) == 1, "the closed replica sent nothing to Bedrock"
    finally:
        opened.stop()
        closed.stop()


def test_what_envoy_sends_the_rls(sim):
    """Without Limitador: a recording RLS shows the two calls per request, the tenant from the
    filter's state and the stream-end addend equal to the request's tokens."""
    sim.reset()
    rec = rls.RecordingRls()
    e = replica("global-rec", sim.port, rec.port)
    try:
        chat(oai(e), stream=True)
        chat(oai(e, **{"x-tenant": "team-b"}), stream=False)
        deadline = time.time() + 10
        while len(rec.requests) < 4 and time.time() < deadline:
            time.sleep(0.1)
        got = [(r["domain"], r["descriptors"], r["hits_addend"]) for r in rec.requests]
        # The tokens travel as the charge descriptor's own hits_addend (RateLimitDescriptor field 3);
        # the request-level hits_addend stays unset.
        assert got == [
            ("bedrock", [[("phase", "admit"), ("tenant", "default")]], 0),
            ("bedrock", [[("phase", "charge"), ("tenant", "default"), ("hits_addend", 32)]], 0),
            ("bedrock", [[("phase", "admit"), ("tenant", "team-b")]], 0),
            ("bedrock", [[("phase", "charge"), ("tenant", "team-b"), ("hits_addend", 32)]], 0),
        ], got

        # The RLS says over limit: 429 in OpenAI's and Anthropic's shapes, retry-after from its reset.
        rec.refuse = True
        with pytest.raises(openai.RateLimitError) as err:
            chat(oai(e), stream=True)
        assert err.value.body["code"] == "rate_limit_exceeded" and "global rate limit" in err.value.body["message"]
        assert err.value.response.headers["retry-after"] == "42"
        ant = anthropic.Anthropic(base_url=f"http://127.0.0.1:{e.port}", api_key="sk-ant", max_retries=0, timeout=30)
        with pytest.raises(anthropic.RateLimitError) as err:
            ant.messages.create(model="claude", max_tokens=50, messages=HI)
        assert err.value.body["type"] == "error" and err.value.body["error"]["type"] == "rate_limit_error", err.value.body
        assert err.value.response.headers["retry-after"] == "42"
        assert len([r for r in sim.requests if r.get("model_id")]) == 2, "refused requests never reach Bedrock"
    finally:
        e.stop()
        rec.stop()
