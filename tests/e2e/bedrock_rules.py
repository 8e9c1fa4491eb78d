"""Bedrock's request rules for Converse / ConverseStream, as the real service enforces them.

botocore's `ParamValidator` (run first by the simulator) checks the request's shape, types and
minimum lengths from the service model, but not maximums, patterns, enums, or anything that
depends on the model. This module adds what Bedrock (and, for Claude, Anthropic's Messages API
behind it) refuses on top of that, each rule with where it comes from and the message users see.

`check(model_id, body, lax=())` returns None or a `Refusal(status, error_type, message, rule)`.
Rules are plain functions taking a `Ctx`; the first rule that refuses wins, in the order of
RULES. `lax` names rules to skip (or contains "*" for all): tests that rely on laxness say so.

Messages the model provider returns reach the client prefixed with Bedrock's
"The model returned the following errors: " (as in every report cited below).
"""

import re
from dataclasses import dataclass

MODEL_ERRORS = "The model returned the following errors: "
CLAUDE_THINKING_DOCS = "https://docs.claude.com/en/docs/build-with-claude/extended-thinking"


@dataclass
class Refusal(Exception):
    status: int
    error_type: str
    message: str
    rule: str = ""


def validation(message: str) -> Refusal:
    return Refusal(400, "ValidationException", message)


def model_error(message: str) -> Refusal:
    return Refusal(400, "ValidationException", MODEL_ERRORS + message)


# --- model knowledge ----------------------------------------------------------------------------

def is_claude(model_id: str) -> bool:
    return "anthropic.claude" in model_id.lower()


def claude_version(model_id: str):
    """(major, minor) of a Claude model id, e.g. claude-sonnet-4-5-20250929 -> (4, 5),
    claude-3-7-sonnet -> (3, 7), claude-sonnet-4-20250514 -> (4, 0). None if not Claude."""
    mid = model_id.lower()
    m = re.search(r"claude-(?:[a-z]+-)?(\d+)(?:-(\d+))?", mid)
    if not m or not is_claude(mid):
        return None
    major = int(m.group(1))
    minor = int(m.group(2)) if m.group(2) and len(m.group(2)) <= 2 else 0
    return major, minor


def supports_prompt_caching(model_id: str) -> bool:
    """Models with Bedrock prompt caching (cachePoint). Source: Amazon Bedrock user guide,
    "Prompt caching for faster model inference" (docs.aws.amazon.com/bedrock/latest/userguide/
    prompt-caching.html): generally available with Claude 3.7 Sonnet, Claude 3.5 Haiku, Amazon Nova
    Micro/Lite/Pro/Premier; Claude 3.5 Sonnet v2 only for preview customers (treated as
    unsupported here); the supported-models table adds Claude Sonnet/Opus 4, 4.1, 4.5, 4.6 and
    Haiku 4.5 (also listed by Portkey's Bedrock prompt-caching page). Claude 3 (Haiku, Sonnet,
    Opus), Claude 3.5 Sonnet v1, Llama, Mistral, DeepSeek, Qwen, gpt-oss: no caching."""
    mid = model_id.lower()
    if re.search(r"amazon\.nova-(micro|lite|pro|premier|2)", mid):
        return True
    v = claude_version(mid)
    if v is None:
        return False
    if v[0] >= 4:
        return True
    if v == (3, 7):
        return True
    if v == (3, 5) and "haiku" in mid:
        return True
    return False


def caches_tools(model_id: str) -> bool:
    """Nova caches system and messages but not tool definitions (Bedrock prompt-caching guide,
    "Supported models" table: Nova's cache fields are system and messages only)."""
    return supports_prompt_caching(model_id) and is_claude(model_id)


def refuses_temperature_with_top_p(model_id: str) -> bool:
    """Claude 4.5 and later (Sonnet 4.5, Haiku 4.5, Opus 4.5, Sonnet/Opus 4.6, ...)."""
    v = claude_version(model_id)
    return v is not None and (v[0] > 4 or (v[0] == 4 and v[1] >= 5))


# --- today's Claude models --------------------------------------------------------------
# An independent reading of the sources (not the filter's catalog): the filter must agree with it.
# [AWS-ADAPT] docs.aws.amazon.com/bedrock/latest/userguide/claude-messages-adaptive-thinking.html
# [CL-EFFORT] platform.claude.com/docs/en/build-with-claude/effort (levels per model)
# [CL-O5] platform.claude.com/docs/en/models/opus-5/migration-guide
# [CARD-FABLE5] docs.aws.amazon.com/bedrock/latest/userguide/model-card-anthropic-claude-fable-5.md

