"""The core path in real Envoy: openai SDK → Envoy + bedrock-bridge → Bedrock simulator."""

import http.client
import json
import time
from pathlib import Path

import openai
import pytest
from botocore.eventstream import EventStreamBuffer

from conftest import CLAUDE, OPENAI_ERRORS, filter_config, sdk_error

FIX = Path(__file__).resolve().parent.parent / "fixtures"
RECORDINGS = sorted((FIX / "bedrock-recordings" / "converse-stream").glob("*.bin")) + sorted(
    (FIX / "bedrock-recordings").glob("*.eventstream"))
FINISH = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length", "tool_use": "tool_calls",
          "guardrail_intervened": "content_filter", "content_filtered": "content_filter"}


def expected_from_recording(data: bytes) -> dict:
    """What the recording says, read with botocore's eventstream parser (not ours)."""
    buf = EventStreamBuffer()
    buf.add_data(data)
    exp = {"text": "", "reasoning": "", "stop": None, "tools": {}, "signatures": []}
    for msg in buf:
        kind = msg.headers.get(":event-type")
        p = json.loads(msg.payload)
        if kind == "contentBlockDelta":
            d = p["delta"]
            exp["text"] += d.get("text", "")
            r = d.get("reasoningContent", {})
            exp["reasoning"] += r.get("text", "")
            if "signature" in r:
                exp["signatures"].append(r["signature"])
            if "toolUse" in d:
                exp["tools"].setdefault(p["contentBlockIndex"], ["", ""])[1] += d["toolUse"]["input"]
        elif kind == "contentBlockStart" and "toolUse" in p["start"]:
            exp["tools"][p["contentBlockIndex"]] = [p["start"]["toolUse"]["name"], ""]
        elif kind == "messageStop":
            exp["stop"] = p["stopReason"]
    return exp


