"""Today's reasoning models through the filter in real Envoy, with real clients: the
OpenAI SDK (chat completions and Responses), the Anthropic SDK and Claude Code against an Opus
4.7+-class model (adaptive thinking only, display omitted by default, no beta flags) and an Opus
4.6-class one (adaptive or budget); reasoning streams with text, tool loops with reasoning work,
and the simulator's rules (tests/e2e/bedrock_rules.py, each cited) refuse nothing. Also the
other reasoning families (gpt-oss, DeepSeek, Kimi K2 Thinking) and an application inference
profile ARN named by `base_model`."""

import json
import os
import subprocess

import anthropic
import openai
import pytest

from conftest import filter_envoy
from test_anthropic import NODE_MODULES, needs_node

OPUS48 = "global.anthropic.claude-opus-4-8"
OPUS46 = "us.anthropic.claude-opus-4-6-v1"
FABLE5 = "global.anthropic.claude-fable-5"
APP_PROFILE = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4"
MODELS = {
    # Client names as Claude Code spells them, so it sends what it sends to those models.
    "claude-opus-4-8": OPUS48,
    "claude-opus-4-6": OPUS46,
    "fable": FABLE5,
    "oss": "openai.gpt-oss-120b-1:0",
    "r1": "us.deepseek.r1-v1:0",
    "kimi": "moonshot.kimi-k2-thinking",
    "v3": "deepseek.v3-v1:0",
    "app": {"id": APP_PROFILE, "base_model": "anthropic.claude-opus-4-7"},
}
WEATHER = {"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}


@pytest.fixture(scope="module")
def renvoy(sim):
    yield from filter_envoy(sim.port, "reasoning", models=MODELS)


@pytest.fixture
def oc(renvoy, sim):
    sim.reset()
    return openai.OpenAI(base_url=renvoy.base_url, api_key="sk-client", max_retries=0, timeout=60)


@pytest.fixture
def ac(renvoy, sim):
    sim.reset()
    return anthropic.Anthropic(base_url=renvoy.base_url.removesuffix("/v1"), api_key="sk-ant-client", max_retries=0,
                               timeout=60)


def bodies(sim):
    """The Converse bodies Bedrock received; none refused by the simulator's rules."""
    reqs = [r for r in sim.requests if r["path"].startswith("/model/")]
    assert reqs, "nothing reached Bedrock"
    refused = [r["refused"] for r in reqs if "refused" in r]
    assert not refused, refused
    assert all(r["signature_ok"] for r in reqs)
    return [json.loads(r["body"]) for r in reqs]


def extra(body):
    return body.get("additionalModelRequestFields") or {}


# --- OpenAI chat completions ---------------------------------------------------------------------

def stream_chat(oc, model, effort, text):
    """Stream a chat completion; return its reasoning and content, each joined."""
    stream = oc.chat.completions.create(model=model, reasoning_effort=effort, stream=True,
                                        messages=[{"role": "user", "content": text}])
    reasoning, content = "", ""
    for chunk in stream:
        for ch in chunk.choices:
            d = ch.delta.model_dump()
            reasoning += d.get("reasoning") or d.get("reasoning_content") or ""
            content += d.get("content") or ""
    return reasoning, content


@pytest.mark.parametrize("model,effort,sent", [
    ("claude-opus-4-8", "high", "high"),
    ("claude-opus-4-8", "xhigh", "xhigh"),
    ("claude-opus-4-6", "xhigh", "high"),
    ("claude-opus-4-6", "minimal", "low"),
])
def test_chat_reasoning_streams_with_text(oc, sim, model, effort, sent):
    reasoning, content = stream_chat(oc, model, effort, "think about this")
    assert reasoning.startswith("The user wrote 16 characters"), reasoning
    assert content == "You said: think about this"
    [body] = bodies(sim)
    assert extra(body) == {"thinking": {"type": "adaptive", "display": "summarized"},
                           "output_config": {"effort": sent}}


def test_chat_none_on_models_that_cannot_stop_thinking(oc, sim):
    # Fable 5 thinks on every request and refuses `disabled`: lowest effort instead of a 400.
    r = oc.chat.completions.create(model="fable", reasoning_effort="none",
                                   messages=[{"role": "user", "content": "quick"}])
    assert r.choices[0].message.content == "You said: quick"
    # Opus 4.8 thinks only when asked: nothing is sent.
    oc.chat.completions.create(model="claude-opus-4-8", reasoning_effort="none",
                               messages=[{"role": "user", "content": "quick"}])
    fable, opus = bodies(sim)
    assert extra(fable) == {"thinking": {"type": "adaptive", "display": "summarized"}, "output_config": {"effort": "low"}}
    assert extra(opus) == {}


@pytest.mark.parametrize("model", ["claude-opus-4-8", "claude-opus-4-6"])
def test_chat_tool_loop_with_reasoning(oc, sim, model):
    history = [{"role": "user", "content": "USE_TOOL: weather in Paris?"}]
    r1 = oc.chat.completions.create(model=model, reasoning_effort="medium", tools=[WEATHER], messages=history)
    msg = r1.choices[0].message
    assert r1.choices[0].finish_reason == "tool_calls"
    blocks = msg.model_extra.get("thinking_blocks")
    assert blocks and blocks[0]["signature"], msg
    history.append(msg.model_dump(exclude_none=True))
    history.append({"role": "tool", "tool_call_id": msg.tool_calls[0].id, "content": "sunny"})
    r2 = oc.chat.completions.create(model=model, reasoning_effort="medium", tools=[WEATHER], messages=history)
    assert r2.choices[0].message.content == "The tool said: sunny"
    b1, b2 = bodies(sim)
    assert extra(b2)["thinking"]["type"] == "adaptive"
    assert list(b2["messages"][1]["content"][0]) == ["reasoningContent"]


def test_chat_temperature_on_a_model_that_refuses_it(oc, sim):
    with pytest.raises(openai.BadRequestError) as e:
        oc.chat.completions.create(model="claude-opus-4-8", temperature=0.3, messages=[{"role": "user", "content": "x"}])
    assert "temperature" in str(e.value)
    assert not [r for r in sim.requests if r["path"].startswith("/model/")]


def test_chat_prefill_on_a_model_that_refuses_it(oc, sim):
    with pytest.raises(openai.BadRequestError) as e:
        oc.chat.completions.create(model="claude-opus-4-6", messages=[
            {"role": "user", "content": "x"}, {"role": "assistant", "content": "The answer is"}])
    assert "prefill" in str(e.value)
    assert not [r for r in sim.requests if r["path"].startswith("/model/")]


# --- the other families ----------------------------------------------------------------------------

@pytest.mark.parametrize("model,effort,sent", [
    ("oss", "xhigh", {"reasoning_effort": "high"}),
    ("v3", "low", {"reasoning_effort": "high"}),
    ("r1", "high", {}),
    ("kimi", "medium", {}),
])
def test_other_families_stream_reasoning_as_reasoning(oc, sim, model, effort, sent):
    reasoning, content = stream_chat(oc, model, effort, "hello")
    assert reasoning.startswith("The user wrote 5 characters")
    assert content == "You said: hello"
    [body] = bodies(sim)
    assert extra(body) == sent


def test_application_profile_with_base_model(oc, sim):
    sim.scenario(APP_PROFILE, as_model="us.anthropic.claude-opus-4-7")
    r = oc.chat.completions.create(model="app", reasoning_effort="high", messages=[{"role": "user", "content": "hi"}])
    assert r.choices[0].message.content == "You said: hi"
    [body] = bodies(sim)
    assert extra(body) == {"thinking": {"type": "adaptive", "display": "summarized"}, "output_config": {"effort": "high"}}


# --- Responses -------------------------------------------------------------------------------------

@pytest.mark.parametrize("model", ["claude-opus-4-8", "claude-opus-4-6"])
def test_responses_reasoning_and_tool_loop(oc, sim, model):
    with oc.responses.stream(model=model, input="hello there", reasoning={"effort": "medium"}) as s:
        seen = [e for e in s]
        final = s.get_final_response()
    text = "".join(e.delta for e in seen if e.type == "response.reasoning_text.delta")
    assert text.startswith("The user wrote 11"), [e.type for e in seen]
    assert final.output_text == "You said: hello there"
    tools = [{"type": "function", "name": "get_weather", "parameters": WEATHER["function"]["parameters"]}]
    history = [{"role": "user", "content": "USE_TOOL: weather in Paris?"}]
    r1 = oc.responses.create(model=model, input=history, tools=tools, reasoning={"effort": "high"})
    assert [o.type for o in r1.output] == ["reasoning", "function_call"]
    history += [o.model_dump(exclude_none=True) for o in r1.output]
    history.append({"type": "function_call_output", "call_id": r1.output[1].call_id, "output": "sunny"})
    r2 = oc.responses.create(model=model, input=history, tools=tools, reasoning={"effort": "high"})
    assert r2.output_text == "The tool said: sunny"
    b = bodies(sim)
    assert extra(b[0])["output_config"] == {"effort": "medium"}
    assert extra(b[2])["thinking"]["type"] == "adaptive"


# --- Anthropic SDK ---------------------------------------------------------------------------------

def test_anthropic_adaptive_display_omitted_round_trips_the_signature(ac, sim):
    """What Claude Code sends to Opus 4.8: adaptive thinking, an effort, the client's own display
    (omitted: empty thinking + signature), and beta flags the model refuses (dropped)."""
    tool = {"name": "get_weather", "input_schema": WEATHER["function"]["parameters"]}
    kw = dict(model="claude-opus-4-8", max_tokens=8000, tools=[tool],
              thinking={"type": "adaptive", "display": "omitted"}, extra_body={"output_config": {"effort": "xhigh"}},
              extra_headers={"anthropic-beta": "interleaved-thinking-2025-05-14,claude-code-20250219"})
    history = [{"role": "user", "content": "USE_TOOL: weather?"}]
    with ac.messages.stream(messages=history, **kw) as s:
        first = s.get_final_message()
    assert [b.type for b in first.content] == ["thinking", "tool_use"]
    assert first.content[0].thinking == "" and first.content[0].signature.startswith("omitted:")
    history += [{"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": first.content[1].id, "content": "sunny"}]}]
    second = ac.messages.create(messages=history, **kw)
    assert second.content[-1].text == "The tool said: sunny"
    b1, b2 = bodies(sim)
    assert extra(b1) == {"thinking": {"type": "adaptive", "display": "omitted"}, "output_config": {"effort": "xhigh"}}
    sent = b2["messages"][1]["content"][0]["reasoningContent"]["reasoningText"]
    assert sent["text"] == "" and sent["signature"] == first.content[0].signature


