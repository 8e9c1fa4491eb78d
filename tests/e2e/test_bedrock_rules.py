"""Each Bedrock request rule of bedrock_rules.py, accepted and refused (no Envoy, milliseconds)."""

import json

import pytest

import bedrock_rules as br
from sim import Sim

CLAUDE = "us.anthropic.claude-sonnet-4-20250514-v1:0"
CLAUDE45 = "global.anthropic.claude-sonnet-4-5-20250929-v1:0"
CLAUDE37 = "eu.anthropic.claude-3-7-sonnet-20250219-v1:0"
LLAMA = "meta.llama3-8b-instruct-v1:0"
NOVA = "apac.amazon.nova-pro-v1:0"
TOOLS = {"tools": [{"toolSpec": {"name": "get_weather", "inputSchema": {"json": {"type": "object"}}}}]}
THINK = {"thinking": {"type": "enabled", "budget_tokens": 2048}}
SIGNED = {"reasoningContent": {"reasoningText": {"text": "hmm", "signature": "c2ln"}}}
OPUS47 = "us.anthropic.claude-opus-4-7"
OPUS46 = "global.anthropic.claude-opus-4-6-v1"
OPUS5 = "anthropic.claude-opus-5"
FABLE5 = "global.anthropic.claude-fable-5"
ADAPTIVE = {"thinking": {"type": "adaptive", "display": "summarized"}}


def effort(level, **thinking):
    return {"output_config": {"effort": level}, **({"thinking": thinking} if thinking else {})}


def user(*blocks):
    return {"role": "user", "content": list(blocks) or [{"text": "hi"}]}


def asst(*blocks):
    return {"role": "assistant", "content": list(blocks) or [{"text": "hello"}]}


def call(tid="t1", name="get_weather"):
    return {"toolUse": {"toolUseId": tid, "name": name, "input": {}}}


def result(tid="t1", text="sunny"):
    return {"toolResult": {"toolUseId": tid, "content": [{"text": text}]}}


def body(*messages, **kw):
    return dict(kw, messages=list(messages))


def tool_loop(first_assistant_blocks, **kw):
    return body(user(), asst(*first_assistant_blocks), user(result()), toolConfig=TOOLS, **kw)