def raw_post(envoy, body: dict, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", envoy.port, timeout=30)
    conn.request("POST", "/v1/chat/completions", json.dumps(body), {"content-type": "application/json", **(headers or {})})
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, dict(r.getheaders()), data


def sse_events(data: bytes) -> list:
    events = [e for e in data.decode().split("\n\n") if e]
    assert all(e.startswith("data: ") for e in events), events
    return [e[6:] for e in events]


def test_non_streaming_reasoning_completion(client, sim):
    r = client.chat.completions.create(
        model="claude",
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello there"}],
        max_tokens=300, temperature=0.3, top_p=0.9, stop=["END"])
    msg = r.choices[0].message
    assert msg.content == "You said: hello there"
    assert msg.model_extra["reasoning"] == "The user wrote 11 characters."
    assert msg.model_extra["thinking_blocks"] == [
        {"type": "thinking", "thinking": "The user wrote 11 characters.", "signature": "c2ln"}]
    assert r.choices[0].finish_reason == "stop"
    assert r.model == "claude" and r.object == "chat.completion" and r.id.startswith("chatcmpl-")
    assert r.usage.total_tokens > 0
    [req] = sim.requests
    assert req["signature_ok"], req
    assert req["path"] == "/model/us.anthropic.claude-sonnet-4-20250514-v1%3A0/converse"
    assert req["model_id"] == CLAUDE
    body = json.loads(req["body"])
    assert body["system"] == [{"text": "Be brief."}]
    assert body["messages"] == [{"role": "user", "content": [{"text": "hello there"}]}]
    assert body["inferenceConfig"] == {"maxTokens": 300, "temperature": 0.3, "topP": 0.9, "stopSequences": ["END"]}
    # The client's credentials and SDK headers never reach AWS.
    assert "sk-client-secret-never-forwarded" not in json.dumps(req["headers"])
    assert not any(h.startswith("x-stainless") for h in req["headers"])
    assert req["headers"]["host"] == "bedrock-runtime.us-east-1.amazonaws.com"


def test_streaming_reasoning_then_content_with_usage(client, sim):
    chunks = list(client.chat.completions.create(
        model="claude", messages=[{"role": "user", "content": "stream me please"}], stream=True,
        stream_options={"include_usage": True}))
    assert chunks[0].choices[0].delta.role == "assistant"
    reasoning = "".join((c.choices[0].delta.model_extra or {}).get("reasoning") or "" for c in chunks if c.choices)
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert reasoning == "The user wrote 16 characters. I will repeat them back."
    assert content == "You said: stream me please"
    # Reasoning is streamed before content, each in its own field.
    first_content = next(i for i, c in enumerate(chunks) if c.choices and c.choices[0].delta.content)
    last_reasoning = max(i for i, c in enumerate(chunks) if c.choices and (c.choices[0].delta.model_extra or {}).get("reasoning"))
    assert last_reasoning < first_content
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"]
    assert chunks[-1].choices == [] and chunks[-1].usage.prompt_tokens == 5
    assert len({c.id for c in chunks}) == 1 and len({c.created for c in chunks}) == 1
    assert {c.model for c in chunks} == {"claude"}
    [req] = sim.requests
    assert req["signature_ok"] and req["path"].endswith("/converse-stream")


@pytest.mark.parametrize("path", RECORDINGS, ids=lambda p: p.stem)
def test_recorded_streams_replay_through_envoy(client, sim, path):
    model = "replay." + path.stem
    sim.scenario(model, file=str(path.relative_to(FIX)))
    exp = expected_from_recording(path.read_bytes())
    chunks = list(client.chat.completions.create(model=model, messages=[{"role": "user", "content": "x"}], stream=True))
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    assert "".join(d.content or "" for d in deltas) == exp["text"]
    assert "".join((d.model_extra or {}).get("reasoning") or "" for d in deltas) == exp["reasoning"]
    for sig in exp["signatures"]:
        assert sig not in "".join(d.content or "" for d in deltas)
    tools = {}
    for d in deltas:
        for tc in d.tool_calls or []:
            t = tools.setdefault(tc.index, ["", ""])
            t[0] += tc.function.name or ""
            t[1] += tc.function.arguments or ""
    assert sorted(tools.values()) == sorted(exp["tools"].values())
    finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finish == [FINISH[exp["stop"]]]


def test_sse_bytes_do_not_depend_on_upstream_chunking(envoy, sim):
    rec = "bedrock-recordings/converse-stream/langchain-aws__thinking_v0.bin"
    sim.scenario("whole", file=rec)
    sim.scenario("odd", file=rec, chunk_sizes=[1, 7, 13, 64, 3, 1500, 2])

    def normalised(model):
        status, headers, data = raw_post(envoy, {"model": model, "stream": True, "messages": [{"role": "user", "content": "x"}]})
        assert status == 200 and headers["content-type"].startswith("text/event-stream")
        out = []
        for e in sse_events(data):
            if e != "[DONE]":
                e = json.loads(e)
                e.pop("id"), e.pop("created"), e.pop("model")
            out.append(e)
        return out

    whole, odd = normalised("whole"), normalised("odd")
    assert len(whole) > 150
    assert odd == whole


def test_first_reasoning_delta_arrives_long_before_the_end(client, sim):
    sim.scenario("slow", file="bedrock-recordings/test_bedrock_model_thinking_part_stream.eventstream", frame_delay_ms=300)
    start = time.monotonic()
    first = None
    for c in client.chat.completions.create(model="slow", messages=[{"role": "user", "content": "x"}], stream=True):
        if first is None and c.choices and (c.choices[0].delta.model_extra or {}).get("reasoning"):
            first = time.monotonic() - start
    total = time.monotonic() - start
    print(f"first reasoning delta after {first * 1000:.0f} ms, stream took {total * 1000:.0f} ms")
    assert total > 5.0, "25 frames 300 ms apart"
    assert first < 1.5


RECORDED_ERRORS = [
    "newrelic__400_ValidationException_converse",
    "openinference-js__400_ValidationException_converse_stream",
    "openinference-js__403_AccessDeniedException_invoke",
    "newrelic__403_UnrecognizedClientException_converse",
    "dd-trace-py__403_ExpiredTokenException_converse",
]
# Recording names are <source>__<status>_<Bedrock error>_<operation>.
ERRORS = [(n, *OPENAI_ERRORS[n.split("__")[1].split("_")[1]]) for n in RECORDED_ERRORS]


@pytest.mark.parametrize("name,status,exc,kind", ERRORS, ids=[e[0] for e in ERRORS])
@pytest.mark.parametrize("stream", [False, True])
def test_recorded_bedrock_errors(client, sim, name, status, exc, kind, stream):
    meta = json.loads((FIX / "bedrock-recordings/errors" / f"{name}.meta.json").read_text())
    body = (FIX / "bedrock-recordings/errors" / f"{name}.body.json").read_text()
    headers = {k: v for k, v in meta["response"]["headers"].items() if k.lower() == "x-amzn-errortype"}
    sim.scenario("err", status=meta["response"]["status"], body=body, headers=headers)
    e = sdk_error(client, exc, "err", stream)
    assert e.status_code == status
    err = e.body
    assert err["type"] == kind
    assert err["message"] == json.loads(body).get("message", json.loads(body).get("Message"))
    assert err["code"] == headers["x-amzn-ErrorType"].split(":")[0] or err["code"] == "context_length_exceeded"


def test_throttling_is_429(client, sim):
    sim.scenario("slowdown", status=429, body={"message": "Too many requests, please wait before trying again."},
                 headers={"x-amzn-ErrorType": "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/"})
    with pytest.raises(openai.RateLimitError) as e:
        client.chat.completions.create(model="slowdown", messages=[{"role": "user", "content": "x"}])
    assert e.value.body["code"] == "ThrottlingException"


BAD_REQUESTS = [
    b"{not json",
    b"[]",
    json.dumps({"messages": [{"role": "user", "content": "x"}]}).encode(),
    json.dumps({"model": "claude"}).encode(),
    json.dumps({"model": "claude", "messages": "hi"}).encode(),
    json.dumps({"model": "claude", "messages": []}).encode(),
    json.dumps({"model": 7, "messages": [{"role": "user", "content": "x"}]}).encode(),
    json.dumps({"model": "claude", "messages": [{"role": "user", "content": 5}]}).encode(),
    json.dumps({"model": "claude", "messages": [{"role": "user", "content": "x"}], "temperature": "hot"}).encode(),
    json.dumps({"model": "claude", "messages": [{"role": "user", "content": "x"}], "n": 3}).encode(),
]


@pytest.mark.parametrize("body", BAD_REQUESTS)
def test_invalid_requests_are_400_and_never_sent(envoy, sim, body):
    sim.reset()
    conn = http.client.HTTPConnection("127.0.0.1", envoy.port, timeout=10)
    conn.request("POST", "/v1/chat/completions", body, {"content-type": "application/json"})
    r = conn.getresponse()
    err = json.loads(r.read())
    assert r.status == 400
    assert set(err["error"]) == {"message", "type", "param", "code"}
    assert err["error"]["type"] == "invalid_request_error"
    assert sim.requests == []


def test_wrong_secret_is_rejected_by_botocore_as_401(start_envoy, sim):
    cfg = filter_config(credentials={"access_key_id": "AKIDEXAMPLE", "secret_access_key": "wrong", "session_token": "FwoGZXIvYXdzEXAMPLETOKEN"})
    e = start_envoy(cfg)
    client = openai.OpenAI(base_url=e.base_url, api_key="x", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as err:
        client.chat.completions.create(model="claude", messages=[{"role": "user", "content": "x"}])
    assert err.value.body["code"] == "InvalidSignatureException"


def test_bedrock_api_key_auth(start_envoy, sim):
    e = start_envoy(filter_config(credentials={"bearer_token": "bedrock-api-key-test"}))
    client = openai.OpenAI(base_url=e.base_url, api_key="x", max_retries=0)
    r = client.chat.completions.create(model="claude", messages=[{"role": "user", "content": "key"}])
    assert r.choices[0].message.content == "You said: key"
    assert sim.requests[-1]["headers"]["authorization"] == "Bearer bedrock-api-key-test"


NEGATIVE = sorted((FIX / "eventstream-vectors/negative").glob("*.bin"))


@pytest.mark.parametrize("path", NEGATIVE, ids=lambda p: p.stem)
def test_corrupt_eventstreams_end_with_an_error_event_and_envoy_keeps_serving(envoy, client, sim, path):
    sim.scenario("corrupt", raw_hex=path.read_bytes().hex())
    status, _, data = raw_post(envoy, {"model": "corrupt", "stream": True, "messages": [{"role": "user", "content": "x"}]})
    assert status == 200
    events = sse_events(data)
    assert events[-1] == "[DONE]"
    err = json.loads(events[-2])["error"]
    assert err["type"] == "server_error" and "eventstream" in err["message"]
    with pytest.raises(openai.APIError):
        list(client.chat.completions.create(model="corrupt", messages=[{"role": "user", "content": "x"}], stream=True))
    # Both workers still serve.
    for _ in range(4):
        assert client.chat.completions.create(model="claude", messages=[{"role": "user", "content": "ok"}]).choices[0].message.content == "You said: ok"
    assert envoy.alive()


def test_unknown_config_field_answers_500_and_envoy_stays_up(start_envoy, sim):
    e = start_envoy(filter_config(regoin="us-east-1"))
    client = openai.OpenAI(base_url=e.base_url, api_key="x", max_retries=0)
    for _ in range(3):
        with pytest.raises(openai.InternalServerError) as err:
            client.chat.completions.create(model="claude", messages=[{"role": "user", "content": "x"}])
        assert "regoin" in err.value.body["message"]
        assert err.value.body["type"] == "server_error"
    assert e.alive()
    assert "unknown field `regoin`" in e.logs()


def test_models_list(client):
    models = client.models.list()
    assert [m.id for m in models.data] == ["claude"]


def test_secrets_never_reach_the_logs(envoy, client, sim):
    client.chat.completions.create(model="claude", messages=[{"role": "user", "content": "x"}])
    logs = envoy.logs()
    assert "bedrock-bridge" in logs
    for secret in ["wJalrXUtnFEMI", "FwoGZXIvYXdzEXAMPLETOKEN", "sk-client-secret", "Signature="]:
        assert secret not in logs


def test_credentials_and_region_from_the_environment(start_envoy, sim):
    """What `make run` does for real Bedrock: no secrets in the config, host_env_keys instead."""
    from conftest import AKID, SECRET, TOKEN
    e = start_envoy({"models": {"claude": CLAUDE}}, env={
        "AWS_ACCESS_KEY_ID": AKID, "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_SESSION_TOKEN": TOKEN, "AWS_REGION": "us-east-1"})
    client = openai.OpenAI(base_url=e.base_url, api_key="x", max_retries=0)
    assert client.chat.completions.create(model="claude", messages=[{"role": "user", "content": "env"}]).choices[0].message.content == "You said: env"
    assert sim.requests[-1]["signature_ok"]
    assert SECRET not in e.logs() and TOKEN not in e.logs()


def test_shipped_envoy_config_is_valid():
    import subprocess
    from harness import ROOT, envoy_binary
    r = subprocess.run([envoy_binary(), "--mode", "validate", "-c", "envoy/envoy.yaml", "--base-id", "4243"],
                       cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "configuration 'envoy/envoy.yaml' OK" in r.stdout + r.stderr


@pytest.mark.parametrize("stream", [False, True])
def test_openai_compatible_models_pass_through(start_envoy, sim, stream):
    e = start_envoy(filter_config(models={"oss": {"id": "openai.gpt-oss-20b-1:0", "api": "openai"}}))
    client = openai.OpenAI(base_url=e.base_url, api_key="x", max_retries=0)
    r = client.chat.completions.create(model="oss", messages=[{"role": "user", "content": "hi there"}], stream=stream)
    text = "".join(c.choices[0].delta.content or "" for c in r if c.choices) if stream else r.choices[0].message.content
    assert text == "You said: hi there"
    req = sim.requests[-1]
    assert req["path"] == "/openai/v1/chat/completions" and req["signature_ok"]
    assert json.loads(req["body"])["model"] == "openai.gpt-oss-20b-1:0"
