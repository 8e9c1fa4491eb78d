//! Model-family knowledge, in one place: how each family takes reasoning, and (as they are
//! added) which families support prompt caching, forced tools with thinking, sampling limits.
//! Front doors call these; none of them matches on model ids itself.

pub use super::catalog::Caching;
use super::catalog::{self, Caps, Display, Level};
use super::converse::{ContentBlock, ConverseRequest, Empty, Role, ToolChoice};
use super::fit;
pub use super::thinking::Effort;
use super::thinking::{self, Ask, Plan, Want};
use crate::error::ApiError;
use serde_json::{Map, Value};

/// How reasoning is controlled, as the front doors still ask (kept until every door reads
/// [`Caps`] through the shared pipeline).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReasoningFamily {
    /// Claude's `thinking` object.
    Claude,
    /// Reasons on its own, nothing to set ([`catalog::Reasoning::Implicit`]).
    AlwaysOn,
    /// A family with its own field or none (see [`catalog::Reasoning`]).
    Other,
}

/// The reasoning family of a model id, inference profile id or ARN.
pub fn reasoning_family(model_id: &str) -> ReasoningFamily {
    match catalog::lookup(model_id).reasoning {
        r if r.is_claude_thinking() => ReasoningFamily::Claude,
        catalog::Reasoning::Implicit => ReasoningFamily::AlwaysOn,
        _ => ReasoningFamily::Other,
    }
}

/// Output tokens added above the thinking budget when the client's `max_tokens` does not leave
/// room for an answer.
pub const ANSWER_TOKENS_ABOVE_BUDGET: u64 = 4096;

/// Bedrock's `maxTokens` is a 32-bit integer.
pub const MAX_TOKENS_LIMIT: u64 = i32::MAX as u64;

/// What a reasoning request adds to a Converse request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReasoningSetting {
    /// Entries for `additionalModelRequestFields`.
    pub fields: Map<String, Value>,
    /// Tokens kept for thinking: the answer needs `maxTokens` above it (see
    /// [`super::build::inference_config`]).
    pub budget: Option<u64>,
    /// Log lines for what was changed from the client's request.
    pub notes: Vec<String>,
}

impl From<Plan> for ReasoningSetting {
    fn from(p: Plan) -> Self {
        ReasoningSetting {
            fields: p.fields,
            budget: p.budget,
            notes: p.notes,
        }
    }
}

/// The request fields for a reasoning effort on a model ([`thinking::plan`]). `None` when the
/// family has no reasoning control (the front door refuses or drops the parameter).
pub fn reasoning_for(caps: &Caps, ask: &Ask, display: Display) -> Option<ReasoningSetting> {
    thinking::plan(caps, ask, display).ok().map(ReasoningSetting::from)
}

/// [`reasoning_for`] by model id with the catalog's capabilities and summarized display.
pub fn reasoning_for_effort(model_id: &str, effort: Effort) -> Option<ReasoningSetting> {
    reasoning_for(&catalog::lookup(model_id), &Ask::effort(effort), Display::Summarized)
}

/// A client's own Claude-style `thinking` object (chat's `thinking` extension): read into an
/// [`Ask`] and planned like every other request, so a budget below the minimum, `enabled` on
/// an adaptive-only model or `adaptive` on a budget-only one never reach Bedrock as a 400.
/// Anything that is not a thinking object Anthropic defines is passed as it is.
pub fn thinking_passthrough(thinking: Value) -> ReasoningSetting {
    thinking_object(&catalog::UNKNOWN, &thinking, Display::Summarized)
}

/// [`thinking_passthrough`] for a model with `caps`.
pub fn thinking_object(caps: &Caps, thinking: &Value, display: Display) -> ReasoningSetting {
    match read_thinking(thinking, None) {
        Some(ask) if caps.reasoning.is_claude_thinking() => reasoning_for(caps, &ask, display).unwrap_or_default(),
        _ => {
            let budget = thinking.get("budget_tokens").and_then(Value::as_u64);
            let mut fields = Map::new();
            fields.insert("thinking".into(), thinking.clone());
            ReasoningSetting {
                fields,
                budget,
                notes: Vec::new(),
            }
        }
    }
}

