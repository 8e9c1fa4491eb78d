"""Profiles chosen by the route's name (region, credentials, models, strict models), metrics in
/stats/prometheus with labels (OpenTelemetry GenAI names and the filter's own), usage in the access
log (the block shipped in envoy/envoy.yaml, read back), token budgets across workers: for every
front door (chat, Responses, Anthropic Messages, embeddings), streamed and not.

The routes pick the tenant with an `x-tenant` header here; in production Envoy's own
authentication (`api_key_auth`, `jwt_authn`) drives the route choice, never a header a client sets."""

import json
import re
import time
import urllib.request

import anthropic
import openai
import pytest
import yaml

from conftest import AKID, CLAUDE, REGION, SECRET, TOKEN
from harness import ROOT, Envoy
from sim import event, frame

A_KEY, A_SECRET, A_REGION, A_MODEL = "AKIDTEAMA", "team-a-secret-key", "us-west-2", CLAUDE
B_KEY, B_SECRET, B_REGION, B_MODEL = "AKIDTEAMB", "team-b-secret-key", "eu-west-1", "eu.amazon.nova-lite-v1:0"
HI = [{"role": "user", "content": "hi"}]
WINDOW = 5
TITAN = "amazon.titan-embed-text-v2:0"
OSS = "openai.gpt-oss-20b-1:0"

CONFIG = {
    "region": REGION,
    "credentials": {"access_key_id": AKID, "secret_access_key": SECRET, "session_token": TOKEN},
    "models": {"claude": CLAUDE, "titan": TITAN},
    "profiles": {
        "team-a": {"region": A_REGION, "credentials": {"access_key_id": A_KEY, "secret_access_key": A_SECRET},
                   "models": {"claude": A_MODEL, "titan": TITAN, "oss": {"id": OSS, "api": "openai"}},
                   "strict_models": True},
        "team-b": {"region": B_REGION, "credentials": {"access_key_id": B_KEY, "secret_access_key": B_SECRET},
                   "models": {"nova": B_MODEL}},
        "team-c": {"token_budget": {"tokens_per_minute": 300, "window_seconds": WINDOW}},
    },
}


def tenant_route(name):
    return {"name": name, "match": {"prefix": "/v1/", "headers": [{"name": "x-tenant", "string_match": {"exact": name}}]},
            "route": {"cluster": "bedrock", "timeout": "30s"}}


ROUTES = [tenant_route("team-a"), tenant_route("team-b"), tenant_route("team-c"),
          {"match": {"prefix": "/"}, "route": {"cluster": "bedrock", "timeout": "30s"}}]


def ev(kind, **payload):
    return event(kind, payload)


def stream_hex(*frames):
    return b"".join(frames).hex()


def converse_json(usage):
    return {"output": {"message": {"role": "assistant", "content": [{"text": "Hello."}]}}, "stopReason": "end_turn",
            "usage": usage, "metrics": {"latencyMs": 1}}


@pytest.fixture(scope="module")
def shipped():
    return yaml.safe_load((ROOT / "envoy" / "envoy.yaml").read_text())


