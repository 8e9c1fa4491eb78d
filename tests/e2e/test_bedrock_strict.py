"""Bedrock's request rules (and its thinking rules) end to end: what users must get when they send requests
that OpenAI accepts and that a naive translation forwards but Bedrock refuses. The openai SDK →
real Envoy + bedrock-bridge → the simulator, which enforces Bedrock's request rules
(bedrock_rules.py) by default and records which rule refused a body.

Each test asserts one of two outcomes: the filter repairs the request and the strict simulator
accepts what it forwarded (and the repair is the obvious one), or the filter answers its own 400
naming the parameter before anything reaches Bedrock. Tests marked xfail(strict=True) name the
issue item the filter does not handle yet: they flip to XPASS (an error) when it does.

    .venv/bin/python -m pytest -q tests/e2e/test_bedrock_strict.py
"""

import json
import re

import openai
import pytest

from conftest import CLAUDE

HI = [{"role": "user", "content": "hi"}]
WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Current weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
CLAUDE45 = "global.anthropic.claude-sonnet-4-5-20250929-v1:0"
LLAMA = "meta.llama3-8b-instruct-v1:0"
CLAUDE_ID = re.compile(r"[a-zA-Z0-9_-]{1,64}")


def not_fixed(item, why=""):
    return pytest.mark.xfail(strict=True, reason=f"issue {item}: filter not fixed yet{': ' + why if why else ''}")


def forwarded(sim):
    """The Converse body of the one request the simulator received, which Bedrock's rules accept."""
    reqs = sim.requests
    assert len(reqs) == 1, [r["path"] for r in reqs]
    r = reqs[0]
    assert r["signature_ok"], r
    assert "refused" not in r, f"Bedrock refuses what the filter forwarded ({r['refused']}):\n{r['body']}"
    return json.loads(r["body"])


def accepted(client, sim, model="claude", **kw):
    """The completion succeeds and Bedrock's rules accept the forwarded body: (response, body)."""
    try:
        r = client.chat.completions.create(model=model, **kw)
    except openai.APIStatusError as e:
        refused = [q.get("refused") for q in sim.requests if "refused" in q]
        pytest.fail(f"completion failed: {e.status_code} {e.body}; simulator refusals: {refused}")
    return r, forwarded(sim)


def accepted_or_400(client, sim, param, model="claude", **kw):
    """Either the filter repairs the request (the forwarded body is accepted: returned), or it
    answers its own 400 naming `param` and forwards nothing (None)."""
    try:
        client.chat.completions.create(model=model, **kw)
    except openai.BadRequestError as e:
        assert not sim.requests, f"the filter's 400 came after forwarding: {sim.requests[-1].get('refused')}"
        assert e.body["type"] == "invalid_request_error", e.body
        assert e.body["param"] and param in e.body["param"], e.body
        return None
    return forwarded(sim)


def texts(body):
    """Every text the forwarded body carries: message text blocks, tool-result text, system."""
    out = []
    for m in body["messages"]:
        for b in m["content"]:
            if "text" in b:
                out.append(b["text"])
            for rb in (b.get("toolResult") or {}).get("content", []):
                if "text" in rb:
                    out.append(rb["text"])
    return out + [s["text"] for s in body.get("system", []) if "text" in s]


def tool_turn(call_id="call_1", name="get_weather", args='{"city": "Oslo"}', content=None):
    return {"role": "assistant", "content": content,
            "tool_calls": [{"id": call_id, "type": "function", "function": {"name": name, "arguments": args}}]}


def tool_result(call_id="call_1", content="-3C"):
    return {"role": "tool", "tool_call_id": call_id, "content": content}


ASK = {"role": "user", "content": "Weather in Oslo?"}


# --- forwarded, but Bedrock refuses them (items 1-9) --------------------------------------------

def test_item1_whitespace_assistant_text_is_dropped(client, sim):
    r, body = accepted(client, sim, messages=[ASK, tool_turn(content="\n\n"), tool_result()], tools=[WEATHER])
    assert all(t.strip() for t in texts(body)), texts(body)
    assert [list(b) for b in body["messages"][1]["content"]] == [["toolUse"]]


def test_item1_empty_tool_result_is_accepted(client, sim):
    r, body = accepted(client, sim, messages=[ASK, tool_turn(), tool_result(content="")], tools=[WEATHER])
    assert all(t.strip() for t in texts(body)), texts(body)
    results = [b["toolResult"] for b in body["messages"][2]["content"] if "toolResult" in b]
    assert [t["toolUseId"] for t in results] == ["call_1"]


