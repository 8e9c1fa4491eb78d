//! Model-family knowledge, in one place: how each family takes reasoning, and (as they are
//! added) which families support prompt caching, forced tools with thinking, sampling limits.
//! Front doors call these; none of them matches on model ids itself.

use super::converse::{ConverseRequest, Empty, InputSchema, Tool, ToolChoice, ToolConfig, ToolSpec};
use crate::error::ApiError;
use serde_json::{Map, Value};

/// Model families whose reasoning is controlled differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReasoningFamily {
    /// `additionalModelRequestFields.thinking` with a token budget.
    Claude,
    /// `additionalModelRequestFields.reasoning_effort`.
    GptOss,
    /// `additionalModelRequestFields.reasoning_config`.
    Qwen,
    /// `additionalModelRequestFields.reasoningConfig.maxReasoningEffort` (Nova 2).
    Nova,
    /// Reasons on every request; nothing to set (DeepSeek R1).
    AlwaysOn,
    Other,
}

/// The reasoning family of a model id, inference profile id or ARN.
pub fn reasoning_family(model_id: &str) -> ReasoningFamily {
    let id = model_id.to_ascii_lowercase();
    if id.contains("anthropic.claude") {
        ReasoningFamily::Claude
    } else if id.contains("openai.gpt-oss") {
        ReasoningFamily::GptOss
    } else if id.contains("qwen.") {
        ReasoningFamily::Qwen
    } else if id.contains("amazon.nova-2") {
        ReasoningFamily::Nova
    } else if id.contains("deepseek.r1") {
        ReasoningFamily::AlwaysOn
    } else {
        ReasoningFamily::Other
    }
}

/// Reasoning budgets (Claude `thinking.budget_tokens`) for an OpenAI-style effort. Same values
/// as LiteLLM, so applications moving from it behave the same; 1024 is Anthropic's minimum.
pub fn thinking_budget(effort: &str) -> Option<u64> {
    match effort {
        "minimal" | "low" => Some(1024),
        "medium" => Some(2048),
        "high" => Some(4096),
        _ => None,
    }
}

/// Output tokens added above the thinking budget when the client's `max_tokens` does not leave
/// room for an answer.
pub const ANSWER_TOKENS_ABOVE_BUDGET: u64 = 4096;

/// Bedrock's `maxTokens` is a 32-bit integer.
pub const MAX_TOKENS_LIMIT: u64 = i32::MAX as u64;

/// An OpenAI-style reasoning effort (`reasoning_effort`, Responses `reasoning.effort`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effort {
    None,
    Minimal,
    Low,
    Medium,
    High,
}

impl Effort {
    pub fn parse(s: &str) -> Option<Effort> {
        Some(match s {
            "none" => Effort::None,
            "minimal" => Effort::Minimal,
            "low" => Effort::Low,
            "medium" => Effort::Medium,
            "high" => Effort::High,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Effort::None => "none",
            Effort::Minimal => "minimal",
            Effort::Low => "low",
            Effort::Medium => "medium",
            Effort::High => "high",
        }
    }

    /// The level for families without `minimal` (gpt-oss, Qwen, Nova): `minimal` becomes `low`.
    fn level(self) -> &'static str {
        match self {
            Effort::Minimal => "low",
            e => e.as_str(),
        }
    }
}

/// What a reasoning request adds to a Converse request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReasoningSetting {
    /// Entries for `additionalModelRequestFields`.
    pub fields: Map<String, Value>,
    /// The thinking token budget, when the family reasons within one (Claude): the answer needs
    /// `maxTokens` above it (see [`super::build::inference_config`]).
    pub budget: Option<u64>,
}

