"""A Bedrock Mantle simulator (`bedrock-mantle.{region}.api.aws`) for end-to-end tests.

Mantle serves the Anthropic Messages API at /anthropic/v1/messages and OpenAI's chat completions
and Responses under /v1 or /openai/v1; answers are the APIs' own JSON, or SSE for streams
(https://docs.aws.amazon.com/bedrock/latest/userguide/bedrock-mantle.html,
https://docs.aws.amazon.com/bedrock/latest/userguide/inference-messages-api.html).

Rules enforced (each refusal is recorded with its rule):
- auth: SigV4 checked by botocore, scoped to service `bedrock-mantle` (not `bedrock`: Mantle is
  its own IAM service, `bedrock-mantle:CreateInference`; BerriAI/litellm#31475), or a Bedrock API
  key as `Authorization: Bearer` (sim.Sim.check_auth with service = "bedrock-mantle").
- model ids: foundation model names, no cross-region prefix and no version suffix
  (https://docs.getbifrost.ai/providers/supported-providers/bedrock-mantle "Model IDs").
- paths: OpenAI GPT models other than gpt-oss under /openai/v1 only; others under /v1
  (https://theagenticguy.github.io/ai-gateway/adrs/015-openai-responses-bedrock-mantle-proxy/).
- count_tokens at /anthropic/v1/messages/count_tokens (AWS: count-tokens.html, "Count tokens
  using the bedrock-mantle endpoint"), answering {"input_tokens": input tokens below}.
- Messages: `anthropic-version` header and `max_tokens` required; no unknown top-level field;
  known block types, non-empty text, `tool_result` ids answering an earlier `tool_use`; with
  thinking on, a budget of at least 1024 below `max_tokens`, `temperature` 1 only, no forced
  tool, and a final tool-calling assistant turn starting with its thinking block; thinking
  blocks sent back must carry the signature the simulator gave them (Anthropic Messages API,
  extended thinking and tool use documentation).
Errors keep each API's shape: Anthropic `{"type":"error","error":{...}}`, OpenAI `{"error":{...}}`
(an assumption: Mantle is API-compatible; its exact bodies are not documented).

Control API (unsigned, same port): POST /__sim/scenario {"model_id", "status", "error_type",
"message", "headers"} answers that model with an error, or {"stream_error": {"type", "message"}}
ends its Anthropic streams with an `error` event after `message_start`; GET /__sim/requests; POST /__sim/reset.
Generated answers say "You said: <last user text>" word by word; usage is deterministic:
input tokens = 7 + number of words in the request's last user text, output = words answered,
Anthropic also reports cache_read_input_tokens = 3 (Anthropic counts it apart from input).
Anthropic answers think first when `thinking` is on ("Thinking about: <text>", signed), call the
tool a last user text "call <tool> <words>" names (input {"query": "<words>"}), and after a
tool result say "Tool said: <result>"; output tokens count the words of every block.
"""

import hashlib
import json
import re
import time
import uuid

from sim import Handler, Sim, start_sim

ANTHROPIC_PATH = "/anthropic/v1/messages"
COUNT_PATH = "/anthropic/v1/messages/count_tokens"
OPENAI_PATHS = re.compile(r"/(openai/)?v1/(chat/completions|responses)")
CACHE_READ = 3


class MantleSim(Sim):
    service = "bedrock-mantle"


def last_user_text(body: dict) -> str:
    """The last user text of an Anthropic / chat `messages` or a Responses `input`."""
    items = body.get("messages") or body.get("input") or []
    if isinstance(items, str):
        return items
    for m in reversed(items if isinstance(items, list) else []):
        if not isinstance(m, dict) or m.get("role") != "user":
            continue
        c = m.get("content")
        if isinstance(c, str):
            return c
        for part in reversed(c if isinstance(c, list) else []):
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                return part["text"]
    return ""


def answer_words(body: dict) -> list:
    return ["You", "said:"] + last_user_text(body).split()


def input_tokens(body: dict) -> int:
    return 7 + len(last_user_text(body).split())