# (rule, model, accepted body, refused body, words in the refusal message)
CASES = [
    ("first_message_user", CLAUDE, body(user()), body(asst(), user()), "must start with a user message"),
    ("roles_alternate", CLAUDE, body(user(), asst(), user()), body(user(), user()), "alternate between user and assistant"),
    ("content_not_empty", CLAUDE, body(user(), asst(), user()), body(user(), {"role": "assistant", "content": []}, user()),
     "content field in the Message object at messages.1 is empty"),
    ("text_not_blank", CLAUDE, body(user(), asst({"text": "ok"}, call()), user(result()), toolConfig=TOOLS),
     body(user(), asst({"text": "\n\n"}, call()), user(result()), toolConfig=TOOLS),
     "text content blocks must contain non-whitespace text"),
    ("text_not_blank", CLAUDE, body(user(), asst(call()), user(result(text="42")), toolConfig=TOOLS),
     body(user(), asst(call()), user(result(text="")), toolConfig=TOOLS), "is blank"),
    ("text_not_blank", LLAMA, body(user({"text": "x"})), body(user({"text": "  "})), "messages.0.content.0 is blank"),
    ("text_not_blank", CLAUDE, body(user(), system=[{"text": "be nice"}]), body(user(), system=[{"text": " "}]),
     "system: text content blocks must contain non-whitespace text"),
    ("prefill_no_trailing_whitespace", CLAUDE, body(user(), asst({"text": "The answer is"})),
     body(user(), asst({"text": "The answer is "})), "final assistant content cannot end with trailing whitespace"),
    ("tool_names_valid", CLAUDE, body(user(), toolConfig=TOOLS),
     body(user(), toolConfig={"tools": [{"toolSpec": {"name": "get.weather", "inputSchema": {"json": {}}}}]}),
     "regular expression pattern: [a-zA-Z0-9_-]+"),
    ("tool_names_valid", CLAUDE, body(user(), toolConfig=TOOLS),
     body(user(), toolConfig={"tools": [{"toolSpec": {"name": "x" * 65, "inputSchema": {"json": {}}}}]}), "pattern"),
    ("tool_use_ids_valid", CLAUDE, body(user(), asst(call("call_abc-1")), user(result("call_abc-1")), toolConfig=TOOLS),
     body(user(), asst(call("functions.get_weather:0")), user(result("functions.get_weather:0")), toolConfig=TOOLS),
     "tool_use.id: String should match pattern '^[a-zA-Z0-9_-]+$'"),
    ("tool_use_ids_valid", NOVA, body(user(), asst(call("functions.get_weather:0")), user(result("functions.get_weather:0")), toolConfig=TOOLS),
     body(user(), asst(call("auth0|abc")), user(result("auth0|abc")), toolConfig=TOOLS), "[a-zA-Z0-9_.:-]+"),
    ("tool_use_ids_valid", CLAUDE, body(user(), asst(call("a" * 64)), user(result("a" * 64)), toolConfig=TOOLS),
     body(user(), asst(call("a" * 65)), user(result("a" * 65)), toolConfig=TOOLS), "failed to satisfy constraint"),
    ("tool_results_unique", CLAUDE, body(user(), asst(call("a"), call("b")), user(result("a"), result("b")), toolConfig=TOOLS),
     body(user(), asst(call("a")), user(result("a"), result("a")), toolConfig=TOOLS),
     "The toolResult blocks at messages.2.content contain duplicate Ids: a"),
    ("tool_results_unique", CLAUDE, body(user(), asst(call("a"), call("b")), user(result("a"), result("b")), toolConfig=TOOLS),
     body(user(), asst(call("a"), call("a")), user(result("a")), toolConfig=TOOLS), "toolUse blocks at messages.1.content contain duplicate Ids"),
    ("tool_results_match_calls", CLAUDE, body(user(), asst(call("a")), user(result("a")), toolConfig=TOOLS),
     body(user(), asst(call("a")), user(result("b")), toolConfig=TOOLS), "unexpected `tool_use_id` found in `tool_result` blocks: b"),
    ("tool_results_match_calls", CLAUDE, body(user(), asst(call("a")), user(result("a")), asst(), user(), toolConfig=TOOLS),
     body(user(), asst(call("a")), user({"text": "never mind"}), toolConfig=TOOLS), "`tool_use` ids were found without `tool_result`"),
    ("tool_config_for_tool_history", CLAUDE, body(user(), asst(call()), user(result()), toolConfig=TOOLS),
     body(user(), asst(call()), user(result())), "The toolConfig field must be defined"),
    ("stop_sequences_non_empty", CLAUDE, body(user(), inferenceConfig={"stopSequences": ["END"]}),
     body(user(), inferenceConfig={"stopSequences": [""]}), "length greater than or equal to 1"),
    ("sampling_ranges", CLAUDE, body(user(), inferenceConfig={"temperature": 1, "topP": 0}),
     body(user(), inferenceConfig={"temperature": 1.5}), "Value '1.5' at 'inferenceConfig.temperature'"),
    ("sampling_ranges", CLAUDE, body(user(), inferenceConfig={"topP": 1.0}),
     body(user(), inferenceConfig={"topP": 1.01}), "inferenceConfig.topP"),
    ("temperature_top_p_exclusive", CLAUDE45, body(user(), inferenceConfig={"temperature": 0.2}),
     body(user(), inferenceConfig={"temperature": 0.2, "topP": 0.9}), "cannot both be specified"),
    ("temperature_top_p_exclusive", CLAUDE, body(user(), inferenceConfig={"temperature": 0.2, "topP": 0.9}),
     body(user(), inferenceConfig={"temperature": 0.2, "topP": 0.9, "stopSequences": [""]}), "length greater"),
    ("request_metadata_valid", CLAUDE, body(user(), requestMetadata={"user": "auth0:abc user@x.com"}),
     body(user(), requestMetadata={"user": "auth0|abc"}), "Map value must satisfy constraint"),
    ("request_metadata_valid", CLAUDE, body(user(), requestMetadata={"k": "v" * 256}),
     body(user(), requestMetadata={"k{": "v"}), "Map keys must satisfy constraint"),
    ("request_metadata_valid", CLAUDE, body(user(), requestMetadata={str(i): "v" for i in range(16)}),
     body(user(), requestMetadata={str(i): "v" for i in range(17)}), "less than or equal to 16"),
    ("service_tier_valid", CLAUDE, body(user(), serviceTier={"type": "flex"}),
     body(user(), serviceTier={"type": "auto"}), "enum value set: [priority, default, flex, reserved]"),
    ("cache_points_supported", CLAUDE37, body(user({"text": "x"}, {"cachePoint": {"type": "default"}})),
     body(user({"text": "x"}, {"cachePoint": {"type": "default"}}), model_id_override=LLAMA), "did not allow prompt caching"),
    ("cache_points_supported", NOVA, body(user(), system=[{"text": "s"}, {"cachePoint": {"type": "default"}}]),
     body(user(), toolConfig={"tools": TOOLS["tools"] + [{"cachePoint": {"type": "default"}}]}), "did not allow prompt caching"),
    ("reasoning_signed", CLAUDE, body(user(), asst(SIGNED, {"text": "hi"}), user()),
     body(user(), asst({"reasoningContent": {"reasoningText": {"text": "hmm"}}}, {"text": "hi"}), user()),
     "messages.1.content.0.thinking.signature: Field required"),
    ("thinking_budget", CLAUDE, body(user(), inferenceConfig={"maxTokens": 4096}, additionalModelRequestFields=THINK),
     body(user(), additionalModelRequestFields={"thinking": {"type": "enabled", "budget_tokens": 1000}}),
     "greater than or equal to 1024"),
    ("thinking_budget", CLAUDE, body(user(), inferenceConfig={"maxTokens": 2049}, additionalModelRequestFields=THINK),
     body(user(), inferenceConfig={"maxTokens": 2048}, additionalModelRequestFields=THINK), "`max_tokens` must be greater than"),
    ("thinking_sampling", CLAUDE, body(user(), inferenceConfig={"temperature": 1, "topP": 0.95}, additionalModelRequestFields=THINK),
     body(user(), inferenceConfig={"temperature": 0.7}, additionalModelRequestFields=THINK), "`temperature` may only be set to 1"),
    ("thinking_sampling", CLAUDE, body(user(), inferenceConfig={"temperature": 0.7}),
     body(user(), inferenceConfig={"topP": 0.9}, additionalModelRequestFields=THINK), "`top_p` must be greater than or equal to 0.95"),
    ("thinking_no_forced_tool", CLAUDE, body(user(), toolConfig=dict(TOOLS, toolChoice={"auto": {}}), additionalModelRequestFields=THINK),
     body(user(), toolConfig=dict(TOOLS, toolChoice={"any": {}}), additionalModelRequestFields=THINK),
     "Thinking may not be enabled when tool_choice forces tool use."),
    ("thinking_no_forced_tool", CLAUDE, body(user(), toolConfig=dict(TOOLS, toolChoice={"any": {}})),
     body(user(), toolConfig=dict(TOOLS, toolChoice={"tool": {"name": "get_weather"}}), additionalModelRequestFields=THINK),
     "forces tool use"),
    ("thinking_final_assistant_starts_with_reasoning", CLAUDE, tool_loop([SIGNED, call()], additionalModelRequestFields=THINK),
     tool_loop([call()], additionalModelRequestFields=THINK),
     "messages.1.content.0.type: Expected `thinking` or `redacted_thinking`, but found `tool_use`. When `thinking` is enabled, "
     "a final `assistant` message must start with a thinking block (preceeding the lastmost set of `tool_use` and `tool_result` blocks)."),
    ("thinking_final_assistant_starts_with_reasoning", CLAUDE, tool_loop([{"text": "let me see"}, call()]),
     tool_loop([{"text": "let me see"}, call()], additionalModelRequestFields=THINK), "but found `text`"),
    # today's Claude models and the other reasoning families
    ("claude_thinking_type", OPUS47, body(user(), additionalModelRequestFields=ADAPTIVE),
     body(user(), inferenceConfig={"maxTokens": 4096}, additionalModelRequestFields=THINK),
     '"thinking.type.enabled" is not supported for this model. Use "thinking.type.adaptive"'),
    ("claude_thinking_type", OPUS46, body(user(), inferenceConfig={"maxTokens": 4096}, additionalModelRequestFields=THINK),
     body(user(), additionalModelRequestFields=ADAPTIVE, model_id_override=CLAUDE45), "Input tag 'adaptive'"),
    ("claude_thinking_type", OPUS5, body(user(), additionalModelRequestFields={"thinking": {"type": "disabled"}}),
     body(user(), additionalModelRequestFields={"thinking": {"type": "disabled"}}, model_id_override=FABLE5),
     '"thinking.type.disabled" is not supported'),
    ("claude_effort_level", OPUS47, body(user(), additionalModelRequestFields=effort("xhigh", type="adaptive")),
     body(user(), additionalModelRequestFields=effort("xhigh", type="adaptive"), model_id_override=OPUS46),
     "'xhigh' is not supported for this model"),
    ("claude_effort_level", OPUS46, body(user(), additionalModelRequestFields=effort("max")),
     body(user(), additionalModelRequestFields=effort("low"), model_id_override=CLAUDE45), "output_config.effort"),
    ("claude_effort_level", OPUS5, body(user(), additionalModelRequestFields=effort("high", type="disabled")),
     body(user(), additionalModelRequestFields=effort("max", type="disabled")), "only supported with effort"),
    ("claude_display", OPUS47, body(user(), additionalModelRequestFields={"thinking": {"type": "adaptive", "display": "omitted"}}),
     body(user(), additionalModelRequestFields={"thinking": {"type": "adaptive", "display": "full"}}), "'summarized' or 'omitted'"),
    ("claude_betas", OPUS46, body(user(), additionalModelRequestFields={"anthropic_beta": ["context-1m-2025-08-07"]}),
     body(user(), additionalModelRequestFields={"anthropic_beta": ["interleaved-thinking-2025-05-14"]}, model_id_override=OPUS47),
     "invalid beta flag"),
    ("claude_fixed_sampling", OPUS47, body(user(), inferenceConfig={"temperature": 1}),
     body(user(), inferenceConfig={"temperature": 0.3}), "`temperature` is deprecated for this model."),
    ("claude_fixed_sampling", OPUS46, body(user(), inferenceConfig={"topP": 0.5}),
     body(user(), inferenceConfig={"topP": 1.0}, model_id_override=FABLE5), "`top_p` is deprecated"),
    ("claude_fixed_sampling", CLAUDE45, body(user(), additionalModelRequestFields={"top_k": 5}),
     body(user(), additionalModelRequestFields={"top_k": 5}, model_id_override=OPUS47), "`top_k` is deprecated"),
    ("claude_no_prefill", CLAUDE45, body(user(), asst({"text": "The answer is"})),
     body(user(), asst({"text": "The answer is"}), model_id_override=OPUS46), "does not support assistant message prefill"),
    ("family_reasoning_fields", "openai.gpt-oss-120b-1:0", body(user(), additionalModelRequestFields={"reasoning_effort": "high"}),
     body(user(), additionalModelRequestFields={"reasoning_effort": "minimal"}), "is not one of low, medium, high"),
    ("family_reasoning_fields", "deepseek.v3-v1:0", body(user(), additionalModelRequestFields={"reasoning_effort": "high"}),
     body(user(), additionalModelRequestFields={"reasoning_effort": "high"}, model_id_override="moonshot.kimi-k2-thinking"),
     "does not support the field reasoning_effort"),
    ("family_reasoning_fields", "us.deepseek.r1-v1:0", body(user()),
     body(user(), additionalModelRequestFields={"reasoning_config": "high"}, model_id_override="qwen.qwen3-32b-v1:0"),
     "does not support the field reasoning_config"),
]


