"""Chat features end to end: the openai SDK → real Envoy + bedrock-bridge → the Bedrock
simulator. Tools, content parts, reasoning, response_format, prompt caching, metadata and
guardrails, unsupported parameters, every Bedrock error, model ids, OpenAI-compatible models and
the replay of every recorded Bedrock response.

Each test checks the exact Converse body the simulator received (which botocore validated against
the bedrock-runtime model, and whose SigV4 signature it verified) and the exact OpenAI output the
SDK returned.

    .venv/bin/python -m pytest -q tests/e2e/test_chat_features.py
"""

import base64
import http.client
import json
import urllib.parse
from pathlib import Path

import httpx2 as httpx  # the openai SDK's HTTP client
import openai
import pydantic
import pytest
from botocore.eventstream import EventStreamBuffer

from conftest import CLAUDE, OPENAI_ERRORS, filter_config, filter_envoy, sdk_error
from harness import Envoy, filter_http
from sim import SERVICE_MODEL, event, frame

FIX = Path(__file__).resolve().parent.parent / "fixtures"
REC = FIX / "bedrock-recordings"
HI = [{"role": "user", "content": "hi"}]
CACHE_POINT = {"cachePoint": {"type": "default"}}


# --- helpers -----------------------------------------------------------------------------------

def sent(sim, n=1):
    """The Converse bodies the simulator received: exactly `n` requests, each signed correctly."""
    reqs = sim.requests
    assert len(reqs) == n, [r["path"] for r in reqs]
    for r in reqs:
        assert r["signature_ok"], r
    bodies = [json.loads(r["body"]) for r in reqs]
    return bodies[0] if n == 1 else bodies


def user(text):
    return {"role": "user", "content": [{"text": text}]}


def recorded_reasoning_turn(client, sim, recording, question, effort):
    """Ask `question`, answered by the recorded Converse reply `recording` (a reasoning block, then
    text): the question, the recording's `reasoningContent` and text, and the message the SDK
    returned (its content checked to be that text)."""
    rec = json.loads((REC / recording).read_text())
    reasoning, answer = rec["output"]["message"]["content"][:2]
    sim.scenario(CLAUDE, file=f"bedrock-recordings/{recording}")
    q = {"role": "user", "content": question}
    msg = client.chat.completions.create(model="claude", messages=[q], reasoning_effort=effort).choices[0].message
    assert msg.content == answer["text"]
    return q, reasoning["reasoningContent"], answer["text"], msg


def next_turn(q, content, thinking_blocks, text):
    """A second turn's history: `q`, the answer sent back as the SDK returned it (content and
    `thinking_blocks`), then `text`."""
    return [q, {"role": "assistant", "content": content, "thinking_blocks": thinking_blocks},
            {"role": "user", "content": text}]


def ev(kind, **payload):
    return event(kind, payload)


def stream_hex(*frames):
    return b"".join(frames).hex()


def text_frames(text, index=0, stop="end_turn", usage=None):
    """messageStart, `text` as word deltas, messageStop, metadata."""
    words = [w + " " for w in text.split(" ")]
    words[-1] = words[-1][:-1]
    return [ev("messageStart", role="assistant"),
            *[ev("contentBlockDelta", contentBlockIndex=index, delta={"text": w}) for w in words],
            ev("contentBlockStop", contentBlockIndex=index),
            ev("messageStop", stopReason=stop),
            ev("metadata", usage=usage or {"inputTokens": 10, "outputTokens": 5, "totalTokens": 15}, metrics={"latencyMs": 1})]


def converse_json(content, stop="end_turn", usage=None, **extra):
    return dict({"output": {"message": {"role": "assistant", "content": content}}, "stopReason": stop,
                 "usage": usage or {"inputTokens": 10, "outputTokens": 5, "totalTokens": 15},
                 "metrics": {"latencyMs": 1}}, **extra)


def collect(stream):
    """Reassemble a streamed completion the way an agent does: content, reasoning, thinking blocks
    (pieces merged by `index` the way the openai SDK's stream helper does: strings concatenated,
    `type` replaced) and tool calls from their deltas (id, name, then argument pieces, by index)."""
    out = {"content": "", "reasoning": "", "thinking_blocks": [], "raw_thinking_blocks": [], "tool_calls": {},
           "tool_call_deltas": [], "finish": [], "usage": None, "chunks": [], "roles": []}
    for c in stream:
        out["chunks"].append(c)
        if c.usage is not None:
            out["usage"] = c.usage
        for ch in c.choices:
            d = ch.delta
            extra = d.model_extra or {}
            if d.role:
                out["roles"].append(d.role)
            out["content"] += d.content or ""
            out["reasoning"] += extra.get("reasoning") or ""
            for tb in extra.get("thinking_blocks") or []:
                out["raw_thinking_blocks"].append(tb)
                i = tb["index"]
                assert i <= len(out["thinking_blocks"]), "thinking block indexes count from 0"
                if i == len(out["thinking_blocks"]):
                    out["thinking_blocks"].append({})
                acc = out["thinking_blocks"][i]
                for k, v in tb.items():
                    if k != "index":
                        acc[k] = acc[k] + v if k in acc and k != "type" and isinstance(v, str) else v
            for tc in d.tool_calls or []:
                out["tool_call_deltas"].append(tc.model_dump(exclude_none=True))
                t = out["tool_calls"].setdefault(tc.index, {"id": None, "type": None, "name": "", "arguments": ""})
                if tc.id:
                    assert t["id"] is None, "a tool call id is sent once"
                    t["id"], t["type"] = tc.id, tc.type
                t["name"] += tc.function.name or ""
                t["arguments"] += tc.function.arguments or ""
            if ch.finish_reason:
                out["finish"].append(ch.finish_reason)
    assert len({c.id for c in out["chunks"]}) == 1
    return out


def as_history(tool_calls: dict):
    """Reassembled stream tool calls → the assistant message's `tool_calls`."""
    return [{"id": t["id"], "type": t["type"], "function": {"name": t["name"], "arguments": t["arguments"]}}
            for _, t in sorted(tool_calls.items())]


def raw_sse(port, body: dict, path="/v1/chat/completions"):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", path, json.dumps(body), {"content-type": "application/json"})
    r = conn.getresponse()
    data = r.read()
    conn.close()
    events = [e for e in data.decode().split("\n\n") if e]
    assert all(e.startswith("data: ") for e in events), events
    return r.status, [e[6:] for e in events]


def sdk(e, **kw):
    return openai.OpenAI(base_url=e.base_url, api_key="sk-client-secret-never-forwarded", max_retries=0, timeout=30, **kw)


def assert_400(exc_info, param, code=None, words=()):
    e = exc_info.value
    assert e.status_code == 400
    assert e.body["type"] == "invalid_request_error"
    assert e.body["param"] == param, e.body
    if code:
        assert e.body["code"] == code, e.body
    for w in words:
        assert w in e.body["message"], e.body


WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Current weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
                   "required": ["city"]}}}
TIME = {"type": "function", "function": {
    "name": "get_time", "parameters": {"type": "object", "properties": {"tz": {"type": "string"}}}}}
NO_PARAMS = {"type": "function", "function": {"name": "ping", "description": ""}}
WEATHER_SPEC = {"toolSpec": {"name": "get_weather", "description": "Current weather in a city.",
                             "inputSchema": {"json": WEATHER["function"]["parameters"]}}}
TIME_SPEC = {"toolSpec": {"name": "get_time", "inputSchema": {"json": TIME["function"]["parameters"]}}}
PING_SPEC = {"toolSpec": {"name": "ping", "inputSchema": {"json": {"type": "object", "properties": {}}}}}


# --- tools ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("choice,expected", [
    (None, None),
    ("auto", {"auto": {}}),
    ("required", {"any": {}}),
    ({"type": "function", "function": {"name": "get_time"}}, {"tool": {"name": "get_time"}}),
], ids=["omitted", "auto", "required", "named"])
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_tools_become_tool_specs_with_tool_choice(client, sim, choice, expected, stream):
    kw = {} if choice is None else {"tool_choice": choice}
    r = client.chat.completions.create(model="claude", messages=[{"role": "user", "content": "weather?"}],
                                       tools=[WEATHER, TIME, NO_PARAMS], stream=stream, **kw)
    text = collect(r)["content"] if stream else r.choices[0].message.content
    assert text == "You said: weather?"
    body = sent(sim)
    tc = {"tools": [WEATHER_SPEC, TIME_SPEC, PING_SPEC]}
    if expected:
        tc["toolChoice"] = expected
    assert body["toolConfig"] == tc
    assert body["messages"] == [user("weather?")]


def test_tool_choice_none_sends_no_tools(client, sim):
    r = client.chat.completions.create(model="claude", messages=[{"role": "user", "content": "no tools"}],
                                       tools=[WEATHER, TIME], tool_choice="none")
    assert r.choices[0].message.content == "You said: no tools"
    assert r.choices[0].message.tool_calls is None
    body = sent(sim)
    assert "toolConfig" not in body
    assert body == {"messages": [user("no tools")]}


def test_tool_choice_none_with_tool_history_sends_no_tools_and_history_as_text(client, sim):
    msgs = [{"role": "user", "content": "weather in Oslo"},
            {"role": "assistant", "content": None, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "-3C"},
            {"role": "user", "content": "summarise"}]
    client.chat.completions.create(model="claude", messages=msgs, tools=[WEATHER], tool_choice="none")
    body = sent(sim)
    # Converse has no "none" choice and refuses toolUse history without tools: the
    # history becomes text, so the model is offered no tool.
    assert "toolConfig" not in body
    assert body["messages"][1]["content"] == [{"text": '[tool call call_1: get_weather {"city":"Oslo"}]'}]
    assert body["messages"][2]["content"][0] == {"text": "[tool result call_1 (get_weather)]: -3C"}