def claude_key(model_id: str) -> str:
    """`claude-opus-4-7` from any id form: ARN, geo/global profile prefix, `-v1:0`, date."""
    mid = model_id.lower().rsplit("/", 1)[-1]
    m = re.search(r"claude-[a-z0-9-]+", mid)
    if not m:
        return ""
    key = re.sub(r"-v\d+(:\d+)?$", "", m.group(0))
    key = re.sub(r"-\d{8}$", "", key)
    return key


ADAPTIVE_ONLY = {"claude-opus-4-7", "claude-opus-4-8", "claude-sonnet-5", "claude-opus-5", "claude-mythos-preview",
                 "claude-mythos-5", "claude-fable-5"}
ADAPTIVE_TOO = {"claude-opus-4-6", "claude-sonnet-4-6"}
# [AWS-ADAPT]: "disabled thinking (thinking.type: disabled) [is] not supported on these models".
NO_DISABLE = {"claude-opus-4-7", "claude-mythos-preview", "claude-mythos-5", "claude-fable-5"}
EFFORT_MAX = {"claude-fable-5", "claude-mythos-5", "claude-opus-5", "claude-opus-4-8", "claude-mythos-preview",
              "claude-opus-4-7", "claude-opus-4-6", "claude-sonnet-5", "claude-sonnet-4-6"}
EFFORT_XHIGH = {"claude-fable-5", "claude-mythos-5", "claude-opus-5", "claude-opus-4-8", "claude-opus-4-7",
                "claude-sonnet-5"}
EFFORT_ANY = EFFORT_MAX | {"claude-opus-4-5"}
# Sampling fixed from Opus 4.7 on ("`temperature` is deprecated for this model", Comfy-Org/ComfyUI#13923;
# [CARD-FABLE5]: temperature 1.0 or unset, top_p >= 0.99 and < 1.0 or unset, no top_k).
FIXED_SAMPLING = ADAPTIVE_ONLY
# Prefill refused from 4.6 on (Claude 4.6 migration guide; strands-agents/sdk-python#1694 on Bedrock).
NO_PREFILL = ADAPTIVE_ONLY | ADAPTIVE_TOO


def is_claude_family(model_id: str) -> bool:
    return bool(claude_key(model_id)) and is_claude(model_id)


def thinking_object(c) -> dict:
    t = (c.body.get("additionalModelRequestFields") or {}).get("thinking")
    return t if isinstance(t, dict) else {}


# --- request context ----------------------------------------------------------------------------

@dataclass
class Ctx:
    model_id: str
    body: dict

    @property
    def messages(self):
        m = self.body.get("messages")
        return m if isinstance(m, list) else []

    @property
    def inference(self):
        i = self.body.get("inferenceConfig")
        return i if isinstance(i, dict) else {}

    @property
    def claude(self):
        return is_claude(self.model_id)

    @property
    def thinking(self):
        """Claude extended thinking is on (additionalModelRequestFields.thinking.type enabled)."""
        t = (self.body.get("additionalModelRequestFields") or {}).get("thinking")
        return self.claude and isinstance(t, dict) and t.get("type") == "enabled"

    @property
    def thinking_any(self):
        """Claude thinks on this request: enabled, adaptive, or on by default (Opus 5, Mythos 5,
        Fable 5 [CL-O5, AWS-ADAPT]) unless disabled."""
        if not self.claude:
            return False
        t = (self.body.get("additionalModelRequestFields") or {}).get("thinking")
        kind = t.get("type") if isinstance(t, dict) else None
        if kind in ("enabled", "adaptive"):
            return True
        return kind is None and claude_key(self.model_id) in {"claude-opus-5", "claude-mythos-5", "claude-fable-5"}

    def blocks(self):
        """(message index, block index, role, block) of every content block."""
        for i, m in enumerate(self.messages):
            for j, b in enumerate(m.get("content") or []):
                if isinstance(b, dict):
                    yield i, j, m.get("role"), b


def block_type(b: dict) -> str:
    """Anthropic's name for a Converse block, as its error messages print it."""
    for k, name in (("text", "text"), ("toolUse", "tool_use"), ("toolResult", "tool_result"),
                    ("image", "image"), ("document", "document")):
        if k in b:
            return name
    if "reasoningContent" in b:
        return "redacted_thinking" if "redactedContent" in b["reasoningContent"] else "thinking"
    return next(iter(b), "unknown")


