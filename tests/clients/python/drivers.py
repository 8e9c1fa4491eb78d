"""Python client drivers for the client matrix (tests/e2e/test_client_matrix.py).

Each driver is a class with one method per scenario; each method takes the scenario spec (the same
JSON the Node drivers read, see ../README.md) and returns what the client parsed as a plain dict:
text, reasoning, tool calls, parsed structured output, the history the client keeps. Exceptions
propagate; `run()` turns them into {"error": {...}} like the Node drivers do.
"""

import asyncio
import json
import os
import urllib.request

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # litellm: no download at import
os.environ.setdefault("OPENAI_AGENTS_DISABLE_TRACING", "1")

import pydantic

API_KEY = "sk-python-client"


class Weather(pydantic.BaseModel):
    city: str
    temperature_c: float
    conditions: list[str]


class ToolRunner:
    """Runs the scenario's tool: on the k-th call it posts spec["on_tool"][k] (the simulator's
    answer for the next turn), so the client's own loop sends every turn."""

    def __init__(self, spec):
        self.spec, self.executed = spec, []

    def __call__(self, name, args):
        hooks = self.spec.get("on_tool") or []
        if len(self.executed) < len(hooks):
            h = hooks[len(self.executed)]
            urllib.request.urlopen(urllib.request.Request(h["url"], data=json.dumps(h["body"]).encode(), method="POST")).read()
        self.executed.append({"name": name, "args": args})
        return (self.spec.get("tool_results") or {}).get(args.get("city"), f"no data for {args.get('city')}")


def describe_error(e):
    resp = getattr(e, "response", None)
    headers = getattr(resp, "headers", None)
    status = getattr(e, "status_code", None) or getattr(resp, "status_code", None)
    return {"type": type(e).__name__, "module": type(e).__module__.split(".")[0], "status": status, "message": str(e),
            "classes": [f"{c.__module__.split('.')[0]}.{c.__name__}" for c in type(e).__mro__],
            "retry_after": headers.get("retry-after") if headers is not None else None,
            "body": getattr(e, "body", None)}


def run(client: str, scenario: str, spec: dict) -> dict:
    driver = DRIVERS[client]()
    fn = getattr(driver, scenario, None)
    if fn is None:
        return {"unsupported": True}
    try:
        return fn(spec)
    except Exception as e:  # the client's own exception type is the result
        return {"error": describe_error(e)}


def _calls(msg):
    return [{"id": t.id, "name": t.function.name, "arguments": json.loads(t.function.arguments)} for t in msg.tool_calls or []]


# --- the openai SDK --------------------------------------------------------------------------------

class OpenAIPython:
    def client(self, spec):
        import openai
        return openai.OpenAI(base_url=spec["base_url"], api_key=API_KEY, max_retries=0, timeout=30)

    def kw(self, spec):
        return {"reasoning_effort": spec["reasoning_effort"]} if spec.get("reasoning_effort") else {}

    def plain(self, spec):
        r = self.client(spec).chat.completions.create(model=spec["model"], messages=[{"role": "user", "content": spec["prompt"]}], **self.kw(spec))
        m = r.choices[0].message
        return {"text": m.content, "reasoning": (m.model_extra or {}).get("reasoning"), "finish_reason": r.choices[0].finish_reason}

    def stream(self, spec):
        text, reasoning, deltas, finish = "", "", 0, None
        for c in self.client(spec).chat.completions.create(model=spec["model"], messages=[{"role": "user", "content": spec["prompt"]}],
                                                           stream=True, **self.kw(spec)):
            for ch in c.choices:
                if ch.delta.content:
                    text, deltas = text + ch.delta.content, deltas + 1
                reasoning += (ch.delta.model_extra or {}).get("reasoning") or ""
                finish = ch.finish_reason or finish
        return {"text": text, "reasoning": reasoning, "deltas": deltas, "finish_reason": finish}

    def tools(self, spec):
        r = self.client(spec).chat.completions.create(model=spec["model"], messages=[{"role": "user", "content": spec["prompt"]}],
                                                      tools=spec["tools"], **self.kw(spec))
        return {"tool_calls": _calls(r.choices[0].message), "finish_reason": r.choices[0].finish_reason}

    def _loop(self, spec, turn):
        """The loop of OpenAI's function-calling guide: the SDK's message object goes back as is."""
        tools = ToolRunner(spec)
        messages = [{"role": "user", "content": spec["prompt"]}]
        for i in range(spec.get("max_turns", 6)):
            msg = turn(messages)
            messages.append(msg)
            if not msg.tool_calls:
                return {"text": msg.content, "turns": i + 1, "executed": tools.executed,
                        "messages": [m if isinstance(m, dict) else m.model_dump(exclude_none=True) for m in messages]}
            for t in msg.tool_calls:
                messages.append({"role": "tool", "tool_call_id": t.id, "content": tools(t.function.name, json.loads(t.function.arguments))})
        raise RuntimeError("too many turns")

    def tool_loop(self, spec):
        c = self.client(spec)
        return self._loop(spec, lambda messages: c.chat.completions.create(
            model=spec["model"], messages=messages, tools=spec["tools"], **self.kw(spec)).choices[0].message)

    def tool_loop_stream(self, spec):
        c = self.client(spec)

        def turn(messages):
            with c.chat.completions.stream(model=spec["model"], messages=messages, tools=spec["tools"], **self.kw(spec)) as s:
                return s.get_final_completion().choices[0].message
        return self._loop(spec, turn)

    def error(self, spec):
        r = self.client(spec).chat.completions.create(model=spec["model"], messages=[{"role": "user", "content": spec["prompt"]}],
                                                      stream=bool(spec.get("stream")))
        if spec.get("stream"):
            list(r)
        return {"error": None}

    def structured(self, spec):
        r = self.client(spec).chat.completions.parse(model=spec["model"], messages=[{"role": "user", "content": spec["prompt"]}],
                                                     response_format=Weather, **self.kw(spec))
        return {"parsed": r.choices[0].message.parsed.model_dump(), "text": r.choices[0].message.content}