def test_tool_call_history_becomes_tool_use_and_tool_result_blocks(client, sim):
    msgs = [
        {"role": "system", "content": "You are a weather bot."},
        {"role": "user", "content": "Weather in Paris and time in Rome?"},
        {"role": "assistant", "content": "Checking both.", "tool_calls": [
            {"id": "call_paris", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris", "unit": "celsius", "days": [1, 2], "opts": {"x": null, "y": true}}'}},
            {"id": "call_rome", "type": "function", "function": {"name": "get_time", "arguments": ""}},
        ]},
        {"role": "tool", "tool_call_id": "call_paris", "content": "18C"},
        {"role": "tool", "tool_call_id": "call_rome", "content": [{"type": "text", "text": "21:00"}, {"type": "text", "text": " CET"}]},
        {"role": "user", "content": "Thanks. Tomorrow?"},
    ]
    r = client.chat.completions.create(model="claude", messages=msgs, tools=[WEATHER, TIME])
    assert r.choices[0].message.content == "You said: Thanks. Tomorrow?"
    body = sent(sim)
    assert body["system"] == [{"text": "You are a weather bot."}]
    assert body["messages"] == [
        user("Weather in Paris and time in Rome?"),
        {"role": "assistant", "content": [
            {"text": "Checking both."},
            {"toolUse": {"toolUseId": "call_paris", "name": "get_weather",
                         "input": {"city": "Paris", "unit": "celsius", "days": [1, 2], "opts": {"x": None, "y": True}}}},
            {"toolUse": {"toolUseId": "call_rome", "name": "get_time", "input": {}}},
        ]},
        # Tool results and the next user message share one user turn.
        {"role": "user", "content": [
            {"toolResult": {"toolUseId": "call_paris", "content": [{"text": "18C"}]}},
            {"toolResult": {"toolUseId": "call_rome", "content": [{"text": "21:00"}, {"text": " CET"}]}},
            {"text": "Thanks. Tomorrow?"},
        ]},
    ]
    assert body["toolConfig"] == {"tools": [WEATHER_SPEC, TIME_SPEC]}


def test_tools_called_in_history_without_tools_become_text(client, sim):
    msgs = [{"role": "user", "content": "go"},
            {"role": "assistant", "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "lookup", "arguments": '{"q": "x"}'}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "found"}]
    client.chat.completions.create(model="claude", messages=msgs)
    body = sent(sim)
    assert body["messages"][1] == {"role": "assistant", "content": [{"text": '[tool call c1: lookup {"q":"x"}]'}]}
    assert body["messages"][2] == {"role": "user", "content": [{"text": "[tool result c1 (lookup)]: found"}]}
    assert "toolConfig" not in body


@pytest.mark.parametrize("arguments", ['{"city": "Paris"', "city=Paris"], ids=["truncated", "not-json"])
def test_tool_call_arguments_that_are_not_json_become_empty_input(client, sim, arguments):
    # A stream cut at max tokens leaves truncated arguments in the history.
    msgs = [{"role": "user", "content": "go"},
            {"role": "assistant", "content": None, "tool_calls": [
                {"id": "c2", "type": "function", "function": {"name": "get_weather", "arguments": arguments}}]},
            {"role": "tool", "tool_call_id": "c2", "content": "ok"}]
    client.chat.completions.create(model="claude", messages=msgs, tools=[WEATHER])
    assert sent(sim)["messages"][1]["content"] == [{"toolUse": {"toolUseId": "c2", "name": "get_weather", "input": {}}}]


@pytest.mark.parametrize("arguments,words", [
    ('["Paris"]', ["JSON object"]),
    ('"Paris"', ["JSON object"]),
], ids=["array", "string"])
def test_invalid_tool_call_arguments_are_400_and_never_sent(client, sim, arguments, words):
    msgs = [{"role": "user", "content": "go"},
            {"role": "assistant", "content": None, "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'}},
                {"id": "c2", "type": "function", "function": {"name": "get_weather", "arguments": arguments}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "ok"},
            {"role": "tool", "tool_call_id": "c2", "content": "ok"}]
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model="claude", messages=msgs, tools=[WEATHER])
    assert_400(e, "messages[1].tool_calls[1].function.arguments", words=words)
    assert sim.requests == []


def test_consecutive_same_role_turns_are_merged(client, sim):
    msgs = [
        {"role": "system", "content": "A"},
        {"role": "user", "content": "one"},
        {"role": "user", "content": [{"type": "text", "text": "two"}, {"type": "text", "text": "three"}]},
        {"role": "developer", "content": [{"type": "text", "text": "B"}]},
        {"role": "assistant", "content": "x"},
        {"role": "assistant", "content": [{"type": "text", "text": "y"}]},
        {"role": "user", "content": "z"},
    ]
    for stream in (False, True):
        r = client.chat.completions.create(model="claude", messages=msgs, stream=stream)
        assert (collect(r)["content"] if stream else r.choices[0].message.content) == "You said: z"
    for body in sent(sim, 2):
        assert body["system"] == [{"text": "A"}, {"text": "B"}]
        assert body["messages"] == [
            {"role": "user", "content": [{"text": "one"}, {"text": "two"}, {"text": "three"}]},
            {"role": "assistant", "content": [{"text": "x"}, {"text": "y"}]},
            user("z"),
        ]


def two_tool_frames():
    """A Claude-style stream: text, then two tool calls whose inputs arrive in pieces."""
    return [
        ev("messageStart", role="assistant"),
        ev("contentBlockDelta", contentBlockIndex=0, delta={"text": "Checking "}),
        ev("contentBlockDelta", contentBlockIndex=0, delta={"text": "both."}),
        ev("contentBlockStop", contentBlockIndex=0),
        ev("contentBlockStart", contentBlockIndex=1, start={"toolUse": {"toolUseId": "tooluse_paris01", "name": "get_weather"}}),
        ev("contentBlockDelta", contentBlockIndex=1, delta={"toolUse": {"input": ""}}),
        ev("contentBlockDelta", contentBlockIndex=1, delta={"toolUse": {"input": '{"city": "Pa'}}),
        ev("contentBlockDelta", contentBlockIndex=1, delta={"toolUse": {"input": 'ris", "unit": "celsius"}'}}),
        ev("contentBlockStop", contentBlockIndex=1),
        ev("contentBlockStart", contentBlockIndex=2, start={"toolUse": {"toolUseId": "tooluse_rome02", "name": "get_time"}}),
        ev("contentBlockDelta", contentBlockIndex=2, delta={"toolUse": {"input": '{"tz": '}}),
        ev("contentBlockDelta", contentBlockIndex=2, delta={"toolUse": {"input": '"Europe/Rome"}'}}),
        ev("contentBlockStop", contentBlockIndex=2),
        ev("messageStop", stopReason="tool_use"),
        ev("metadata", usage={"inputTokens": 120, "outputTokens": 40, "totalTokens": 160}, metrics={"latencyMs": 9}),
    ]


def test_agent_round_trip_with_two_streamed_tool_calls(client, sim):
    model = "agent.two-tools"
    question = {"role": "user", "content": "Weather in Paris and time in Rome?"}
    sim.scenario(model, raw_hex=stream_hex(*two_tool_frames()))
    first = collect(client.chat.completions.create(model=model, messages=[question], tools=[WEATHER, TIME],
                                                   stream=True, stream_options={"include_usage": True}))
    assert first["roles"] == ["assistant"]
    assert first["content"] == "Checking both."
    assert first["tool_calls"] == {
        0: {"id": "tooluse_paris01", "type": "function", "name": "get_weather", "arguments": '{"city": "Paris", "unit": "celsius"}'},
        1: {"id": "tooluse_rome02", "type": "function", "name": "get_time", "arguments": '{"tz": "Europe/Rome"}'},
    }
    # Each call opens with its id, type and name and no arguments; later deltas carry only arguments.
    assert first["tool_call_deltas"] == [
        {"index": 0, "id": "tooluse_paris01", "type": "function", "function": {"name": "get_weather", "arguments": ""}},
        {"index": 0, "function": {"arguments": '{"city": "Pa'}},
        {"index": 0, "function": {"arguments": 'ris", "unit": "celsius"}'}},
        {"index": 1, "id": "tooluse_rome02", "type": "function", "function": {"name": "get_time", "arguments": ""}},
        {"index": 1, "function": {"arguments": '{"tz": '}},
        {"index": 1, "function": {"arguments": '"Europe/Rome"}'}},
    ]
    assert first["finish"] == ["tool_calls"]
    assert (first["usage"].prompt_tokens, first["usage"].completion_tokens, first["usage"].total_tokens) == (120, 40, 160)

    # The agent runs the tools and sends the results back.
    sim.scenario(model, raw_hex=stream_hex(*text_frames("Paris: 18C. Rome: 21:00.")))
    history = [question, {"role": "assistant", "content": first["content"], "tool_calls": as_history(first["tool_calls"])},
               {"role": "tool", "tool_call_id": "tooluse_paris01", "content": '{"temp": 18}'},
               {"role": "tool", "tool_call_id": "tooluse_rome02", "content": "21:00"}]
    final = collect(client.chat.completions.create(model=model, messages=history, tools=[WEATHER, TIME], stream=True))
    assert final["content"] == "Paris: 18C. Rome: 21:00."
    assert final["finish"] == ["stop"] and final["tool_calls"] == {}
    assert final["usage"] is None, "no usage chunk without stream_options.include_usage"

    b1, b2 = sent(sim, 2)
    assert b1["messages"] == [user("Weather in Paris and time in Rome?")]
    assert b2["messages"] == [
        user("Weather in Paris and time in Rome?"),
        {"role": "assistant", "content": [
            {"text": "Checking both."},
            {"toolUse": {"toolUseId": "tooluse_paris01", "name": "get_weather", "input": {"city": "Paris", "unit": "celsius"}}},
            {"toolUse": {"toolUseId": "tooluse_rome02", "name": "get_time", "input": {"tz": "Europe/Rome"}}},
        ]},
        {"role": "user", "content": [
            {"toolResult": {"toolUseId": "tooluse_paris01", "content": [{"text": '{"temp": 18}'}]}},
            {"toolResult": {"toolUseId": "tooluse_rome02", "content": [{"text": "21:00"}]}},
        ]},
    ]
    assert b1["toolConfig"] == b2["toolConfig"] == {"tools": [WEATHER_SPEC, TIME_SPEC]}


NOVA_TOOL = {"type": "function", "function": {
    "name": "get_current_weather", "description": "Get the current weather in a given location.",
    "parameters": {"type": "object", "properties": {"location": {"type": "string", "description": "The name of the city"}},
                   "required": ["location"]}}}


def test_agent_round_trip_on_a_recorded_two_tool_stream_with_the_sdk_accumulator(client, sim):
    """Real Nova Micro recording (two toolUse blocks); the SDK's own stream helper accumulates."""
    model = "amazon.nova-micro-v1:0"
    rec = "bedrock-recordings/converse-stream/otel-python-contrib__nova_micro_two_tools.bin"
    sim.scenario(model, file=rec)
    question = {"role": "user", "content": "What is the weather in Seattle and San Francisco today?"}
    with client.chat.completions.stream(model=model, messages=[question], tools=[NOVA_TOOL]) as s:
        done = s.get_final_completion()
    msg = done.choices[0].message
    assert done.choices[0].finish_reason == "tool_calls"
    assert msg.content.startswith("<thinking> The User has asked for the current weather in two different cities")
    assert [(i, t.id, t.function.name, json.loads(t.function.arguments)) for i, t in enumerate(msg.tool_calls)] == [
        (0, "tooluse_JZ11QcxSQ3m3xacMQKVIKw", "get_current_weather", {"location": "Seattle"}),
        (1, "tooluse_-hxBEEwGRc-VQqC2i7SFqg", "get_current_weather", {"location": "San Francisco"}),
    ]
    sim.scenario(model, body=converse_json([{"text": "Seattle 10C, San Francisco 15C."}]))
    history = [question, {"role": "assistant", "content": msg.content,
                          "tool_calls": [t.model_dump(include={"id", "type", "function"}) for t in msg.tool_calls]},
               {"role": "tool", "tool_call_id": msg.tool_calls[0].id, "content": "10C"},
               {"role": "tool", "tool_call_id": msg.tool_calls[1].id, "content": "15C"}]
    r = client.chat.completions.create(model=model, messages=history, tools=[NOVA_TOOL])
    assert r.choices[0].message.content == "Seattle 10C, San Francisco 15C."
    _, b2 = sent(sim, 2)
    assert b2["messages"][1:] == [
        {"role": "assistant", "content": [
            {"text": msg.content},
            {"toolUse": {"toolUseId": "tooluse_JZ11QcxSQ3m3xacMQKVIKw", "name": "get_current_weather", "input": {"location": "Seattle"}}},
            {"toolUse": {"toolUseId": "tooluse_-hxBEEwGRc-VQqC2i7SFqg", "name": "get_current_weather", "input": {"location": "San Francisco"}}},
        ]},
        {"role": "user", "content": [
            {"toolResult": {"toolUseId": "tooluse_JZ11QcxSQ3m3xacMQKVIKw", "content": [{"text": "10C"}]}},
            {"toolResult": {"toolUseId": "tooluse_-hxBEEwGRc-VQqC2i7SFqg", "content": [{"text": "15C"}]}},
        ]},
    ]
    # The recording's own request (in its sidecar) declared the same tool.
    meta = json.loads((REC / "converse-stream/otel-python-contrib__nova_micro_two_tools.meta.json").read_text())
    assert b2["toolConfig"] == meta["request"]["body"]["toolConfig"]


def test_non_streaming_tool_calls_from_a_recorded_response(client, sim):
    sim.scenario("nova.tools", file="bedrock-recordings/converse/otel-python-contrib__nova_micro_tool_use.body.json")
    r = client.chat.completions.create(model="nova.tools", messages=HI, tools=[NOVA_TOOL])
    c = r.choices[0]
    assert c.finish_reason == "tool_calls"
    assert c.message.content.startswith("<thinking> To provide the weather information")
    assert [(t.id, t.type, t.function.name, json.loads(t.function.arguments)) for t in c.message.tool_calls] == [
        ("tooluse_tggNKJbGSrm48inRqf3Rvw", "function", "get_current_weather", {"location": "Seattle"}),
        ("tooluse_bRV9WIcFSxyrLY6-MVkZRA", "function", "get_current_weather", {"location": "San Francisco"}),
    ]
    assert (r.usage.prompt_tokens, r.usage.completion_tokens, r.usage.total_tokens) == (415, 190, 605)


# --- content parts -------------------------------------------------------------------------------

IMAGES = {
    "png": ("image/png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\xfe\xff"),
    "jpeg": ("image/jpeg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9\xfb"),
    "gif": ("image/gif", b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,;"),
    "webp": ("image/webp", b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00/\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"),
}


@pytest.mark.parametrize("fmt", list(IMAGES))
def test_image_data_uris_become_image_blocks(client, sim, fmt):
    mime, data = IMAGES[fmt]
    b64 = base64.b64encode(data).decode()
    parts = [{"type": "text", "text": "What is in this image?"},
             {"type": "image_url", "image_url": {"url": f"data:{mime};base64,{b64}", "detail": "high"}}]
    r = client.chat.completions.create(model="claude", messages=[{"role": "user", "content": parts}])
    assert r.choices[0].message.content == "You said: What is in this image?"
    [block] = [b for b in sent(sim)["messages"][0]["content"] if "image" in b]
    assert sent(sim)["messages"][0]["content"][0] == {"text": "What is in this image?"}
    assert block == {"image": {"format": fmt, "source": {"bytes": b64}}}
    assert base64.b64decode(block["image"]["source"]["bytes"]) == data


def test_image_jpg_alias_and_several_images_in_one_message(client, sim):
    a, b = IMAGES["jpeg"][1], IMAGES["png"][1]
    parts = [{"type": "image_url", "image_url": {"url": "data:image/jpg;base64," + base64.b64encode(a).decode()}},
             {"type": "text", "text": "compare"},
             {"type": "image_url", "image_url": {"url": "data:image/png;base64," + base64.b64encode(b).decode()}}]
    client.chat.completions.create(model="claude", messages=[{"role": "user", "content": parts}])
    content = sent(sim)["messages"][0]["content"]
    assert [next(iter(c)) for c in content] == ["image", "text", "image"]
    assert content[0]["image"]["format"] == "jpeg" and content[2]["image"]["format"] == "png"
    assert base64.b64decode(content[0]["image"]["source"]["bytes"]) == a
    assert base64.b64decode(content[2]["image"]["source"]["bytes"]) == b


PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
DOCS = [
    ("application/pdf", PDF, "Q3 report.pdf", "pdf", "Q3 report"),
    ("text/plain", "Grüße aus Köln\nline 2\n".encode(), "my_notes.v2.txt", "txt", "my notes v2"),
    ("text/markdown", b"# Title\n\n* item\n", "README.md", "md", "README"),
    ("text/csv", b"a,b\n1,2\n", None, "csv", "document"),
]


@pytest.mark.parametrize("mime,data,filename,fmt,name", DOCS, ids=[d[3] for d in DOCS])
def test_file_parts_become_document_blocks(client, sim, mime, data, filename, fmt, name):
    b64 = base64.b64encode(data).decode()
    f = {"file_data": f"data:{mime};base64,{b64}"}
    if filename:
        f["filename"] = filename
    parts = [{"type": "file", "file": f}, {"type": "text", "text": "Summarise the document."}]
    for stream in (False, True):
        r = client.chat.completions.create(model="claude", messages=[{"role": "user", "content": parts}], stream=stream)
        assert (collect(r)["content"] if stream else r.choices[0].message.content) == "You said: Summarise the document."
    for body in sent(sim, 2):
        doc, text = body["messages"][0]["content"]
        assert doc == {"document": {"format": fmt, "name": name, "source": {"bytes": b64}}}
        assert base64.b64decode(doc["document"]["source"]["bytes"]) == data
        assert text == {"text": "Summarise the document."}


@pytest.mark.parametrize("url", ["https://example.com/cat.png", "http://127.0.0.1:9/cat.jpg"])
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_image_urls_are_refused_because_the_proxy_fetches_nothing(client, sim, url, stream):
    parts = [{"type": "text", "text": "look"}, {"type": "image_url", "image_url": {"url": url}}]
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model="claude", messages=[{"role": "user", "content": parts}], stream=stream)
    assert_400(e, "messages[0].content[1].image_url", code="image_url_not_supported",
               words=["not fetched", "data URI"])
    assert sim.requests == []


BAD_PARTS = [
    ({"type": "image_url", "image_url": {"url": "data:image/bmp;base64,Qk0="}}, "messages[0].content[0].image_url", "bmp"),
    ({"type": "image_url", "image_url": {"url": "data:image/png,rawbytes"}}, "messages[0].content[0].image_url", "base64"),
    ({"type": "file", "file": {"file_id": "file-abc123"}}, "messages[0].content[0].file.file_id", "file ids"),
    ({"type": "file", "file": {"file_data": "data:application/zip;base64,UEsDBA=="}}, "messages[0].content[0].file", "application/zip"),
    ({"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}}, "messages[0].content[0]", "audio"),
]


@pytest.mark.parametrize("part,param,word", BAD_PARTS, ids=["bmp", "not-base64", "file-id", "zip", "audio"])
def test_unsupported_content_parts_are_400(client, sim, part, param, word):
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model="claude", messages=[{"role": "user", "content": [part, {"type": "text", "text": "x"}]}])
    assert_400(e, param, words=[word])
    assert sim.requests == []


def test_tool_choice_naming_an_undeclared_tool_is_400(client, sim):
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model="claude", messages=HI, tools=[WEATHER],
                                       tool_choice={"type": "function", "function": {"name": "get_time"}})
    assert_400(e, "tool_choice", words=["get_time"])
    assert sim.requests == []


# --- reasoning controls --------------------------------------------------------------------------

@pytest.mark.parametrize("effort,max_tokens,budget,expected_max", [
    ("minimal", None, 1024, 1024 + 4096),
    ("low", None, 1024, 1024 + 4096),
    ("medium", None, 2048, 2048 + 4096),
    ("high", None, 4096, 4096 + 4096),
    ("low", 500, 1024, 1024 + 500),
    ("high", 4096, 4096, 4096 + 4096),
    ("medium", 10000, 2048, 10000),
])
def test_reasoning_effort_on_claude_sets_a_thinking_budget(client, sim, effort, max_tokens, budget, expected_max):
    kw = {} if max_tokens is None else {"max_completion_tokens": max_tokens}
    r = client.chat.completions.create(model="claude", messages=HI, reasoning_effort=effort, **kw)
    assert r.choices[0].message.content == "You said: hi"
    body = sent(sim)
    assert body["additionalModelRequestFields"] == {"thinking": {"type": "enabled", "budget_tokens": budget}}
    assert body["inferenceConfig"] == {"maxTokens": expected_max}
    assert body["inferenceConfig"]["maxTokens"] > budget


@pytest.mark.parametrize("model,effort,fields", [
    ("openai.gpt-oss-120b-1:0", "high", {"reasoning_effort": "high"}),
    ("openai.gpt-oss-20b-1:0", "minimal", {"reasoning_effort": "low"}),
    # Qwen3 reasons on its own; Bedrock documents no field for it: nothing is sent.
    ("qwen.qwen3-32b-v1:0", "medium", None),
    ("us.amazon.nova-2-lite-v1:0", "high", {"reasoningConfig": {"type": "enabled", "maxReasoningEffort": "high"}}),
    ("us.deepseek.r1-v1:0", "high", None),
    ("claude", "none", None),
])
def test_reasoning_effort_on_other_families_uses_their_own_field(client, sim, model, effort, fields):
    client.chat.completions.create(model=model, messages=HI, reasoning_effort=effort)
    body = sent(sim)
    if fields is None:
        assert "additionalModelRequestFields" not in body
    else:
        assert body["additionalModelRequestFields"] == fields
    assert "inferenceConfig" not in body, "no thinking budget, so max_tokens is not raised"


def test_reasoning_effort_on_a_model_without_reasoning_is_400(client, sim):
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model="meta.llama3-8b-instruct-v1:0", messages=HI, reasoning_effort="low")
    assert_400(e, "reasoning_effort", code="unsupported_parameter", words=["meta.llama3-8b-instruct-v1:0"])
    assert sim.requests == []


@pytest.mark.parametrize("thinking,max_tokens,expected_max,expected", [
    ({"type": "enabled", "budget_tokens": 3000}, None, 3000 + 4096, None),
    ({"type": "enabled", "budget_tokens": 3000}, 16000, 16000, None),
    # Sonnet 4 takes budgets only: adaptive becomes the default effort's budget.
    ({"type": "adaptive"}, None, 4096 + 4096, {"type": "enabled", "budget_tokens": 4096}),
], ids=["budget", "budget-with-max", "adaptive"])
def test_explicit_thinking_object_passes_through(client, sim, thinking, max_tokens, expected_max, expected):
    kw = {} if max_tokens is None else {"max_tokens": max_tokens}
    # `thinking` wins over reasoning_effort.
    client.chat.completions.create(model="claude", messages=HI, reasoning_effort="high",
                                   extra_body={"thinking": thinking}, **kw)
    body = sent(sim)
    assert body["additionalModelRequestFields"] == {"thinking": expected or thinking}
    if expected_max is None:
        assert "inferenceConfig" not in body
    else:
        assert body["inferenceConfig"] == {"maxTokens": expected_max}


# --- reasoning round trip ------------------------------------------------------------------------

def test_non_streaming_thinking_blocks_with_signature_round_trip(client, sim):
    q, reasoning, answer, msg = recorded_reasoning_turn(
        client, sim, "test_bedrock_model_thinking_part_anthropic.json", "How do I cross the street?", "medium")
    rt = reasoning["reasoningText"]
    assert msg.model_extra["reasoning"] == rt["text"]
    assert msg.model_extra["thinking_blocks"] == [{"type": "thinking", "thinking": rt["text"], "signature": rt["signature"]}]
    assert rt["signature"] not in msg.content

    # Next turn: the assistant message goes back as the SDK returned it.
    history = next_turn(q, msg.content, msg.model_extra["thinking_blocks"], "And at night?")
    client.chat.completions.create(model="claude", messages=history, reasoning_effort="medium")
    _, b2 = sent(sim, 2)
    assert b2["messages"] == [
        user("How do I cross the street?"),
        {"role": "assistant", "content": [
            {"reasoningContent": {"reasoningText": {"text": rt["text"], "signature": rt["signature"]}}},
            {"text": answer}]},
        user("And at night?"),
    ]
    assert b2["additionalModelRequestFields"] == {"thinking": {"type": "enabled", "budget_tokens": 2048}}


def test_non_streaming_redacted_reasoning_round_trip(client, sim):
    q, reasoning, answer, msg = recorded_reasoning_turn(
        client, sim, "test_bedrock_model_thinking_part_redacted.json", "ANTHROPIC_MAGIC_STRING_TRIGGER_REDACTED_THINKING", "low")
    redacted = reasoning["redactedContent"]
    assert msg.model_extra["thinking_blocks"] == [{"type": "redacted_thinking", "data": redacted}]
    assert "reasoning" not in msg.model_extra
    history = next_turn(q, msg.content, msg.model_extra["thinking_blocks"], "ok")
    client.chat.completions.create(model="claude", messages=history)
    _, b2 = sent(sim, 2)
    assert b2["messages"][1] == {"role": "assistant", "content": [
        {"reasoningContent": {"redactedContent": redacted}}, {"text": answer}]}


def test_streaming_thinking_blocks_with_signature_round_trip(client, sim):
    # The simulator's generated stream: reasoning deltas closed by a signature, then text.
    q = {"role": "user", "content": "stream with thinking"}
    first = collect(client.chat.completions.create(model="claude", messages=[q], reasoning_effort="low", stream=True))
    reasoning = f"The user wrote {len(q['content'])} characters. I will repeat them back."
    assert first["reasoning"] == reasoning
    assert first["content"] == "You said: stream with thinking"
    # The block travels once, whole, at its end (both Python's index merge and
    # openai-node's Object.assign then rebuild it); the text streams in `reasoning` deltas.
    assert first["raw_thinking_blocks"] == [
        {"index": 0, "type": "thinking", "thinking": reasoning, "signature": "c2lnbmF0dXJl"}]
    assert first["thinking_blocks"] == [{"type": "thinking", "thinking": reasoning, "signature": "c2lnbmF0dXJl"}]
    history = next_turn(q, first["content"], first["thinking_blocks"], "again")
    second = collect(client.chat.completions.create(model="claude", messages=history, reasoning_effort="low", stream=True))
    assert second["content"] == "You said: again"
    _, b2 = sent(sim, 2)
    assert b2["messages"][1] == {"role": "assistant", "content": [
        {"reasoningContent": {"reasoningText": {"text": reasoning, "signature": "c2lnbmF0dXJl"}}},
        {"text": "You said: stream with thinking"}]}


def test_streaming_redacted_reasoning_from_a_recording(client, sim):
    path = REC / "test_bedrock_model_thinking_part_redacted_stream.eventstream"
    sim.scenario("redacted.stream", file=str(path.relative_to(FIX)))
    expected = [{"type": "redacted_thinking", "data": d["reasoningContent"]["redactedContent"]}
                for k, d in deltas_of(path.read_bytes()) if "redactedContent" in d.get("reasoningContent", {})]
    assert len(expected) == 2
    out = collect(client.chat.completions.create(model="redacted.stream", messages=HI, stream=True))
    assert out["thinking_blocks"] == expected
    assert [tb["index"] for tb in out["raw_thinking_blocks"]] == [0, 1]
    assert out["reasoning"] == ""
    assert out["content"].startswith("I notice you've sent what appears to be some kind of command")
    history = [{"role": "user", "content": "x"}, {"role": "assistant", "content": out["content"], "thinking_blocks": out["thinking_blocks"]},
               {"role": "user", "content": "y"}]
    client.chat.completions.create(model="redacted.stream.next", messages=history)
    _, b2 = sent(sim, 2)
    assert b2["messages"][1]["content"] == [{"reasoningContent": {"redactedContent": e["data"]}} for e in expected] + [{"text": out["content"]}]


def test_sdk_stream_helper_accumulates_several_thinking_blocks(client, sim):
    path = REC / "test_bedrock_model_thinking_part_redacted_stream.eventstream"
    sim.scenario("redacted.helper", file=str(path.relative_to(FIX)))
    expected = [{"type": "redacted_thinking", "data": d["reasoningContent"]["redactedContent"]}
                for _, d in deltas_of(path.read_bytes()) if "redactedContent" in d.get("reasoningContent", {})]
    with client.chat.completions.stream(model="redacted.helper", messages=HI) as s:
        done = s.get_final_completion()
    msg = done.choices[0].message
    assert msg.content.startswith("I notice you've sent what appears to be some kind of command")
    assert [{k: v for k, v in b.items() if k != "index"} for b in msg.model_extra["thinking_blocks"]] == expected


def thinking_tool_frames():
    return [
        ev("messageStart", role="assistant"),
        ev("contentBlockDelta", contentBlockIndex=0, delta={"reasoningContent": {"text": "I need the weather "}}),
        ev("contentBlockDelta", contentBlockIndex=0, delta={"reasoningContent": {"text": "for Oslo."}}),
        ev("contentBlockDelta", contentBlockIndex=0, delta={"reasoningContent": {"signature": "U0lHLTE="}}),
        ev("contentBlockStop", contentBlockIndex=0),
        ev("contentBlockStart", contentBlockIndex=1, start={"toolUse": {"toolUseId": "tooluse_oslo", "name": "get_weather"}}),
        ev("contentBlockDelta", contentBlockIndex=1, delta={"toolUse": {"input": '{"city": "Oslo"}'}}),
        ev("contentBlockStop", contentBlockIndex=1),
        ev("messageStop", stopReason="tool_use"),
        ev("metadata", usage={"inputTokens": 30, "outputTokens": 20, "totalTokens": 50}, metrics={"latencyMs": 1}),
    ]


def thinking_answer_frames():
    return [
        ev("messageStart", role="assistant"),
        ev("contentBlockDelta", contentBlockIndex=0, delta={"reasoningContent": {"text": "It is cold."}}),
        ev("contentBlockDelta", contentBlockIndex=0, delta={"reasoningContent": {"signature": "U0lHLTI="}}),
        ev("contentBlockStop", contentBlockIndex=0),
        ev("contentBlockDelta", contentBlockIndex=1, delta={"text": "Oslo is at -3C."}),
        ev("contentBlockStop", contentBlockIndex=1),
        ev("messageStop", stopReason="end_turn"),
        ev("metadata", usage={"inputTokens": 60, "outputTokens": 10, "totalTokens": 70}, metrics={"latencyMs": 1}),
    ]


def test_multi_turn_thinking_with_tool_use(client, sim):
    """Claude with thinking and tools: the tool-use turn's reasoning block must go back in front
    of its toolUse, on every later turn."""
    q = {"role": "user", "content": "Weather in Oslo?"}
    sim.scenario(CLAUDE, raw_hex=stream_hex(*thinking_tool_frames()))
    t1 = collect(client.chat.completions.create(model="claude", messages=[q], tools=[WEATHER], reasoning_effort="low", stream=True))
    assert t1["reasoning"] == "I need the weather for Oslo."
    assert t1["content"] == "" and t1["finish"] == ["tool_calls"]
    assert t1["tool_calls"] == {0: {"id": "tooluse_oslo", "type": "function", "name": "get_weather", "arguments": '{"city": "Oslo"}'}}
    a1 = {"role": "assistant", "content": None, "thinking_blocks": t1["thinking_blocks"], "tool_calls": as_history(t1["tool_calls"])}
    tool = {"role": "tool", "tool_call_id": "tooluse_oslo", "content": "-3C"}

    sim.scenario(CLAUDE, raw_hex=stream_hex(*thinking_answer_frames()))
    t2 = collect(client.chat.completions.create(model="claude", messages=[q, a1, tool], tools=[WEATHER], reasoning_effort="low", stream=True))
    assert t2["content"] == "Oslo is at -3C." and t2["reasoning"] == "It is cold."
    a2 = {"role": "assistant", "content": t2["content"], "thinking_blocks": t2["thinking_blocks"]}

    sim.scenario(CLAUDE, body=converse_json([{"text": "You're welcome."}]))
    r = client.chat.completions.create(model="claude", messages=[q, a1, tool, a2, {"role": "user", "content": "thanks"}],
                                       tools=[WEATHER], reasoning_effort="low")
    assert r.choices[0].message.content == "You're welcome."

    _, b2, b3 = sent(sim, 3)
    tool_turn = {"role": "assistant", "content": [
        {"reasoningContent": {"reasoningText": {"text": "I need the weather for Oslo.", "signature": "U0lHLTE="}}},
        {"toolUse": {"toolUseId": "tooluse_oslo", "name": "get_weather", "input": {"city": "Oslo"}}}]}
    result_turn = {"role": "user", "content": [{"toolResult": {"toolUseId": "tooluse_oslo", "content": [{"text": "-3C"}]}}]}
    assert b2["messages"] == [user("Weather in Oslo?"), tool_turn, result_turn]
    assert b3["messages"] == [
        user("Weather in Oslo?"), tool_turn,
        {"role": "user", "content": [{"toolResult": {"toolUseId": "tooluse_oslo", "content": [{"text": "-3C"}]}}]},
        {"role": "assistant", "content": [
            {"reasoningContent": {"reasoningText": {"text": "It is cold.", "signature": "U0lHLTI="}}},
            {"text": "Oslo is at -3C."}]},
        user("thanks"),
    ]
    for b in (b2, b3):
        assert b["additionalModelRequestFields"] == {"thinking": {"type": "enabled", "budget_tokens": 1024}}
        assert b["toolConfig"] == {"tools": [WEATHER_SPEC]}


def test_reasoning_field_reasoning_content(start_envoy, sim):
    c = sdk(start_envoy(filter_config(reasoning_field="reasoning_content")))
    sim.reset()
    msg = c.chat.completions.create(model="claude", messages=HI).choices[0].message
    assert msg.model_extra["reasoning_content"] == "The user wrote 2 characters."
    assert "reasoning" not in msg.model_extra
    deltas = [ch.choices[0].delta.model_extra or {} for ch in c.chat.completions.create(model="claude", messages=HI, stream=True) if ch.choices]
    assert "".join(d.get("reasoning_content") or "" for d in deltas) == "The user wrote 2 characters. I will repeat them back."
    assert not any("reasoning" in d for d in deltas)


# --- response_format -----------------------------------------------------------------------------

class Weather(pydantic.BaseModel):
    city: str
    temperature_c: float
    conditions: list[str]


WEATHER_ANSWER = {"city": "Paris", "temperature_c": 18.5, "conditions": ["sunny", "windy"]}


def json_tool_frames(name, pieces):
    return [
        ev("messageStart", role="assistant"),
        ev("contentBlockStart", contentBlockIndex=0, start={"toolUse": {"toolUseId": "tooluse_json", "name": name}}),
        *[ev("contentBlockDelta", contentBlockIndex=0, delta={"toolUse": {"input": p}}) for p in pieces],
        ev("contentBlockStop", contentBlockIndex=0),
        ev("messageStop", stopReason="tool_use"),
        ev("metadata", usage={"inputTokens": 50, "outputTokens": 12, "totalTokens": 62}, metrics={"latencyMs": 1}),
    ]


def test_json_object_non_streaming(client, sim):
    sim.scenario("rf.json", body=converse_json([{"toolUse": {"toolUseId": "t1", "name": "json_response", "input": {"answer": 42, "ok": True}}}],
                                               stop="tool_use"))
    r = client.chat.completions.create(model="rf.json", messages=HI, response_format={"type": "json_object"})
    c = r.choices[0]
    assert json.loads(c.message.content) == {"answer": 42, "ok": True}
    assert c.finish_reason == "stop" and c.message.tool_calls is None
    assert sent(sim)["toolConfig"] == {
        "tools": [{"toolSpec": {"name": "json_response", "description": "Respond with a JSON object.", "inputSchema": {"json": {"type": "object"}}}}],
        "toolChoice": {"tool": {"name": "json_response"}}}


def test_json_object_streaming(client, sim):
    sim.scenario("rf.json.stream", raw_hex=stream_hex(*json_tool_frames("json_response", ["", '{"answer":', ' 42, "ok": tr', "ue}"])))
    out = collect(client.chat.completions.create(model="rf.json.stream", messages=HI, response_format={"type": "json_object"}, stream=True))
    assert out["content"] == '{"answer": 42, "ok": true}'
    assert out["finish"] == ["stop"] and out["tool_calls"] == {}
    assert sent(sim)["toolConfig"]["toolChoice"] == {"tool": {"name": "json_response"}}


def test_json_schema_with_the_sdk_parse_helper(client, sim):
    sim.scenario("rf.schema", body=converse_json([{"toolUse": {"toolUseId": "t1", "name": "Weather", "input": WEATHER_ANSWER}}], stop="tool_use"))
    strict_time = {"type": "function", "function": dict(TIME["function"], strict=True)}
    r = client.chat.completions.parse(model="rf.schema", messages=HI, response_format=Weather, tools=[strict_time])
    c = r.choices[0]
    assert c.message.parsed == Weather(**WEATHER_ANSWER)
    assert json.loads(c.message.content) == WEATHER_ANSWER
    assert c.finish_reason == "stop" and not c.message.tool_calls
    tc = sent(sim)["toolConfig"]
    assert tc["toolChoice"] == {"tool": {"name": "Weather"}}
    assert tc["tools"][0] == TIME_SPEC
    spec = tc["tools"][1]["toolSpec"]
    assert spec["name"] == "Weather" and spec["description"] == "Respond with JSON that matches this schema."
    assert spec["inputSchema"]["json"]["properties"].keys() == {"city", "temperature_c", "conditions"}
    assert spec["inputSchema"]["json"]["required"] == ["city", "temperature_c", "conditions"]


def test_json_schema_streaming_with_the_sdk_stream_helper(client, sim):
    pieces = ['{"city": "Paris", ', '"temperature_c": 18.5, ', '"conditions": ["sunny", "windy"]}']
    sim.scenario("rf.schema.stream", raw_hex=stream_hex(*json_tool_frames("Weather", pieces)))
    with client.chat.completions.stream(model="rf.schema.stream", messages=HI, response_format=Weather) as s:
        done = s.get_final_completion()
    assert done.choices[0].message.parsed == Weather(**WEATHER_ANSWER)
    assert done.choices[0].message.content == "".join(pieces)
    assert done.choices[0].finish_reason == "stop"


def test_json_schema_from_a_recorded_structured_output(client, sim):
    rec = json.loads((REC / "test_bedrock_model_structured_output.json").read_text())
    tu = rec["output"]["message"]["content"][0]["toolUse"]
    sim.scenario("rf.recorded", file="bedrock-recordings/test_bedrock_model_structured_output.json")
    schema = {"type": "object", "properties": {"city": {"type": "string"}, "date": {"type": "string"}}, "required": ["city", "date"]}
    r = client.chat.completions.create(model="rf.recorded", messages=HI, response_format={
        "type": "json_schema", "json_schema": {"name": "temperature", "description": "Temperature query", "schema": schema, "strict": True}})
    assert json.loads(r.choices[0].message.content) == tu["input"] == {"city": "London", "date": "2022-01-01"}
    assert r.choices[0].finish_reason == "stop"
    assert sent(sim)["toolConfig"] == {"tools": [{"toolSpec": {"name": "temperature", "description": "Temperature query",
                                                              "inputSchema": {"json": schema}}}],
                                       "toolChoice": {"tool": {"name": "temperature"}}}


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_json_schema_with_reasoning_does_not_force_the_tool(client, sim, stream):
    model = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
    if stream:
        sim.scenario(model, raw_hex=stream_hex(*json_tool_frames("Weather", [json.dumps(WEATHER_ANSWER)])))
    else:
        sim.scenario(model, body=converse_json([{"toolUse": {"toolUseId": "t1", "name": "Weather", "input": WEATHER_ANSWER}}], stop="tool_use"))
    r = client.chat.completions.create(model=model, messages=HI, reasoning_effort="low", stream=stream, response_format={
        "type": "json_schema", "json_schema": {"name": "Weather", "schema": Weather.model_json_schema()}})
    content = collect(r)["content"] if stream else r.choices[0].message.content
    assert json.loads(content) == WEATHER_ANSWER
    body = sent(sim)
    assert body["additionalModelRequestFields"] == {"thinking": {"type": "enabled", "budget_tokens": 1024}}
    assert [t["toolSpec"]["name"] for t in body["toolConfig"]["tools"]] == ["Weather"]
    assert body["toolConfig"].get("toolChoice", {"auto": {}}) == {"auto": {}}


def text_then_json_tool(name, text, pieces):
    frames = json_tool_frames(name, pieces)
    return [frames[0], ev("contentBlockDelta", contentBlockIndex=0, delta={"text": text}), ev("contentBlockStop", contentBlockIndex=0),
            *[frame_with_index(f, 1) for f in frames[1:]]]


def frame_with_index(f, index):
    """Re-encode a json_tool_frames event with another contentBlockIndex."""
    buf = EventStreamBuffer()
    buf.add_data(f)
    [m] = list(buf)
    p = json.loads(m.payload)
    p.pop("p", None)
    if "contentBlockIndex" in p:
        p["contentBlockIndex"] = index
    return event(m.headers[":event-type"], p)


def test_json_object_preamble_text_is_not_content_non_streaming(client, sim):
    sim.scenario("rf.preamble", body=converse_json([{"text": "Here you go: "},
                                                    {"toolUse": {"toolUseId": "t", "name": "json_response", "input": {"a": 1}}}], stop="tool_use"))
    r = client.chat.completions.create(model="rf.preamble", messages=HI, response_format={"type": "json_object"})
    assert r.choices[0].message.content == '{"a":1}' and r.choices[0].finish_reason == "stop"


def test_json_object_preamble_text_is_not_content_streaming(client, sim):
    sim.scenario("rf.preamble.stream", raw_hex=stream_hex(*text_then_json_tool("json_response", "Here you go: ", ['{"a":1}'])))
    out = collect(client.chat.completions.create(model="rf.preamble.stream", messages=HI, response_format={"type": "json_object"}, stream=True))
    assert out["finish"] == ["stop"]
    assert out["content"] == '{"a":1}'


# --- prompt caching ------------------------------------------------------------------------------

EPH = {"type": "ephemeral"}


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_cache_control_becomes_cache_points(client, sim, stream):
    msgs = [
        {"role": "system", "content": [{"type": "text", "text": "Long system prompt", "cache_control": EPH}, {"type": "text", "text": "rules"}]},
        {"role": "developer", "content": "more rules", "cache_control": EPH},
        {"role": "user", "content": [{"type": "text", "text": "big document", "cache_control": EPH}, {"type": "text", "text": "question"}]},
        {"role": "assistant", "content": "previous answer", "cache_control": EPH, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "12:00", "cache_control": EPH},
        {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64," + base64.b64encode(IMAGES["png"][1]).decode()},
                                      "cache_control": EPH}, {"type": "text", "text": "follow-up"}]},
        {"role": "user", "content": "last", "cache_control": EPH},
    ]
    tool = dict(WEATHER, cache_control=EPH)
    r = client.chat.completions.create(model="claude", messages=msgs, tools=[tool, TIME], stream=stream)
    assert (collect(r)["content"] if stream else r.choices[0].message.content) == "You said: follow-up"
    body = sent(sim)
    png = {"image": {"format": "png", "source": {"bytes": base64.b64encode(IMAGES["png"][1]).decode()}}}
    assert body["system"] == [{"text": "Long system prompt"}, CACHE_POINT, {"text": "rules"}, {"text": "more rules"}, CACHE_POINT]
    assert body["messages"] == [
        {"role": "user", "content": [{"text": "big document"}, CACHE_POINT, {"text": "question"}]},
        {"role": "assistant", "content": [{"text": "previous answer"}, {"toolUse": {"toolUseId": "c1", "name": "get_time", "input": {}}}, CACHE_POINT]},
        {"role": "user", "content": [{"toolResult": {"toolUseId": "c1", "content": [{"text": "12:00"}]}}, CACHE_POINT,
                                     png, CACHE_POINT, {"text": "follow-up"}, {"text": "last"}, CACHE_POINT]},
    ]
    assert body["toolConfig"] == {"tools": [WEATHER_SPEC, CACHE_POINT, TIME_SPEC]}


def cache_usage(u):
    read, write = u.get("cacheReadInputTokens", 0), u.get("cacheWriteInputTokens", 0)
    prompt = u["inputTokens"] + read + write
    return {"prompt_tokens": prompt, "completion_tokens": u["outputTokens"], "total_tokens": u.get("totalTokens", prompt + u["outputTokens"]),
            "cached_tokens": read, "cache_read_input_tokens": read, "cache_creation_input_tokens": write}


def usage_of(u):
    # The cache extension fields are sent only when they carry something (clients
    # generated from OpenAI's spec refuse unknown fields); a zero is never sent.
    extra = u.model_extra or {}
    for k in ("cache_read_input_tokens", "cache_creation_input_tokens"):
        assert extra.get(k, 1) != 0, f"{k}: 0 must not be sent"
    return {"prompt_tokens": u.prompt_tokens, "completion_tokens": u.completion_tokens, "total_tokens": u.total_tokens,
            "cached_tokens": u.prompt_tokens_details.cached_tokens,
            "cache_read_input_tokens": extra.get("cache_read_input_tokens", 0),
            "cache_creation_input_tokens": extra.get("cache_creation_input_tokens", 0)}


@pytest.mark.parametrize("name,expected", [
    ("test_bedrock_cache_write_and_read.json", {"prompt_tokens": 1324, "completion_tokens": 5, "total_tokens": 1329, "cached_tokens": 0,
                                                "cache_read_input_tokens": 0, "cache_creation_input_tokens": 1322}),
    ("test_bedrock_cache_write_and_read_1.json", {"prompt_tokens": 1324, "completion_tokens": 5, "total_tokens": 1329, "cached_tokens": 1322,
                                                  "cache_read_input_tokens": 1322, "cache_creation_input_tokens": 0}),
    ("test_bedrock_cache_usage_includes_cache_tokens.json", {"prompt_tokens": 1517, "completion_tokens": 5, "total_tokens": 1522,
                                                             "cached_tokens": 1504, "cache_read_input_tokens": 1504, "cache_creation_input_tokens": 0}),
])
def test_cache_tokens_in_usage_non_streaming(client, sim, name, expected):
    # "cache.json" stands for a Claude model: the strict simulator refuses cache points on
    # models without prompt caching.
    sim.scenario("cache.json", file="bedrock-recordings/" + name, as_model=CLAUDE)
    r = client.chat.completions.create(model="cache.json", messages=[{"role": "user", "content": "x", "cache_control": EPH}])
    assert usage_of(r.usage) == expected


@pytest.mark.parametrize("n", [1, 2])
def test_cache_tokens_in_usage_streaming(client, sim, n):
    path = REC / f"converse-stream/dd-trace-py__converse_stream_prompt_caching_{n}.bin"
    u = metadata_usage(path.read_bytes())
    assert u.get("cacheWriteInputTokens", 0) + u.get("cacheReadInputTokens", 0) > 0
    sim.scenario("cache.stream", file=str(path.relative_to(FIX)))
    out = collect(client.chat.completions.create(model="cache.stream", messages=HI, stream=True, stream_options={"include_usage": True}))
    assert out["chunks"][-1].choices == []
    assert usage_of(out["usage"]) == cache_usage(u)


# --- metadata and guardrails ---------------------------------------------------------------------

def test_user_and_metadata_become_request_metadata(client, sim):
    for stream in (False, True):
        r = client.chat.completions.create(model="claude", messages=HI, user="user-1234",
                                           metadata={"team": "search", "run": "42"}, stream=stream)
        list(r) if stream else None
    for body in sent(sim, 2):
        assert body["requestMetadata"] == {"user": "user-1234", "team": "search", "run": "42"}


def test_metadata_values_must_be_strings(client, sim):
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model="claude", messages=HI, extra_body={"metadata": {"n": 5}})
    assert_400(e, "metadata.n")
    assert sim.requests == []