def test_item2_duplicate_tool_results_keep_one_per_id(client, sim):
    msgs = [ASK, tool_turn(), tool_result(content="-3C"), tool_result(content="-4C")]
    r, body = accepted(client, sim, messages=msgs, tools=[WEATHER])
    ids = [b["toolResult"]["toolUseId"] for b in body["messages"][2]["content"] if "toolResult" in b]
    assert ids == ["call_1"]


def test_item3_unsigned_thinking_blocks_are_dropped(client, sim):
    msgs = [{"role": "user", "content": "hi"},
            {"role": "assistant", "content": "hello", "thinking_blocks": [{"type": "thinking", "thinking": "hmm"}]},
            {"role": "user", "content": "again"}]
    r, body = accepted(client, sim, messages=msgs)
    assert body["messages"][1]["content"] == [{"text": "hello"}]


def test_item4_empty_stop_string_is_dropped(client, sim):
    r, body = accepted(client, sim, messages=HI, stop=["", "END"])
    assert body["inferenceConfig"].get("stopSequences") == ["END"]


def test_item4_only_empty_stop_string_sends_no_stop_sequences(client, sim):
    r, body = accepted(client, sim, messages=HI, stop="")
    assert "" not in body.get("inferenceConfig", {}).get("stopSequences", [])


def test_item5_cache_control_on_llama_sends_no_cache_point(client, sim):
    msgs = [{"role": "system", "content": [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}]},
            {"role": "user", "content": [{"type": "text", "text": "hi", "cache_control": {"type": "ephemeral"}}]}]
    r, body = accepted(client, sim, model=LLAMA, messages=msgs)
    assert "cachePoint" not in json.dumps(body)


def test_item5_cache_control_on_claude_keeps_cache_points(client, sim):
    msgs = [{"role": "user", "content": [{"type": "text", "text": "hi", "cache_control": {"type": "ephemeral"}}]}]
    r, body = accepted(client, sim, messages=msgs)
    assert {"cachePoint": {"type": "default"}} in body["messages"][0]["content"]


def test_item6_temperature_above_1_is_the_filters_400(client, sim):
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model="claude", messages=HI, temperature=1.5)
    assert e.value.body["param"] == "temperature", e.value.body
    assert not sim.requests


def test_item6_temperature_1_is_forwarded(client, sim):
    r, body = accepted(client, sim, messages=HI, temperature=1.0, top_p=0.5)
    assert body["inferenceConfig"]["temperature"] == 1.0


def test_item7_assistant_greeting_first(client, sim):
    msgs = [{"role": "assistant", "content": "Hi! How can I help?"}, {"role": "user", "content": "Weather in Oslo?"}]
    r, body = accepted(client, sim, messages=msgs)
    assert body["messages"][0]["role"] == "user"
    assert "Weather in Oslo?" in json.dumps(body["messages"])


def test_item8_reasoning_with_temperature(client, sim):
    body = accepted_or_400(client, sim, "temperature", messages=HI, reasoning_effort="low", temperature=0.3)
    if body is not None:
        assert body["inferenceConfig"].get("temperature", 1) == 1


def test_item8_reasoning_with_low_top_p(client, sim):
    body = accepted_or_400(client, sim, "top_p", messages=HI, reasoning_effort="low", top_p=0.5)
    if body is not None:
        assert body["inferenceConfig"].get("topP", 1) >= 0.95


def test_item8_claude45_temperature_and_top_p(client, sim):
    body = accepted_or_400(client, sim, "top_p", model=CLAUDE45, messages=HI, temperature=0.3, top_p=0.9)
    if body is not None:
        assert not {"temperature", "topP"} <= set(body.get("inferenceConfig", {}))


def test_item9_prefill_trailing_whitespace(client, sim):
    msgs = [{"role": "user", "content": "Name a colour."}, {"role": "assistant", "content": "The colour is "}]
    r, body = accepted(client, sim, messages=msgs)
    last = body["messages"][-1]
    assert last["role"] == "assistant" and last["content"][-1]["text"] == "The colour is"


# --- refused by us, accepted by OpenAI (items 10-14) ---------------------------------------------

def test_item10_empty_assistant_turn_is_skipped(client, sim):
    msgs = [{"role": "user", "content": "one"}, {"role": "assistant", "content": ""}, {"role": "user", "content": "two"}]
    r, body = accepted(client, sim, messages=msgs)
    assert [m["role"] for m in body["messages"]] == ["user"]
    assert "one" in json.dumps(body) and "two" in json.dumps(body)


def test_item11_user_outside_metadata_charset_never_fails(client, sim):
    r, body = accepted(client, sim, messages=HI, user="auth0|abc")
    assert r.choices[0].message.content


def test_item11_metadata_outside_charset_never_fails(client, sim):
    r, body = accepted(client, sim, messages=HI, metadata={"session": '{"id": 1}', "team": "search"})
    assert body["requestMetadata"].get("team") == "search"


