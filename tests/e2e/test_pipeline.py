"""One request pipeline: the same case through the three chat-style front doors (the openai SDK's
chat completions and Responses, the anthropic SDK's Messages) → real Envoy + bedrock-bridge → the
strict simulator. Each door must get the same Bedrock rule: the forwarded body is one Bedrock
accepts, or the filter's own 400 names the parameter and nothing is forwarded.

    .venv/bin/python -m pytest -q tests/e2e/test_pipeline.py
"""

import json

import anthropic
import openai
import pytest


@pytest.fixture
def clients(envoy, sim):
    sim.reset()
    oa = openai.OpenAI(base_url=envoy.base_url, api_key="sk-client", max_retries=0, timeout=30)
    an = anthropic.Anthropic(base_url=envoy.base_url.removesuffix("/v1"), api_key="sk-ant-client", max_retries=0,
                             timeout=30)
    return oa, an


def forwarded(sim):
    """The Converse body of the last request, which Bedrock's rules accept."""
    reqs = [r for r in sim.requests if r["path"].startswith("/model/")]
    assert reqs, "nothing reached Bedrock"
    r = reqs[-1]
    assert r["signature_ok"], r
    assert "refused" not in r, f"Bedrock refuses what the filter forwarded ({r['refused']}):\n{r['body']}"
    return json.loads(r["body"])


def three_doors(oa, an, chat, responses, messages):
    """Send one case through each door; yields the door's name after each. (This anthropic SDK takes
    `temperature` only through `extra_body`.)"""
    for door, send in (("chat", lambda: oa.chat.completions.create(model="claude", **chat)),
                       ("responses", lambda: oa.responses.create(model="claude", **responses)),
                       ("messages", lambda: an.messages.create(model="claude", max_tokens=3000, **messages))):
        send()
        yield door