GUARDRAIL_ID = "arn:aws:bedrock:us-east-1:123456789012:guardrail/abc123xyz"


@pytest.fixture(scope="module")
def guarded(sim):
    yield from filter_envoy(sim.port, "guarded", guardrail={"identifier": GUARDRAIL_ID, "version": "3", "trace": "enabled",
                                                            "stream_processing_mode": "async"})


def test_guardrail_from_config_becomes_guardrail_config(guarded, sim):
    sim.reset()
    c = sdk(guarded)
    assert c.chat.completions.create(model="claude", messages=HI).choices[0].message.content == "You said: hi"
    assert collect(c.chat.completions.create(model="claude", messages=HI, stream=True))["content"] == "You said: hi"
    b_json, b_stream = sent(sim, 2)
    assert b_json["guardrailConfig"] == {"guardrailIdentifier": GUARDRAIL_ID, "guardrailVersion": "3", "trace": "enabled"}
    # streamProcessingMode exists only for ConverseStream (botocore refuses it on Converse).
    assert b_stream["guardrailConfig"] == {"guardrailIdentifier": GUARDRAIL_ID, "guardrailVersion": "3", "trace": "enabled",
                                           "streamProcessingMode": "async"}


def test_guardrail_without_options(start_envoy, sim):
    c = sdk(start_envoy(filter_config(guardrail={"identifier": "gr1", "version": "DRAFT"})))
    sim.reset()
    c.chat.completions.create(model="claude", messages=HI)
    list(c.chat.completions.create(model="claude", messages=HI, stream=True))
    for b in sent(sim, 2):
        assert b["guardrailConfig"] == {"guardrailIdentifier": "gr1", "guardrailVersion": "DRAFT"}


