"""The OpenAI Responses API (`POST /v1/responses`) end to end: real clients -> real Envoy +
bedrock-bridge -> the Bedrock simulator (SigV4 checked by botocore, bodies validated against
botocore's bedrock-runtime model, and, in agent mode, Bedrock's thinking rules enforced: a
tool-calling assistant turn must start with its signed reasoning block).

Clients: the openai Python SDK (create, stream, parse), the OpenAI Agents SDK (default Responses
model, tool loop with reasoning), LangChain ChatOpenAI(use_responses_api=True), and, from
tests/clients/responses (npm), openai-node, the Vercel AI SDK's @ai-sdk/openai responses model
and Codex CLI.

    .venv/bin/python -m pytest -q tests/e2e/test_responses.py
"""

import base64
import json
import os
import shutil
import subprocess
from pathlib import Path

import openai
import pydantic
import pytest

from conftest import CLAUDE, filter_config
from sim import event, frame

CLIENTS = Path(__file__).resolve().parent.parent / "clients" / "responses"
NODE_MODULES = CLIENTS / "node_modules"
WEATHER = {"type": "function", "name": "get_weather", "description": "Weather in a city.",
           "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}


def converse_bodies(sim):
    reqs = sim.requests
    for r in reqs:
        assert r["signature_ok"], r
    return [json.loads(r["body"]) for r in reqs]


def test_create_plain(client, sim):
    r = client.responses.create(model="claude", input="hi", instructions="be brief", max_output_tokens=50,
                                metadata={"team": "a"})
    assert r.status == "completed"
    assert r.output_text == "You said: hi"
    assert r.id.startswith("resp_")
    assert r.model == "claude" and r.metadata == {"team": "a"}
    assert r.usage.input_tokens > 0 and r.usage.output_tokens > 0
    assert r.usage.input_tokens_details.cached_tokens == 0
    [body] = converse_bodies(sim)
    assert body["system"] == [{"text": "be brief"}]
    assert body["messages"] == [{"role": "user", "content": [{"text": "hi"}]}]
    assert body["inferenceConfig"] == {"maxTokens": 50}
    assert body["requestMetadata"] == {"team": "a"}
    assert sim.requests[0]["path"].endswith("/converse")


def test_stream_helper_with_reasoning(client, sim):
    seen = []
    with client.responses.stream(model="claude", input="hello there", reasoning={"effort": "low"}) as s:
        for ev in s:
            seen.append(ev)
        final = s.get_final_response()
    seqs = [e.sequence_number for e in seen]
    assert seqs == list(range(len(seen)))
    types = [e.type for e in seen]
    assert types[:2] == ["response.created", "response.in_progress"] and types[-1] == "response.completed"
    assert "".join(e.delta for e in seen if e.type == "response.output_text.delta") == "You said: hello there"
    assert "".join(e.delta for e in seen if e.type == "response.reasoning_text.delta").startswith("The user wrote 11")
    assert final.output_text == "You said: hello there"
    rs = [o for o in final.output if o.type == "reasoning"]
    assert len(rs) == 1 and rs[0].encrypted_content and rs[0].content[0].text.startswith("The user wrote")
    blob = json.loads(base64.b64decode(rs[0].encrypted_content))
    assert blob == {"v": 1, "t": rs[0].content[0].text, "s": "c2lnbmF0dXJl"}
    assert final.usage.total_tokens > 0
    [body] = converse_bodies(sim)
    assert body["additionalModelRequestFields"] == {"thinking": {"type": "enabled", "budget_tokens": 1024}}
    assert sim.requests[0]["path"].endswith("/converse-stream")


def test_reasoning_summary_events(client, sim):
    """With reasoning.summary set, reasoning streams as summary events (what LangChain, Vercel and
    Codex display)."""
    r = client.responses.create(model="claude", input="sum", reasoning={"effort": "low", "summary": "auto"}, stream=True)
    evs = list(r)
    types = [e.type for e in evs]
    assert "response.reasoning_summary_part.added" in types and "response.reasoning_summary_text.done" in types
    assert "response.reasoning_text.delta" not in types
    final = evs[-1].response
    assert final.output[0].summary[0].text.startswith("The user wrote 3")


class Person(pydantic.BaseModel):
    name: str
    age: int


def test_parse_structured_output(client, sim):
    model = "us.anthropic.claude-parse-test-v1:0"
    out = {"output": {"message": {"role": "assistant", "content": [
        {"toolUse": {"toolUseId": "t1", "name": "Person", "input": {"name": "Ada", "age": 36}}}]}},
        "stopReason": "tool_use", "usage": {"inputTokens": 5, "outputTokens": 5, "totalTokens": 10}}
    sim.scenario(model, body=out)
    r = client.responses.parse(model=model, input="Who?", text_format=Person)
    assert r.output_parsed == Person(name="Ada", age=36)
    [body] = converse_bodies(sim)
    assert body["toolConfig"]["toolChoice"] == {"tool": {"name": "Person"}}
    # Streaming: the tool's input streams as the message text.
    frames = [event("messageStart", {"role": "assistant"}),
              event("contentBlockStart", {"contentBlockIndex": 0, "start": {"toolUse": {"toolUseId": "t1", "name": "Person"}}}),
              event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"toolUse": {"input": '{"name": "Ada", '}}}),
              event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"toolUse": {"input": '"age": 36}'}}}),
              event("contentBlockStop", {"contentBlockIndex": 0}),
              event("messageStop", {"stopReason": "tool_use"}),
              event("metadata", {"usage": {"inputTokens": 5, "outputTokens": 5, "totalTokens": 10}})]
    sim.scenario(model, raw_hex=b"".join(frames).hex())
    with client.responses.stream(model=model, input="Who?", text_format=Person) as s:
        final = s.get_final_response()
    assert final.output_parsed == Person(name="Ada", age=36)