@pytest.mark.parametrize("model,thinking,sent", [
    # Opus 4.8 refuses `enabled`: adaptive, effort from the budget, display summarized by default.
    ("claude-opus-4-8", {"type": "enabled", "budget_tokens": 4000},
     {"thinking": {"type": "adaptive", "display": "summarized"}, "output_config": {"effort": "medium"}}),
    # Opus 4.6 keeps the client's (deprecated) budget; display summarized; interleaved beta dropped.
    ("claude-opus-4-6", {"type": "enabled", "budget_tokens": 4000},
     {"thinking": {"type": "enabled", "budget_tokens": 4000, "display": "summarized"}}),
    ("claude-opus-4-6", {"type": "adaptive"}, {"thinking": {"type": "adaptive", "display": "summarized"}}),
])
def test_anthropic_stream_shows_reasoning(ac, sim, model, thinking, sent):
    with ac.messages.stream(model=model, max_tokens=8000, thinking=thinking, messages=[{"role": "user", "content": "go"}],
                            extra_headers={"anthropic-beta": "interleaved-thinking-2025-05-14"}) as s:
        final = s.get_final_message()
    assert final.content[0].type == "thinking" and final.content[0].thinking.startswith("The user wrote 2")
    assert final.content[1].text == "You said: go"
    [body] = bodies(sim)
    assert extra(body) == sent