# --- rules ----------------------------------------------------------------------------------------

def first_message_user(c: Ctx):
    # Bedrock Converse ValidationException text, as users report it (e.g. strands-agents
    # sdk-python PR#2087: "a trimmed conversation starting with an assistant message, causing
    # ValidationException"); Anthropic Messages: "First message must be `user`".
    if c.messages and c.messages[0].get("role") != "user":
        raise validation("A conversation must start with a user message. "
                         "Try again with a conversation that starts with a user message.")


def roles_alternate(c: Ctx):
    # Bedrock Converse ValidationException for consecutive same-role messages (Converse API
    # reference, Message: "role ... user | assistant"; the docs.rs agentd adapter notes
    # "Bedrock validates strict user/assistant alternation").
    roles = [m.get("role") for m in c.messages]
    if any(a == b for a, b in zip(roles, roles[1:])):
        raise validation("A conversation must alternate between user and assistant roles. "
                         "Make sure the conversation alternates between user and assistant roles and try again.")


def content_not_empty(c: Ctx):
    # Bedrock: "The content field in the Message object at messages.1 is empty. Add a
    # ContentBlock object to the content field and try again." (aws/aws-sdk-net PR#4015).
    for i, m in enumerate(c.messages):
        if not m.get("content"):
            raise validation(f"The content field in the Message object at messages.{i} is empty. "
                             "Add a ContentBlock object to the content field and try again.")


def _texts(c: Ctx):
    """(where, text) of every text Bedrock/Claude checks: message text blocks, text inside tool
    results, and system text."""
    for i, j, _role, b in c.blocks():
        if "text" in b and isinstance(b["text"], str):
            yield f"messages.{i}.content.{j}", b["text"], "messages"
        tr = b.get("toolResult")
        if isinstance(tr, dict):
            for k, rb in enumerate(tr.get("content") or []):
                if isinstance(rb, dict) and isinstance(rb.get("text"), str):
                    yield f"messages.{i}.content.{j}.toolResult.content.{k}", rb["text"], "messages"
    for k, s in enumerate(c.body.get("system") or []):
        if isinstance(s, dict) and isinstance(s.get("text"), str):
            yield f"system.{k}", s["text"], "system"


def text_not_blank(c: Ctx):
    # Empty text: Bedrock "The text field in the ContentBlock object at messages.1.content.0 is
    # blank. Add text to the text field, and try again." (aws/aws-sdk-net PR#4015).
    # Whitespace-only text on Claude: "messages: text content blocks must contain non-whitespace
    # text" (NousResearch/hermes-agent PR#41985, PR#61318; anthropics/claude-code#23440).
    # Other models: Bedrock's own blank check (smg-project/smg PR#1472: whitespace-only strings
    # are treated as blank).
    for where, text, part in _texts(c):
        if text.strip():
            continue
        if c.claude and text:
            raise model_error(f"{part}: text content blocks must contain non-whitespace text")
        raise validation(f"The text field in the ContentBlock object at {where} is blank. "
                         "Add text to the text field, and try again.")


def prefill_no_trailing_whitespace(c: Ctx):
    # Claude: "messages: final assistant content cannot end with trailing whitespace"
    # (langchain-ai/langchain-aws PR#599, aws/aws-sdk-net PR#4015, tailcallhq/forgecode#1872).
    if not c.claude or not c.messages or c.messages[-1].get("role") != "assistant":
        return
    texts = [b["text"] for b in c.messages[-1].get("content") or [] if isinstance(b, dict) and isinstance(b.get("text"), str)]
    if texts and texts[-1] != texts[-1].rstrip():
        raise model_error("messages: final assistant content cannot end with trailing whitespace")


TOOL_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")
# Converse ToolUseBlock.toolUseId: botocore's bedrock-runtime model, pattern [a-zA-Z0-9_.:-]+,
# length 1-64. Claude itself is narrower: "messages.1.content.1.tool_use.id: String should match
# pattern '^[a-zA-Z0-9_-]+$'" (CommandCodeAI/command-code#323; earendil-works/pi PR#781).
TOOL_USE_ID = re.compile(r"[a-zA-Z0-9_.:-]{1,64}")
CLAUDE_TOOL_USE_ID = re.compile(r"[a-zA-Z0-9_-]{1,64}")