def test_item11_valid_user_is_forwarded(client, sim):
    r, body = accepted(client, sim, messages=HI, user="alice@example.com")
    assert body["requestMetadata"] == {"user": "alice@example.com"}


def test_item12_truncated_tool_arguments_in_history(client, sim):
    msgs = [ASK, tool_turn(args='{"city": "Os'), tool_result()]
    r, body = accepted(client, sim, messages=msgs, tools=[WEATHER])
    uses = [b["toolUse"] for b in body["messages"][1]["content"] if "toolUse" in b]
    assert uses[0]["input"] == {}


@pytest.mark.parametrize("tier", ["flex", "priority"])
def test_item13_service_tier_is_mapped(client, sim, tier):
    r, body = accepted(client, sim, messages=HI, service_tier=tier)
    assert body["serviceTier"] == {"type": tier}


def test_item13_service_tier_auto_sends_none_or_default(client, sim):
    r, body = accepted(client, sim, messages=HI, service_tier="auto")
    assert body.get("serviceTier", {"type": "default"}) == {"type": "default"}


def test_item14_safety_identifier_maps_like_user(client, sim):
    r, body = accepted(client, sim, messages=HI, extra_body={"safety_identifier": "user-123"})
    assert "user-123" in body["requestMetadata"].values()


def test_item14_prompt_cache_key_is_accepted(client, sim):
    accepted(client, sim, messages=HI, extra_body={"prompt_cache_key": "conversation-42"})


# --- ids Bedrock cannot take (item 15) -----------------------------------------------------------

def test_item15_foreign_tool_call_ids_are_mapped(client, sim):
    cid = "functions.get_weather:0"
    r, body = accepted(client, sim, messages=[ASK, tool_turn(cid), tool_result(cid)], tools=[WEATHER])
    use = [b["toolUse"]["toolUseId"] for b in body["messages"][1]["content"] if "toolUse" in b]
    res = [b["toolResult"]["toolUseId"] for b in body["messages"][2]["content"] if "toolResult" in b]
    assert use == res and CLAUDE_ID.fullmatch(use[0]), (use, res)


def test_item15_long_tool_call_ids_are_mapped(client, sim):
    cid = "call_" + "x" * 70
    r, body = accepted(client, sim, messages=[ASK, tool_turn(cid), tool_result(cid)], tools=[WEATHER])
    use = [b["toolUse"]["toolUseId"] for b in body["messages"][1]["content"] if "toolUse" in b]
    assert CLAUDE_ID.fullmatch(use[0]), use


