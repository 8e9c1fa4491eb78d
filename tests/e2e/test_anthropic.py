"""Anthropic Messages API through the filter in real Envoy, with the official `anthropic` SDK:
messages.create, messages.stream with thinking, a tool loop with thinking blocks sent back
signature-intact, count_tokens, beta flags, cache_control, and Anthropic-shaped errors."""

import http.client
import json
from pathlib import Path

import anthropic
import pytest

from conftest import CLAUDE

FIX = Path(__file__).resolve().parent.parent / "fixtures"
TOOL_STREAM = "bedrock-recordings/converse-stream/envoy-ai-gateway__claude_text_then_tool.bin"
WEATHER = {"name": "cosine", "description": "cosine of x", "input_schema": {
    "type": "object", "properties": {"x": {"type": "number"}}, "required": ["x"]}}


@pytest.fixture
def ac(envoy, sim):
    sim.reset()
    return anthropic.Anthropic(base_url=envoy.base_url.removesuffix("/v1"), api_key="sk-ant-client-secret", max_retries=0, timeout=30)


def last_body(sim):
    reqs = [r for r in sim.requests if r["path"].startswith("/model/")]
    assert reqs, "nothing reached Bedrock"
    r = reqs[-1]
    assert r["signature_ok"], r
    return r, json.loads(r["body"])


def test_create_maps_every_field_and_answers_a_message(ac, sim):
    msg = ac.messages.create(
        model="claude", max_tokens=3000,
        system=[{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}],
        messages=[{"role": "user", "content": [{"type": "text", "text": "hello there", "cache_control": {"type": "ephemeral"}}]}],
        stop_sequences=["END"], metadata={"user_id": "user-42"}, extra_body={"temperature": 1, "top_k": 40},
        thinking={"type": "enabled", "budget_tokens": 1024},
    )
    assert msg.type == "message" and msg.role == "assistant" and msg.model == "claude"
    assert msg.id.startswith("msg_")
    kinds = [b.type for b in msg.content]
    assert kinds == ["thinking", "text"]
    assert msg.content[0].signature == "c2ln"
    assert msg.content[1].text == "You said: hello there"
    assert msg.stop_reason == "end_turn"
    assert msg.usage.input_tokens > 0 and msg.usage.output_tokens > 0
    r, body = last_body(sim)
    assert r["model_id"] == CLAUDE and r["path"].endswith("/converse")
    assert "x-api-key" not in r["headers"] and "anthropic-version" not in r["headers"]
    assert body["system"] == [{"text": "Be brief."}, {"cachePoint": {"type": "default"}}]
    assert body["messages"] == [{"role": "user", "content": [{"text": "hello there"}, {"cachePoint": {"type": "default"}}]}]
    assert body["inferenceConfig"] == {"maxTokens": 3000, "temperature": 1, "stopSequences": ["END"]}
    assert body["additionalModelRequestFields"] == {"top_k": 40, "thinking": {"type": "enabled", "budget_tokens": 1024}}
    assert body["requestMetadata"] == {"user_id": "user-42"}


def test_stream_with_thinking_matches_the_sdk_accumulator(ac, sim):
    with ac.messages.stream(model="claude", max_tokens=4000, thinking={"type": "enabled", "budget_tokens": 2000},
                            messages=[{"role": "user", "content": "stream me"}]) as s:
        kinds = [e.type for e in s]
        final = s.get_final_message()
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop"
    assert "thinking" in kinds and "signature" in kinds and "text" in kinds
    assert [b.type for b in final.content] == ["thinking", "text"]
    assert final.content[0].thinking.startswith("The user wrote 9 characters")
    assert final.content[0].signature == "c2lnbmF0dXJl"
    assert final.content[1].text == "You said: stream me"
    assert final.stop_reason == "end_turn" and final.usage.output_tokens > 0
    r, _ = last_body(sim)
    assert r["path"].endswith("/converse-stream")


def test_tool_loop_round_trips_tool_use_and_thinking(ac, sim):
    sim.scenario(CLAUDE, file=TOOL_STREAM)
    with ac.messages.stream(model="claude", max_tokens=1000, tools=[WEATHER],
                            messages=[{"role": "user", "content": "cosine of 7?"}]) as s:
        first = s.get_final_message()
    assert first.stop_reason == "tool_use"
    tool = [b for b in first.content if b.type == "tool_use"]
    assert len(tool) == 1 and tool[0].name == "cosine" and isinstance(tool[0].input, dict)
    sim.reset()
    history = [
        {"role": "user", "content": "cosine of 7?"},
        {"role": "assistant", "content": [
            {"type": "thinking", "thinking": "need the tool", "signature": "sig-abc"},
            {"type": "redacted_thinking", "data": "cmVkYWN0ZWQ="},
        ] + [b.model_dump(exclude_none=True) for b in first.content]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tool[0].id, "content": "0.7539"}]},
    ]
    second = ac.messages.create(model="claude", max_tokens=1000, tools=[WEATHER], messages=history,
                                tool_choice={"type": "auto"})
    assert second.content[-1].text.startswith("You said: ")
    _, body = last_body(sim)
    assistant = body["messages"][1]["content"]
    assert assistant[0] == {"reasoningContent": {"reasoningText": {"text": "need the tool", "signature": "sig-abc"}}}
    assert assistant[1] == {"reasoningContent": {"redactedContent": "cmVkYWN0ZWQ="}}
    assert assistant[-1]["toolUse"]["toolUseId"] == tool[0].id
    assert body["messages"][2]["content"] == [{"toolResult": {"toolUseId": tool[0].id, "content": [{"text": "0.7539"}]}}]
    assert body["toolConfig"]["toolChoice"] == {"auto": {}}


