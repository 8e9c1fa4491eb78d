"""In real Envoy: models configured `"api": "mantle"` reach Bedrock Mantle
(`bedrock-mantle.{region}.api.aws`, played by sim_mantle.py) in their own format, signed as
service `bedrock-mantle` (or with a Bedrock API key, or by Envoy's own signer), and are still
governed: token metrics, access-log usage and the token budget from the JSON answers and the
SSE streams' own usage events. Clients: the anthropic SDK and Claude Code through /v1/messages,
the openai SDK through chat completions and Responses, each streaming and not."""

import json
import os
import re
import subprocess
import time

import anthropic
import openai
import pytest
import yaml

from conftest import AKID, REGION, SECRET, TOKEN
from harness import ROOT, Envoy, aws_signer
from sim_mantle import CACHE_READ, start_mantle_sim
from test_tenants import key, prometheus

OPUS, OSS, GPT5 = "anthropic.claude-opus-4-8", "openai.gpt-oss-120b", "openai.gpt-5.5"
HOST = f"bedrock-mantle.{REGION}.api.aws"
BEARER = "bedrock-api-key-mantle"
MODELS = {"opus": {"id": OPUS, "api": "mantle"}, "oss": {"id": OSS, "api": "mantle"},
          "gpt5": {"id": GPT5, "api": "mantle"},
          # Claude Code rewrites "opus" into its own model id: it gets a name of its own.
          "mantle-claude": {"id": OPUS, "api": "mantle"}}
WINDOW = 5
CONFIG = {
    "region": REGION,
    "credentials": {"access_key_id": AKID, "secret_access_key": SECRET, "session_token": TOKEN},
    "models": MODELS,
    "reasoning_field": "reasoning_content",
    "profiles": {"budget": {"token_budget": {"tokens_per_minute": 60, "window_seconds": WINDOW}},
                 "budget-chat": {"token_budget": {"tokens_per_minute": 60, "window_seconds": WINDOW}},
                 "strict": {"strict_models": True, "models": {"opus": MODELS["opus"]}}},
}
CLIENTS = ROOT / "tests" / "clients" / "anthropic" / "node_modules"


def tenant_route(name):
    return {"name": name, "match": {"prefix": "/v1/", "headers": [{"name": "x-tenant", "string_match": {"exact": name}}]},
            "route": {"cluster": "bedrock", "timeout": "30s"}}


@pytest.fixture(scope="module")
def msim():
    server, port, sim = start_mantle_sim(region=REGION, access_key=AKID, secret_key=SECRET, session_token=TOKEN,
                                         bearer_token=BEARER)
    yield port, sim
    server.shutdown()