@pytest.mark.parametrize("stream", [False, True])
def test_manual_tool_loop_with_reasoning(client, sim, stream):
    """Two turns: the reasoning item (encrypted_content) goes back and Bedrock gets the signed
    block first in the tool-calling turn; without it the simulator would refuse, as Bedrock does."""
    history = [{"role": "user", "content": "USE_TOOL: weather in Paris?"}]
    kw = dict(model="claude", tools=[WEATHER], reasoning={"effort": "low"})
    if stream:
        with client.responses.stream(input=history, **kw) as s:
            r1 = s.get_final_response()
    else:
        r1 = client.responses.create(input=history, **kw)
    kinds = [o.type for o in r1.output]
    assert kinds == ["reasoning", "function_call"], kinds
    call = r1.output[1]
    assert json.loads(call.arguments) == {"city": "Paris"}
    history += [o.model_dump(exclude_none=True) for o in r1.output]
    history.append({"type": "function_call_output", "call_id": call.call_id, "output": "sunny"})
    r2 = client.responses.create(input=history, **kw)
    assert r2.output_text == "The tool said: sunny"
    b1, b2 = converse_bodies(sim)
    turn = b2["messages"][1]
    assert turn["role"] == "assistant"
    assert list(turn["content"][0]) == ["reasoningContent"] and list(turn["content"][1]) == ["toolUse"]
    assert b2["additionalModelRequestFields"]["thinking"]["type"] == "enabled"


def test_tool_loop_without_reasoning_item_turns_thinking_off(client, sim):
    history = [{"role": "user", "content": "USE_TOOL: weather?"}]
    kw = dict(model="claude", tools=[WEATHER], reasoning={"effort": "low"})
    r1 = client.responses.create(input=history, **kw)
    call = [o for o in r1.output if o.type == "function_call"][0]
    history += [call.model_dump(exclude_none=True), {"type": "function_call_output", "call_id": call.call_id, "output": "rain"}]
    assert client.responses.create(input=history, **kw).output_text == "The tool said: rain"
    assert "additionalModelRequestFields" not in converse_bodies(sim)[1]


def test_errors_in_the_responses_shape(client, sim):
    cases = [
        (dict(input="hi", store=True), "store", "stores no responses"),
        (dict(input="hi", previous_response_id="resp_1"), "previous_response_id", "stores no responses"),
        (dict(input="hi", tools=[{"type": "web_search"}]), "tools[0].type", "only `function` tools"),
        (dict(input=[{"type": "item_reference", "id": "rs_1"}]), "input[0].type", "stores no responses"),
    ]
    for kw, param, text in cases:
        with pytest.raises(openai.BadRequestError) as e:
            client.responses.create(model="claude", **kw)
        assert e.value.status_code == 400
        assert e.value.body["param"] == param and text in e.value.body["message"], e.value.body
        assert e.value.body["type"] == "invalid_request_error"
    assert sim.requests == []
    # A Bedrock error keeps its status and type.
    sim.scenario(CLAUDE, status=429, body={"message": "Too many requests"},
                 headers={"x-amzn-ErrorType": "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/"})
    with pytest.raises(openai.RateLimitError) as e:
        client.responses.create(model="claude", input="hi")
    assert e.value.body["message"] == "Too many requests"