/// An Anthropic `thinking` object (and `output_config.effort`) as an [`Ask`]; `None` when it is
/// not one (no or unknown `type`, a budget that is not an integer).
pub fn read_thinking(thinking: &Value, effort: Option<Level>) -> Option<Ask> {
    let want = match thinking.get("type")?.as_str()? {
        "disabled" => Want::Off,
        "adaptive" => effort.map_or(Want::Adaptive, Want::Level),
        "enabled" => Want::Budget(thinking.get("budget_tokens")?.as_u64()?),
        _ => return None,
    };
    let display = match thinking.get("display") {
        None | Some(Value::Null) => None,
        Some(d) => Some(Display::parse(d.as_str()?)?),
    };
    Some(Ask { want, effort, display })
}

fn object<const N: usize>(pairs: [(&str, Value); N]) -> Value {
    Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

/// The name of the tool forced for a JSON answer when the client's schema has no name.
pub const JSON_TOOL_NAME: &str = "json_response";

/// A structured (JSON) answer the client asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonAnswer {
    /// A valid tool name ([`super::build::is_valid_tool_name`]).
    pub name: String,
    pub description: String,
    pub schema: Value,
    /// The client asked for strict schema adherence (OpenAI `json_schema.strict`).
    pub strict: bool,
}

/// Ask for a structured answer, the one place that decides how. A strict schema on a model with
/// native structured output ([`native_structured_output`]) becomes Converse's
/// `outputConfig.textFormat` (the answer is the message text; returns `None`). Otherwise, for
/// every family: a forced tool whose input schema is the answer's schema; its input becomes the
/// message content. Returns that tool's name (the front door's reply unwraps it). `param` names
/// the client's format field in the 400 when the name collides with a tool.
///
/// Native output is used only for `strict` schemas: Bedrock refuses schema features outside its
/// supported subset there, which OpenAI's strict mode restricts the same way; a non-strict schema
/// keeps the forced tool, which takes any schema.
pub fn structured_output(
    req: &mut ConverseRequest,
    answer: JsonAnswer,
    param: &str,
) -> Result<Option<String>, ApiError> {
    if answer.strict && native_structured_output(&req.model_id) {
        let schema = serde_json::to_string(&answer.schema)
            .map_err(|e| ApiError::invalid_param(param, format!("the schema cannot be encoded: {e}")))?;
        let json_schema = object([
            ("description", Value::String(answer.description)),
            ("name", Value::String(answer.name)),
            ("schema", Value::String(schema)),
        ]);
        req.output_config = Some(object([(
            "textFormat",
            object([
                ("structure", object([("jsonSchema", json_schema)])),
                ("type", Value::String("json_schema".into())),
            ]),
        )]));
        return Ok(None);
    }
    super::build::answer_tool(&mut req.tool_config, answer, param).map(Some)
}

/// How the rules may change what the client asked for.
#[derive(Debug, Clone, Copy, Default)]
pub struct RuleOptions<'a> {
    /// The structured-answer tool ([`structured_output`]), if any.
    pub json_tool: Option<&'a str>,
    /// `unsupported_params: "drop"`: relax what Bedrock would refuse instead of answering 400.
    pub relax: bool,
}

/// True when the request turns Claude-style extended thinking on.
pub fn thinking_on(req: &ConverseRequest) -> bool {
    req.additional_model_request_fields
        .get("thinking")
        .is_some_and(|t| t.get("type").and_then(Value::as_str) != Some("disabled"))
}