def model_rule(path: str, model) -> tuple:
    """None, or (status, message, rule) as Mantle refuses the model on this path."""
    if not isinstance(model, str) or not model:
        return 400, "model: field required", "model_required"
    if re.match(r"(global|us|eu|apac|jp|us-gov)\.", model) or ":" in model or model.startswith("arn:"):
        return 404, f"The model {model} does not exist on bedrock-mantle (no region prefix, no version suffix)", "mantle_model_id"
    if path in (ANTHROPIC_PATH, COUNT_PATH):
        if not model.startswith("anthropic."):
            return 404, f"model: {model} is not served by the Anthropic Messages API", "anthropic_model"
        return None
    openai_base = model.startswith("openai.gpt-") and not model.startswith("openai.gpt-oss")
    if openai_base != path.startswith("/openai/"):
        return 404, f"The model {model} is not served under {path.rsplit('/', 2)[0]}", "mantle_openai_base"
    if model.startswith("anthropic."):
        return 404, f"The model {model} is served by the Anthropic Messages API", "anthropic_model"
    return None


def sse(event, data) -> bytes:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(data) if not isinstance(data, str) else data}\n\n".encode()


# --- Anthropic Messages ------------------------------------------------------------------
MESSAGES_FIELDS = {"model", "messages", "max_tokens", "system", "metadata", "stop_sequences", "stream", "temperature",
                   "top_p", "top_k", "tools", "tool_choice", "thinking", "output_config", "service_tier", "container",
                   "mcp_servers", "context_management", "inference_geo"}
COUNT_FIELDS = MESSAGES_FIELDS - {"max_tokens", "stream", "stop_sequences", "temperature", "top_p", "top_k",
                                   "metadata", "service_tier", "container", "inference_geo"}
BLOCK_TYPES = {"text", "image", "document", "tool_use", "tool_result", "thinking", "redacted_thinking",
               "search_result", "server_tool_use", "web_search_tool_result"}


def signature(thinking: str) -> str:
    return "sig-" + hashlib.sha256(thinking.encode()).hexdigest()[:16]


def thinking_on(body) -> bool:
    return isinstance(body.get("thinking"), dict) and body["thinking"].get("type") in ("enabled", "adaptive")


def messages_rule(body):
    """None, or (message, rule) for a Messages body Anthropic refuses (its documented rules:
    https://docs.anthropic.com/en/api/messages, .../extended-thinking, .../tool-use)."""
    extra = sorted(set(body) - MESSAGES_FIELDS)
    if extra:
        return f"{extra[0]}: Extra inputs are not permitted", "extra_field"
    msgs = body.get("messages")
    if not isinstance(msgs, list) or not msgs:
        return "messages: at least one message is required", "messages"
    thinking = thinking_on(body)
    if thinking:
        budget = body["thinking"].get("budget_tokens")
        if body["thinking"]["type"] == "enabled" and (not isinstance(budget, int) or budget < 1024 or budget >= body["max_tokens"]):
            return "thinking.budget_tokens: must be >= 1024 and less than max_tokens", "thinking_budget"
        if body.get("temperature") not in (None, 1, 1.0):
            return "temperature may only be set to 1 when thinking is enabled", "thinking_temperature"
        if (body.get("tool_choice") or {}).get("type") in ("any", "tool"):
            return "Thinking may not be enabled when tool_choice forces tool use.", "thinking_tool_choice"
    tool_ids = set()
    for i, m in enumerate(msgs):
        # Claude Code (2.x) sends `system` messages inside `messages` too.
        if not isinstance(m, dict) or m.get("role") not in ("user", "assistant", "system"):
            return f"messages.{i}.role: must be user, assistant or system", "role"
        content = m.get("content")
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        if not isinstance(blocks, list):
            return f"messages.{i}.content: must be a string or a list", "content"
        for j, b in enumerate(blocks):
            t = b.get("type") if isinstance(b, dict) else None
            if t not in BLOCK_TYPES:
                return f"messages.{i}.content.{j}.type: unknown block type {t!r}", "block_type"
            if t == "text" and not b.get("text", "").strip():
                return f"messages.{i}.content.{j}: text content blocks must be non-empty", "empty_text"
            if t == "thinking" and b.get("signature") != signature(b.get("thinking", "")):
                return f"messages.{i}.content.{j}: Invalid `signature` in `thinking` block", "thinking_signature"
            if t == "tool_use":
                tool_ids.add(b.get("id"))
            if t == "tool_result" and b.get("tool_use_id") not in tool_ids:
                return f"messages.{i}.content.{j}: unexpected `tool_use_id` in `tool_result` blocks", "tool_result_id"
        if thinking and i == len(msgs) - 2 and m["role"] == "assistant" and any(
                b.get("type") == "tool_use" for b in blocks) and blocks[0].get("type") not in ("thinking", "redacted_thinking"):
            return ("messages.1.content.0.type: Expected `thinking` or `redacted_thinking`, but found `text`. When "
                    "`thinking` is enabled, a final `assistant` message must start with a thinking block"), "thinking_first"
    for t in body.get("tools") or []:
        if "type" not in t and (not t.get("name") or not isinstance(t.get("input_schema"), dict)):
            return "tools: a custom tool needs a name and an input_schema", "tool_spec"
    return None