def test_stream_exception_becomes_response_failed(client, sim):
    frames = [event("messageStart", {"role": "assistant"}),
              event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "par"}}),
              frame({":message-type": "exception", ":exception-type": "throttlingException", ":content-type": "application/json"},
                    b'{"message":"slow down"}')]
    sim.scenario(CLAUDE, raw_hex=b"".join(frames).hex())
    evs = list(client.responses.create(model="claude", input="hi", stream=True))
    assert [e.type for e in evs][-2:] == ["error", "response.failed"]
    assert evs[-2].message == "slow down"
    assert evs[-1].response.status == "failed" and evs[-1].response.error.code == "rate_limit_exceeded"
    assert [e.sequence_number for e in evs] == list(range(len(evs)))


def test_max_tokens_is_incomplete(client, sim):
    frames = [event("messageStart", {"role": "assistant"}),
              event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "cut"}}),
              event("contentBlockStop", {"contentBlockIndex": 0}),
              event("messageStop", {"stopReason": "max_tokens"}),
              event("metadata", {"usage": {"inputTokens": 5, "outputTokens": 1, "totalTokens": 6}})]
    sim.scenario(CLAUDE, raw_hex=b"".join(frames).hex())
    evs = list(client.responses.create(model="claude", input="hi", stream=True, max_output_tokens=1))
    assert evs[-1].type == "response.incomplete"
    assert evs[-1].response.incomplete_details.reason == "max_output_tokens"
    assert evs[-1].response.output_text == "cut"


# --- other clients ---------------------------------------------------------------------------

def test_openai_agents_sdk_tool_loop_with_reasoning(envoy, sim):
    agents = pytest.importorskip("agents")
    from agents import Agent, ModelSettings, OpenAIResponsesModel, Runner, function_tool, set_tracing_disabled
    from openai.types.shared import Reasoning

    set_tracing_disabled(True)
    sim.reset()
    calls = []

    @function_tool
    def get_weather(city: str) -> str:
        """Weather in a city."""
        calls.append(city)
        return f"sunny in {city}"

    def make_agent():
        # One client per event loop (run_sync and asyncio.run each start their own).
        model = OpenAIResponsesModel(model="claude", openai_client=openai.AsyncOpenAI(base_url=envoy.base_url, api_key="sk-x", max_retries=0))
        return Agent(name="w", instructions="Use tools.", tools=[get_weather], model=model,
                     model_settings=ModelSettings(reasoning=Reasoning(effort="low")))

    result = Runner.run_sync(make_agent(), "USE_TOOL: weather in Paris?")
    assert calls == ["Paris"]
    assert result.final_output == "The tool said: sunny in Paris"
    bodies = converse_bodies(sim)
    assert len(bodies) == 2
    assert "reasoningContent" in bodies[1]["messages"][1]["content"][0]
    assert bodies[1]["additionalModelRequestFields"]["thinking"]["type"] == "enabled"

    # Streamed run.
    sim.reset()
    calls.clear()

    async def streamed():
        r = Runner.run_streamed(make_agent(), "USE_TOOL: weather in Paris?")
        async for _ in r.stream_events():
            pass
        return r.final_output

    import asyncio
    assert asyncio.run(streamed()) == "The tool said: sunny in Paris"
    assert "reasoningContent" in converse_bodies(sim)[1]["messages"][1]["content"][0]