@pytest.mark.parametrize("rule,model,ok,bad,words", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_rule(rule, model, ok, bad, words):
    assert br.check(model, ok) is None
    bad = dict(bad)
    refused_model = bad.pop("model_id_override", model)
    r = br.check(refused_model, bad)
    assert r is not None, f"{rule} accepted {bad}"
    assert words in r.message
    if rule != "temperature_top_p_exclusive" or model == CLAUDE45:
        assert r.rule == rule
    assert r.status == (403 if rule == "cache_points_supported" else 400)
    # Laxness is explicit and per rule.
    assert br.check(refused_model, bad, lax=[r.rule]) is None or br.check(refused_model, bad, lax=[r.rule]).rule != r.rule
    assert br.check(refused_model, bad, lax=["*"]) is None


def test_every_rule_has_a_case_and_a_citation():
    covered = {c[0] for c in CASES}
    assert covered == set(br.RULE_NAMES)
    import inspect
    for rule in br.RULES:
        assert "#" in inspect.getsource(rule), f"{rule.__name__} cites no source"


def test_unknown_lax_name_is_an_error():
    with pytest.raises(ValueError):
        br.check(CLAUDE, body(user()), lax=["no_such_rule"])


@pytest.mark.parametrize("model,caching", [
    (CLAUDE, True), (CLAUDE45, True), (CLAUDE37, True), ("us.anthropic.claude-3-5-haiku-20241022-v1:0", True),
    ("us.anthropic.claude-opus-4-1-20250805-v1:0", True), ("us.anthropic.claude-haiku-4-5-20251001-v1:0", True),
    (NOVA, True), ("us.amazon.nova-micro-v1:0", True), ("us.anthropic.claude-3-5-sonnet-20240620-v1:0", False),
    ("anthropic.claude-3-haiku-20240307-v1:0", False), (LLAMA, False), ("us.deepseek.r1-v1:0", False),
    ("openai.gpt-oss-20b-1:0", False), ("cache.json", False),
])
def test_prompt_caching_models(model, caching):
    assert br.supports_prompt_caching(model) is caching


@pytest.mark.parametrize("model,refuses", [
    (CLAUDE45, True), ("us.anthropic.claude-haiku-4-5-20251001-v1:0", True), ("us.anthropic.claude-opus-4-6-v1", True),
    ("us.anthropic.claude-sonnet-5-0", True), (CLAUDE, False), ("us.anthropic.claude-opus-4-1-20250805-v1:0", False),
    (CLAUDE37, False), (LLAMA, False),
])
def test_temperature_top_p_models(model, refuses):
    assert br.refuses_temperature_with_top_p(model) is refuses


def test_sim_validate_uses_rules_and_scenario_flags():
    bad = json.dumps(body(asst(), user())).encode()
    assert Sim.validate("Converse", CLAUDE, bad)[3] == "first_message_user"
    assert Sim.validate("Converse", CLAUDE, bad, {"lax": ["first_message_user"]}) is None
    cached = json.dumps(body(user({"text": "x"}, {"cachePoint": {"type": "default"}}))).encode()
    assert Sim.validate("Converse", "cache.json", cached)[:2] == (403, "AccessDeniedException")
    assert Sim.validate("Converse", "cache.json", cached, {"as_model": CLAUDE37}) is None
    # botocore's shape check still runs first.
    assert Sim.validate("Converse", CLAUDE, b'{"messages": [{"role": "user"}]}')[3] == "botocore"


def _converse(port, model, payload):
    """POST a Converse body straight to the simulator (Bedrock API key auth): (status, headers, body)."""
    import urllib.error
    import urllib.parse
    import urllib.request
    req = urllib.request.Request(f"http://127.0.0.1:{port}/model/{urllib.parse.quote(model, safe='')}/converse",
                                 data=json.dumps(payload).encode(), method="POST",
                                 headers={"authorization": "Bearer bedrock-api-key-test", "content-type": "application/json"})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, dict(r.headers), json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), json.loads(e.read())