def tool_names_valid(c: Ctx):
    # Converse ToolSpecification.name / ToolUseBlock.name: pattern [a-zA-Z0-9_-]+, length 1-64
    # (Converse API reference; botocore's ToolName shape). Coral's constraint message format.
    names = []
    for k, t in enumerate((c.body.get("toolConfig") or {}).get("tools") or []):
        spec = t.get("toolSpec") if isinstance(t, dict) else None
        if isinstance(spec, dict):
            names.append((f"toolConfig.tools.{k}.member.toolSpec.name", spec.get("name")))
    for i, j, _r, b in c.blocks():
        if isinstance(b.get("toolUse"), dict):
            names.append((f"messages.{i}.member.content.{j}.member.toolUse.name", b["toolUse"].get("name")))
    for where, name in names:
        if not isinstance(name, str) or not TOOL_NAME.fullmatch(name):
            raise validation(f"1 validation error detected: Value '{name}' at '{where}' failed to satisfy constraint: "
                             "Member must satisfy regular expression pattern: [a-zA-Z0-9_-]+")


def tool_use_ids_valid(c: Ctx):
    # Converse toolUseId pattern and length (botocore model, Coral's message format); Claude's
    # narrower pattern (see TOOL_USE_ID above: `functions.get_weather:0`).
    for i, j, _r, b in c.blocks():
        for kind, api in (("toolUse", "tool_use.id"), ("toolResult", "tool_result.tool_use_id")):
            blk = b.get(kind)
            if not isinstance(blk, dict):
                continue
            tid = blk.get("toolUseId")
            if not isinstance(tid, str) or not TOOL_USE_ID.fullmatch(tid):
                raise validation(f"1 validation error detected: Value '{tid}' at 'messages.{i}.member.content.{j}.member."
                                 f"{kind}.toolUseId' failed to satisfy constraint: "
                                 "Member must satisfy regular expression pattern: [a-zA-Z0-9_.:-]+")
            if c.claude and not CLAUDE_TOOL_USE_ID.fullmatch(tid):
                raise model_error(f"messages.{i}.content.{j}.{api}: String should match pattern '^[a-zA-Z0-9_-]+$'")


def tool_results_unique(c: Ctx):
    # Bedrock: "The toolUse blocks at messages.2.content contain duplicate Ids: http_request"
    # (double16/Cyber-AutoAgent-ng#27); the same check on toolResult blocks ("duplicate Ids",
    # vercel/ai PR#16406).
    for i, m in enumerate(c.messages):
        for kind in ("toolUse", "toolResult"):
            seen = set()
            for b in m.get("content") or []:
                tid = (b.get(kind) or {}).get("toolUseId") if isinstance(b, dict) else None
                if tid is None:
                    continue
                if tid in seen:
                    raise validation(f"The {kind} blocks at messages.{i}.content contain duplicate Ids: {tid}")
                seen.add(tid)


def tool_results_match_calls(c: Ctx):
    # Anthropic Messages rule, enforced by Bedrock for Claude: "unexpected `tool_use_id` found in
    # `tool_result` blocks: X. Each `tool_result` block must have a corresponding `tool_use`
    # block in the previous message." and the reverse "`tool_use` ids were found without
    # `tool_result` blocks immediately after" (anthropics/anthropic-sdk-typescript#653).
    msgs = c.messages
    for i, m in enumerate(msgs):
        results = [b["toolResult"].get("toolUseId") for b in m.get("content") or []
                   if isinstance(b, dict) and isinstance(b.get("toolResult"), dict)]
        if not results:
            continue
        prev = msgs[i - 1] if i > 0 else {}
        calls = {b["toolUse"].get("toolUseId") for b in prev.get("content") or []
                 if isinstance(b, dict) and isinstance(b.get("toolUse"), dict)} if prev.get("role") == "assistant" else set()
        for tid in results:
            if tid not in calls:
                raise model_error(f"messages.{i}.content.0: unexpected `tool_use_id` found in `tool_result` blocks: {tid}. "
                                  "Each `tool_result` block must have a corresponding `tool_use` block in the previous message.")
    if not c.claude:
        return
    for i, m in enumerate(msgs[:-1]):
        calls = [b["toolUse"].get("toolUseId") for b in m.get("content") or []
                 if isinstance(b, dict) and isinstance(b.get("toolUse"), dict)]
        if not calls:
            continue
        nxt = {b["toolResult"].get("toolUseId") for b in msgs[i + 1].get("content") or []
               if isinstance(b, dict) and isinstance(b.get("toolResult"), dict)}
        missing = [t for t in calls if t not in nxt]
        if missing:
            raise model_error(f"messages.{i + 1}: `tool_use` ids were found without `tool_result` blocks immediately after: "
                              f"{', '.join(missing)}. Each `tool_use` block must have a corresponding `tool_result` block "
                              "in the next message.")