# --- LangChain ChatOpenAI --------------------------------------------------------------------------

class LangChain:
    def llm(self, spec, **kw):
        from langchain_openai import ChatOpenAI
        if spec.get("reasoning_effort"):
            kw["reasoning_effort"] = spec["reasoning_effort"]
        return ChatOpenAI(model=spec["model"], base_url=spec["base_url"], api_key=API_KEY, max_retries=0, timeout=30, **kw)

    def _tools(self, spec, runner=None):
        from langchain_core.tools import StructuredTool
        out = []
        for t in spec["tools"]:
            f = t["function"]
            out.append(StructuredTool.from_function(
                func=(lambda name: lambda **args: runner(name, args))(f["name"]) if runner else (lambda **args: ""),
                name=f["name"], description=f["description"], args_schema=f["parameters"]))
        return out

    def plain(self, spec):
        m = self.llm(spec).invoke(spec["prompt"])
        return {"text": m.content, "reasoning": m.additional_kwargs.get("reasoning_content") or m.additional_kwargs.get("reasoning"),
                "finish_reason": m.response_metadata.get("finish_reason")}

    def stream(self, spec):
        text, deltas = "", 0
        for c in self.llm(spec).stream(spec["prompt"]):
            if c.content:
                text, deltas = text + c.content, deltas + 1
        return {"text": text, "deltas": deltas}

    def tools(self, spec):
        m = self.llm(spec).bind_tools(self._tools(spec)).invoke(spec["prompt"])
        return {"tool_calls": [{"id": t["id"], "name": t["name"], "arguments": t["args"]} for t in m.tool_calls],
                "finish_reason": m.response_metadata.get("finish_reason")}

    def _loop(self, spec, streaming):
        from langchain_core.messages import HumanMessage, ToolMessage
        runner = ToolRunner(spec)
        tools = {t.name: t for t in self._tools(spec, runner)}
        llm = self.llm(spec, streaming=streaming).bind_tools(list(tools.values()))
        messages = [HumanMessage(spec["prompt"])]
        for i in range(spec.get("max_turns", 6)):
            ai = llm.invoke(messages)
            messages.append(ai)
            if not ai.tool_calls:
                return {"text": ai.content, "turns": i + 1, "executed": runner.executed,
                        "messages": [m.model_dump(include={"type", "content", "tool_calls", "additional_kwargs"}) for m in messages]}
            for tc in ai.tool_calls:
                messages.append(ToolMessage(content=str(tools[tc["name"]].invoke(tc["args"])), tool_call_id=tc["id"]))
        raise RuntimeError("too many turns")

    def tool_loop(self, spec):
        return self._loop(spec, streaming=False)

    def tool_loop_stream(self, spec):
        return self._loop(spec, streaming=True)

    def error(self, spec):
        llm = self.llm(spec)
        if spec.get("stream"):
            list(llm.stream(spec["prompt"]))
        else:
            llm.invoke(spec["prompt"])
        return {"error": None}

    def structured(self, spec):
        r = self.llm(spec).with_structured_output(Weather).invoke(spec["prompt"])
        return {"parsed": r.model_dump()}


# --- pydantic-ai -----------------------------------------------------------------------------------