def test_simulator_is_strict_by_default_and_lax_only_when_a_scenario_says_so(sim):
    sim.reset()
    greeting_first = body(asst({"text": "Hi! How can I help?"}), user({"text": "Weather?"}))
    status, headers, out = _converse(sim.port, CLAUDE, greeting_first)
    assert status == 400 and headers["x-amzn-ErrorType"].startswith("ValidationException:"), headers
    assert out == {"message": "A conversation must start with a user message. Try again with a conversation that starts with a user message."}
    assert sim.requests[-1]["refused"]["rule"] == "first_message_user"
    # A scenario that only names the lax rule keeps the generated answer.
    sim.scenario(CLAUDE, lax=["first_message_user"])
    status, _, out = _converse(sim.port, CLAUDE, greeting_first)
    assert status == 200 and out["output"]["message"]["content"][-1] == {"text": "You said: Weather?"}
    assert "refused" not in sim.requests[-1]
    # A made-up model id is judged as the real model its scenario names.
    cached = body(user({"text": "x"}, {"cachePoint": {"type": "default"}}))
    sim.scenario("made.up", as_model=LLAMA)
    status, headers, _ = _converse(sim.port, "made.up", cached)
    assert status == 403 and headers["x-amzn-ErrorType"].startswith("AccessDeniedException:")
    sim.scenario("made.up", as_model=CLAUDE37)
    assert _converse(sim.port, "made.up", cached)[0] == 200
    sim.reset()