def last_tool_result(body):
    """The text of the last message's tool_result, if it is one."""
    last = (body.get("messages") or [{}])[-1]
    for b in last.get("content") if isinstance(last.get("content"), list) else []:
        if b.get("type") == "tool_result":
            c = b.get("content")
            return c if isinstance(c, str) else " ".join(p.get("text", "") for p in c or [])
    return None


def anthropic_blocks(body):
    """The answer's blocks: thinking when asked ("Thinking about: <text>"), then a call of the
    tool named by a last user text "call <tool> <words>", else text ("You said: <text>", or "Tool
    said: <result>" after a tool result)."""
    text = last_user_text(body)
    blocks = []
    if thinking_on(body) and body["thinking"].get("display") != "omitted":
        thought = f"Thinking about: {text}"
        blocks.append({"type": "thinking", "thinking": thought, "signature": signature(thought)})
    words = text.split()
    names = [t.get("name") for t in body.get("tools") or []]
    result = last_tool_result(body)
    if result is None and len(words) >= 2 and words[0] == "call" and words[1] in names:
        blocks.append({"type": "tool_use", "id": f"toolu_{uuid.uuid4().hex[:12]}", "name": words[1],
                       "input": {"query": " ".join(words[2:])}})
    elif result is not None:
        blocks.append({"type": "text", "text": f"Tool said: {result}"})
    else:
        blocks.append({"type": "text", "text": " ".join(answer_words(body))})
    return blocks


def block_tokens(b) -> int:
    return len((b.get("text") or b.get("thinking") or json.dumps(b.get("input"))).split())


def anthropic_json(body, model):
    blocks = anthropic_blocks(body)
    stop = "tool_use" if blocks[-1]["type"] == "tool_use" else "end_turn"
    return {"id": f"msg_{uuid.uuid4().hex[:20]}", "type": "message", "role": "assistant", "model": model,
            "content": blocks, "stop_reason": stop, "stop_sequence": None,
            "usage": {"input_tokens": input_tokens(body), "output_tokens": sum(block_tokens(b) for b in blocks),
                      "cache_read_input_tokens": CACHE_READ, "cache_creation_input_tokens": 0}}


def anthropic_stream(body, model):
    msg = anthropic_json(body, model)
    start = dict(msg, content=[], stop_reason=None, usage=dict(msg["usage"], output_tokens=1))
    yield sse("message_start", {"type": "message_start", "message": start})
    for i, b in enumerate(msg["content"]):
        delta = lambda d: sse("content_block_delta", {"type": "content_block_delta", "index": i, "delta": d})
        if b["type"] == "thinking":
            yield sse("content_block_start", {"type": "content_block_start", "index": i,
                                              "content_block": {"type": "thinking", "thinking": "", "signature": ""}})
            for k, w in enumerate(b["thinking"].split(" ")):
                yield delta({"type": "thinking_delta", "thinking": w if k == 0 else " " + w})
            yield delta({"type": "signature_delta", "signature": b["signature"]})
        elif b["type"] == "tool_use":
            yield sse("content_block_start", {"type": "content_block_start", "index": i,
                                              "content_block": dict(b, input={})})
            raw = json.dumps(b["input"])
            yield delta({"type": "input_json_delta", "partial_json": raw[:5]})
            yield delta({"type": "input_json_delta", "partial_json": raw[5:]})
        else:
            yield sse("content_block_start", {"type": "content_block_start", "index": i,
                                              "content_block": {"type": "text", "text": ""}})
            yield sse("ping", {"type": "ping"})
            for k, w in enumerate(b["text"].split(" ")):
                yield delta({"type": "text_delta", "text": w if k == 0 else " " + w})
        yield sse("content_block_stop", {"type": "content_block_stop", "index": i})
    yield sse("message_delta", {"type": "message_delta", "delta": {"stop_reason": msg["stop_reason"], "stop_sequence": None},
                                "usage": {"output_tokens": msg["usage"]["output_tokens"]}})
    yield sse("message_stop", {"type": "message_stop"})


