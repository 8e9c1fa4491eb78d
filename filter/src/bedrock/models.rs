//! Model knowledge for the request pipeline ([`super::pipeline`]): the model's
//! [`Capabilities`] (its [`super::catalog`] entry, or an alias's configured one: `Config::caps_for`)
//! and the reasoning fields for what the client asked ([`reasoning`], planned by
//! [`super::thinking::plan`]). Nothing else matches on model ids.

pub(crate) use super::catalog::{Caching, Caps as Capabilities, TopK};
use super::catalog::{Display, Level};
pub(crate) use super::thinking::Effort;
use super::thinking::{self, Ask, Want};
use serde_json::{Map, Value};

/// Bedrock's `maxTokens` is a 32-bit integer.
pub(crate) const MAX_TOKENS_LIMIT: u64 = i32::MAX as u64;

/// What a reasoning request adds to a Converse request.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ReasoningSetting {
    /// Entries for `additionalModelRequestFields`.
    pub fields: Map<String, Value>,
    /// Tokens kept for thinking: the answer needs `maxTokens` above it (the pipeline raises it).
    pub budget: Option<u64>,
    /// Log lines for what was changed from the client's request.
    pub notes: Vec<String>,
}

/// The reasoning a client asked for, in its API's terms, before the model's rules are applied.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) enum ReasoningAsk {
    /// Nothing asked.
    #[default]
    Unset,
    /// An OpenAI-style effort (`reasoning_effort`, Responses `reasoning.effort`).
    Effort(Effort),
    /// A client's own Claude-style `thinking` object (chat completions): read like Anthropic's
    /// and planned for the model; passed as it is when it is not one of Anthropic's forms.
    Fields(Value),
    /// Anthropic's `thinking` with `output_config.effort` and `thinking.display`, as read.
    Planned(Ask),
}

/// The request fields for the reasoning `ask` on a model with `caps` ([`thinking::plan`], the
/// one place that decides how a model is asked to reason); `display` is the configured
/// `reasoning_display`. `None` when the model has no such control (the pipeline refuses the
/// client's parameter, or drops it with `unsupported_params: "drop"`).
pub(crate) fn reasoning(caps: &Capabilities, ask: &ReasoningAsk, display: Display) -> Option<ReasoningSetting> {
    let a = match ask {
        ReasoningAsk::Unset => Ask::default(),
        ReasoningAsk::Effort(e) => Ask::effort(*e),
        ReasoningAsk::Planned(a) => *a,
        ReasoningAsk::Fields(t) => match read_thinking(t, None) {
            Some(a) if caps.reasoning.is_claude_thinking() => a,
            _ => {
                let mut fields = Map::new();
                fields.insert("thinking".into(), t.clone());
                let budget = t.get("budget_tokens").and_then(Value::as_u64);
                return Some(ReasoningSetting {
                    fields,
                    budget,
                    notes: Vec::new(),
                });
            }
        },
    };
    let p = thinking::plan(caps, &a, display).ok()?;
    Some(ReasoningSetting {
        fields: p.fields,
        budget: p.budget,
        notes: p.notes,
    })
}

/// An Anthropic `thinking` object (and `output_config.effort`) as an [`Ask`]; `None` when it is
/// not one (no or unknown `type`, a budget that is not an integer).
pub(crate) fn read_thinking(thinking: &Value, effort: Option<Level>) -> Option<Ask> {
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

/// The name of the tool forced for a JSON answer when the client's schema has no name.
pub(crate) const JSON_TOOL_NAME: &str = "json_response";

/// A structured (JSON) answer the client asked for.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct JsonAnswer {
    /// A valid tool name ([`super::build::is_valid_tool_name`]).
    pub name: String,
    pub description: String,
    pub schema: Value,
    /// The client asked for strict schema adherence (OpenAI `json_schema.strict`).
    pub strict: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn effort(model_id: &str, e: Effort) -> Option<ReasoningSetting> {
        reasoning(
            &crate::bedrock::catalog::lookup(model_id),
            &ReasoningAsk::Effort(e),
            Display::Summarized,
        )
    }

    #[test]
    fn effort_per_family() {
        let claude = effort("us.anthropic.claude-sonnet-4-20250514-v1:0", Effort::Medium).unwrap();
        assert_eq!(claude.budget, Some(2048));
        assert_eq!(claude.fields["thinking"]["budget_tokens"], 2048);
        let oss = effort("openai.gpt-oss-120b-1:0", Effort::Minimal).unwrap();
        assert_eq!(oss.fields["reasoning_effort"], "low");
        let nova = effort("amazon.nova-2-lite-v1:0", Effort::High).unwrap();
        assert_eq!(nova.fields["reasoningConfig"]["maxReasoningEffort"], "high");
        assert!(effort("us.deepseek.r1-v1:0", Effort::High).unwrap().fields.is_empty());
        assert!(effort("mistral.large", Effort::High).is_none());
        assert!(effort("mistral.large", Effort::None).is_some());
    }

    #[test]
    fn client_thinking_objects_are_planned_for_the_model() {
        let caps = crate::bedrock::catalog::lookup("us.anthropic.claude-opus-4-7");
        let t = serde_json::json!({"type": "enabled", "budget_tokens": 3000});
        let s = reasoning(&caps, &ReasoningAsk::Fields(t), Display::Summarized).unwrap();
        assert_eq!(s.fields["thinking"]["type"], "adaptive");
        assert_eq!(s.fields["output_config"]["effort"], "medium");
        let odd = serde_json::json!({"type": "enabled", "budget_tokens": "many"});
        let s = reasoning(&caps, &ReasoningAsk::Fields(odd.clone()), Display::Summarized).unwrap();
        assert_eq!(s.fields["thinking"], odd);
    }
}
