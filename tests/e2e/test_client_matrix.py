"""The client matrix: real client libraries against the filter in real Envoy.

Clients (pinned in tests/requirements-clients.txt and tests/clients/package.json, installed by
`make clients`): the openai SDK, LangChain `ChatOpenAI`, pydantic-ai, the OpenAI Agents SDK
(`OpenAIChatCompletionsModel`), LiteLLM as a client, openai-node, and the Vercel AI SDK with
`@ai-sdk/openai-compatible` and with `@ai-sdk/openai`'s chat model. Python drivers run in-process
(tests/clients/python/drivers.py), Node drivers as subprocesses (tests/clients/node/*.mjs); all
take the same JSON spec and return what the client parsed (tests/clients/README.md).

Scenarios: plain, streaming, tools, a reasoning tool loop (two tool turns then an answer, the
client's own history handling sends turns 2 and 3; non-streaming and streaming), Bedrock errors
(400, 429 and its retry-after), structured output. The tool loop checks each forwarded Converse
body against Bedrock's thinking rules itself, so a cell fails whether or not the simulator is
strict.

    .venv/bin/python -m pytest -q tests/e2e/test_client_matrix.py -k langchain
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import CLAUDE
from sim import event

ROOT = Path(__file__).resolve().parents[2]
CLIENTS_DIR = ROOT / "tests" / "clients"
sys.path.insert(0, str(CLIENTS_DIR / "python"))
import drivers  # noqa: E402

WEATHER_TOOL = {"type": "function", "function": {
    "name": "get_weather", "description": "Current weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
TOOL_RESULTS = {"Paris": "18C and sunny", "Rome": "21C and clear"}
WEATHER_ANSWER = {"city": "Paris", "temperature_c": 18.5, "conditions": ["sunny", "windy"]}

NODE = {"openai-node": ("openai.mjs", {}),
        "vercel-compatible": ("vercel.mjs", {"provider": "compatible"}),
        "vercel-openai": ("vercel.mjs", {"provider": "openai"})}
PYTHON = ["openai-python", "langchain", "pydantic-ai", "openai-agents", "litellm"]
CLIENTS = PYTHON + list(NODE)
# Frameworks that always run the tools they are given: "tools" is one round trip for them.
AGENTS = {"pydantic-ai", "openai-agents"}


# --- running a client ------------------------------------------------------------------------------

def run_client(client, scenario, spec):
    if client in NODE:
        script, extra = NODE[client]
        if not (CLIENTS_DIR / "node_modules").exists():
            pytest.fail("tests/clients/node_modules is missing: run `make clients`")
        p = subprocess.run(["node", str(CLIENTS_DIR / "node" / script)], input=json.dumps(dict(spec, **extra, scenario=scenario)),
                           capture_output=True, text=True, timeout=120, cwd=CLIENTS_DIR)
        assert p.returncode == 0, p.stderr[-3000:]
        return json.loads(p.stdout.strip().splitlines()[-1])
    return drivers.run(client, scenario, spec)


def spec(envoy, prompt="hi there", **kw):
    return dict({"base_url": envoy.base_url, "model": CLAUDE, "prompt": prompt, "tools": [WEATHER_TOOL],
                 "tool_results": TOOL_RESULTS}, **kw)


def converse_requests(sim):
    reqs = [r for r in sim.requests if r["path"].startswith("/model/")]
    for r in reqs:
        assert r["signature_ok"], r
    return reqs


def bodies(sim):
    return [json.loads(r["body"]) for r in converse_requests(sim)]


# --- Bedrock answers, as a JSON body (Converse) or an eventstream (ConverseStream) ------------------

def reasoning(text, sig):
    return {"reasoningContent": {"reasoningText": {"text": text, "signature": sig}}}


def tool_use(city):
    return {"toolUse": {"toolUseId": f"tooluse_{city.lower()}", "name": "get_weather", "input": {"city": city}}}


def answer(blocks, stream, stop):
    """One Bedrock answer made of content blocks (text, reasoning, toolUse) in either wire form."""
    if not stream:
        return {"body": {"output": {"message": {"role": "assistant", "content": blocks}}, "stopReason": stop,
                         "usage": {"inputTokens": 20, "outputTokens": 10, "totalTokens": 30}, "metrics": {"latencyMs": 1}}}
    frames = [event("messageStart", {"role": "assistant"})]
    for i, b in enumerate(blocks):
        if "text" in b:
            words = b["text"].split(" ")
            for j, w in enumerate(words):
                frames.append(event("contentBlockDelta", {"contentBlockIndex": i, "delta": {"text": w + (" " if j < len(words) - 1 else "")}}))
        elif "reasoningContent" in b:
            rt = b["reasoningContent"]["reasoningText"]
            for w in rt["text"].split(" "):
                frames.append(event("contentBlockDelta", {"contentBlockIndex": i, "delta": {"reasoningContent": {"text": w + " "}}}))
            frames.append(event("contentBlockDelta", {"contentBlockIndex": i, "delta": {"reasoningContent": {"signature": rt["signature"]}}}))
        else:
            tu = b["toolUse"]
            frames.append(event("contentBlockStart", {"contentBlockIndex": i, "start": {"toolUse": {"toolUseId": tu["toolUseId"], "name": tu["name"]}}}))
            args = json.dumps(tu["input"])
            frames.append(event("contentBlockDelta", {"contentBlockIndex": i, "delta": {"toolUse": {"input": args[:5]}}}))
            frames.append(event("contentBlockDelta", {"contentBlockIndex": i, "delta": {"toolUse": {"input": args[5:]}}}))
        frames.append(event("contentBlockStop", {"contentBlockIndex": i}))
    frames.append(event("messageStop", {"stopReason": stop}))
    frames.append(event("metadata", {"usage": {"inputTokens": 20, "outputTokens": 10, "totalTokens": 30}, "metrics": {"latencyMs": 1}}))
    return {"raw_hex": b"".join(frames).hex()}


def hook(sim, model, scenario):
    return {"url": f"http://127.0.0.1:{sim.port}/__sim/scenario", "body": dict(scenario, model_id=model)}


# --- Bedrock's thinking rules, checked on every forwarded body ---------------------------------------

def thinking_problems(body, issued):
    """Why real Bedrock (Anthropic's rules) would refuse this Converse body, or []. `issued`:
    signature -> reasoning text the simulator gave out."""
    fields = body.get("additionalModelRequestFields") or {}
    thinking = (fields.get("thinking") or {}).get("type") in ("enabled", "adaptive")
    problems = []
    for i, m in enumerate(body.get("messages", [])):
        for b in m.get("content", []):
            rc = b.get("reasoningContent")
            if rc is None:
                continue
            rt = rc.get("reasoningText")
            if rt is not None:
                sig = rt.get("signature")
                if not sig:
                    problems.append(f"messages[{i}]: thinking.signature: Field required")
                elif sig not in issued:
                    problems.append(f"messages[{i}]: Invalid `signature` in `thinking` block ({sig!r} was never issued)")
                elif issued[sig].strip() != (rt.get("text") or "").strip():
                    problems.append(f"messages[{i}]: thinking text changed under signature {sig!r}: {rt.get('text')!r}")
    assistants = [m for m in body.get("messages", []) if m["role"] == "assistant"]
    if thinking and assistants:
        last = assistants[-1]["content"]
        if any("toolUse" in b for b in last) and "reasoningContent" not in last[0]:
            first = next(iter(last[0]), "?")
            problems.append("Expected `thinking` or `redacted_thinking`, but found `%s`. When `thinking` is enabled, a final "
                            "`assistant` message must start with a thinking block" % ("tool_use" if first == "toolUse" else first))
    return problems


# --- known failures, observed ----------------------------------------------------------------

KNOWN = {}


def cells(scenarios, clients=CLIENTS):
    out = []
    for s in scenarios:
        for c in clients:
            reason = KNOWN.get((c, s))
            marks = [pytest.mark.xfail(strict=False, reason=reason)] if reason else []
            out.append(pytest.param(c, id=c, marks=marks))
    return out


@pytest.fixture
def matrix(envoy, sim):
    sim.reset()
    return envoy


def ok(out):
    assert not out.get("unsupported"), "driver has no such scenario"
    assert "error" not in out or out["error"] is None, out.get("error")
    return out


# --- plain and streaming -----------------------------------------------------------------------------

@pytest.mark.parametrize("client", cells(["plain"]))
def test_plain(matrix, sim, client):
    out = ok(run_client(client, "plain", spec(matrix)))
    assert out["text"] == "You said: hi there"
    [b] = bodies(sim)
    assert b["messages"][-1] == {"role": "user", "content": [{"text": "hi there"}]}
    assert converse_requests(sim)[0]["path"].endswith("/converse")


@pytest.mark.parametrize("client", cells(["stream"]))
def test_stream(matrix, sim, client):
    out = ok(run_client(client, "stream", spec(matrix, prompt="stream these words")))
    assert out["text"] == "You said: stream these words"
    assert out["deltas"] >= 3, "the answer arrives in pieces"
    assert converse_requests(sim)[0]["path"].endswith("/converse-stream")


# --- tools ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("client", cells(["tools"]))
def test_tools(matrix, sim, client):
    stream = False
    sim.scenario(CLAUDE, **answer([tool_use("Paris")], stream, "tool_use"))
    s = spec(matrix, prompt="Weather in Paris?")
    if client in AGENTS:
        s["on_tool"] = [hook(sim, CLAUDE, answer([{"text": "Paris: 18C and sunny."}], stream, "end_turn"))]
    out = ok(run_client(client, "tools", s))
    if client in AGENTS:
        assert out["executed"] == [{"name": "get_weather", "args": {"city": "Paris"}}]
        assert out["text"] == "Paris: 18C and sunny."
        first, second = bodies(sim)
        assert second["messages"][-1]["content"][0]["toolResult"]["toolUseId"] == "tooluse_paris"
    else:
        assert out["tool_calls"] == [{"id": "tooluse_paris", "name": "get_weather", "arguments": {"city": "Paris"}}]
        assert out["finish_reason"] in ("tool_calls", "tool-calls")
        [first] = bodies(sim)
    spec_sent = first["toolConfig"]["tools"][0]["toolSpec"]
    assert spec_sent["name"] == "get_weather" and spec_sent["inputSchema"]["json"]["properties"]["city"]["type"] == "string"


# --- the reasoning tool loop ---------------------------------------------------------------------------

LOOP_TEXT = "Paris has 18C and sunny, Rome 21C and clear."


def run_tool_loop(sim, envoy, client, scenario):
    stream = scenario == "tool_loop_stream"
    turns = [
        [reasoning("The user wants Paris first.", "c2lnLTE="), tool_use("Paris")],
        [reasoning("Now Rome.", "c2lnLTI="), tool_use("Rome")],
        [reasoning("Both known, answer.", "c2lnLTM="), {"text": LOOP_TEXT}],
    ]
    issued = {b[0]["reasoningContent"]["reasoningText"]["signature"]: b[0]["reasoningContent"]["reasoningText"]["text"] for b in turns}
    scen = [answer(t, stream, "tool_use" if i < 2 else "end_turn") for i, t in enumerate(turns)]
    sim.scenario(CLAUDE, **scen[0])
    out = run_client(client, scenario, spec(envoy, prompt="Weather in Paris, then in Rome?", reasoning_effort="low",
                                            on_tool=[hook(sim, CLAUDE, s) for s in scen[1:]]))
    sent = bodies(sim)
    assert sent, "nothing reached Bedrock"
    assert (sent[0].get("additionalModelRequestFields") or {}).get("thinking", {}).get("type") == "enabled", \
        "the client did not ask for reasoning: " + json.dumps(sent[0])[:500]
    problems = {f"request {i + 1}": thinking_problems(b, issued) for i, b in enumerate(sent)}
    problems = {k: v for k, v in problems.items() if v}
    # Turn 2 and 3 must be requests real Bedrock accepts (a strict simulator refuses them itself).
    shapes = [[next(iter(b)) for b in m["content"]] for body in sent[1:] for m in body["messages"][-2:-1]]
    assert not problems and not out.get("error"), {"bedrock_would_refuse": problems, "client_error": out.get("error"),
                                                   "requests": len(sent), "assistant turns sent back": shapes}
    assert [e["args"]["city"] for e in out["executed"]] == ["Paris", "Rome"]
    assert out["text"].strip() == LOOP_TEXT
    assert len(sent) == 3
    for b, city in zip(sent[1:], ["Paris", "Rome"]):
        assert b["messages"][-1]["content"][-1]["toolResult"]["toolUseId"] == f"tooluse_{city.lower()}"
    return out


@pytest.mark.parametrize("client", cells(["tool_loop"]))
def test_reasoning_tool_loop(matrix, sim, client):
    run_tool_loop(sim, matrix, client, "tool_loop")


@pytest.mark.parametrize("client", cells(["tool_loop_stream"]))
def test_reasoning_tool_loop_streaming(matrix, sim, client):
    """Streaming turns: what each client's stream accumulator rebuilds goes back as history
    (openai-node's `chat.completions.stream()` merges pieces with Object.assign)."""
    run_tool_loop(sim, matrix, client, "tool_loop_stream")


@pytest.mark.parametrize("client", cells(["tool_loop_create"], ["openai-node"]))
def test_reasoning_tool_loop_manual_create(matrix, sim, client):
    run_tool_loop(sim, matrix, client, "tool_loop_create")


# --- errors -----------------------------------------------------------------------------------------

# The exception each client raises (Python: a class in its MRO; Node: the constructor's name).
OPENAI_PY = {400: "openai.BadRequestError", 429: "openai.RateLimitError"}
EXPECTED_ERROR = {
    "openai-python": OPENAI_PY,
    "langchain": OPENAI_PY,  # langchain_openai.OpenAIInvalidRequestError / OpenAIRateLimitError subclass them
    "openai-agents": OPENAI_PY,
    "pydantic-ai": {400: "pydantic_ai.ModelRequestRejectedError", 429: "pydantic_ai.ModelRateLimitError"},
    "litellm": {400: "litellm.BadRequestError", 429: "litellm.RateLimitError"},
    "openai-node": {400: "BadRequestError", 429: "RateLimitError"},
    "vercel-compatible": {400: "APICallError", 429: "APICallError"},
    "vercel-openai": {400: "APICallError", 429: "APICallError"},
}
BEDROCK_ERRORS = {400: ("ValidationException", "The provided model identifier is invalid for this matrix test."),
                  429: ("ThrottlingException", "Too many requests, please wait before trying again.")}


def run_error(sim, envoy, client, status):
    name, message = BEDROCK_ERRORS[status]
    sim.scenario(CLAUDE, status=status, body={"message": message},
                 headers={"x-amzn-ErrorType": f"{name}:http://internal.amazon.com/coral/com.amazon.bedrock/"})
    out = run_client(client, "error", spec(envoy))
    err = out.get("error")
    assert err, f"no error surfaced: {out}"
    expected = EXPECTED_ERROR[client][status]
    assert expected in (err.get("classes") or [err["type"]]), err
    assert err["status"] == status, err
    assert message in err["message"], err
    assert len(converse_requests(sim)) == 1, "the client retried (retries are off in every driver)"
    return err


@pytest.mark.parametrize("client", cells(["error_400"]))
def test_bedrock_400(matrix, sim, client):
    run_error(sim, matrix, client, 400)


@pytest.mark.parametrize("client", cells(["error_429"]))
def test_bedrock_429(matrix, sim, client):
    run_error(sim, matrix, client, 429)


@pytest.mark.parametrize("client", cells(["retry_after"], [c for c in CLIENTS if c != "pydantic-ai"]))
def test_bedrock_429_retry_after(matrix, sim, client):
    """429 answers carry retry-after (Bedrock's hint or a default). pydantic-ai's
    ModelHTTPError exposes no headers, so it has no cell."""
    err = run_error(sim, matrix, client, 429)
    assert err["retry_after"] is not None and float(err["retry_after"]) > 0, err


# --- structured output --------------------------------------------------------------------------------

# The forced tool each client's structured output becomes (the name the answer must carry).
STRUCTURED_TOOL = {"openai-python": "Weather", "langchain": "Weather", "pydantic-ai": "final_result",
                   "openai-agents": "final_output", "litellm": "Weather", "openai-node": "Weather",
                   "vercel-compatible": "json_response", "vercel-openai": "Weather"}


def run_structured(sim, envoy, client, effort):
    name = STRUCTURED_TOOL[client]
    blocks = [{"toolUse": {"toolUseId": "tooluse_json", "name": name, "input": WEATHER_ANSWER}}]
    if effort:
        blocks.insert(0, reasoning("Paris, as JSON.", "c2lnLWpzb24="))
    sim.scenario(CLAUDE, **answer(blocks, False, "tool_use"))
    out = ok(run_client(client, "structured", spec(envoy, prompt="Weather in Paris as JSON", reasoning_effort=effort)))
    assert out["parsed"] == WEATHER_ANSWER
    [b] = bodies(sim)
    assert name in [t["toolSpec"]["name"] for t in b["toolConfig"]["tools"]], b["toolConfig"]
    return b


@pytest.mark.parametrize("client", cells(["structured"]))
def test_structured_output(matrix, sim, client):
    run_structured(sim, matrix, client, None)


@pytest.mark.parametrize("client", cells(["structured_reasoning"]))
def test_structured_output_with_reasoning(matrix, sim, client):
    """A client whose structured output forces a tool, with reasoning on, must
    still get its answer (Bedrock refuses a forced tool while thinking)."""
    b = run_structured(sim, matrix, client, "low")
    thinking = (b.get("additionalModelRequestFields") or {}).get("thinking", {}).get("type") == "enabled"
    assert not (thinking and "any" in b["toolConfig"].get("toolChoice", {}) or thinking and "tool" in b["toolConfig"].get("toolChoice", {})), \
        "forced tool with thinking enabled: Bedrock refuses it"