def tool_config_for_tool_history(c: Ctx):
    # Bedrock: "The toolConfig field must be defined when using toolUse and toolResult content
    # blocks." (langgenius/dify#16421, vercel/ai PR#7537, vxcontrol/pentagi PR#196).
    uses_tools = any("toolUse" in b or "toolResult" in b for _i, _j, _r, b in c.blocks())
    if uses_tools and not (c.body.get("toolConfig") or {}).get("tools"):
        raise validation("The toolConfig field must be defined when using toolUse and toolResult content blocks.")


def stop_sequences_non_empty(c: Ctx):
    # Converse InferenceConfiguration.stopSequences: "Array Members: Minimum number of 0 items.
    # Maximum number of 2500 items. Length Constraints: Minimum length of 1." (Converse API
    # reference; botocore's NonEmptyString). Coral's constraint message format.
    for s in c.inference.get("stopSequences") or []:
        if isinstance(s, str) and not s:
            raise validation("1 validation error detected: Value at 'inferenceConfig.stopSequences' failed to satisfy "
                             "constraint: Member must satisfy constraint: [Member must have length greater than or equal to 1]")


def sampling_ranges(c: Ctx):
    # Converse InferenceConfiguration: temperature and topP "Valid Range: Minimum value of 0.
    # Maximum value of 1." (Converse API reference; botocore min/max 0/1, but botocore only
    # enforces minimums). Coral's range message format.
    for name in ("temperature", "topP"):
        v = c.inference.get(name)
        if isinstance(v, (int, float)) and not 0 <= v <= 1:
            bound = "less than or equal to 1" if v > 1 else "greater than or equal to 0"
            raise validation(f"1 validation error detected: Value '{v}' at 'inferenceConfig.{name}' failed to satisfy "
                             f"constraint: Member must have value {bound}")


def temperature_top_p_exclusive(c: Ctx):
    # Claude 4.5 and later: "`temperature` and `top_p` cannot both be specified for this model.
    # Please use only one." (BerriAI/litellm#15070, aws-samples/bedrock-access-gateway#191 and
    # PR#238, mem0ai/mem0#3891; Bedrock Anthropic Messages parameters page).
    if refuses_temperature_with_top_p(c.model_id) and "temperature" in c.inference and "topP" in c.inference:
        raise model_error("`temperature` and `top_p` cannot both be specified for this model. Please use only one.")


METADATA = re.compile(r"[a-zA-Z0-9\s:_@$#=/+,\-.]*")


def request_metadata_valid(c: Ctx):
    # Converse requestMetadata: "Map Entries: Maximum number of 16 items. Key Length Constraints:
    # 1-256, Key Pattern: [a-zA-Z0-9\s:_@$#=/+,-.]{1,256}; Value Length Constraints: 0-256, Value
    # Pattern: [a-zA-Z0-9\s:_@$#=/+,-.]{0,256}" (Converse API reference; botocore model). Message
    # as reported in agentgateway/agentgateway#1739.
    md = c.body.get("requestMetadata")
    if not isinstance(md, dict):
        return
    if len(md) > 16:
        raise validation("1 validation error detected: Value at 'requestMetadata' failed to satisfy constraint: "
                         "Member must have length less than or equal to 16")
    for k, v in md.items():
        if not (1 <= len(k) <= 256 and METADATA.fullmatch(k)):
            raise validation("1 validation error detected: Value at 'requestMetadata' failed to satisfy constraint: "
                             "Map keys must satisfy constraint: [Member must have length less than or equal to 256, "
                             "Member must have length greater than or equal to 1, Member must satisfy regular expression "
                             "pattern: [a-zA-Z0-9\\s:_@$#=/+,-.]{1,256}]")
        if not isinstance(v, str) or not (len(v) <= 256 and METADATA.fullmatch(v)):
            raise validation("1 validation error detected: Value at 'requestMetadata' failed to satisfy constraint: "
                             "Map value must satisfy constraint: [Member must have length less than or equal to 256, "
                             "Member must have length greater than or equal to 0, Member must satisfy regular expression "
                             "pattern: [a-zA-Z0-9\\s:_@$#=/+,-.]{0,256}]")


SERVICE_TIERS = ("priority", "default", "flex", "reserved")