# --- OpenAI chat completions ---------------------------------------------------------------
def chat_usage(body, words):
    n = input_tokens(body)
    return {"prompt_tokens": n, "completion_tokens": len(words), "total_tokens": n + len(words)}


def chat_json(body, model):
    words = answer_words(body)
    return {"id": f"chatcmpl-{uuid.uuid4().hex[:20]}", "object": "chat.completion", "created": int(time.time()),
            "model": model, "choices": [{"index": 0, "finish_reason": "stop",
                                         "message": {"role": "assistant", "content": " ".join(words)}}],
            "usage": chat_usage(body, words)}


def chat_stream(body, model):
    words = answer_words(body)
    base = {"id": f"chatcmpl-{uuid.uuid4().hex[:20]}", "object": "chat.completion.chunk",
            "created": int(time.time()), "model": model}
    yield sse(None, dict(base, choices=[{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]))
    for i, w in enumerate(words):
        yield sse(None, dict(base, choices=[{"index": 0, "delta": {"content": w if i == 0 else " " + w}, "finish_reason": None}]))
    yield sse(None, dict(base, choices=[{"index": 0, "delta": {}, "finish_reason": "stop"}]))
    if (body.get("stream_options") or {}).get("include_usage"):
        yield sse(None, dict(base, choices=[], usage=chat_usage(body, words)))
    yield sse(None, "[DONE]")


# --- OpenAI Responses ----------------------------------------------------------------------
def responses_json(body, model):
    words = answer_words(body)
    n = input_tokens(body)
    text = " ".join(words)
    return {"id": f"resp_{uuid.uuid4().hex[:20]}", "object": "response", "created_at": int(time.time()),
            "status": "completed", "model": model,
            "output": [{"type": "message", "id": f"msg_{uuid.uuid4().hex[:12]}", "status": "completed", "role": "assistant",
                        "content": [{"type": "output_text", "text": text, "annotations": []}]}],
            "usage": {"input_tokens": n, "output_tokens": len(words), "total_tokens": n + len(words),
                      "input_tokens_details": {"cached_tokens": 0}, "output_tokens_details": {"reasoning_tokens": 0}}}


def responses_stream(body, model):
    final = responses_json(body, model)
    words = answer_words(body)
    pending = dict(final, status="in_progress", output=[], usage=None)
    item = final["output"][0]
    seq = iter(range(1000))

    def ev(kind, **fields):
        return sse(kind, dict({"type": kind, "sequence_number": next(seq)}, **fields))

    yield ev("response.created", response=pending)
    yield ev("response.in_progress", response=pending)
    yield ev("response.output_item.added", output_index=0, item=dict(item, status="in_progress", content=[]))
    yield ev("response.content_part.added", item_id=item["id"], output_index=0, content_index=0,
             part={"type": "output_text", "text": "", "annotations": []})
    for i, w in enumerate(words):
        yield ev("response.output_text.delta", item_id=item["id"], output_index=0, content_index=0,
                 delta=w if i == 0 else " " + w, logprobs=[])
    yield ev("response.output_text.done", item_id=item["id"], output_index=0, content_index=0,
             text=item["content"][0]["text"], logprobs=[])
    yield ev("response.content_part.done", item_id=item["id"], output_index=0, content_index=0, part=item["content"][0])
    yield ev("response.output_item.done", output_index=0, item=item)
    yield ev("response.completed", response=final)


class MantleHandler(Handler):
    """sim.Handler's control API and JSON answers; Mantle's paths and error shapes."""
    sim: MantleSim = None

    def _error(self, anthropic, status, etype, message, headers=None):
        if anthropic:
            body = {"type": "error", "error": {"type": etype, "message": message}}
        else:
            body = {"error": {"message": message, "type": etype, "param": None, "code": None}}
        self._json(status, body, headers)

    def _sse(self, events):
        self.send_response(200)
        self.send_header("content-type", "text/event-stream; charset=utf-8")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.send_header("x-amzn-requestid", str(uuid.uuid4()))
        self.end_headers()
        for e in events:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(e), e))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")

    def _aws_error(self, status, name, message):
        self._error(False, status, "not_found_error", message)

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        if self._control(raw):
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        anthropic = self.path in (ANTHROPIC_PATH, COUNT_PATH)
        record = {"method": "POST", "path": self.path, "headers": headers, "body": raw.decode("utf-8", "replace")}
        auth_error = self.sim.check_auth("POST", self.path, headers, raw)
        record["signature_ok"] = auth_error is None
        record["access_key"] = Sim.access_key_of(headers)
        with self.sim.lock:
            self.sim.requests.append(record)
        if auth_error:
            status, _name, message = auth_error
            return self._error(anthropic, status, "authentication_error" if anthropic else "permission_error", message)
        if not anthropic and not OPENAI_PATHS.fullmatch(self.path):
            return self._error(False, 404, "not_found_error", f"Unknown path {self.path}")
        self._serve(anthropic, headers, raw, record)

    def _refuse(self, record, anthropic, status, message, rule):
        record["refused"] = rule
        etype = "not_found_error" if status == 404 else "invalid_request_error"
        self._error(anthropic, status, etype, message)

    def _count(self, record, body):
        """Anthropic's count_tokens: the Messages fields that shape the input, nothing else
        (https://docs.anthropic.com/en/api/messages-count-tokens); the count is input_tokens()."""
        extra = sorted(set(body) - COUNT_FIELDS)
        if extra:
            return self._refuse(record, True, 400, f"{extra[0]}: Extra inputs are not permitted", "extra_field")
        broken = messages_rule(dict(body, max_tokens=1 << 30))
        if broken:
            return self._refuse(record, True, 400, *broken)
        return self._json(200, {"input_tokens": input_tokens(body)})

    def _serve(self, anthropic, headers, raw, record):
        try:
            body = json.loads(raw)
            assert isinstance(body, dict)
        except (ValueError, AssertionError):
            return self._refuse(record, anthropic, 400, "the body is not a JSON object", "json")
        model = body.get("model")
        record["model_id"] = model
        refused = model_rule(self.path, model)
        if refused:
            return self._refuse(record, anthropic, *refused)
        if anthropic and not headers.get("anthropic-version"):
            return self._refuse(record, True, 400, "anthropic-version: header is required", "anthropic_version")
        if self.path == COUNT_PATH:
            return self._count(record, body)
        if anthropic and not isinstance(body.get("max_tokens"), int):
            return self._refuse(record, True, 400, "max_tokens: Field required", "max_tokens")
        broken = anthropic and messages_rule(body)
        if broken:
            return self._refuse(record, True, 400, *broken)
        with self.sim.lock:
            scenario = self.sim.scenarios.get(model)
        if scenario and scenario.get("status"):
            return self._error(anthropic, scenario["status"], scenario.get("error_type", "api_error"),
                               scenario.get("message", "simulated error"), scenario.get("headers"))
        stream = body.get("stream") is True
        if scenario and anthropic and stream and scenario.get("stream_error"):
            # Anthropic's mid-stream error: an `error` event after the stream began.
            err = {"type": "error", "error": scenario["stream_error"]}
            start = dict(anthropic_json(body, model), content=[], stop_reason=None)
            return self._sse([sse("message_start", {"type": "message_start", "message": start}), sse("error", err)])
        kind = "anthropic" if anthropic else ("responses" if self.path.endswith("/responses") else "chat")
        make = {"anthropic": (anthropic_json, anthropic_stream), "chat": (chat_json, chat_stream),
                "responses": (responses_json, responses_stream)}[kind]
        if stream:
            return self._sse(make[1](body, model))
        return self._json(200, make[0](body, model))




def start_mantle_sim(port=0, **kwargs):
    return start_sim(port, sim_class=MantleSim, handler_class=MantleHandler, **kwargs)
