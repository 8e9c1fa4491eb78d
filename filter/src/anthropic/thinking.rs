//! Anthropic's `thinking` (`enabled` + `budget_tokens`, `adaptive`, `disabled`, with `display`)
//! and `output_config.effort`, read and checked as Anthropic's API does; the pipeline plans them
//! for the model ([`crate::bedrock::thinking::plan`]): what Claude Code sends to Opus 4.8
//! (adaptive, an effort, its own display) reaches Bedrock in the form the model takes.

use crate::bedrock::catalog::{Display, Level};
use crate::bedrock::thinking::{Ask, Want};
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
pub(crate) fn read(req: &Map<String, Value>, max_tokens: u64) -> Result<Ask, ApiError> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ask(body: Value, max: u64) -> Result<Ask, ApiError> {
        read(body.as_object().unwrap_or(&Map::new()), max)
    }

    #[test]
    fn what_claude_code_sends() {
        let a = ask(
            json!({"thinking": {"type": "adaptive", "display": "omitted"}, "output_config": {"effort": "xhigh"}}),
            32000,
        )
        .unwrap();
        assert_eq!(a.want, Want::Level(Level::XHigh));
        assert_eq!(a.display, Some(Display::Omitted));
        assert_eq!(
            ask(json!({"output_config": {"effort": "low"}}), 10).unwrap().want,
            Want::Unset
        );
    }

    #[test]
    fn anthropic_checks() {
        let e = ask(json!({"thinking": {"type": "enabled", "budget_tokens": 100}}), 4000).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("thinking.budget_tokens"));
        let e = ask(json!({"thinking": {"type": "enabled", "budget_tokens": 4000}}), 4000).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("max_tokens"));
        let e = ask(json!({"output_config": {"effort": "extreme"}}), 4000).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("output_config.effort"));
        let e = ask(json!({"thinking": {"type": "adaptive", "display": "full"}}), 4000).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("thinking.display"));
        assert_eq!(
            ask(json!({"thinking": {"type": "disabled"}}), 4000).unwrap().want,
            Want::Off
        );
    }
}