fn object<const N: usize>(pairs: [(&str, Value); N]) -> Value {
    Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

/// The request fields for a reasoning effort on `model_id`'s family. `None` when the family has
/// no effort control the filter knows (the front door refuses or drops the parameter).
pub fn reasoning_for_effort(model_id: &str, effort: Effort) -> Option<ReasoningSetting> {
    let mut s = ReasoningSetting::default();
    if effort == Effort::None {
        return Some(s);
    }
    let level = || Value::String(effort.level().to_owned());
    match reasoning_family(model_id) {
        ReasoningFamily::Claude => {
            let b = thinking_budget(effort.as_str()).unwrap_or(1024);
            s.budget = Some(b);
            s.fields.insert(
                "thinking".into(),
                object([
                    ("type", Value::String("enabled".into())),
                    ("budget_tokens", Value::from(b)),
                ]),
            );
        }
        ReasoningFamily::GptOss => {
            s.fields.insert("reasoning_effort".into(), level());
        }
        ReasoningFamily::Qwen => {
            s.fields.insert("reasoning_config".into(), level());
        }
        ReasoningFamily::Nova => {
            s.fields.insert(
                "reasoningConfig".into(),
                object([
                    ("type", Value::String("enabled".into())),
                    ("maxReasoningEffort", level()),
                ]),
            );
        }
        ReasoningFamily::AlwaysOn => {}
        ReasoningFamily::Other => return None,
    }
    Some(s)
}

/// A client's own Claude-style `thinking` object, passed as it is; its `budget_tokens` (when an
/// integer) is the thinking budget.
pub fn thinking_passthrough(thinking: Value) -> ReasoningSetting {
    let budget = thinking.get("budget_tokens").and_then(Value::as_u64);
    let mut fields = Map::new();
    fields.insert("thinking".into(), thinking);
    ReasoningSetting { fields, budget }
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
}

/// Ask for a structured answer, the one place that decides how. Today, for every family: a
/// forced tool whose input schema is the answer's schema; its input becomes the message content.
/// Returns that tool's name (the front door's reply unwraps it). `param` names the client's
/// format field in the 400 when the name collides with a tool.
pub fn structured_output(
    req: &mut ConverseRequest,
    answer: JsonAnswer,
    param: &str,
) -> Result<Option<String>, ApiError> {
    let tc = req.tool_config.get_or_insert_with(|| ToolConfig {
        tool_choice: None,
        tools: Vec::new(),
    });
    if tc
        .tools
        .iter()
        .any(|t| matches!(t, Tool::ToolSpec(s) if s.name == answer.name))
    {
        return Err(ApiError::invalid_param(
            param,
            format!(
                "the response_format schema name {:?} collides with a tool of the same name",
                answer.name
            ),
        ));
    }
    tc.tools.push(Tool::ToolSpec(ToolSpec {
        description: Some(answer.description),
        input_schema: InputSchema { json: answer.schema },
        name: answer.name.clone(),
        strict: None,
    }));
    tc.tool_choice = Some(ToolChoice::Tool {
        name: answer.name.clone(),
    });
    Ok(Some(answer.name))
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
/// - Extended thinking with a forced tool (Bedrock: "Thinking may not be enabled when tool_choice
///   forces tool use"): the structured-answer tool is offered with `auto` instead (its
///   description asks for the JSON answer); a client's own forced choice is refused, or relaxed
///   to `auto` with `relax`.
pub fn apply_rules(req: &mut ConverseRequest, opts: &RuleOptions<'_>) -> Result<(), ApiError> {
    if thinking_on(req) {
        if let Some(tc) = req.tool_config.as_mut() {
            let forced = match &tc.tool_choice {
                Some(ToolChoice::Any(_)) => Some(None),
                Some(ToolChoice::Tool { name }) => Some(Some(name.as_str())),
                _ => None,
            };
            if let Some(name) = forced {
                let for_json = opts.json_tool.is_some() && name == opts.json_tool;
                if !for_json && !opts.relax {
                    return Err(ApiError::invalid_param(
                        "tool_choice",
                        "Bedrock does not allow a forced tool_choice (`required` or a named function) while \
                         extended thinking is on: use `auto`, or leave out reasoning_effort/thinking",
                    )
                    .with_code("unsupported_parameter"));
                }
                tc.tool_choice = Some(ToolChoice::Auto(Empty {}));
            }
        }
    }
    Ok(())
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
        let e = apply_rules(&mut forced("enabled", any()), &RuleOptions::default()).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("tool_choice"));
        for (mut r, opts) in [
            (
                forced("enabled", any()),
                RuleOptions {
                    json_tool: None,
                    relax: true,
                },
            ),
            (
                forced("enabled", named()),
                RuleOptions {
                    json_tool: Some("json_response"),
                    relax: false,
                },
            ),
        ] {
            apply_rules(&mut r, &opts).unwrap();
            assert_eq!(r.tool_config.unwrap().tool_choice, Some(ToolChoice::Auto(Empty {})));
        }
        let mut r = forced("disabled", any());
        apply_rules(&mut r, &RuleOptions::default()).unwrap();
        assert_eq!(r.tool_config.unwrap().tool_choice, Some(any()));
    }
}