class PydanticAI:
    def agent(self, spec, **kw):
        import openai
        from pydantic_ai import Agent
        from pydantic_ai.models.openai import OpenAIChatModel, OpenAIChatModelSettings
        from pydantic_ai.providers.openai import OpenAIProvider
        client = openai.AsyncOpenAI(base_url=spec["base_url"], api_key=API_KEY, max_retries=0, timeout=30)
        model = OpenAIChatModel(spec["model"], provider=OpenAIProvider(openai_client=client))
        settings = OpenAIChatModelSettings(openai_reasoning_effort=spec["reasoning_effort"]) if spec.get("reasoning_effort") else None
        return Agent(model, model_settings=settings, **kw)

    def _with_tools(self, spec, runner, **kw):
        from pydantic_ai import Tool
        tools = []
        for t in spec["tools"]:
            f = t["function"]

            def fn(city: str, _name=f["name"]) -> str:
                return runner(_name, {"city": city})
            tools.append(Tool(fn, name=f["name"], description=f["description"], takes_ctx=False))
        return self.agent(spec, tools=tools, **kw)

    def plain(self, spec):
        r = self.agent(spec).run_sync(spec["prompt"])
        thinking = [p.content for m in r.all_messages() for p in getattr(m, "parts", []) if type(p).__name__ == "ThinkingPart"]
        return {"text": r.output, "reasoning": "".join(thinking) or None}

    def stream(self, spec):
        async def go():
            text, deltas = "", 0
            async with self.agent(spec).run_stream(spec["prompt"]) as s:
                async for d in s.stream_text(delta=True, debounce_by=None):
                    text, deltas = text + d, deltas + 1
            return {"text": text, "deltas": deltas}
        return asyncio.run(go())

    def tools(self, spec):
        # An agent always runs its tools: one tool round trip without reasoning.
        return self.tool_loop(spec)

    def tool_loop(self, spec):
        runner = ToolRunner(spec)
        r = self._with_tools(spec, runner).run_sync(spec["prompt"])
        msgs = r.all_messages()
        return {"text": r.output, "turns": sum(1 for m in msgs if m.kind == "response"), "executed": runner.executed,
                "messages": [repr(m) for m in msgs]}

    def tool_loop_stream(self, spec):
        runner = ToolRunner(spec)

        async def go():
            agent = self._with_tools(spec, runner)
            async with agent.iter(spec["prompt"]) as run:
                async for node in run:
                    if agent.is_model_request_node(node):
                        async with node.stream(run.ctx) as s:
                            async for _ in s:
                                pass
            return run.result
        r = asyncio.run(go())
        msgs = r.all_messages()
        return {"text": r.output, "turns": sum(1 for m in msgs if m.kind == "response"), "executed": runner.executed,
                "messages": [repr(m) for m in msgs]}

    def error(self, spec):
        if spec.get("stream"):
            return self.stream(spec)
        self.agent(spec).run_sync(spec["prompt"])
        return {"error": None}

    def structured(self, spec):
        r = self.agent(spec, output_type=Weather).run_sync(spec["prompt"])
        return {"parsed": r.output.model_dump()}


# --- OpenAI Agents SDK (chat completions model) ------------------------------------------------------