def test_langchain_chat_openai_responses_api(envoy, sim):
    lc = pytest.importorskip("langchain_openai")
    from langchain_core.messages import HumanMessage, ToolMessage
    from langchain_core.tools import tool

    sim.reset()
    llm = lc.ChatOpenAI(model="claude", base_url=envoy.base_url, api_key="sk-x", use_responses_api=True,
                        reasoning={"effort": "low", "summary": "auto"}, max_retries=0)
    msg = llm.invoke("hello")
    assert msg.text == "You said: hello" if isinstance(msg.text, str) else msg.text() == "You said: hello"
    reasoning = [b for b in msg.content if isinstance(b, dict) and b.get("type") == "reasoning"]
    assert reasoning, msg.content
    assert "The user wrote 5" in json.dumps(reasoning)

    @tool
    def get_weather(city: str) -> str:
        """Weather in a city."""
        return f"windy in {city}"

    sim.reset()
    bound = llm.bind_tools([get_weather])
    history = [HumanMessage("USE_TOOL: weather in Paris?")]
    ai = bound.invoke(history)
    assert ai.tool_calls and ai.tool_calls[0]["args"] == {"city": "Paris"}
    history += [ai, ToolMessage(get_weather.invoke(ai.tool_calls[0]["args"]), tool_call_id=ai.tool_calls[0]["id"])]
    final = bound.invoke(history)
    text = final.text if isinstance(final.text, str) else final.text()
    assert text == "The tool said: windy in Paris"
    assert "reasoningContent" in converse_bodies(sim)[1]["messages"][1]["content"][0]


def node_client(envoy, sim, script, *args, timeout=120, env=None):
    if shutil.which("node") is None or not NODE_MODULES.is_dir():
        pytest.skip("tests/clients/responses: run `npm ci` there (make e2e does)")
    sim.reset()
    p = subprocess.run(["node", str(CLIENTS / script), envoy.base_url, *args], capture_output=True, text=True,
                       timeout=timeout, env=dict(os.environ, **(env or {})))
    assert p.returncode == 0, p.stdout + p.stderr
    return json.loads(p.stdout.strip().splitlines()[-1])


def test_openai_node(envoy, sim):
    r = node_client(envoy, sim, "openai_node.mjs")
    assert r["create"] == "You said: hi node"
    assert r["stream_text"] == "You said: stream node"
    assert r["final_text"] == "You said: stream node"
    assert r["seq_ok"] is True
    assert r["loop"] == "The tool said: sunny"


def test_vercel_ai_sdk(envoy, sim):
    r = node_client(envoy, sim, "vercel.mjs")
    assert r["generate"] == "You said: hi vercel"
    assert "The user wrote" in r["reasoning"]
    assert r["stream"] == "You said: stream vercel"
    assert r["loop"] == "The tool said: sunny in Paris"
    assert "reasoningContent" in converse_bodies(sim)[-1]["messages"][1]["content"][0]


def test_codex_cli(start_envoy, sim, tmp_path):
    """Codex CLI 0.171 in `exec` mode. It always offers `web_search` and a `namespace` of sub-agent
    tools, which Bedrock cannot run: the gateway leaves them out under `unsupported_params: drop`
    (without it they are a 400)."""
    codex = NODE_MODULES / ".bin" / "codex"
    if not codex.exists():
        pytest.skip("Codex CLI not installed (npm ci in tests/clients/responses)")
    envoy = start_envoy(filter_config(unsupported_params="drop"))
    sim.reset()
    home = tmp_path / "codex"
    home.mkdir()
    (home / "config.toml").write_text(
        'model = "claude"\nmodel_provider = "bridge"\nmodel_reasoning_effort = "low"\n\n[model_providers.bridge]\nname = "bedrock-bridge"\n'
        f'base_url = "{envoy.base_url}"\nwire_api = "responses"\nenv_key = "BRIDGE_KEY"\n')
    p = subprocess.run([str(codex), "exec", "--skip-git-repo-check", "say hi codex"], capture_output=True, text=True,
                       timeout=180, cwd=tmp_path, env=dict(os.environ, CODEX_HOME=str(home), HOME=str(tmp_path), BRIDGE_KEY="sk-x"))
    out = p.stdout + p.stderr
    assert p.returncode == 0, out[-3000:]
    # Codex's two user items (its environment context, then the prompt) are one Bedrock user turn;
    # the simulator echoes that turn's first text. Codex shows the reasoning summary and answer.
    assert "You said: <environment_context>" in out, out[-3000:]
    assert "The user wrote" in out, out[-3000:]
    [body] = converse_bodies(sim)
    assert {"text": "say hi codex"} in body["messages"][-1]["content"]
    assert body["additionalModelRequestFields"]["thinking"]["type"] == "enabled"
    assert "web_search" not in json.dumps(body["toolConfig"])