def service_tier_valid(c: Ctx):
    # Converse serviceTier.type: "Valid Values: priority | default | flex | reserved" (Bedrock API
    # reference, ServiceTier data type). Coral's enum message format.
    st = c.body.get("serviceTier")
    if isinstance(st, dict) and st.get("type") not in SERVICE_TIERS:
        raise validation(f"1 validation error detected: Value '{st.get('type')}' at 'serviceTier.type' failed to "
                         f"satisfy constraint: Member must satisfy enum value set: [{', '.join(SERVICE_TIERS)}]")


def cache_points_supported(c: Ctx):
    # A cachePoint on a model without prompt caching: "You invoked an unsupported model or your
    # request did not allow prompt caching. See the documentation for more information."
    # Reported as 403 AccessDeniedException (BerriAI/litellm PR#39210 "returns 403",
    # strands-agents/harness-sdk PR#1807 "AccessDeniedException"; zeroclaw PR#7315 saw it as a
    # 400). Models: supports_prompt_caching(); Nova does not cache tool definitions.
    where = []
    where += ["system" for s in c.body.get("system") or [] if isinstance(s, dict) and "cachePoint" in s]
    where += ["messages" for _i, _j, _r, b in c.blocks() if "cachePoint" in b]
    tools = [t for t in (c.body.get("toolConfig") or {}).get("tools") or [] if isinstance(t, dict) and "cachePoint" in t]
    ok = supports_prompt_caching(c.model_id)
    if (where and not ok) or (tools and not caches_tools(c.model_id)):
        raise Refusal(403, "AccessDeniedException", "You invoked an unsupported model or your request did not allow "
                      "prompt caching. See the documentation for more information.")


def reasoning_signed(c: Ctx):
    # Claude: every thinking block sent back carries its signature: "messages.1.content.0.
    # thinking.signature: Field required" (run-llama/llama_index#20851, earendil-works/pi#2063,
    # openclaw PR#10783). An empty signature is refused the same way (can1357/oh-my-pi PR#10486).
    if not c.claude:
        return
    for i, j, _r, b in c.blocks():
        rc = b.get("reasoningContent")
        if isinstance(rc, dict) and "reasoningText" in rc:
            if not (rc["reasoningText"] or {}).get("signature"):
                raise model_error(f"messages.{i}.content.{j}.thinking.signature: Field required")


def thinking_budget(c: Ctx):
    # Claude extended thinking: "thinking.enabled.budget_tokens: Input should be greater than or
    # equal to 1024" (danny-avila/LibreChat#8346) and budget_tokens < max_tokens (Anthropic
    # extended-thinking docs, "max tokens and context window size"; griffinwork40/agent-afk#951).
    if not c.thinking:
        return
    budget = c.body["additionalModelRequestFields"]["thinking"].get("budget_tokens")
    if not isinstance(budget, int) or budget < 1024:
        raise model_error("thinking.enabled.budget_tokens: Input should be greater than or equal to 1024")
    mx = c.inference.get("maxTokens")
    if isinstance(mx, int) and mx <= budget:
        raise model_error("`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our documentation at "
                          f"{CLAUDE_THINKING_DOCS}#max-tokens-and-context-window-size")


def thinking_sampling(c: Ctx):
    # Claude extended thinking "isn't compatible with temperature, top_p, or top_k modifications"
    # (Anthropic extended-thinking docs, important considerations): "`temperature` may only be set
    # to 1 when thinking is enabled." (MartialBE/one-hub#529); top_p must be >= 0.95 or unset
    # (SEMOSS/Semoss PR#1655).
    if not c.thinking_any:
        return
    t, p = c.inference.get("temperature"), c.inference.get("topP")
    if t is not None and t != 1:
        raise model_error("`temperature` may only be set to 1 when thinking is enabled. Please consult our documentation at "
                          f"{CLAUDE_THINKING_DOCS}#important-considerations-when-using-extended-thinking")
    if p is not None and p < 0.95:
        raise model_error("`top_p` must be greater than or equal to 0.95 or unset when thinking is enabled. Please consult "
                          f"our documentation at {CLAUDE_THINKING_DOCS}#important-considerations-when-using-extended-thinking")


def thinking_no_forced_tool(c: Ctx):
    # "Thinking may not be enabled when tool_choice forces tool use." (mastra-ai/mastra#7507,
    # can1357/oh-my-pi#341 on Bedrock). Converse toolChoice `any` or `tool` force a tool.
    if not c.thinking_any:
        return
    choice = (c.body.get("toolConfig") or {}).get("toolChoice") or {}
    if "any" in choice or "tool" in choice:
        raise model_error("Thinking may not be enabled when tool_choice forces tool use.")