class OpenAIAgents:
    def agent(self, spec, **kw):
        import openai
        from agents import Agent, ModelSettings, OpenAIChatCompletionsModel, set_tracing_disabled
        from openai.types.shared import Reasoning
        set_tracing_disabled(True)
        client = openai.AsyncOpenAI(base_url=spec["base_url"], api_key=API_KEY, max_retries=0, timeout=30)
        settings = ModelSettings(reasoning=Reasoning(effort=spec["reasoning_effort"])) if spec.get("reasoning_effort") else ModelSettings()
        return Agent(name="matrix", instructions="Answer briefly.", model=OpenAIChatCompletionsModel(spec["model"], openai_client=client),
                     model_settings=settings, **kw)

    def _tools(self, spec, runner):
        from agents import FunctionTool

        def make(f):
            async def invoke(ctx, args_json):
                return runner(f["name"], json.loads(args_json))
            return FunctionTool(name=f["name"], description=f["description"], params_json_schema=dict(f["parameters"], additionalProperties=False),
                                on_invoke_tool=invoke, strict_json_schema=True)
        return [make(t["function"]) for t in spec["tools"]]

    def plain(self, spec):
        from agents import Runner
        r = Runner.run_sync(self.agent(spec), spec["prompt"])
        return {"text": r.final_output}

    def stream(self, spec):
        from agents import Runner
        from openai.types.responses import ResponseTextDeltaEvent

        async def go():
            text, deltas = "", 0
            r = Runner.run_streamed(self.agent(spec), spec["prompt"])
            async for e in r.stream_events():
                if e.type == "raw_response_event" and isinstance(e.data, ResponseTextDeltaEvent):
                    text, deltas = text + e.data.delta, deltas + 1
            return {"text": text, "deltas": deltas, "final": r.final_output}
        return asyncio.run(go())

    def tools(self, spec):
        return self.tool_loop(spec)

    def tool_loop(self, spec):
        from agents import Runner
        runner = ToolRunner(spec)
        r = Runner.run_sync(self.agent(spec, tools=self._tools(spec, runner)), spec["prompt"])
        return {"text": r.final_output, "turns": len(r.raw_responses), "executed": runner.executed,
                "messages": [repr(i) for i in r.to_input_list()]}

    def tool_loop_stream(self, spec):
        from agents import Runner
        runner = ToolRunner(spec)

        async def go():
            r = Runner.run_streamed(self.agent(spec, tools=self._tools(spec, runner)), spec["prompt"])
            async for _ in r.stream_events():
                pass
            return r
        r = asyncio.run(go())
        return {"text": r.final_output, "turns": len(r.raw_responses), "executed": runner.executed,
                "messages": [repr(i) for i in r.to_input_list()]}

    def error(self, spec):
        if spec.get("stream"):
            return self.stream(spec)
        return self.plain(spec)

    def structured(self, spec):
        from agents import Runner
        r = Runner.run_sync(self.agent(spec, output_type=Weather), spec["prompt"])
        return {"parsed": r.final_output.model_dump()}


# --- LiteLLM as a client -----------------------------------------------------------------------------

class LiteLLM:
    def call(self, spec, **kw):
        import litellm
        if spec.get("reasoning_effort"):
            kw["reasoning_effort"] = spec["reasoning_effort"]
        return litellm.completion(model="openai/" + spec["model"], api_base=spec["base_url"], api_key=API_KEY,
                                  num_retries=0, timeout=30, **kw)

    def plain(self, spec):
        r = self.call(spec, messages=[{"role": "user", "content": spec["prompt"]}])
        m = r.choices[0].message
        return {"text": m.content, "reasoning": getattr(m, "reasoning_content", None), "finish_reason": r.choices[0].finish_reason}

    def stream(self, spec):
        text, deltas = "", 0
        for c in self.call(spec, messages=[{"role": "user", "content": spec["prompt"]}], stream=True):
            d = c.choices[0].delta.content if c.choices else None
            if d:
                text, deltas = text + d, deltas + 1
        return {"text": text, "deltas": deltas}

    def tools(self, spec):
        r = self.call(spec, messages=[{"role": "user", "content": spec["prompt"]}], tools=spec["tools"])
        return {"tool_calls": _calls(r.choices[0].message), "finish_reason": r.choices[0].finish_reason}

    def _loop(self, spec, stream):
        import litellm
        runner = ToolRunner(spec)
        messages = [{"role": "user", "content": spec["prompt"]}]
        for i in range(spec.get("max_turns", 6)):
            if stream:
                chunks = list(self.call(spec, messages=messages, tools=spec["tools"], stream=True))
                msg = litellm.stream_chunk_builder(chunks, messages=messages).choices[0].message
            else:
                msg = self.call(spec, messages=messages, tools=spec["tools"]).choices[0].message
            messages.append(msg)
            if not msg.tool_calls:
                return {"text": msg.content, "turns": i + 1, "executed": runner.executed,
                        "messages": [m if isinstance(m, dict) else m.model_dump() for m in messages]}
            for t in msg.tool_calls:
                messages.append({"role": "tool", "tool_call_id": t.id, "content": runner(t.function.name, json.loads(t.function.arguments))})
        raise RuntimeError("too many turns")

    def tool_loop(self, spec):
        return self._loop(spec, stream=False)

    def tool_loop_stream(self, spec):
        return self._loop(spec, stream=True)

    def error(self, spec):
        r = self.call(spec, messages=[{"role": "user", "content": spec["prompt"]}], stream=bool(spec.get("stream")))
        if spec.get("stream"):
            list(r)
        return {"error": None}

    def structured(self, spec):
        r = self.call(spec, messages=[{"role": "user", "content": spec["prompt"]}], response_format=Weather)
        return {"parsed": Weather.model_validate_json(r.choices[0].message.content).model_dump()}


DRIVERS = {"openai-python": OpenAIPython, "langchain": LangChain, "pydantic-ai": PydanticAI,
           "openai-agents": OpenAIAgents, "litellm": LiteLLM}