def test_item15_two_ids_that_differ_only_in_bad_characters_stay_distinct(client, sim):
    a, b = "call:1", "call.1"
    msgs = [ASK, {"role": "assistant", "content": None, "tool_calls": [
        {"id": a, "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'}},
        {"id": b, "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Bergen"}'}}]},
        tool_result(a, "-3C"), tool_result(b, "2C")]
    r, body = accepted(client, sim, messages=msgs, tools=[WEATHER])
    use = [x["toolUse"]["toolUseId"] for x in body["messages"][1]["content"] if "toolUse" in x]
    assert len(set(use)) == 2


@pytest.mark.parametrize("name", ["get.weather", "x" * 65, "wetter-für-stadt"])
def test_item15_unmappable_tool_names_are_the_filters_400(client, sim, name):
    tool = {"type": "function", "function": dict(WEATHER["function"], name=name)}
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model="claude", messages=HI, tools=[tool])
    assert e.value.body["param"] and "tools" in e.value.body["param"], e.value.body
    assert not sim.requests, sim.requests[0].get("refused")


# --- Also: tools in history, structured output, redacted thinking ------------------------------

def test_also_tool_history_without_tools_declares_nothing_callable(client, sim):
    msgs = [ASK, tool_turn(), tool_result(), {"role": "assistant", "content": "It is -3C."}, {"role": "user", "content": "Thanks!"}]
    r, body = accepted(client, sim, messages=msgs)
    assert "toolConfig" not in body or body["toolConfig"].get("toolChoice") is None
    assert not body.get("toolConfig", {}).get("tools"), body.get("toolConfig")


def test_also_tool_history_with_tool_choice_auto_declares_the_clients_tools(client, sim):
    r, body = accepted(client, sim, messages=[ASK, tool_turn(), tool_result()], tools=[WEATHER])
    assert [t["toolSpec"]["name"] for t in body["toolConfig"]["tools"]] == ["get_weather"]


def test_also_tool_history_with_tool_choice_none_offers_no_callable_tool(client, sim):
    msgs = [ASK, tool_turn(), tool_result()]
    r, body = accepted(client, sim, messages=msgs, tools=[WEATHER], tool_choice="none")
    assert not body.get("toolConfig", {}).get("tools"), body.get("toolConfig")


def test_also_native_structured_output_on_recent_claude(client, sim):
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"], "additionalProperties": False}
    rf = {"type": "json_schema", "json_schema": {"name": "place", "schema": schema, "strict": True}}
    r, body = accepted(client, sim, model=CLAUDE45, messages=HI, response_format=rf)
    fmt = body["outputConfig"]["textFormat"]
    assert fmt["type"] == "json_schema" and json.loads(fmt["structure"]["jsonSchema"]["schema"]) == schema


def test_also_structured_output_on_llama_is_accepted(client, sim):
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    rf = {"type": "json_schema", "json_schema": {"name": "place", "schema": schema}}
    try:
        client.chat.completions.create(model=LLAMA, messages=HI, response_format=rf)
    except openai.APIStatusError:
        pass  # the generated answer is not JSON: only what was forwarded matters here
    forwarded(sim)


def test_also_redacted_thinking_round_trips_unchanged(client, sim):
    data = "RXhhbXBsZSByZWRhY3RlZCBibG9i"
    msgs = [{"role": "user", "content": "hi"},
            {"role": "assistant", "content": "hello", "thinking_blocks": [{"type": "redacted_thinking", "data": data}]},
            {"role": "user", "content": "again"}]
    r, body = accepted(client, sim, messages=msgs, reasoning_effort="low")
    assert body["messages"][1]["content"][0] == {"reasoningContent": {"redactedContent": data}}


# --- the two thinking rules in a tool loop ------------------------------------------------

def test_reasoning_tool_loop_without_thinking_blocks(client, sim):
    msgs = [ASK, tool_turn(), tool_result()]
    r, body = accepted(client, sim, messages=msgs, tools=[WEATHER], reasoning_effort="low")
    thinking_on = "thinking" in body.get("additionalModelRequestFields", {})
    if thinking_on:
        assert "reasoningContent" in body["messages"][1]["content"][0]


def test_reasoning_tool_loop_with_signed_blocks(client, sim):
    turn = dict(tool_turn(), thinking_blocks=[{"type": "thinking", "thinking": "Look it up.", "signature": "c2ln"}])
    r, body = accepted(client, sim, messages=[ASK, turn, tool_result()], tools=[WEATHER], reasoning_effort="low")
    assert "reasoningContent" in body["messages"][1]["content"][0]


@pytest.mark.parametrize("choice", ["required", {"type": "function", "function": {"name": "get_weather"}}])
def test_forced_tool_with_reasoning(client, sim, choice):
    r, body = accepted(client, sim, messages=[ASK], tools=[WEATHER], tool_choice=choice, reasoning_effort="low")
    tc = body["toolConfig"].get("toolChoice", {})
    thinking_on = "thinking" in body.get("additionalModelRequestFields", {})
    assert not (thinking_on and ("any" in tc or "tool" in tc))


def test_signature_only_reasoning_block_round_trips(client, sim):
    from sim import event
    frames = [event("messageStart", {"role": "assistant"}),
              event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"reasoningContent": {"signature": "c2lnLW9ubHk="}}}),
              event("contentBlockStop", {"contentBlockIndex": 0}),
              event("contentBlockDelta", {"contentBlockIndex": 1, "delta": {"text": "Hello."}}),
              event("contentBlockStop", {"contentBlockIndex": 1}),
              event("messageStop", {"stopReason": "end_turn"}),
              event("metadata", {"usage": {"inputTokens": 3, "outputTokens": 2, "totalTokens": 5}, "metrics": {"latencyMs": 1}})]
    sim.scenario(CLAUDE, raw_hex=b"".join(frames).hex())
    blocks, content = {}, ""
    for chunk in client.chat.completions.create(model="claude", messages=HI, reasoning_effort="low", stream=True):
        for c in chunk.choices:
            content += c.delta.content or ""
            for piece in (c.delta.model_extra or {}).get("thinking_blocks") or []:
                acc = blocks.setdefault(piece["index"], {})
                for k, v in piece.items():  # the openai SDK's merge by index: strings concatenated
                    if k != "index":
                        acc[k] = acc.get(k, "") + v if isinstance(v, str) and k != "type" else v
    thinking_blocks = [blocks[i] for i in sorted(blocks)]
    assert thinking_blocks == [{"type": "thinking", "thinking": "", "signature": "c2lnLW9ubHk="}], thinking_blocks
    sim.reset()
    history = [HI[0], {"role": "assistant", "content": content, "thinking_blocks": thinking_blocks}, {"role": "user", "content": "again"}]
    r, body = accepted(client, sim, messages=history, reasoning_effort="low")
    assert body["messages"][1]["content"][0] == {"reasoningContent": {"reasoningText": {"text": "", "signature": "c2lnLW9ubHk="}}}