CHAT_LOOP = [{"role": "user", "content": "weather?"},
             {"role": "assistant", "content": None,
              "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "get", "arguments": "{}"}}]},
             {"role": "tool", "tool_call_id": "c1", "content": "sunny"}]
RESP_LOOP = [{"role": "user", "content": "weather?"},
             {"type": "function_call", "call_id": "c1", "name": "get", "arguments": "{}"},
             {"type": "function_call_output", "call_id": "c1", "output": "sunny"}]
MSG_LOOP = [{"role": "user", "content": "weather?"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "c1", "name": "get", "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "c1", "content": "sunny"}]}]
CHAT_TOOL = {"type": "function", "function": {"name": "get", "parameters": {"type": "object"}}}
RESP_TOOL = {"type": "function", "name": "get", "parameters": {"type": "object"}}
MSG_TOOL = {"name": "get", "input_schema": {"type": "object"}}


def test_tool_choice_none_turns_tool_history_into_text_on_every_door(clients, sim):
    oa, an = clients
    for door in three_doors(oa, an,
                            dict(messages=CHAT_LOOP, tools=[CHAT_TOOL], tool_choice="none"),
                            dict(input=RESP_LOOP, tools=[RESP_TOOL], tool_choice="none"),
                            dict(messages=MSG_LOOP, tools=[MSG_TOOL], tool_choice={"type": "none"})):
        body = forwarded(sim)
        assert "toolConfig" not in body, (door, body)
        assert body["messages"][1]["content"] == [{"text": "[tool call c1: get {}]"}], door
        assert body["messages"][2]["content"] == [{"text": "[tool result c1 (get)]: sunny"}], door


def test_temperature_above_one_is_the_filters_400_on_every_door(clients, sim):
    oa, an = clients
    hi = [{"role": "user", "content": "hi"}]
    for exc, send in ((openai.BadRequestError, lambda: oa.chat.completions.create(model="claude", messages=hi,
                                                                                   temperature=1.5)),
                      (openai.BadRequestError, lambda: oa.responses.create(model="claude", input="hi", temperature=1.5)),
                      (anthropic.BadRequestError, lambda: an.messages.create(model="claude", max_tokens=10, messages=hi,
                                                                             extra_body={"temperature": 1.5}))):
        with pytest.raises(exc) as e:
            send()
        assert "temperature" in str(e.value) and "0 to 1" in str(e.value), e.value
    assert not [r for r in sim.requests if r["path"].startswith("/model/")], "a refused request was forwarded"


def test_metadata_is_cleaned_on_every_door(clients, sim):
    oa, an = clients
    hi = [{"role": "user", "content": "hi"}]
    meta = {"user_id": '{"device":"abc"}'}
    for door in three_doors(oa, an, dict(messages=hi, metadata=meta), dict(input="hi", metadata=meta),
                            dict(messages=hi, metadata=meta)):
        assert forwarded(sim)["requestMetadata"] == {"user_id": "__device_:_abc__"}, door


def test_thinking_floor_comes_before_sampling_on_every_door(clients, sim):
    """Thinking asked with a tool loop whose call has no signed reasoning: thinking is off for that
    request, so temperature 0.5 (refused by Claude while thinking) is valid and forwarded."""
    oa, an = clients
    for door in three_doors(oa, an,
                            dict(messages=CHAT_LOOP, tools=[CHAT_TOOL], reasoning_effort="low", temperature=0.5),
                            dict(input=RESP_LOOP, tools=[RESP_TOOL], reasoning={"effort": "low"}, temperature=0.5),
                            dict(messages=MSG_LOOP, tools=[MSG_TOOL], extra_body={"temperature": 0.5},
                                 thinking={"type": "enabled", "budget_tokens": 1024})):
        body = forwarded(sim)
        assert "thinking" not in body.get("additionalModelRequestFields", {}), (door, body)
        assert body["inferenceConfig"]["temperature"] == 0.5, door


CLAUDE45 = "global.anthropic.claude-sonnet-4-5-20250929-v1:0"
SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"],
          "additionalProperties": False}


def test_structured_output_is_bedrocks_native_output_on_every_door(clients, sim):
    oa, an = clients
    hi = [{"role": "user", "content": "hi"}]
    oa.chat.completions.create(model=CLAUDE45, messages=hi, response_format={
        "type": "json_schema", "json_schema": {"name": "json_response", "schema": SCHEMA, "strict": True}})
    chat = forwarded(sim)["outputConfig"]
    sim.reset()
    oa.responses.create(model=CLAUDE45, input="hi", text={
        "format": {"type": "json_schema", "name": "json_response", "schema": SCHEMA, "strict": True}})
    responses = forwarded(sim)["outputConfig"]
    sim.reset()
    # Anthropic's structured output (`output_config.format`), through this SDK's extra_body.
    an.messages.create(model=CLAUDE45, max_tokens=300, messages=hi,
                       extra_body={"output_config": {"format": {"type": "json_schema", "schema": SCHEMA}}})
    body = forwarded(sim)
    assert "toolConfig" not in body, body
    assert body["outputConfig"] == chat == responses
    assert json.loads(chat["textFormat"]["structure"]["jsonSchema"]["schema"]) == SCHEMA


def test_anthropic_structured_output_without_native_output_is_the_filters_400(clients, sim):
    oa, an = clients
    with pytest.raises(anthropic.BadRequestError) as e:
        an.messages.create(model="claude", max_tokens=300, messages=[{"role": "user", "content": "hi"}],
                           extra_body={"output_config": {"format": {"type": "json_schema", "schema": SCHEMA}}})
    assert "output_config.format" in str(e.value.body), e.value.body
    assert not [r for r in sim.requests if r["path"].startswith("/model/")], "nothing forwarded"


@pytest.mark.parametrize("tier", ["flex", "priority", "default"])
def test_openai_service_tiers_are_bedrocks_on_both_openai_doors(clients, sim, tier):
    """Chat completions and Responses share one `service_tier` rule: flex, priority and default are
    Converse's `serviceTier` (the simulator enforces its enum); `auto` sends none."""
    oa, _ = clients
    hi = [{"role": "user", "content": "hi"}]
    oa.chat.completions.create(model="claude", messages=hi, service_tier=tier)
    assert forwarded(sim)["serviceTier"] == {"type": tier}
    oa.responses.create(model="claude", input="hi", service_tier=tier)
    assert forwarded(sim)["serviceTier"] == {"type": tier}
    oa.responses.create(model="claude", input="hi", service_tier="auto")
    assert "serviceTier" not in forwarded(sim)


def test_an_openai_service_tier_bedrock_lacks_is_the_filters_400_on_both_openai_doors(clients, sim):
    oa, _ = clients
    hi = [{"role": "user", "content": "hi"}]
    for send in (lambda: oa.chat.completions.create(model="claude", messages=hi, service_tier="scale"),
                 lambda: oa.responses.create(model="claude", input="hi", service_tier="scale")):
        with pytest.raises(openai.BadRequestError) as e:
            send()
        assert e.value.body["param"] == "service_tier" and e.value.body["code"] == "unsupported_parameter", e.value.body
        assert "flex or priority" in e.value.body["message"]
    assert not [r for r in sim.requests if r["path"].startswith("/model/")], "a refused request was forwarded"


def test_tool_schemas_reach_bedrock_as_the_client_wrote_them_on_every_door(clients, sim):
    """Key order (`zeta` before `alpha`) as the client SDK wrote it: the filter checks a tool schema
    but does not rebuild it (serde_json's map sorted its keys)."""
    oa, an = clients
    schema = {"properties": {"zeta": {"type": "number", "minimum": 1.5}, "alpha": {"type": "string"}},
              "required": ["zeta"], "type": "object"}
    chat_tool = {"type": "function", "function": {"name": "get", "parameters": schema}}
    resp_tool = {"type": "function", "name": "get", "parameters": schema}
    msg_tool = {"name": "get", "input_schema": schema}
    for door in three_doors(oa, an, dict(messages=[{"role": "user", "content": "hi"}], tools=[chat_tool]),
                            dict(input="hi", tools=[resp_tool]),
                            dict(messages=[{"role": "user", "content": "hi"}], tools=[msg_tool])):
        body = forwarded(sim)
        assert body["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"]["json"] == schema, door
        raw = [r for r in sim.requests if r["path"].startswith("/model/")][-1]["body"]
        raw = raw if isinstance(raw, str) else raw.decode()
        assert '"alpha"' in raw and raw.index('"zeta"') < raw.index('"alpha"'), (door, raw)
    # The Responses object echoes the client's tools, schemas included.
    r = oa.responses.create(model="claude", input="hi", tools=[resp_tool])
    assert r.tools[0].parameters == schema and r.tools[0].name == "get"