@pytest.fixture(scope="module")
def menvoy(msim):
    shipped = yaml.safe_load((ROOT / "envoy" / "envoy.yaml").read_text())
    hcm = shipped["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
    routes = [tenant_route("budget"), tenant_route("budget-chat"), tenant_route("strict"), {"match": {"prefix": "/"}, "route": {"cluster": "bedrock", "timeout": "30s"}}]
    e = Envoy(CONFIG, upstream=("127.0.0.1", msim[0]), name="mantle", routes=routes,
              hcm_extra={"access_log": hcm["access_log"]},
              bootstrap_extra={"stats_config": shipped["stats_config"], "stats_flush_interval": "0.2s"})
    yield e
    e.stop()


@pytest.fixture
def sim(msim):
    sim = msim[1]
    with sim.lock:
        sim.requests.clear()
        sim.scenarios.clear()
    return sim


def oc(envoy, tenant=None):
    return openai.OpenAI(base_url=envoy.base_url, api_key="sk-client-secret", max_retries=0, timeout=30,
                         default_headers={"x-tenant": tenant} if tenant else {})


def ac(envoy, tenant=None):
    return anthropic.Anthropic(base_url=envoy.base_url.removesuffix("/v1"), api_key="sk-ant-client-secret",
                               max_retries=0, timeout=30, default_headers={"x-tenant": tenant} if tenant else {})


def last(sim, path):
    reqs = [r for r in sim.requests if r["path"] == path]
    assert reqs, (path, [r["path"] for r in sim.requests])
    r = reqs[-1]
    assert r["signature_ok"], r
    assert r["headers"]["host"] == HOST
    assert "/bedrock-mantle/aws4_request" in r["headers"]["authorization"]
    assert "x-api-key" not in r["headers"] and "sk-" not in json.dumps(r["headers"])
    return r, json.loads(r["body"])


def tokens(envoy, model, kind, profile="default"):
    return prometheus(envoy).get(key("bedrock_tokens_total", model=model, profile=profile, gen_ai_token_type=kind), 0)


def wait_tokens(envoy, model, kind, want, profile="default"):
    deadline = time.time() + 10
    while tokens(envoy, model, kind, profile) != want and time.time() < deadline:
        time.sleep(0.2)
    return tokens(envoy, model, kind, profile)


def counted(envoy, model, run, inp, out):
    """Run `run()` and check it added `inp` input and `out` output tokens to the metric."""
    before = (tokens(envoy, model, "input"), tokens(envoy, model, "output"))
    run()
    assert wait_tokens(envoy, model, "input", before[0] + inp) == before[0] + inp
    assert wait_tokens(envoy, model, "output", before[1] + out) == before[1] + out


# --- Anthropic Messages --------------------------------------------------------------------
def test_anthropic_sdk_create_goes_to_mantle_unchanged_and_is_metered(menvoy, sim):
    c = ac(menvoy)
    got = {}

    def run():
        got["msg"] = c.messages.create(model="opus", max_tokens=100, system="Be brief.", metadata={"user_id": "u-1"},
                                       messages=[{"role": "user", "content": "hello mantle"}], extra_body={"top_k": 5})
    # The token metric's input counts cached input too (AI Gateway's token types).
    counted(menvoy, "opus", run, 7 + 2 + CACHE_READ, 4)
    msg = got["msg"]
    assert msg.content[0].text == "You said: hello mantle"
    assert msg.model == OPUS, "the answer passes unchanged (Mantle's model id)"
    assert (msg.usage.input_tokens, msg.usage.output_tokens, msg.usage.cache_read_input_tokens) == (9, 4, CACHE_READ)
    r, body = last(sim, "/anthropic/v1/messages")
    assert body == {"model": OPUS, "max_tokens": 100, "system": "Be brief.", "metadata": {"user_id": "u-1"},
                    "messages": [{"role": "user", "content": "hello mantle"}], "top_k": 5}
    # The SDK's own anthropic-version is sent on (the filter's default, 2023-06-01, is for clients
    # without one: filter/tests/exchange.rs).
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", r["headers"]["anthropic-version"])
    assert r["headers"]["accept"] == "application/json"
    assert tokens(menvoy, "opus", "cached_input") >= CACHE_READ


def test_anthropic_sdk_stream_passes_sse_through_and_is_metered(menvoy, sim):
    c = ac(menvoy)
    got = {}

    def run():
        with c.messages.stream(model="opus", max_tokens=100, messages=[{"role": "user", "content": "stream three words"}],
                               extra_headers={"anthropic-beta": "interleaved-thinking-2025-05-14"}) as s:
            got["text"] = "".join(s.text_stream)
            got["final"] = s.get_final_message()
    counted(menvoy, "opus", run, 7 + 3 + CACHE_READ, 5)
    assert got["text"] == "You said: stream three words"
    assert got["final"].usage.output_tokens == 5 and got["final"].stop_reason == "end_turn"
    r, body = last(sim, "/anthropic/v1/messages")
    assert body["stream"] is True and body["model"] == OPUS
    assert r["headers"]["accept"] == "text/event-stream"
    assert r["headers"]["anthropic-beta"] == "interleaved-thinking-2025-05-14"


def test_anthropic_errors_keep_their_shape(menvoy, sim):
    c = ac(menvoy)
    with sim.lock:
        sim.scenarios[OPUS] = {"status": 429, "error_type": "rate_limit_error", "message": "slow down",
                               "headers": {"retry-after": "7"}}
    with pytest.raises(anthropic.RateLimitError) as e:
        c.messages.create(model="opus", max_tokens=10, messages=[{"role": "user", "content": "x"}])
    assert e.value.body == {"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}}
    assert e.value.response.headers["retry-after"] == "7"
    with sim.lock:
        sim.scenarios.clear()
    # Mantle's own rule (max_tokens is required): its 400 reaches the client as it was.
    with pytest.raises(anthropic.BadRequestError) as e:
        c.post("/v1/messages", body={"model": "opus", "messages": [{"role": "user", "content": "x"}]}, cast_to=object)
    assert e.value.body["error"]["type"] == "invalid_request_error"
    assert sim.requests[-1]["refused"] == "max_tokens"


def test_count_tokens_goes_to_mantles_count_tokens(menvoy, sim):
    """AWS counts Claude's tokens on Mantle with Anthropic's count_tokens (count-tokens.html):
    the body goes as sent, model mapped; counting charges no tokens."""
    c = ac(menvoy)
    before = tokens(menvoy, "opus", "input")
    n = c.messages.count_tokens(model="opus", system="Be brief.", messages=[{"role": "user", "content": "count these"}])
    assert n.input_tokens == 7 + 2
    r, body = last(sim, "/anthropic/v1/messages/count_tokens")
    assert body == {"model": OPUS, "system": "Be brief.", "messages": [{"role": "user", "content": "count these"}]}
    assert r["headers"]["accept"] == "application/json"
    time.sleep(0.5)
    assert tokens(menvoy, "opus", "input") == before


# --- OpenAI chat completions and Responses ---------------------------------------------------
def test_chat_completions_json_and_stream(menvoy, sim):
    c = oc(menvoy)
    got = {}
    counted(menvoy, "oss", lambda: got.setdefault("r", c.chat.completions.create(
        model="oss", messages=[{"role": "user", "content": "one two"}], reasoning_effort="low")), 9, 4)
    r = got["r"]
    assert r.choices[0].message.content == "You said: one two" and r.usage.prompt_tokens == 9
    req, body = last(sim, "/v1/chat/completions")
    assert body == {"model": OSS, "messages": [{"role": "user", "content": "one two"}], "reasoning_effort": "low"}

    # A stream whose client did not ask for usage: the filter asks, meters, and drops the chunk.
    def stream():
        got["chunks"] = list(c.chat.completions.create(model="oss", messages=[{"role": "user", "content": "a b c"}], stream=True))
    counted(menvoy, "oss", stream, 10, 5)
    chunks = got["chunks"]
    assert "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices) == "You said: a b c"
    assert all(ch.usage is None and ch.choices for ch in chunks)
    _, body = last(sim, "/v1/chat/completions")
    assert body["stream_options"] == {"include_usage": True}

    # Asked for: the usage chunk reaches the client.
    def with_usage():
        got["u"] = list(c.chat.completions.create(model="oss", messages=[{"role": "user", "content": "x"}], stream=True,
                                                  stream_options={"include_usage": True}))
    counted(menvoy, "oss", with_usage, 8, 3)
    assert got["u"][-1].usage.total_tokens == 11 and got["u"][-1].choices == []


def test_responses_json_and_stream_under_openai_v1(menvoy, sim):
    c = oc(menvoy)
    got = {}
    counted(menvoy, "gpt5", lambda: got.setdefault("r", c.responses.create(model="gpt5", input="tell me", store=False)), 9, 4)
    assert got["r"].output_text == "You said: tell me" and got["r"].usage.output_tokens == 4
    _, body = last(sim, "/openai/v1/responses")
    assert body == {"model": GPT5, "input": "tell me", "store": False}

    def stream():
        got["ev"] = list(c.responses.create(model="gpt5", input=[{"role": "user", "content": "go on now"}], stream=True))
    counted(menvoy, "gpt5", stream, 10, 5)
    assert got["ev"][-1].type == "response.completed"
    assert "".join(e.delta for e in got["ev"] if e.type == "response.output_text.delta") == "You said: go on now"
    # gpt-oss takes Responses under /v1.
    assert c.responses.create(model="oss", input="hi").output_text == "You said: hi"
    last(sim, "/v1/responses")


def test_openai_errors_keep_their_shape(menvoy, sim):
    c = oc(menvoy)
    with sim.lock:
        sim.scenarios[OSS] = {"status": 400, "error_type": "invalid_request_error", "message": "bad thing"}
    with pytest.raises(openai.BadRequestError) as e:
        c.chat.completions.create(model="oss", messages=[{"role": "user", "content": "x"}])
    assert e.value.body["message"] == "bad thing" and e.value.body["type"] == "invalid_request_error"


# --- OpenAI clients to Claude on Mantle (cross-format) ------------------------------------------
WEATHER = {"type": "function", "function": {"name": "get_weather", "description": "Weather for a city",
                                            "parameters": {"type": "object", "properties": {"query": {"type": "string"}},
                                                           "required": ["query"]}}}


def test_chat_to_claude_goes_to_the_messages_api_json_and_stream(menvoy, sim):
    """Claude is served by Mantle's Messages API only: a chat completions request for it is
    translated there, and the Anthropic answer comes back as a chat completion, thinking in
    `reasoning_content`, usage counted (OpenAI's prompt_tokens include cached input)."""
    c = oc(menvoy)
    got = {}

    def run():
        got["r"] = c.chat.completions.create(model="opus", messages=[{"role": "system", "content": "Be brief."},
                                                                     {"role": "user", "content": "hello claude"}],
                                             reasoning_effort="low", max_tokens=2000)
    # Thinking "Thinking about: hello claude" (4 words) + text "You said: hello claude" (4).
    counted(menvoy, "opus", run, 9 + CACHE_READ, 8)
    r = got["r"]
    m = r.choices[0].message
    assert m.content == "You said: hello claude" and r.choices[0].finish_reason == "stop"
    assert m.model_extra["reasoning_content"] == "Thinking about: hello claude"
    assert r.model == "opus" and r.id.startswith("chatcmpl-")
    assert (r.usage.prompt_tokens, r.usage.completion_tokens) == (9 + CACHE_READ, 8)
    req, body = last(sim, "/anthropic/v1/messages")
    assert body["model"] == OPUS and body["system"] == [{"type": "text", "text": "Be brief."}]
    assert body["messages"] == [{"role": "user", "content": [{"type": "text", "text": "hello claude"}]}]
    assert body["thinking"]["type"] in ("enabled", "adaptive") and "stream" not in body
    assert req["headers"]["anthropic-version"] == "2023-06-01" and req["headers"]["accept"] == "application/json"

    def stream():
        got["chunks"] = list(c.chat.completions.create(model="opus", messages=[{"role": "user", "content": "a b"}],
                                                       reasoning_effort="low", stream=True,
                                                       stream_options={"include_usage": True}))
    counted(menvoy, "opus", stream, 9 + CACHE_READ, 8)
    chunks = got["chunks"]
    deltas = [ch.choices[0].delta for ch in chunks if ch.choices]
    assert "".join(d.model_extra.get("reasoning_content") or "" for d in deltas) == "Thinking about: a b"
    assert "".join(d.content or "" for d in deltas) == "You said: a b"
    assert [ch.choices[0].finish_reason for ch in chunks if ch.choices and ch.choices[0].finish_reason] == ["stop"]
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == 8
    req, body = last(sim, "/anthropic/v1/messages")
    assert body["stream"] is True and req["headers"]["accept"] == "text/event-stream"


def test_chat_tool_loop_with_thinking_through_claude_on_mantle(menvoy, sim):
    """A tool call and its result, thinking on: the signed thinking block the client sends back
    (thinking_blocks) reaches Mantle first in the tool-calling turn, as Anthropic requires."""
    c = oc(menvoy)
    msgs = [{"role": "user", "content": "call get_weather Paris"}]
    r = c.chat.completions.create(model="opus", messages=msgs, tools=[WEATHER], reasoning_effort="low", max_tokens=4000)
    assert r.choices[0].finish_reason == "tool_calls"
    call = r.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"query": "Paris"}
    _, body = last(sim, "/anthropic/v1/messages")
    assert body["tools"] == [{"name": "get_weather", "description": "Weather for a city",
                              "input_schema": WEATHER["function"]["parameters"]}]
    msgs += [r.choices[0].message.model_dump(exclude_none=True),
             {"role": "tool", "tool_call_id": call.id, "content": "sunny 21C"}]
    with c.chat.completions.create(model="opus", messages=msgs, tools=[WEATHER], reasoning_effort="low",
                                   max_tokens=4000, stream=True) as s:
        text = "".join(ch.choices[0].delta.content or "" for ch in s if ch.choices)
    assert text == "Tool said: sunny 21C"
    req, body = last(sim, "/anthropic/v1/messages")
    assert "refused" not in req
    turn = body["messages"][1]["content"]
    assert [b["type"] for b in turn] == ["thinking", "tool_use"] and turn[1]["id"] == call.id
    assert body["messages"][2]["content"][0]["tool_use_id"] == call.id

    # A streamed tool call: its arguments arrive in pieces (input_json_delta) and add up.
    with c.chat.completions.create(model="opus", messages=[{"role": "user", "content": "call get_weather Rome"}],
                                   tools=[WEATHER], stream=True) as s:
        chunks = list(s)
    args = "".join(t.function.arguments or "" for ch in chunks if ch.choices for t in ch.choices[0].delta.tool_calls or [])
    assert json.loads(args) == {"query": "Rome"}
    assert [ch.choices[0].finish_reason for ch in chunks if ch.choices and ch.choices[0].finish_reason] == ["tool_calls"]


def test_responses_to_claude_on_mantle(menvoy, sim):
    c = oc(menvoy)
    assert c.responses.create(model="opus", input="hi there").output_text == "You said: hi there"
    events = list(c.responses.create(model="opus", input="go", stream=True))
    assert events[-1].type == "response.completed" and events[-1].response.usage.output_tokens == 3
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == "You said: go"
    last(sim, "/anthropic/v1/messages")


def test_chat_to_claude_errors_in_openai_shape(menvoy, sim):
    c = oc(menvoy)
    with sim.lock:
        sim.scenarios[OPUS] = {"status": 429, "error_type": "rate_limit_error", "message": "slow down",
                               "headers": {"retry-after": "7"}}
    for stream in (False, True):
        with pytest.raises(openai.RateLimitError) as e:
            c.chat.completions.create(model="opus", messages=[{"role": "user", "content": "x"}], stream=stream)
        assert e.value.body["message"] == "slow down" and e.value.body["type"] == "rate_limit_error"
        assert e.value.response.headers["retry-after"] == "7"
    # An error event inside Anthropic's stream: an OpenAI error chunk, counted as an error.
    with sim.lock:
        sim.scenarios[OPUS] = {"stream_error": {"type": "overloaded_error", "message": "Overloaded"}}
    errors = key("bedrock_reasoning_errors_total", error_type="server_error", model="opus", profile="default")
    before = prometheus(menvoy).get(errors, 0)
    with pytest.raises(openai.APIError) as e:
        list(c.chat.completions.create(model="opus", messages=[{"role": "user", "content": "x"}], stream=True))
    assert "Overloaded" in str(e.value)
    deadline = time.time() + 10
    while prometheus(menvoy).get(errors, 0) == before and time.time() < deadline:
        time.sleep(0.2)
    assert prometheus(menvoy).get(errors, 0) == before + 1
    with sim.lock:
        sim.scenarios.clear()
    # A parameter Claude cannot take is refused by the filter before Mantle, in OpenAI's shape.
    n = len(sim.requests)
    with pytest.raises(openai.BadRequestError) as e:
        c.chat.completions.create(model="opus", messages=[{"role": "user", "content": "x"}], n=2)
    assert e.value.body["param"] == "n" and len(sim.requests) == n


def test_token_budget_counts_chat_to_claude(menvoy, sim):
    c = oc(menvoy, "budget-chat")
    while time.time() % WINDOW > 0.5:
        time.sleep(0.05)
    words = " ".join(["w"] * 20)
    # 27 input + 22 output = 49 tokens per request; the budget is 60 per window.
    list(c.chat.completions.create(model="opus", messages=[{"role": "user", "content": words}], stream=True))
    c.chat.completions.create(model="opus", messages=[{"role": "user", "content": words}])
    with pytest.raises(openai.RateLimitError) as e:
        c.chat.completions.create(model="opus", messages=[{"role": "user", "content": "x"}])
    assert e.value.body["code"] == "rate_limit_exceeded"
    assert len(sim.requests) == 2, "the refused request never reached Mantle"


# --- governance: models, strict profiles, budget, access log ------------------------------------
def test_models_list_and_strict_profile(menvoy, sim):
    assert sorted(m.id for m in oc(menvoy).models.list()) == sorted(MODELS)
    strict = oc(menvoy, "strict")
    assert [m.id for m in strict.models.list()] == ["opus"]
    with pytest.raises(openai.NotFoundError) as e:
        strict.chat.completions.create(model="oss", messages=[{"role": "user", "content": "x"}])
    assert e.value.body["code"] == "model_not_found"
    assert sim.requests == []


def test_token_budget_counts_mantle_streams(menvoy, sim):
    c = ac(menvoy, "budget")
    while time.time() % WINDOW > 0.5:
        time.sleep(0.05)
    words = " ".join(["w"] * 20)
    # 27 input + 22 output = 49 tokens per request; the budget is 60 per window.
    with c.messages.stream(model="opus", max_tokens=50, messages=[{"role": "user", "content": words}]) as s:
        s.get_final_message()
    c.messages.create(model="opus", max_tokens=50, messages=[{"role": "user", "content": words}])
    with pytest.raises(anthropic.RateLimitError) as e:
        c.messages.create(model="opus", max_tokens=50, messages=[{"role": "user", "content": "x"}])
    assert e.value.body["error"]["type"] == "rate_limit_error"
    assert len(sim.requests) == 2, "the refused request never reached Mantle"
    deadline = time.time() + 10
    while True:
        lines = [json.loads(l) for l in menvoy.logs().splitlines() if l.startswith("{") and '"profile"' in l]
        mine = [(l["status"], l["input_tokens"], l["output_tokens"]) for l in lines if l["profile"] == "budget"]
        if len(mine) >= 3 or time.time() > deadline:
            break
        time.sleep(0.2)
    assert mine[-3:] == [(200, "27", "22"), (200, "27", "22"), (429, "0", "0")]


# --- authentication ----------------------------------------------------------------------
def test_bedrock_api_key_is_sent_as_bearer(msim, sim):
    cfg = {"region": REGION, "credentials": {"bearer_token": BEARER}, "models": MODELS}
    e = Envoy(cfg, upstream=("127.0.0.1", msim[0]), name="mantle-bearer")
    try:
        assert oc(e).chat.completions.create(model="oss", messages=[{"role": "user", "content": "k"}]).choices
        r = sim.requests[-1]
        assert r["signature_ok"] and r["headers"]["authorization"] == f"Bearer {BEARER}"
    finally:
        e.stop()


def test_envoy_signer_signs_mantle_as_bedrock_mantle(msim, sim):
    """`"signing": "envoy"`: Envoy's aws_request_signing signs; a route for Mantle's host gives it
    the service name bedrock-mantle (the block shipped in envoy/envoy-signer.yaml)."""
    shipped = yaml.safe_load((ROOT / "envoy" / "envoy-signer.yaml").read_text())
    vhost = shipped["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]["route_config"]["virtual_hosts"][0]
    mantle_route = next(r for r in vhost["routes"] if "headers" in r["match"])
    mantle_route = dict(mantle_route, route={"cluster": "bedrock", "timeout": "30s"})
    per_route = mantle_route["typed_per_filter_config"]["envoy.filters.http.aws_request_signing"]
    assert per_route["aws_request_signing"]["service_name"] == "bedrock-mantle"
    routes = [mantle_route, {"match": {"prefix": "/"}, "route": {"cluster": "bedrock", "timeout": "30s"}}]
    cfg = {"region": REGION, "signing": "envoy", "models": MODELS}
    e = Envoy(cfg, upstream=("127.0.0.1", msim[0]), name="mantle-envsign", signer=aws_signer(REGION), routes=routes,
              env={"AWS_ACCESS_KEY_ID": AKID, "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_SESSION_TOKEN": TOKEN,
                   "AWS_EC2_METADATA_DISABLED": "true", "HOME": "/nonexistent"})
    try:
        msg = ac(e).messages.create(model="opus", max_tokens=10, messages=[{"role": "user", "content": "signed by envoy"}])
        assert msg.content[0].text == "You said: signed by envoy"
        with oc(e).chat.completions.create(model="oss", messages=[{"role": "user", "content": "s"}], stream=True) as s:
            assert "".join(ch.choices[0].delta.content or "" for ch in s if ch.choices) == "You said: s"
        for r in sim.requests[-2:]:
            assert r["signature_ok"], r
            assert "/bedrock-mantle/aws4_request" in r["headers"]["authorization"]
    finally:
        e.stop()


# --- Claude Code ------------------------------------------------------------------------
@pytest.mark.skipif(not (CLIENTS / ".bin" / "claude").exists(), reason="tests/clients/anthropic not installed")
def test_claude_code_print_mode_through_mantle(menvoy, sim, tmp_path):
    env = dict(os.environ, ANTHROPIC_BASE_URL=menvoy.base_url.removesuffix("/v1"), ANTHROPIC_API_KEY="sk-ant-claude-code",
               HOME=str(tmp_path), DISABLE_AUTOUPDATER="1", CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1")
    before = tokens(menvoy, "mantle-claude", "output")
    out = subprocess.run([str(CLIENTS / ".bin" / "claude"), "-p", "ping from claude code", "--model", "mantle-claude"],
                         capture_output=True, text=True, timeout=180, env=env, cwd=tmp_path)
    assert out.returncode == 0, (out.stdout, out.stderr, menvoy.logs()[-3000:])
    assert "You said:" in out.stdout
    reqs = [r for r in sim.requests if r["path"] == "/anthropic/v1/messages"]
    assert reqs and all(r["signature_ok"] for r in reqs)
    assert all(json.loads(r["body"])["model"] == OPUS for r in reqs)
    deadline = time.time() + 10
    while tokens(menvoy, "mantle-claude", "output") == before and time.time() < deadline:
        time.sleep(0.2)
    assert tokens(menvoy, "mantle-claude", "output") > before
