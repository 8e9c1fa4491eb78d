//! Anthropic's `thinking` (`enabled` + `budget_tokens`, `adaptive`, `disabled`, with `display`)
//! and `output_config.effort`, read and checked as Anthropic's API does, then planned for the
//! model ([`crate::bedrock::thinking::plan`]): what Claude Code sends to Opus 4.8 (adaptive, an
//! effort, its own display) reaches Bedrock in the form the model takes.

use crate::bedrock::catalog::{Caps, Display, Level};
use crate::bedrock::thinking::{self, Ask, NoReasoning, Want};
use crate::error::ApiError;
use crate::front::fields::{given, Style};
use serde_json::{Map, Value};

const A: Style = Style::Anthropic;

fn bad(param: &str, msg: impl Into<String>) -> ApiError {
    ApiError::invalid_param(param, msg)
}

/// `output_config.effort`, when given.
fn effort(req: &Map<String, Value>) -> Result<Option<Level>, ApiError> {
    let Some(e) = given(req, "output_config").and_then(|o| o.get("effort")) else {
        return Ok(None);
    };
    let s = A.string(Some(e), "output_config.effort")?;
    Level::parse(s).map(Some).ok_or_else(|| {
        bad(
            "output_config.effort",
            "output_config.effort: must be low, medium, high, xhigh or max",
        )
    })
}

/// The request's reasoning as an [`Ask`], checked as Anthropic checks it (a budget of at least
/// 1024 and below `max_tokens`).
pub fn read(req: &Map<String, Value>, max_tokens: u64) -> Result<Ask, ApiError> {
    let effort = effort(req)?;
    let Some(t) = given(req, "thinking") else {
        return Ok(Ask {
            want: Want::Unset,
            effort,
            display: None,
        });
    };
    let o = A.object(t, "thinking")?;
    let want = match A.string(o.get("type"), "thinking.type")? {
        "disabled" => Want::Off,
        "adaptive" => effort.map_or(Want::Adaptive, Want::Level),
        "enabled" => {
            let budget = match o.get("budget_tokens") {
                Some(b) => b
                    .as_u64()
                    .ok_or_else(|| bad("thinking.budget_tokens", "thinking.budget_tokens: must be an integer"))?,
                None => return Err(bad("thinking.budget_tokens", "thinking.budget_tokens: Field required")),
            };
            if budget < 1024 {
                return Err(bad(
                    "thinking.budget_tokens",
                    "thinking.budget_tokens: must be at least 1024",
                ));
            }
            if budget >= max_tokens {
                return Err(bad(
                    "max_tokens",
                    "max_tokens: must be greater than thinking.budget_tokens",
                ));
            }
            Want::Budget(budget)
        }
        other => {
            return Err(bad(
                "thinking.type",
                format!("thinking.type: must be enabled, adaptive or disabled, not {other:?}"),
            ))
        }
    };
    let display = match o.get("display") {
        None | Some(Value::Null) => None,
        Some(d) => Some(
            Display::parse(A.string(Some(d), "thinking.display")?)
                .ok_or_else(|| bad("thinking.display", "thinking.display: must be summarized or omitted"))?,
        ),
    };
    Ok(Ask { want, effort, display })
}

/// Plan the request's reasoning for the model into `extra`. Returns the log lines. A thinking
/// request on a model without reasoning is a 400 naming `thinking` (left out with `drop`).
pub fn apply(
    req: &Map<String, Value>,
    max_tokens: u64,
    caps: &Caps,
    display: Display,
    drop: bool,
    extra: &mut Map<String, Value>,
) -> Result<Vec<String>, ApiError> {
    let ask = read(req, max_tokens)?;
    match thinking::plan(caps, &ask, display) {
        Ok(mut p) => {
            // The client's max_tokens bounds thinking and answer together (Anthropic's rule):
            // a budget planned from an effort stays below it, or thinking is off when even the
            // minimum does not fit.
            let over = p
                .fields
                .get("thinking")
                .and_then(|t| t.get("budget_tokens"))
                .and_then(Value::as_u64);
            if over.is_some_and(|b| b >= max_tokens) {
                if max_tokens > u64::from(caps.min_budget) {
                    p.fields["thinking"]["budget_tokens"] = Value::from(max_tokens - 1);
                } else {
                    p.fields.remove("thinking");
                    p.notes.push(format!(
                        "thinking off: max_tokens {max_tokens} leaves no room for a thinking budget"
                    ));
                }
            }
            extra.extend(p.fields);
            Ok(p.notes)
        }
        Err(NoReasoning) if drop => Ok(vec!["thinking left out: the model has no reasoning control".into()]),
        Err(NoReasoning) => Err(bad(
            "thinking",
            "thinking: this model has no extended thinking on Bedrock".to_string(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bedrock::catalog::lookup;
    use serde_json::json;

    fn run(model: &str, body: Value, max: u64) -> Result<Value, ApiError> {
        let req = body.as_object().cloned().unwrap_or_default();
        let mut extra = Map::new();
        apply(&req, max, &lookup(model), Display::Summarized, false, &mut extra)?;
        Ok(Value::Object(extra))
    }

    #[test]
    fn claude_code_on_opus_4_8_and_4_6() {
        let cc = json!({"thinking": {"type": "adaptive"}, "output_config": {"effort": "xhigh"}});
        assert_eq!(
            run("global.anthropic.claude-opus-4-8", cc.clone(), 32000).unwrap(),
            json!({"thinking": {"type": "adaptive", "display": "summarized"}, "output_config": {"effort": "xhigh"}})
        );
        assert_eq!(
            run("us.anthropic.claude-opus-4-6-v1", cc.clone(), 32000).unwrap(),
            json!({"thinking": {"type": "adaptive", "display": "summarized"}, "output_config": {"effort": "high"}})
        );
        // Sonnet 4 takes budgets only: adaptive + xhigh becomes a budget below max_tokens.
        assert_eq!(
            run("us.anthropic.claude-sonnet-4-20250514-v1:0", cc, 5000).unwrap(),
            json!({"thinking": {"type": "enabled", "budget_tokens": 4999}})
        );
    }

    #[test]
    fn anthropic_checks_and_no_reasoning() {
        let m = "anthropic.claude-opus-4-7";
        let e = run(m, json!({"thinking": {"type": "enabled", "budget_tokens": 100}}), 4000).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("thinking.budget_tokens"));
        let e = run(m, json!({"output_config": {"effort": "extreme"}}), 4000).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("output_config.effort"));
        let e = run(m, json!({"thinking": {"type": "adaptive", "display": "full"}}), 4000).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("thinking.display"));
        let e = run(
            "meta.llama3-8b-instruct-v1:0",
            json!({"thinking": {"type": "adaptive"}}),
            4000,
        )
        .unwrap_err();
        assert_eq!(e.param.as_deref(), Some("thinking"));
        assert_eq!(
            run(m, json!({"thinking": {"type": "disabled"}}), 4000).unwrap(),
            json!({})
        );
    }
}