def thinking_final_assistant_starts_with_reasoning(c: Ctx):
    # Claude with thinking on: the final assistant turn (the one before the lastmost tool_result)
    # must start with its thinking block. Exact text from anomalyco/opencode#3077 (Bedrock via
    # LiteLLM), deepset-ai/haystack-core-integrations#2146, Kilo-Org/kilocode#5219.
    if not c.thinking:
        return
    msgs = c.messages
    for i in range(len(msgs) - 1, -1, -1):
        if msgs[i].get("role") != "assistant":
            continue
        content = [b for b in msgs[i].get("content") or [] if isinstance(b, dict)]
        has_tool_use = any("toolUse" in b for b in content)
        answered = i + 1 < len(msgs) and any("toolResult" in b for b in msgs[i + 1].get("content") or [] if isinstance(b, dict))
        if has_tool_use and answered and content and "reasoningContent" not in content[0]:
            raise model_error(
                f"messages.{i}.content.0.type: Expected `thinking` or `redacted_thinking`, but found `{block_type(content[0])}`. "
                "When `thinking` is enabled, a final `assistant` message must start with a thinking block (preceeding the "
                "lastmost set of `tool_use` and `tool_result` blocks). We recommend you include thinking blocks from "
                "previous turns. To avoid this requirement, disable `thinking`. Please consult our documentation at "
                f"{CLAUDE_THINKING_DOCS}")
        return


def claude_thinking_type(c: Ctx):
    # [AWS-ADAPT]: adaptive-only models refuse `enabled` (exact text from
    # anthropics/claude-code-action#1265, Bedrock, Opus 4.7); Mythos 5, Fable 5, Opus 4.7 and Mythos
    # Preview refuse `disabled` too; models before 4.6 "do not support adaptive thinking and
    # require thinking.type: enabled" (message synthetic, in Anthropic's validation style).
    if not c.claude:
        return
    key, kind = claude_key(c.model_id), thinking_object(c).get("type")
    if kind == "enabled" and key in ADAPTIVE_ONLY:
        raise model_error('"thinking.type.enabled" is not supported for this model. Use "thinking.type.adaptive" and '
                          '"output_config.effort" to control thinking behavior.')
    if kind == "disabled" and key in NO_DISABLE:
        raise model_error('"thinking.type.disabled" is not supported for this model. Use "thinking.type.adaptive" and '
                          '"output_config.effort" to control thinking behavior.')
    if kind == "adaptive" and key not in ADAPTIVE_ONLY | ADAPTIVE_TOO:
        raise model_error("thinking.type: Input tag 'adaptive' found using 'type' does not match any of the expected "
                          "tags: 'disabled', 'enabled'")


def claude_effort_level(c: Ctx):
    # [CL-EFFORT]: output_config.effort low|medium|high on the effort models; xhigh and max only where
    # listed; no effort parameter on the others (Haiku 4.5, Sonnet 4.5, older). [CL-O5]: Opus 5 refuses
    # thinking disabled with effort xhigh or max. Messages synthetic except where quoted.
    if not c.claude:
        return
    oc = (c.body.get("additionalModelRequestFields") or {}).get("output_config")
    if oc is None:
        return
    effort = oc.get("effort") if isinstance(oc, dict) else None
    key = claude_key(c.model_id)
    if key not in EFFORT_ANY:
        raise model_error("output_config.effort: Extra inputs are not permitted")
    ok = {"low", "medium", "high"} | ({"max"} if key in EFFORT_MAX else set()) | ({"xhigh"} if key in EFFORT_XHIGH else set())
    if effort not in ok:
        raise model_error(f"output_config.effort: Input should be {', '.join(sorted(ok))}; "
                          f"'{effort}' is not supported for this model")
    if key == "claude-opus-5" and thinking_object(c).get("type") == "disabled" and effort in ("xhigh", "max"):
        raise model_error("thinking.type \"disabled\" is only supported with effort \"high\" or below")


def claude_display(c: Ctx):
    # thinking.display is "summarized" or "omitted" (anthropics/claude-code#49268; BerriAI/litellm#25965).
    d = thinking_object(c).get("display") if c.claude else None
    if d is not None and d not in ("summarized", "omitted"):
        raise model_error("thinking.display: Input should be 'summarized' or 'omitted'")


def claude_betas(c: Ctx):
    # Bedrock answers "invalid beta flag" for a flag the model does not take: every flag Claude Code
    # sends on Opus 4.7 (anthropics/claude-code#49490, #49648, #49370); conservative here for every
    # adaptive-only model.
    betas = (c.body.get("additionalModelRequestFields") or {}).get("anthropic_beta")
    if c.claude and betas and claude_key(c.model_id) in ADAPTIVE_ONLY:
        raise validation("invalid beta flag")