def test_guardrail_intervened_is_content_filter(guarded, sim):
    sim.reset()
    c = sdk(guarded)
    blocked = "Sorry, the model cannot answer this question."
    sim.scenario("gr.json", body=converse_json([{"text": blocked}], stop="guardrail_intervened",
                                               trace={"guardrail": {"actionReason": "Guardrail blocked."}}))
    r = c.chat.completions.create(model="gr.json", messages=HI)
    assert r.choices[0].finish_reason == "content_filter" and r.choices[0].message.content == blocked
    path = REC / "converse-stream/openllmetry__nova_lite_converse_stream_guardrail.bin"
    sim.scenario("gr.stream", file=str(path.relative_to(FIX)))
    out = collect(c.chat.completions.create(model="gr.stream", messages=HI, stream=True))
    assert out["finish"] == ["content_filter"]
    assert out["content"] == "".join(d.get("text", "") for _, d in deltas_of(path.read_bytes()))
    for b in sent(sim, 2):
        assert b["guardrailConfig"]["guardrailIdentifier"] == GUARDRAIL_ID


# --- unsupported parameters ----------------------------------------------------------------------

UNSUPPORTED = [
    ("n", 2), ("logprobs", True), ("top_logprobs", 3), ("logit_bias", {"50256": -100}),
    ("presence_penalty", 0.5), ("frequency_penalty", -0.5), ("seed", 42),
    ("audio", {"voice": "alloy", "format": "wav"}), ("modalities", ["text", "audio"]),
    ("prediction", {"type": "content", "content": "draft"}),
]
DEFAULTS = {"n": 1, "logprobs": False, "top_logprobs": 0, "logit_bias": {}, "presence_penalty": 0, "frequency_penalty": 0.0,
            "modalities": ["text"], "seed": None, "audio": None}