@pytest.fixture(scope="module")
def tenants(sim, shipped):
    sim.sim.add_key(A_KEY, A_SECRET, region=A_REGION)
    sim.sim.add_key(B_KEY, B_SECRET, region=B_REGION)
    hcm = shipped["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
    e = Envoy(CONFIG, upstream=("127.0.0.1", sim.port), name="tenants", routes=ROUTES,
              hcm_extra={"access_log": hcm["access_log"]},
              bootstrap_extra={"stats_config": shipped["stats_config"], "stats_flush_interval": "0.2s"})
    yield e
    e.stop()


def client(envoy, tenant=None):
    headers = {"x-tenant": tenant} if tenant else {}
    return openai.OpenAI(base_url=envoy.base_url, api_key="sk-client", max_retries=0, timeout=30, default_headers=headers)


def prometheus(envoy):
    """{(name, frozenset(labels)): value} of the filter's metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{envoy.admin_port}/stats/prometheus") as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        m = re.fullmatch(r"([A-Za-z_:][\w:]*)(?:\{(.*)\})? (\S+)", line)
        if not m or not m.group(1).startswith(("bedrock_", "gen_ai_")):
            continue
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def key(name, **labels):
    return (name, frozenset(labels.items()))


TOKENS = "gen_ai_client_token_usage"
DURATION = "gen_ai_server_request_duration_milliseconds"
TTFT = "gen_ai_server_time_to_first_token_milliseconds"
TPOT = "gen_ai_server_time_per_output_token_milliseconds"


def gen_ai(operation, model, model_id, profile):
    """The labels of the GenAI metrics (OpenTelemetry names, dots as underscores)."""
    return {"gen_ai_operation_name": operation, "gen_ai_provider_name": "aws.bedrock", "gen_ai_original_model": model,
            "gen_ai_request_model": model_id, "gen_ai_response_model": model_id, "profile": profile}


def quiet(envoy):
    """Envoy's metrics once earlier requests' histogram samples are in (two equal scrapes across
    more than a stats flush), so a test's deltas count only its own requests."""
    last = prometheus(envoy)
    deadline = time.time() + 10
    while time.time() < deadline:
        time.sleep(0.5)
        now = prometheus(envoy)
        if now == last:
            break
        last = now
    return last


def settle(envoy, before, expected):
    """The deltas of `expected`'s keys once they match (histograms appear after a stats flush)."""
    deadline = time.time() + 10
    while True:
        now = prometheus(envoy)
        delta = {k: now.get(k, 0) - before.get(k, 0) for k in expected}
        if delta == expected or time.time() > deadline:
            return delta
        time.sleep(0.3)


def test_profiles_reach_bedrock_with_their_region_credentials_and_models(tenants, sim):
    sim.reset()
    a, b, top = client(tenants, "team-a"), client(tenants, "team-b"), client(tenants)
    assert a.chat.completions.create(model="claude", messages=HI).choices[0].message.content
    assert b.chat.completions.create(model="nova", messages=HI).choices[0].message.content
    assert top.chat.completions.create(model="claude", messages=HI).choices[0].message.content
    got = [(r["access_key"], r["model_id"], r["signature_ok"],
            re.search(r"Credential=[^/]+/\d+/([^/]+)/", r["headers"]["authorization"]).group(1)) for r in sim.requests]
    assert got == [(A_KEY, A_MODEL, True, A_REGION), (B_KEY, B_MODEL, True, B_REGION), (AKID, CLAUDE, True, REGION)]
    hosts = [r["headers"]["host"] for r in sim.requests]
    assert hosts == [f"bedrock-runtime.{r}.amazonaws.com" for r in (A_REGION, B_REGION, REGION)]
    assert [m.id for m in a.models.list()] == ["claude", "oss", "titan"]
    assert [m.id for m in b.models.list()] == ["nova"]


def test_strict_profile_refuses_a_foreign_model_before_bedrock(tenants, sim):
    sim.reset()
    for model in ["nova", B_MODEL, "gpt-4o"]:
        with pytest.raises(openai.NotFoundError) as e:
            client(tenants, "team-a").chat.completions.create(model=model, messages=HI)
        assert e.value.body["code"] == "model_not_found" and e.value.body["param"] == "model"
    assert sim.requests == []


def test_metrics_and_access_log_after_a_known_sequence(tenants, sim):
    sim.reset()
    a, b = client(tenants, "team-a"), client(tenants, "team-b")
    before = quiet(tenants)
    # team-a: one JSON answer, one stream (with usage), one foreign model (404 before Bedrock).
    sim.scenario(A_MODEL, body=converse_json({"inputTokens": 11, "outputTokens": 7, "totalTokens": 23,
                                              "cacheReadInputTokens": 3, "cacheWriteInputTokens": 2}))
    a.chat.completions.create(model="claude", messages=HI)
    sim.scenario(A_MODEL, raw_hex=stream_hex(
        ev("messageStart", role="assistant"),
        ev("contentBlockDelta", contentBlockIndex=0, delta={"text": "Hi there"}),
        ev("contentBlockStop", contentBlockIndex=0),
        ev("messageStop", stopReason="end_turn"),
        ev("metadata", usage={"inputTokens": 13, "outputTokens": 5, "totalTokens": 18}, metrics={"latencyMs": 1})))
    text = "".join(c.choices[0].delta.content or "" for c in a.chat.completions.create(
        model="claude", messages=HI, stream=True) if c.choices)
    assert text == "Hi there"
    with pytest.raises(openai.NotFoundError):
        a.chat.completions.create(model="nova", messages=HI)
    # team-b: a Bedrock error (429), then a stream cut by an exception.
    sim.scenario(B_MODEL, status=429, body={"message": "Too many requests"},
                 headers={"x-amzn-ErrorType": "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/"})
    with pytest.raises(openai.RateLimitError):
        b.chat.completions.create(model="nova", messages=HI)
    exception = frame({":message-type": "exception", ":exception-type": "throttlingException",
                       ":content-type": "application/json"}, json.dumps({"message": "slow down"}).encode())
    sim.scenario(B_MODEL, raw_hex=stream_hex(
        ev("messageStart", role="assistant"),
        ev("contentBlockDelta", contentBlockIndex=0, delta={"text": "Partial"}), exception))
    with pytest.raises(openai.APIError):
        for _ in b.chat.completions.create(model="nova", messages=HI, stream=True):
            pass

    A = dict(model="claude", profile="team-a")
    B = dict(model="nova", profile="team-b")
    expected = {
        key("bedrock_reasoning_requests_total", **A): 2,
        key("bedrock_reasoning_requests_total", model="other", profile="team-a"): 1,
        key("bedrock_reasoning_requests_total", **B): 2,
        key("bedrock_responses_total", status_class="2xx", **A): 2,
        key("bedrock_responses_total", status_class="4xx", model="other", profile="team-a"): 1,
        key("bedrock_responses_total", status_class="4xx", **B): 1,
        key("bedrock_responses_total", status_class="2xx", **B): 1,
        key("bedrock_reasoning_errors_total", error_type="invalid_request_error", model="other", profile="team-a"): 1,
        key("bedrock_reasoning_errors_total", error_type="rate_limit_error", **B): 2,
        key("bedrock_reasoning_errors_total", error_type="rate_limit_error", **A): 0,
        # `input` counts cached input too (11 + 3 + 2, then 13), as Envoy AI Gateway does.
        key("bedrock_tokens_total", gen_ai_token_type="input", **A): 29,
        key("bedrock_tokens_total", gen_ai_token_type="output", **A): 12,
        key("bedrock_tokens_total", gen_ai_token_type="cached_input", **A): 3,
        key("bedrock_tokens_total", gen_ai_token_type="cache_creation_input", **A): 2,
        key("bedrock_tokens_total", gen_ai_token_type="input", **B): 0,
        # Histograms (after Envoy's stats flush): streams only.
        key("bedrock_reasoning_stream_duration_count", **A): 1,
        key("bedrock_reasoning_stream_duration_count", **B): 1,
        key(f"{TTFT}_count", **gen_ai("chat", "claude", A_MODEL, "team-a")): 1,
        key(f"{TTFT}_count", **gen_ai("chat", "nova", B_MODEL, "team-b")): 0,  # cut: not a success
        key(f"{DURATION}_count", **gen_ai("chat", "claude", A_MODEL, "team-a")): 2,
        key(f"{DURATION}_count", **gen_ai("chat", "other", "other", "team-a"), error_type="invalid_request_error"): 1,
        key(f"{DURATION}_count", **gen_ai("chat", "nova", B_MODEL, "team-b"), error_type="rate_limit_error"): 2,
    }
    deadline = time.time() + 10
    while True:
        now = prometheus(tenants)
        delta = {k: now.get(k, 0) - before.get(k, 0) for k in expected}
        if delta == expected or time.time() > deadline:
            break
        time.sleep(0.3)
    assert delta == expected
    for k, v in expected.items():
        assert v == 0 or k in now, f"{k} missing from /stats/prometheus"

    # The access log (envoy/envoy.yaml's format) holds each request's usage.
    deadline = time.time() + 10
    while True:
        lines = [json.loads(l) for l in tenants.logs().splitlines() if l.startswith("{") and '"profile"' in l]
        # %ROUTE_NAME% is the route matched after the filter's rewrite: the profile names the tenant.
        mine = [l for l in lines if l["profile"] in ("team-a", "team-b")][-5:]
        if len(mine) == 5 or time.time() > deadline:
            break
        time.sleep(0.3)
    json_line, stream_line, foreign, throttled, cut = mine
    assert {k: json_line[k] for k in ("status", "model", "profile", "input_tokens", "output_tokens",
                                      "cached_tokens", "cache_write_tokens", "total_tokens")} == {
        "status": 200, "model": "claude", "profile": "team-a", "input_tokens": "11",
        "output_tokens": "7", "cached_tokens": "3", "cache_write_tokens": "2", "total_tokens": "18"}
    assert (stream_line["input_tokens"], stream_line["output_tokens"]) == ("13", "5")
    assert stream_line["ttft_ms"].isdigit()
    assert (foreign["status"], foreign["model"], foreign["input_tokens"]) == (404, "nova", "0")
    assert (throttled["status"], throttled["profile"]) == (429, "team-b")
    assert (cut["status"], cut["model"]) == (200, "nova")


def test_token_budget_turns_the_third_request_into_a_429_and_recovers(tenants, sim):
    sim.reset()
    c = client(tenants, "team-c")
    sim.scenario(CLAUDE, body=converse_json({"inputTokens": 100, "outputTokens": 50, "totalTokens": 150}))
    while time.time() % WINDOW > 0.5:  # start at the beginning of a budget window
        time.sleep(0.05)
    c.chat.completions.create(model="claude", messages=HI)
    c.chat.completions.create(model="claude", messages=HI)  # 150 < 300: admitted, then 300 spent
    with pytest.raises(openai.RateLimitError) as e:
        c.chat.completions.create(model="claude", messages=HI)
    assert e.value.body["type"] == "rate_limit_error" and e.value.body["code"] == "rate_limit_exceeded"
    retry_after = int(e.value.response.headers["retry-after"])
    assert 1 <= retry_after <= WINDOW
    assert len(sim.requests) == 2, "the refused request never reached Bedrock"
    # Other tenants are not affected.
    assert client(tenants, "team-a").chat.completions.create(model="claude", messages=HI).choices
    time.sleep(retry_after + 0.2)
    assert c.chat.completions.create(model="claude", messages=HI).choices
    assert len(sim.requests) == 4


# --- every front door, streamed and not ------------------------------------------------------------

DOORS = [("chat", False), ("chat", True), ("responses", False), ("responses", True),
         ("messages", False), ("messages", True), ("embeddings", False)]
OPERATION = {"chat": "chat", "responses": "responses", "messages": "messages", "embeddings": "embeddings"}


def log_lines(envoy):
    return [json.loads(l) for l in envoy.logs().splitlines() if l.startswith("{") and '"profile"' in l]


def converse_stream(usage, text="Hi there"):
    return stream_hex(
        ev("messageStart", role="assistant"),
        ev("contentBlockDelta", contentBlockIndex=0, delta={"text": text[:3]}),
        ev("contentBlockDelta", contentBlockIndex=0, delta={"text": text[3:]}),
        ev("contentBlockStop", contentBlockIndex=0),
        ev("messageStop", stopReason="end_turn"),
        ev("metadata", usage=usage, metrics={"latencyMs": 1}))


def ask(envoy, door, stream, tenant, text="hi"):
    """One request through `door` with the official SDK, read to its end."""
    if door == "messages":
        ac = anthropic.Anthropic(base_url=envoy.base_url.removesuffix("/v1"), api_key="sk-ant-client", max_retries=0,
                                 timeout=30, default_headers={"x-tenant": tenant})
        r = ac.messages.create(model="claude", max_tokens=64, messages=[{"role": "user", "content": text}], stream=stream)
        return list(r) if stream else r
    c = client(envoy, tenant)
    if door == "chat":
        r = c.chat.completions.create(model="claude", messages=[{"role": "user", "content": text}], stream=stream)
    elif door == "responses":
        r = c.responses.create(model="claude", input=text, stream=stream)
    else:
        r = c.embeddings.create(model="titan", input=text)
    return list(r) if stream else r


@pytest.mark.parametrize("door,stream", DOORS, ids=[f"{d}-{'stream' if s else 'json'}" for d, s in DOORS])
def test_every_front_door_is_metered_and_logged(tenants, sim, door, stream):
    sim.reset()
    usage = {"inputTokens": 13, "outputTokens": 5, "totalTokens": 22, "cacheReadInputTokens": 4}
    text = "hi"
    if door == "embeddings":
        text = "one two three four five six"  # the simulator counts 6 tokens, as its header says
        model, model_id, counts = "titan", TITAN, {"input": 6}
    elif stream:
        sim.scenario(A_MODEL, raw_hex=converse_stream(usage))
        model, model_id, counts = "claude", A_MODEL, {"input": 17, "output": 5, "cached_input": 4}
    else:
        sim.scenario(A_MODEL, body=converse_json(usage))
        model, model_id, counts = "claude", A_MODEL, {"input": 17, "output": 5, "cached_input": 4}
    before = quiet(tenants)
    logged = len(log_lines(tenants))
    ask(tenants, door, stream, "team-a", text)
    own = dict(model=model, profile="team-a")
    labels = gen_ai(OPERATION[door], model, model_id, "team-a")
    expected = {
        key("bedrock_reasoning_requests_total", **own): 1,
        key("bedrock_responses_total", status_class="2xx", **own): 1,
        key(f"{DURATION}_count", **labels): 1,
        key(f"{TTFT}_count", **labels): int(stream),
        # One record per successful stream with two output tokens or more.
        key(f"{TPOT}_count", **labels): int(stream),
        key("bedrock_reasoning_stream_duration_count", **own): int(stream),
    }
    for t, n in counts.items():
        expected[key("bedrock_tokens_total", gen_ai_token_type=t, **own)] = n
        expected[key(f"{TOKENS}_count", gen_ai_token_type=t, **labels)] = 1
    if door == "embeddings":
        expected[key(f"{TOKENS}_count", gen_ai_token_type="output", **labels)] = 1  # zero output tokens
    assert settle(tenants, before, expected) == expected
    now = prometheus(tenants)
    for k, v in expected.items():
        assert v == 0 or k in now, f"{k} missing from /stats/prometheus"
    # The histograms' sums: Envoy's are approximate (bucketed), within a token of the truth.
    for t, n in counts.items():
        s = now[key(f"{TOKENS}_sum", gen_ai_token_type=t, **labels)] - before.get(key(f"{TOKENS}_sum", gen_ai_token_type=t, **labels), 0)
        assert abs(s - n) <= max(1, n * 0.05), (t, s, n)

    deadline = time.time() + 10
    while len(log_lines(tenants)) == logged and time.time() < deadline:
        time.sleep(0.3)
    last = log_lines(tenants)[-1]
    assert (last["status"], last["model"]) == (200, model)
    assert (last["input_tokens"], last["output_tokens"]) == (str(counts["input"] - counts.get("cached_input", 0)),
                                                             str(counts.get("output", 0)))
    assert last["cached_tokens"] == str(counts.get("cached_input", 0))
    assert (last["ttft_ms"] or "").isdigit() == stream, last["ttft_ms"]


CUT = frame({":message-type": "exception", ":exception-type": "throttlingException",
             ":content-type": "application/json"}, json.dumps({"message": "slow down"}).encode())


@pytest.mark.parametrize("door", ["chat", "responses", "messages"])
def test_a_stream_cut_by_an_exception_counts_as_an_error_of_its_door(tenants, sim, door):
    sim.reset()
    sim.scenario(A_MODEL, raw_hex=stream_hex(
        ev("messageStart", role="assistant"),
        ev("contentBlockDelta", contentBlockIndex=0, delta={"text": "Partial"}), CUT))
    before = quiet(tenants)
    if door == "responses":  # the SDK hands the failure over as events
        types = [e.type for e in ask(tenants, door, True, "team-a")]
        assert "response.failed" in types or "error" in types, types
    else:
        with pytest.raises((openai.APIError, anthropic.APIError)):  # the SDKs raise on an error event
            ask(tenants, door, True, "team-a")
    own = dict(model="claude", profile="team-a")
    labels = gen_ai(door, "claude", A_MODEL, "team-a")
    expected = {
        key("bedrock_reasoning_requests_total", **own): 1,
        key("bedrock_responses_total", status_class="2xx", **own): 1,
        key("bedrock_reasoning_errors_total", error_type="rate_limit_error", **own): 1,
        key(f"{DURATION}_count", error_type="rate_limit_error", **labels): 1,
        key(f"{TTFT}_count", **labels): 0,
    }
    assert settle(tenants, before, expected) == expected


BUDGET_USAGE = {"inputTokens": 100, "outputTokens": 50, "totalTokens": 150}


@pytest.mark.parametrize("door,stream", DOORS, ids=[f"{d}-{'stream' if s else 'json'}" for d, s in DOORS])
def test_the_token_budget_holds_for_every_front_door(tenants, sim, door, stream):
    sim.reset()
    text = " ".join(["word"] * 150) if door == "embeddings" else "hi"  # 150 tokens each
    if stream:
        sim.scenario(CLAUDE, raw_hex=converse_stream(BUDGET_USAGE))
    else:
        sim.scenario(CLAUDE, body=converse_json(BUDGET_USAGE))
    time.sleep(WINDOW - time.time() % WINDOW + 0.05)  # a fresh budget window
    ask(tenants, door, stream, "team-c", text)
    ask(tenants, door, stream, "team-c", text)  # 150 < 300: admitted, then 300 spent
    refused = anthropic.RateLimitError if door == "messages" else openai.RateLimitError
    with pytest.raises(refused) as e:
        ask(tenants, door, stream, "team-c", text)
    assert e.value.status_code == 429
    assert 1 <= int(e.value.response.headers["retry-after"]) <= WINDOW
    assert len([r for r in sim.requests if r["path"].startswith("/model/")]) == 2, "the refused request never reached Bedrock"


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_the_openai_compatible_passthrough_is_metered_on_the_way(tenants, sim, stream):
    """Bedrock's OpenAI-compatible endpoint: the body goes to the client unchanged and is read on
    the way (usage of a JSON answer; first token and end of a stream)."""
    sim.reset()
    before = quiet(tenants)
    logged = len(log_lines(tenants))
    r = client(tenants, "team-a").chat.completions.create(model="oss", messages=HI, stream=stream)
    text = "".join(c.choices[0].delta.content or "" for c in r if c.choices) if stream else r.choices[0].message.content
    assert text == "You said: hi"
    own = dict(model="oss", profile="team-a")
    labels = gen_ai("chat", "oss", OSS, "team-a")
    expected = {
        key("bedrock_reasoning_requests_total", **own): 1,
        key("bedrock_responses_total", status_class="2xx", **own): 1,
        key("bedrock_reasoning_errors_total", error_type="server_error", **own): 0,
        key(f"{DURATION}_count", **labels): 1,
        key(f"{TTFT}_count", **labels): int(stream),
        # The simulator's JSON answer reports 3 + 4 tokens; its stream reports none.
        key("bedrock_tokens_total", gen_ai_token_type="input", **own): 0 if stream else 3,
        key("bedrock_tokens_total", gen_ai_token_type="output", **own): 0 if stream else 4,
    }
    assert settle(tenants, before, expected) == expected
    deadline = time.time() + 10
    while len(log_lines(tenants)) == logged and time.time() < deadline:
        time.sleep(0.3)
    last = log_lines(tenants)[-1]
    assert (last["model"], last["input_tokens"], last["output_tokens"]) == ("oss", "0" if stream else "3", "0" if stream else "4")
    assert (last["ttft_ms"] or "").isdigit() == stream