def test_unknown_beta_flags_are_dropped_and_known_ones_mapped(envoy, sim):
    sim.reset()
    conn = http.client.HTTPConnection("127.0.0.1", envoy.port, timeout=30)
    conn.request("POST", "/v1/messages?beta=true", json.dumps({
        "model": "claude", "max_tokens": 100,
        "messages": [{"role": "system", "content": "reminder"}, {"role": "user", "content": "hi"}]}),
        {"content-type": "application/json", "anthropic-version": "2023-06-01",
         "anthropic-beta": "claude-code-20250219,interleaved-thinking-2025-05-14,fine-grained-tool-streaming-2025-05-14"})
    r = conn.getresponse()
    data = json.loads(r.read())
    conn.close()
    assert r.status == 200, data
    _, body = last_body(sim)
    assert body["additionalModelRequestFields"] == {"anthropic_beta": ["interleaved-thinking-2025-05-14"]}
    assert body["system"] == [{"text": "reminder"}]
    assert "claude-code-20250219" in envoy.logs()


def test_errors_have_anthropic_shape_and_status(ac, sim):
    with pytest.raises(anthropic.BadRequestError) as e:
        ac.messages.create(model="claude", max_tokens=0, messages=[{"role": "user", "content": "x"}])
    assert e.value.status_code == 400
    assert e.value.body["type"] == "error" and e.value.body["error"]["type"] == "invalid_request_error"
    assert "max_tokens" in e.value.body["error"]["message"]
    sim.scenario(CLAUDE, status=429, body={"message": "Too many requests"},
                 headers={"x-amzn-ErrorType": "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/"})
    with pytest.raises(anthropic.RateLimitError) as e:
        ac.messages.create(model="claude", max_tokens=10, messages=[{"role": "user", "content": "x"}])
    assert e.value.body["error"]["type"] == "rate_limit_error"
    assert "Too many requests" in e.value.body["error"]["message"]


def test_stream_error_event_reaches_the_sdk(ac, sim):
    # The recording's first five frames, then the body ends cleanly: no messageStop.
    data = (FIX / TOOL_STREAM).read_bytes()
    pos = 0
    for _ in range(5):
        pos += int.from_bytes(data[pos:pos + 4], "big")
    sim.scenario(CLAUDE, raw_hex=data[:pos].hex())
    with pytest.raises(anthropic.APIStatusError) as e:
        with ac.messages.stream(model="claude", max_tokens=100, messages=[{"role": "user", "content": "x"}]) as s:
            for _ in s:
                pass
    assert "messageStop" in str(e.value)


def test_count_tokens(ac, sim):
    n = ac.messages.count_tokens(model="claude", system="be brief",
                                 messages=[{"role": "user", "content": "count these words please"}])
    assert n.input_tokens > 0
    r, body = last_body(sim)
    assert r["path"].endswith("/count-tokens")
    assert body["input"]["converse"]["messages"] == [{"role": "user", "content": [{"text": "count these words please"}]}]


CLIENTS = Path(__file__).resolve().parent.parent / "clients" / "anthropic"
NODE_MODULES = CLIENTS / "node_modules"
needs_node = pytest.mark.skipif(not (NODE_MODULES / "@anthropic-ai" / "sdk").is_dir(),
                                reason="tests/clients/anthropic not installed (make anthropic-clients)")


@needs_node
def test_node_sdk_create_stream_and_tool_loop(envoy, sim):
    import subprocess
    sim.reset()
    sim.scenario("claude-tools", file=TOOL_STREAM)
    out = subprocess.run(["node", str(CLIENTS / "sdk.mjs"), envoy.base_url.removesuffix("/v1"), "claude"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    r = json.loads(out.stdout)
    assert [b["type"] for b in r["created"]["content"]] == ["thinking", "text"]
    assert r["created"]["content"][1]["text"] == "You said: from node"
    assert r["events"][0] == "message_start" and r["events"][-1] == "message_stop"
    assert r["streamed"]["content"][0]["signature"] == "c2lnbmF0dXJl"
    assert r["streamed"]["content"][1]["text"] == "You said: stream from node"
    assert r["first"]["stop_reason"] == "tool_use"
    assert r["second"]["content"][-1]["text"] == "You said: (no text)"
    assert r["errorType"] == [400, "invalid_request_error"]
    _, body = last_body(sim)
    assert body["messages"][2]["content"][0]["toolResult"]["content"] == [{"text": "0.7539"}]


@needs_node
def test_claude_code_print_mode(envoy, sim, tmp_path):
    import os
    import subprocess
    sim.reset()
    env = dict(os.environ, ANTHROPIC_BASE_URL=envoy.base_url.removesuffix("/v1"), ANTHROPIC_API_KEY="sk-ant-claude-code",
               HOME=str(tmp_path), DISABLE_AUTOUPDATER="1", CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1")
    out = subprocess.run([str(NODE_MODULES / ".bin" / "claude"), "-p", "ping from claude code", "--model", "claude"],
                         capture_output=True, text=True, timeout=180, env=env, cwd=tmp_path)
    assert out.returncode == 0, (out.stdout, out.stderr, envoy.logs()[-3000:])
    assert "You said:" in out.stdout
    reqs = [r for r in sim.requests if r["path"].startswith("/model/")]
    assert reqs and all(r["signature_ok"] for r in reqs)