@pytest.mark.parametrize("param,value", UNSUPPORTED, ids=[u[0] for u in UNSUPPORTED])
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_unsupported_parameters_are_400_naming_them(client, sim, param, value, stream):
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model="claude", messages=HI, stream=stream, **{param: value})
    assert_400(e, param, code="unsupported_parameter", words=[f"`{param}`"])
    assert sim.requests == []


def test_default_values_of_unsupported_parameters_are_accepted(client, sim):
    for stream in (False, True):
        r = client.chat.completions.create(model="claude", messages=HI, stream=stream, **DEFAULTS)
        assert (collect(r)["content"] if stream else r.choices[0].message.content) == "You said: hi"
    for body in sent(sim, 2):
        assert body == {"messages": [user("hi")]}


def test_unsupported_parameters_are_dropped_when_configured(start_envoy, sim):
    c = sdk(start_envoy(filter_config(unsupported_params="drop")))
    sim.reset()
    everything = dict(UNSUPPORTED)
    for stream in (False, True):
        r = c.chat.completions.create(model="claude", messages=HI, stream=stream, temperature=0.5,
                                      extra_body={"some_new_param": {"x": 1}, "store": True}, **everything)
        text = collect(r)["content"] if stream else r.choices[0].message.content
        assert text == "You said: hi"
        if not stream:
            assert len(r.choices) == 1
    for body in sent(sim, 2):
        assert body == {"messages": [user("hi")], "inferenceConfig": {"temperature": 0.5}}
    # reasoning_effort on a model without a reasoning control is dropped too.
    sim.reset()
    c.chat.completions.create(model="meta.llama3-8b-instruct-v1:0", messages=HI, reasoning_effort="high")
    assert sent(sim) == {"messages": [user("hi")]}