/// The model rules, applied once to a built request by every front door: where Bedrock would
/// refuse a combination, change the request or answer a 400 naming the parameter. (Request
/// repairs go here too.)
///
/// - Extended thinking with the structured-answer tool forced (Bedrock: "Thinking may not be
///   enabled when tool_choice forces tool use"): the tool is offered with `auto` instead (its
///   description asks for the JSON answer). A client's own forced choice is left to
///   [`thinking_floor`], which turns thinking off for that request.
pub fn apply_rules(req: &mut ConverseRequest, opts: &RuleOptions<'_>) -> Result<(), ApiError> {
    if thinking_on(req) && opts.json_tool.is_some() {
        if let Some(tc) = req.tool_config.as_mut() {
            if matches!(&tc.tool_choice, Some(ToolChoice::Tool { name }) if Some(name.as_str()) == opts.json_tool) {
                tc.tool_choice = Some(ToolChoice::Auto(Empty {}));
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Per-model support, read from the catalog

/// Which parts of a request `model_id` can cache ([`catalog::Caps::caching`]).
pub fn prompt_caching(model_id: &str) -> Caching {
    catalog::lookup(model_id).caching
}

/// The model takes `temperature` or `top_p`, not both ([`catalog::Sampling::NotBoth`]; the
/// fixed-sampling models refuse both anyway).
pub fn refuses_temperature_with_top_p(model_id: &str) -> bool {
    catalog::lookup(model_id).sampling != catalog::Sampling::Free
}

/// Converse native structured output and strict tools ([`catalog::Caps`]).
pub fn native_structured_output(model_id: &str) -> bool {
    catalog::lookup(model_id).native_structured_output
}

/// Why [`thinking_floor`] turned thinking off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThinkingOff {
    /// `tool_choice` forces a tool (`required` or a named function).
    ForcedTool,
    /// The final assistant turn called tools but does not start with its signed reasoning block.
    UnsignedToolTurn,
    /// The model cannot stop thinking: the forced tool was offered with `auto` instead.
    ChoiceRelaxed,
}

impl ThinkingOff {
    pub fn as_str(self) -> &'static str {
        match self {
            ThinkingOff::ForcedTool => "tool_choice forces a tool",
            ThinkingOff::UnsignedToolTurn => {
                "the final assistant turn has tool calls but no signed reasoning block (thinking_blocks)"
            }
            ThinkingOff::ChoiceRelaxed => "the model cannot stop thinking: tool_choice relaxed to auto",
        }
    }
}

/// The index of the final assistant turn that called tools answered by the next message, when
/// it does not start with a reasoning block: Bedrock (Claude) refuses such a turn while thinking
/// is on ("a final `assistant` message must start with a thinking block").
pub fn unsigned_tool_turn(req: &ConverseRequest) -> Option<usize> {
    let i = req.messages.iter().rposition(|m| m.role == Role::Assistant)?;
    let content = &req.messages.get(i)?.content;
    let calls = content.iter().any(|b| matches!(b, ContentBlock::ToolUse(_)));
    let answered = req
        .messages
        .get(i + 1)
        .is_some_and(|m| m.content.iter().any(|b| matches!(b, ContentBlock::ToolResult(_))));
    let starts_signed = matches!(content.first(), Some(ContentBlock::ReasoningContent(_)));
    (calls && answered && !starts_signed).then_some(i)
}

/// The floor for Claude's two thinking rules (LiteLLM's): with thinking on, a forced tool or a
/// final tool-calling assistant turn without its signed reasoning block turns thinking off for
/// this one request (instead of a 400 from Bedrock), as the model allows ([`fit::thinking_off`]).
/// On a model that cannot stop thinking, a forced tool is offered with `auto` instead. Run it
/// after any replay of remembered reasoning blocks; the caller logs the reason.
pub fn thinking_floor(req: &mut ConverseRequest, caps: &Caps) -> Option<ThinkingOff> {
    if !fit::thinking_on(req, caps) {
        return None;
    }
    let forced = req
        .tool_config
        .as_ref()
        .is_some_and(|tc| matches!(tc.tool_choice, Some(ToolChoice::Any(_)) | Some(ToolChoice::Tool { .. })));
    let why = if forced {
        ThinkingOff::ForcedTool
    } else if unsigned_tool_turn(req).is_some() {
        ThinkingOff::UnsignedToolTurn
    } else {
        return None;
    };
    if fit::thinking_off(req, caps) {
        return Some(why);
    }
    if let (ThinkingOff::ForcedTool, Some(tc)) = (why, req.tool_config.as_mut()) {
        tc.tool_choice = Some(ToolChoice::Auto(Empty {}));
        return Some(ThinkingOff::ChoiceRelaxed);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bedrock::converse::{ToolChoice, ToolConfig};

    #[test]
    fn effort_per_family() {
        let claude = reasoning_for_effort("us.anthropic.claude-sonnet-4-20250514-v1:0", Effort::Medium).unwrap();
        assert_eq!(claude.budget, Some(2048));
        assert_eq!(claude.fields["thinking"]["budget_tokens"], 2048);
        let oss = reasoning_for_effort("openai.gpt-oss-120b-1:0", Effort::Minimal).unwrap();
        assert_eq!(oss.fields["reasoning_effort"], "low");
        assert_eq!(oss.budget, None);
        let nova = reasoning_for_effort("amazon.nova-2-lite-v1:0", Effort::High).unwrap();
        assert_eq!(nova.fields["reasoningConfig"]["maxReasoningEffort"], "high");
        assert!(reasoning_for_effort("us.deepseek.r1-v1:0", Effort::High)
            .unwrap()
            .fields
            .is_empty());
        assert!(reasoning_for_effort("mistral.large", Effort::High).is_none());
        assert!(reasoning_for_effort("mistral.large", Effort::None).is_some());
    }

    #[test]
    fn client_thinking_objects_are_planned_for_the_model() {
        let caps = catalog::lookup("us.anthropic.claude-opus-4-7");
        let t = serde_json::json!({"type": "enabled", "budget_tokens": 3000});
        let s = thinking_object(&caps, &t, Display::Summarized);
        assert_eq!(s.fields["thinking"]["type"], "adaptive");
        assert_eq!(s.fields["output_config"]["effort"], "medium");
        // Not a thinking object Anthropic defines: passed as it is.
        let odd = serde_json::json!({"type": "enabled", "budget_tokens": "many"});
        assert_eq!(
            thinking_object(&caps, &odd, Display::Summarized).fields["thinking"],
            odd
        );
        assert_eq!(
            read_thinking(
                &serde_json::json!({"type": "adaptive", "display": "omitted"}),
                Some(Level::Low)
            ),
            Some(Ask {
                want: Want::Level(Level::Low),
                effort: Some(Level::Low),
                display: Some(Display::Omitted)
            })
        );
    }

    fn forced(thinking: &str, choice: ToolChoice) -> ConverseRequest {
        let mut r = ConverseRequest {
            tool_config: Some(ToolConfig {
                tool_choice: Some(choice),
                tools: Vec::new(),
            }),
            ..Default::default()
        };
        r.additional_model_request_fields
            .insert("thinking".into(), serde_json::json!({"type": thinking}));
        r
    }

    #[test]
    fn forced_tool_while_thinking() {
        let any = || ToolChoice::Any(Empty {});
        let named = || ToolChoice::Tool {
            name: "json_response".into(),
        };
        // The structured-answer tool: offered with auto, thinking stays on.
        let mut r = forced("enabled", named());
        let opts = RuleOptions {
            json_tool: Some("json_response"),
            relax: false,
        };
        apply_rules(&mut r, &opts).unwrap();
        assert_eq!(
            r.tool_config.as_ref().unwrap().tool_choice,
            Some(ToolChoice::Auto(Empty {}))
        );
        assert_eq!(
            thinking_floor(&mut r, &catalog::lookup("anthropic.claude-sonnet-4-20250514-v1:0")),
            None
        );
        assert!(thinking_on(&r));
        // The client's own forced tool: kept, thinking off for this request.
        for choice in [any(), named()] {
            let mut r = forced("enabled", choice.clone());
            apply_rules(&mut r, &RuleOptions::default()).unwrap();
            assert_eq!(
                thinking_floor(&mut r, &catalog::lookup("anthropic.claude-sonnet-4-20250514-v1:0")),
                Some(ThinkingOff::ForcedTool)
            );
            assert!(!thinking_on(&r));
            assert_eq!(r.tool_config.unwrap().tool_choice, Some(choice));
        }
        let mut r = forced("disabled", any());
        apply_rules(&mut r, &RuleOptions::default()).unwrap();
        assert_eq!(
            thinking_floor(&mut r, &catalog::lookup("anthropic.claude-sonnet-4-20250514-v1:0")),
            None
        );
        assert_eq!(r.tool_config.unwrap().tool_choice, Some(any()));
    }

    #[test]
    fn versions_caching_and_structured_output() {
        assert_eq!(
            catalog::claude_version(&catalog::normalize("us.anthropic.claude-sonnet-4-5-20250929-v1:0")),
            Some((4, 5))
        );
        assert_eq!(
            catalog::claude_version(&catalog::normalize("anthropic.claude-3-7-sonnet-20250219-v1:0")),
            Some((3, 7))
        );
        assert_eq!(
            catalog::claude_version(&catalog::normalize("us.anthropic.claude-sonnet-4-20250514-v1:0")),
            Some((4, 0))
        );
        assert_eq!(
            catalog::claude_version(&catalog::normalize("anthropic.claude-3-haiku-20240307-v1:0")),
            Some((3, 0))
        );
        assert_eq!(
            catalog::claude_version(&catalog::normalize("meta.llama3-8b-instruct-v1:0")),
            None
        );
        assert_eq!(
            prompt_caching("us.anthropic.claude-sonnet-4-20250514-v1:0"),
            Caching::Full
        );
        assert_eq!(
            prompt_caching("anthropic.claude-3-5-haiku-20241022-v1:0"),
            Caching::Full
        );
        assert_eq!(
            prompt_caching("anthropic.claude-3-5-sonnet-20240620-v1:0"),
            Caching::None
        );
        assert_eq!(prompt_caching("amazon.nova-pro-v1:0"), Caching::NoTools);
        assert_eq!(prompt_caching("meta.llama3-8b-instruct-v1:0"), Caching::None);
        assert_eq!(
            prompt_caching("arn:aws:bedrock:us-east-1:1:application-inference-profile/abc"),
            Caching::Full
        );
        assert!(refuses_temperature_with_top_p(
            "global.anthropic.claude-haiku-4-5-20251001-v1:0"
        ));
        assert!(!refuses_temperature_with_top_p(
            "anthropic.claude-opus-4-1-20250805-v1:0"
        ));
        assert!(native_structured_output("anthropic.claude-opus-4-6-v1"));
        assert!(!native_structured_output("meta.llama3-8b-instruct-v1:0"));
    }

    fn tool_loop(first: Vec<ContentBlock>) -> ConverseRequest {
        use crate::bedrock::converse::{Message, ToolResult, ToolUse};
        let mut r = forced("enabled", ToolChoice::Auto(Empty {}));
        let call = ToolUse {
            input: serde_json::json!({}),
            name: "f".into(),
            tool_use_id: "t1".into(),
        };
        let result = ToolResult {
            content: Vec::new(),
            status: None,
            tool_use_id: "t1".into(),
        };
        let mut assistant = first;
        assistant.push(ContentBlock::ToolUse(call));
        r.messages = vec![
            Message {
                role: Role::User,
                content: vec![ContentBlock::Text("hi".into())],
            },
            Message {
                role: Role::Assistant,
                content: assistant,
            },
            Message {
                role: Role::User,
                content: vec![ContentBlock::ToolResult(result)],
            },
        ];
        r
    }

    #[test]
    fn unsigned_tool_turn_turns_thinking_off() {
        let mut r = tool_loop(vec![ContentBlock::Text("let me look".into())]);
        assert_eq!(unsigned_tool_turn(&r), Some(1));
        assert_eq!(
            thinking_floor(&mut r, &catalog::lookup("anthropic.claude-sonnet-4-20250514-v1:0")),
            Some(ThinkingOff::UnsignedToolTurn)
        );
        assert!(!thinking_on(&r));
        let mut r = tool_loop(vec![]);
        assert_eq!(
            thinking_floor(&mut r, &catalog::lookup("anthropic.claude-sonnet-4-20250514-v1:0")),
            Some(ThinkingOff::UnsignedToolTurn)
        );
    }
}