def claude_fixed_sampling(c: Ctx):
    # Opus 4.7 and later: "`temperature` is deprecated for this model." (Comfy-Org/ComfyUI#13923);
    # [CARD-FABLE5]: temperature 1.0 or unset; top_p >= 0.99 and < 1.0 or unset; top_k not supported.
    if not c.claude or claude_key(c.model_id) not in FIXED_SAMPLING:
        return
    t, p = c.inference.get("temperature"), c.inference.get("topP")
    if t is not None and t != 1:
        raise model_error("`temperature` is deprecated for this model.")
    if p is not None and not 0.99 <= p < 1:
        raise model_error("`top_p` is deprecated for this model.")
    if "top_k" in (c.body.get("additionalModelRequestFields") or {}):
        raise model_error("`top_k` is deprecated for this model.")


def claude_no_prefill(c: Ctx):
    # Claude 4.6 and later: "This model does not support assistant message prefill. The conversation
    # must end with a user message." (strands-agents/sdk-python#1694, us.anthropic.claude-opus-4-6-v1).
    if c.claude and claude_key(c.model_id) in NO_PREFILL and c.messages and c.messages[-1].get("role") == "assistant":
        raise model_error("This model does not support assistant message prefill. The conversation must end with a "
                          "user message.")


REASONING_FIELDS = ("reasoning_effort", "reasoning_config", "reasoningConfig", "thinking")


def family_reasoning_fields(c: Ctx):
    # Non-Claude families, each documented field only: gpt-oss `reasoning_effort` low|medium|high
    # (pydantic-ai recording, 200); DeepSeek V3.x `reasoning_effort` (langchain-ai/langchain-aws
    # PR#1261); Nova 2 `reasoningConfig`. For DeepSeek R1, Kimi K2 Thinking, Qwen3 and GLM no source
    # documents a field: conservative, refused here so the filter is seen never to invent one
    # (message synthetic).
    mid = c.model_id.lower()
    extra = c.body.get("additionalModelRequestFields") or {}
    sent = [k for k in REASONING_FIELDS if k in extra]
    if c.claude or not sent:
        return
    if "gpt-oss" in mid:
        allowed, values = ("reasoning_effort",), ("low", "medium", "high")
    elif "deepseek.v3" in mid:
        allowed, values = ("reasoning_effort",), ("low", "medium", "high")
    elif "nova-2" in mid:
        allowed, values = ("reasoningConfig",), None
    elif any(f in mid for f in ("deepseek.r1", "kimi", "qwen", "glm")):
        allowed, values = (), None
    else:
        return
    for k in sent:
        if k not in allowed:
            raise validation(f"The model does not support the field {k} in additionalModelRequestFields")
        if values and extra[k] not in values:
            raise validation(f"{k}: '{extra[k]}' is not one of {', '.join(values)}")


RULES = [
    first_message_user,
    roles_alternate,
    content_not_empty,
    stop_sequences_non_empty,
    sampling_ranges,
    request_metadata_valid,
    service_tier_valid,
    tool_names_valid,
    tool_use_ids_valid,
    tool_results_unique,
    tool_config_for_tool_history,
    cache_points_supported,
    text_not_blank,
    prefill_no_trailing_whitespace,
    tool_results_match_calls,
    temperature_top_p_exclusive,
    reasoning_signed,
    thinking_budget,
    thinking_sampling,
    thinking_no_forced_tool,
    thinking_final_assistant_starts_with_reasoning,
    claude_thinking_type,
    claude_effort_level,
    claude_display,
    claude_betas,
    claude_fixed_sampling,
    claude_no_prefill,
    family_reasoning_fields,
]
RULE_NAMES = [r.__name__ for r in RULES]


def check(model_id: str, body: dict, lax=()):
    """The first rule Bedrock would refuse `body` (a parsed Converse request) with, or None."""
    lax = set(lax or ())
    unknown = lax - set(RULE_NAMES) - {"*"}
    if unknown:
        raise ValueError(f"unknown lax rule names: {sorted(unknown)}")
    if "*" in lax:
        return None
    c = Ctx(model_id, body)
    for rule in RULES:
        if rule.__name__ in lax:
            continue
        try:
            rule(c)
        except Refusal as r:
            r.rule = rule.__name__
            return r
    return None