# --- Bedrock errors ------------------------------------------------------------------------------

def aws_status(name):
    try:
        return SERVICE_MODEL.shape_for(name).metadata["error"]["httpStatusCode"]
    except Exception:
        return 403  # the authentication errors come from AWS's front end, not the service model


ERRORS = [(name, *answer) for name, answer in OPENAI_ERRORS.items()]


@pytest.mark.parametrize("name,status,exc,kind", ERRORS, ids=[e[0] for e in ERRORS])
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_bedrock_http_errors(client, sim, name, status, exc, kind, stream):
    message = f"{name} raised by the simulated Bedrock for this test."
    sim.scenario("err.http", status=aws_status(name), body={"message": message},
                 headers={"x-amzn-ErrorType": f"{name}:http://internal.amazon.com/coral/com.amazon.bedrock/"})
    e = sdk_error(client, exc, "err.http", stream, messages=HI)
    assert e.status_code == status
    assert e.body == {"message": message, "type": kind, "param": None, "code": name}
    assert len(sim.requests) == 1 and sim.requests[0]["path"].endswith("/converse-stream" if stream else "/converse")


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_a_bodyless_bedrock_429_is_a_rate_limit_error_with_retry_after(client, sim, stream):
    """A 429 without a body (from Bedrock or a proxy before it) is still an OpenAI rate-limit error,
    and every 429 tells the client when to retry."""
    sim.scenario("err.bare429", status=429)
    e = sdk_error(client, openai.RateLimitError, "err.bare429", stream, messages=HI)
    assert e.status_code == 429
    assert e.body["type"] == "rate_limit_error" and e.body["message"]
    assert float(e.response.headers["retry-after"]) > 0
    assert len(sim.requests) == 1