# --- Claude Code -----------------------------------------------------------------------------------

@needs_node
@pytest.mark.parametrize("model", ["claude-opus-4-8", "claude-opus-4-6"])
def test_claude_code_tool_loop_with_reasoning(renvoy, sim, tmp_path, model):
    sim.reset()
    env = dict(os.environ, ANTHROPIC_BASE_URL=renvoy.base_url.removesuffix("/v1"), ANTHROPIC_API_KEY="sk-ant-claude-code",
               HOME=str(tmp_path), DISABLE_AUTOUPDATER="1", CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1")
    out = subprocess.run([str(NODE_MODULES / ".bin" / "claude"), "-p", "USE_TOOL then say done", "--model", model,
                          "--max-turns", "4"], capture_output=True, text=True, timeout=240, env=env, cwd=tmp_path)
    assert out.returncode == 0, (out.stdout, out.stderr, renvoy.logs()[-3000:])
    assert "The tool said" in out.stdout, out.stdout
    sent = bodies(sim)
    main = [b for b in sent if b.get("toolConfig")]
    assert len(main) >= 2, [extra(b) for b in sent]
    for b in main:
        assert "anthropic_beta" not in extra(b) or model == "claude-opus-4-6"
        assert "interleaved-thinking-2025-05-14" not in extra(b).get("anthropic_beta", [])
    # Claude Code sends adaptive thinking; a turn may go without it (its own choice, or the
    # thinking floor), but none is in a form the model refuses (bodies() saw no refusal).
    thinking = [t for t in (extra(b).get("thinking") for b in main) if t]
    assert thinking, [extra(b) for b in main]
    assert all(t["type"] == "adaptive" and t["display"] in ("summarized", "omitted") for t in thinking), thinking


# --- reasoning_display: "omitted" -----------------------------------------------------------------

@pytest.fixture(scope="module")
def omitted_envoy(sim):
    yield from filter_envoy(sim.port, "omitted", models=MODELS, reasoning_display="omitted")


def test_configured_display_omitted_keeps_the_signature_round_trip(omitted_envoy, sim):
    """With `reasoning_display: "omitted"` the stream carries no reasoning text, but the signed
    block still reaches the client (thinking_blocks, empty thinking) and goes back intact."""
    sim.reset()
    oc = openai.OpenAI(base_url=omitted_envoy.base_url, api_key="sk-client", max_retries=0, timeout=60)
    history = [{"role": "user", "content": "USE_TOOL: weather in Paris?"}]
    stream = oc.chat.completions.create(model="claude-opus-4-8", reasoning_effort="high", tools=[WEATHER],
                                        messages=history, stream=True)
    reasoning, blocks, calls = "", [], {}
    for chunk in stream:
        for ch in chunk.choices:
            d = ch.delta.model_dump()
            reasoning += d.get("reasoning") or d.get("reasoning_content") or ""
            blocks += d.get("thinking_blocks") or []
            for tc in d.get("tool_calls") or []:
                calls.setdefault(tc["index"], tc)
    assert reasoning == ""
    assert len(blocks) == 1 and blocks[0]["thinking"] == "" and blocks[0]["signature"].startswith("omitted:")
    call = calls[0]
    history.append({"role": "assistant", "content": None, "thinking_blocks": [
        {"type": "thinking", "thinking": "", "signature": blocks[0]["signature"]}],
        "tool_calls": [{"id": call["id"], "type": "function", "function": call["function"]}]})
    history.append({"role": "tool", "tool_call_id": call["id"], "content": "sunny"})
    r2 = oc.chat.completions.create(model="claude-opus-4-8", reasoning_effort="high", tools=[WEATHER], messages=history)
    assert r2.choices[0].message.content == "The tool said: sunny"
    b1, b2 = bodies(sim)
    assert extra(b1)["thinking"] == {"type": "adaptive", "display": "omitted"}
    sent = b2["messages"][1]["content"][0]["reasoningContent"]["reasoningText"]
    assert sent == {"text": "", "signature": blocks[0]["signature"]}