LOCAL_RATE_LIMIT = {
    "name": "envoy.filters.http.local_ratelimit",
    "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit",
        "stat_prefix": "bedrock_rl",
        "token_bucket": {"max_tokens": 1, "tokens_per_fill": 1, "fill_interval": "3600s"},
        "filter_enabled": {"runtime_key": "rl_enabled", "default_value": {"numerator": 100, "denominator": "HUNDRED"}},
        "filter_enforced": {"runtime_key": "rl_enforced", "default_value": {"numerator": 100, "denominator": "HUNDRED"}},
    },
}


@pytest.fixture
def rate_limited(sim):
    """Envoy's own local rate limit after the filter (it sees the request as Bedrock will): one
    request per hour."""
    sim.reset()
    wasm, router = filter_http(filter_config())
    e = Envoy(filter_config(), upstream=("127.0.0.1", sim.port), name="local-ratelimit",
              http_filters=[wasm, LOCAL_RATE_LIMIT, router])
    yield openai.OpenAI(base_url=e.base_url, api_key="sk-client", max_retries=0, timeout=30)
    e.stop()


def test_envoys_own_429_after_the_filter_carries_retry_after(rate_limited, sim):
    assert rate_limited.chat.completions.create(model="claude", messages=HI).choices
    e = sdk_error(rate_limited, openai.RateLimitError, "claude", False, messages=HI)
    assert e.status_code == 429
    assert e.body["type"] == "rate_limit_error", "the filter gave Envoy's plain-text reply OpenAI's shape"
    assert float(e.response.headers["retry-after"]) > 0
    assert len(sim.requests) == 1, "the limited request never reached Bedrock"


def test_input_too_long_is_context_length_exceeded(client, sim):
    message = "Input is too long for requested model."
    sim.scenario("err.long", status=400, body={"message": message},
                 headers={"x-amzn-ErrorType": "ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/"})
    e = sdk_error(client, openai.BadRequestError, "err.long", False, messages=HI)
    assert e.body == {"message": message, "type": "invalid_request_error", "param": None, "code": "context_length_exceeded"}


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_bedrock_error_named_only_in_the_body(client, sim, stream):
    sim.scenario("err.type", status=400, body={"__type": "com.amazon.coral.service#ServiceQuotaExceededException", "message": "Quota reached."})
    e = sdk_error(client, openai.RateLimitError, "err.type", stream, messages=HI)
    assert e.body == {"message": "Quota reached.", "type": "rate_limit_error", "param": None, "code": "ServiceQuotaExceededException"}


def lower_camel(name):
    return name[0].lower() + name[1:]


@pytest.mark.parametrize("name,status,exc,kind", ERRORS, ids=[e[0] for e in ERRORS])
def test_bedrock_exceptions_inside_a_stream(client, envoy, sim, name, status, exc, kind):
    message = f"{name} in the middle of the stream."
    exception = frame({":message-type": "exception", ":exception-type": lower_camel(name), ":content-type": "application/json"},
                      json.dumps({"message": message}).encode())
    sim.scenario("err.instream", raw_hex=stream_hex(
        ev("messageStart", role="assistant"),
        ev("contentBlockDelta", contentBlockIndex=0, delta={"text": "Partial "}),
        ev("contentBlockDelta", contentBlockIndex=0, delta={"text": "answer"}),
        exception,
        # Nothing after the exception reaches the client.
        ev("contentBlockDelta", contentBlockIndex=0, delta={"text": " after"}),
        ev("messageStop", stopReason="end_turn")))
    got = ""
    with pytest.raises(openai.APIError) as e:
        for c in client.chat.completions.create(model="err.instream", messages=HI, stream=True):
            got += (c.choices[0].delta.content or "") if c.choices else ""
            assert not (c.choices and c.choices[0].finish_reason)
    assert type(e.value) is openai.APIError  # an SSE error event, not an HTTP status
    assert got == "Partial answer"
    assert e.value.body == {"message": message, "type": kind, "param": None, "code": name}
    assert e.value.message == message
    # On the wire: the 200 stream ends with the error event, then [DONE].
    st, events = raw_sse(envoy.port, {"model": "err.instream", "stream": True, "messages": HI})
    assert st == 200
    assert events[-1] == "[DONE]" and events.count("[DONE]") == 1
    assert json.loads(events[-2]) == {"error": {"message": message, "type": kind, "param": None, "code": name}}
    assert "after" not in "".join(events)


def test_unmodeled_error_frame_inside_a_stream(client, sim):
    err = frame({":message-type": "error", ":error-code": "InternalFailure", ":error-message": "An internal error occurred."}, b"")
    sim.scenario("err.frame", raw_hex=stream_hex(ev("messageStart", role="assistant"), err))
    with pytest.raises(openai.APIError) as e:
        list(client.chat.completions.create(model="err.frame", messages=HI, stream=True))
    assert e.value.body == {"message": "An internal error occurred.", "type": "server_error", "param": None, "code": "InternalFailure"}


# --- model ids -----------------------------------------------------------------------------------

MODEL_IDS = [
    "anthropic.claude-3-5-sonnet-20240620-v1:0",
    "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0",
    "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6",
    "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-20250514-v1:0",
    "us.anthropic.claude-sonnet-4-20250514-v1:0",
    "eu.anthropic.claude-3-7-sonnet-20250219-v1:0",
    "apac.amazon.nova-pro-v1:0",
    "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
]


def model_path(model_id, op):
    return "/model/" + urllib.parse.quote(model_id, safe="-._~") + "/" + op


@pytest.mark.parametrize("model_id", MODEL_IDS)
def test_model_ids_are_percent_encoded_into_one_path_segment(client, sim, model_id):
    r = client.chat.completions.create(model=model_id, messages=HI)
    assert r.model == model_id and r.choices[0].message.content == "You said: hi"
    out = collect(client.chat.completions.create(model=model_id, messages=HI, stream=True))
    assert out["content"] == "You said: hi" and {c.model for c in out["chunks"]} == {model_id}
    sent(sim, 2)
    a, b = sim.requests
    assert a["path"] == model_path(model_id, "converse") and b["path"] == model_path(model_id, "converse-stream")
    assert "%3A" in a["path"] and ("/" not in model_id or "%2F" in a["path"])
    assert a["model_id"] == b["model_id"] == model_id


ALIASES = {
    "sonnet": "us.anthropic.claude-sonnet-4-20250514-v1:0",
    "haiku-arn": "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0",
    "my-profile": "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6",
    "eu-claude": "eu.anthropic.claude-3-7-sonnet-20250219-v1:0",
    "apac-nova": {"id": "apac.amazon.nova-pro-v1:0"},
    "global-claude": {"id": "global.anthropic.claude-sonnet-4-5-20250929-v1:0", "api": "converse"},
    "oss": {"id": "openai.gpt-oss-20b-1:0", "api": "openai"},
}


@pytest.fixture(scope="module")
def aliased(sim):
    yield from filter_envoy(sim.port, "aliased", models=ALIASES)


@pytest.mark.parametrize("alias", [a for a in ALIASES if a != "oss"])
def test_aliases_from_config(aliased, sim, alias):
    sim.reset()
    target = ALIASES[alias] if isinstance(ALIASES[alias], str) else ALIASES[alias]["id"]
    c = sdk(aliased)
    r = c.chat.completions.create(model=alias, messages=HI)
    assert r.model == alias and r.choices[0].message.content == "You said: hi"
    out = collect(c.chat.completions.create(model=alias, messages=HI, stream=True))
    assert {ch.model for ch in out["chunks"]} == {alias}
    sent(sim, 2)
    assert [q["path"] for q in sim.requests] == [model_path(target, "converse"), model_path(target, "converse-stream")]
    assert {q["model_id"] for q in sim.requests} == {target}


def test_models_list_shows_the_configured_aliases(aliased, sim):
    page = sdk(aliased).models.list()
    assert sorted(m.id for m in page.data) == sorted(ALIASES)
    for m in page.data:
        assert m.object == "model" and m.owned_by == "bedrock" and isinstance(m.created, int)
    with httpx.Client() as h:
        raw = h.get(aliased.base_url + "/models").json()
    assert raw["object"] == "list" and sorted(m["id"] for m in raw["data"]) == sorted(ALIASES)


# --- OpenAI-compatible models --------------------------------------------------------------------

@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_openai_compatible_models_change_only_model_and_auth(aliased, sim, stream):
    sim.reset()
    captured = []
    h = httpx.Client(event_hooks={"request": [lambda req: captured.append(req)]})
    c = sdk(aliased, http_client=h)
    # Parameters the Converse path would refuse or translate go through untouched.
    kw = dict(temperature=0.2, max_tokens=50, n=2, reasoning_effort="low", tools=[WEATHER], tool_choice="auto",
              seed=7, user="u1", extra_body={"vendor_field": {"a": [1, 2]}})
    msgs = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi there"}]
    r = c.chat.completions.create(model="oss", messages=msgs, stream=stream, **kw)
    if stream:
        out = collect(r)
        assert out["content"] == "You said: hi there"
    else:
        assert r.choices[0].message.content == "You said: hi there"
        assert (r.usage.prompt_tokens, r.usage.completion_tokens, r.usage.total_tokens) == (3, 4, 7)
    [req] = sim.requests
    assert req["path"] == "/openai/v1/chat/completions" and req["signature_ok"]
    client_body = json.loads(captured[0].content)
    assert client_body["model"] == "oss"
    assert json.loads(req["body"]) == dict(client_body, model="openai.gpt-oss-20b-1:0")
    assert req["headers"]["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert req["headers"]["host"] == "bedrock-runtime.us-east-1.amazonaws.com"
    assert "sk-client-secret-never-forwarded" not in json.dumps(req["headers"])
    assert not any(k.startswith("x-stainless") for k in req["headers"])


# --- recorded responses, field by field ----------------------------------------------------------

def messages_of(data: bytes):
    buf = EventStreamBuffer()
    buf.add_data(data)
    return [(m.headers.get(":event-type"), json.loads(m.payload)) for m in buf]


def deltas_of(data: bytes):
    return [(p["contentBlockIndex"], p["delta"]) for k, p in messages_of(data) if k == "contentBlockDelta"]


def metadata_usage(data: bytes):
    [u] = [p.get("usage") for k, p in messages_of(data) if k == "metadata"]
    return u


FINISH = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length", "tool_use": "tool_calls",
          "guardrail_intervened": "content_filter", "content_filtered": "content_filter"}
STREAMS = sorted((REC / "converse-stream").glob("*.bin")) + sorted(REC.glob("*.eventstream"))
JSONS = [p for p in sorted(REC.glob("*.json")) + sorted((REC / "converse").glob("*.body.json"))
         if not p.name.endswith(".meta.json") and "output" in json.loads(p.read_text())]


def expected_stream(data: bytes):
    """What the recording says, read with botocore's eventstream parser (not the filter's)."""
    exp = {"text": "", "reasoning": "", "thinking": [], "tools": {}, "stop": None, "usage": None}
    order, reasoning_block = [], None
    for kind, p in messages_of(data):
        if kind == "contentBlockStart" and "toolUse" in p["start"]:
            t = p["start"]["toolUse"]
            order.append(p["contentBlockIndex"])
            exp["tools"][p["contentBlockIndex"]] = {"id": t["toolUseId"], "type": "function", "name": t["name"], "arguments": ""}
        elif kind == "contentBlockDelta":
            d = p["delta"]
            exp["text"] += d.get("text", "")
            r = d.get("reasoningContent", {})
            exp["reasoning"] += r.get("text", "")
            if r and p["contentBlockIndex"] != reasoning_block:
                reasoning_block = p["contentBlockIndex"]
                exp["thinking"].append({"type": "thinking"})
            if "text" in r:
                exp["thinking"][-1]["thinking"] = exp["thinking"][-1].get("thinking", "") + r["text"]
            if "signature" in r:
                exp["thinking"][-1]["signature"] = r["signature"]
            if "redactedContent" in r:
                exp["thinking"][-1] = {"type": "redacted_thinking", "data": r["redactedContent"]}
            if "toolUse" in d:
                exp["tools"][p["contentBlockIndex"]]["arguments"] += d["toolUse"]["input"]
        elif kind == "messageStop":
            exp["stop"] = p["stopReason"]
        elif kind == "metadata":
            exp["usage"] = p.get("usage")
    exp["tools"] = {i: exp["tools"][b] for i, b in enumerate(order)}
    # Only blocks a client can send back travel in thinking_blocks: signed or redacted;
    # a signature-only block carries "thinking": "".
    exp["thinking"] = [dict(b, thinking=b.get("thinking", "")) if b["type"] == "thinking" else b
                       for b in exp["thinking"] if b["type"] == "redacted_thinking" or "signature" in b]
    return exp


@pytest.mark.parametrize("path", STREAMS, ids=lambda p: p.stem)
def test_every_recorded_stream_field_by_field(client, sim, path):
    model = "replay." + path.stem
    sim.scenario(model, file=str(path.relative_to(FIX)))
    exp = expected_stream(path.read_bytes())
    out = collect(client.chat.completions.create(model=model, messages=HI, stream=True, stream_options={"include_usage": True}))
    assert out["roles"] == ["assistant"] and out["chunks"][0].choices[0].delta.role == "assistant"
    assert out["content"] == exp["text"]
    assert out["reasoning"] == exp["reasoning"]
    assert out["thinking_blocks"] == exp["thinking"]
    assert out["tool_calls"] == exp["tools"]
    assert out["finish"] == [FINISH[exp["stop"]]]
    # usage: the last chunk, with no choices, from the metadata event
    last = out["chunks"][-1]
    assert last.choices == [] and last.usage is out["usage"]
    assert usage_of(out["usage"]) == cache_usage(exp["usage"])
    assert [c for c in out["chunks"][:-1] if c.usage is not None] == []
    assert {c.model for c in out["chunks"]} == {model}


@pytest.mark.parametrize("path", JSONS, ids=lambda p: p.name.removesuffix(".json"))
def test_every_recorded_converse_response_field_by_field(client, sim, path):
    rec = json.loads(path.read_text())
    model = "replay." + path.name.removesuffix(".json")
    sim.scenario(model, file=str(path.relative_to(FIX)))
    r = client.chat.completions.create(model=model, messages=HI)
    blocks = rec["output"]["message"]["content"]
    texts = [b["text"] for b in blocks if "text" in b]
    tools = [b["toolUse"] for b in blocks if "toolUse" in b]
    reasoning = [b["reasoningContent"] for b in blocks if "reasoningContent" in b]
    msg = r.choices[0].message
    assert r.object == "chat.completion" and r.model == model and len(r.choices) == 1
    assert msg.role == "assistant"
    assert msg.content == ("".join(texts) if texts or not tools else None)
    assert msg.model_extra.get("reasoning") == ("".join(rc["reasoningText"]["text"] for rc in reasoning if "reasoningText" in rc) or None)
    expected_blocks = []
    for rc in reasoning:
        if "reasoningText" in rc:
            b = {"type": "thinking", "thinking": rc["reasoningText"]["text"]}
            if "signature" in rc["reasoningText"]:
                b["signature"] = rc["reasoningText"]["signature"]
            expected_blocks.append(b)
        else:
            expected_blocks.append({"type": "redacted_thinking", "data": rc["redactedContent"]})
    assert msg.model_extra.get("thinking_blocks") == (expected_blocks or None)
    assert [(t.id, t.type, t.function.name, json.loads(t.function.arguments)) for t in msg.tool_calls or []] == \
        [(t["toolUseId"], "function", t["name"], t["input"]) for t in tools]
    assert r.choices[0].finish_reason == FINISH[rec["stopReason"]]
    if "usage" in rec:
        assert usage_of(r.usage) == cache_usage(rec["usage"])
    else:
        assert (r.usage.prompt_tokens, r.usage.completion_tokens, r.usage.total_tokens) == (0, 0, 0)
