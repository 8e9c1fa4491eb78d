//! Reasoning requests, for every front door: what the client asked for (an OpenAI effort, an
//! Anthropic `thinking` object and `output_config.effort`, or nothing) becomes what the model
//! accepts, read from its [`Caps`]. Host-free; each door only reads its own fields into an
//! [`Ask`] and names its parameter for errors.
//!
//! The mapping (README "Reasoning per model"):
//!
//! | asked | budget models (Claude ≤ 4.5) | adaptive models (Claude 4.6+) | gpt-oss / DeepSeek V3 | Nova 2 | implicit (R1, Kimi, Qwen3, GLM) |
//! |---|---|---|---|---|---|
//! | nothing | nothing | nothing; models that think by default get adaptive + display | nothing | nothing | nothing |
//! | `none` / disabled | nothing | nothing; `disabled` where thinking is on by default; lowest effort where it cannot be turned off | `low` (gpt-oss cannot stop) / nothing | nothing | nothing (noted) |
//! | `minimal`, `low` | budget 1024 | adaptive, effort `low` | `low` / `high` | `low` | nothing (noted) |
//! | `medium` | 2048 | `medium` | `medium` / `high` | `medium` | 〃 |
//! | `high` | 4096 | `high` | `high` | `high` | 〃 |
//! | `xhigh` | 8192 | `xhigh` where accepted, else the nearest level below | `high` | `high` | 〃 |
//! | budget N | N (raised to the model's minimum) | 4.6: kept; adaptive-only: effort from N | effort from N | effort from N | 〃 |
//!
//! Effort levels a model lacks become the nearest level below (else its lowest). DeepSeek V3.x:
//! every effort is `high`, the only value verified on Bedrock (langchain-ai/langchain-aws PR#1261).

use super::catalog::{Caps, Disable, Display, Level, Reasoning};
use serde_json::{Map, Value};

/// An OpenAI-style reasoning effort (`reasoning_effort`, Responses `reasoning.effort`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Effort {
    None,
    Minimal,
    Low,
    Medium,
    High,
    XHigh,
}

impl Effort {
    pub(crate) fn parse(s: &str) -> Option<Effort> {
        Some(match s {
            "none" => Effort::None,
            "minimal" => Effort::Minimal,
            "low" => Effort::Low,
            "medium" => Effort::Medium,
            "high" => Effort::High,
            "xhigh" => Effort::XHigh,
            _ => return None,
        })
    }

    /// The level asked for; `None` for `none`. `minimal` is `low` (no model has a lower one).
    pub(crate) fn level(self) -> Option<Level> {
        Some(match self {
            Effort::None => return None,
            Effort::Minimal | Effort::Low => Level::Low,
            Effort::Medium => Level::Medium,
            Effort::High => Level::High,
            Effort::XHigh => Level::XHigh,
        })
    }
}

/// What the client asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Want {
    /// Nothing about reasoning.
    #[default]
    Unset,
    /// No reasoning (`none`, `{"type": "disabled"}`).
    Off,
    /// Reasoning at a level (an OpenAI effort, or Anthropic adaptive with an effort).
    Level(Level),
    /// Anthropic `{"type": "adaptive"}` without an effort: the model's default depth.
    Adaptive,
    /// A thinking token budget (Anthropic `{"type": "enabled", "budget_tokens": N}`).
    Budget(u64),
}

/// A reasoning request as a front door read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Ask {
    pub want: Want,
    /// Anthropic `output_config.effort` (applies with or without thinking).
    pub effort: Option<Level>,
    /// Anthropic `thinking.display`.
    pub display: Option<Display>,
}

impl Ask {
    pub(crate) fn effort(e: Effort) -> Ask {
        Ask {
            want: e.level().map_or(Want::Off, Want::Level),
            ..Ask::default()
        }
    }
}

/// What the request gets.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Plan {
    /// Entries for `additionalModelRequestFields`.
    pub fields: Map<String, Value>,
    /// Tokens to keep for thinking within `maxTokens` (the budget; for adaptive thinking an
    /// estimate by level), so the answer has room above it.
    pub budget: Option<u64>,
    /// Log lines for what was changed from the client's request.
    pub notes: Vec<String>,
}

/// The request cannot be served: the family has no reasoning control (a 400 naming the
/// client's parameter, or the parameter dropped under `unsupported_params: "drop"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NoReasoning;

/// Thinking budgets for a level (Claude budget models). `minimal`/`low` 1024, `medium` 2048,
/// `high` 4096 are LiteLLM's values, so applications moving from it behave the same.
pub(crate) fn budget_for(l: Level) -> u64 {
    match l {
        Level::Low => 1024,
        Level::Medium => 2048,
        Level::High => 4096,
        Level::XHigh => 8192,
        Level::Max => 16384,
    }
}

/// The level a token budget stands for (on models that take levels).
pub(crate) fn level_for(budget: u64) -> Level {
    match budget {
        ..2048 => Level::Low,
        2048..8192 => Level::Medium,
        8192..32768 => Level::High,
        _ => Level::XHigh,
    }
}

fn obj<const N: usize>(pairs: [(&str, Value); N]) -> Value {
    Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

/// The request fields for `ask` on a model with `caps`. `display` is the configured default
/// (`reasoning_display`); the client's own display wins.
pub(crate) fn plan(caps: &Caps, ask: &Ask, display: Display) -> Result<Plan, NoReasoning> {
    let mut p = Plan::default();
    match caps.reasoning {
        r if r.is_claude_thinking() => claude(caps, ask, display, &mut p),
        Reasoning::EffortField | Reasoning::NovaConfig => family_field(caps, ask, &mut p),
        Reasoning::Implicit => {
            if !matches!(ask.want, Want::Unset) {
                p.notes.push(format!(
                    "reasoning request not sent: {} models reason on their own (no request field)",
                    caps.family.as_str()
                ));
            }
        }
        _ => match ask.want {
            Want::Unset | Want::Off => {}
            _ => return Err(NoReasoning),
        },
    }
    Ok(p)
}

/// gpt-oss / DeepSeek V3 (`reasoning_effort`) and Nova 2 (`reasoningConfig`).
fn family_field(caps: &Caps, ask: &Ask, p: &mut Plan) {
    let level = match ask.want {
        Want::Unset => return,
        Want::Off if caps.disable == Disable::No => {
            p.notes.push(format!(
                "{} reasoning cannot be turned off: lowest effort asked for",
                caps.family.as_str()
            ));
            Level::Low
        }
        Want::Off => return,
        Want::Level(l) => l,
        Want::Adaptive => ask.effort.unwrap_or(Level::Medium),
        Want::Budget(b) => level_for(b),
    };
    let Some(l) = caps.efforts.nearest(level) else {
        return;
    };
    let v = Value::String(l.as_str().to_owned());
    if caps.reasoning == Reasoning::NovaConfig {
        let cfg = obj([("type", Value::String("enabled".into())), ("maxReasoningEffort", v)]);
        p.fields.insert("reasoningConfig".into(), cfg);
    } else {
        p.fields.insert("reasoning_effort".into(), v);
    }
}

/// Claude: `thinking` (+ `display`) and `output_config.effort`.
fn claude(caps: &Caps, ask: &Ask, display: Display, p: &mut Plan) {
    let mut effort = ask.effort;
    let thinking = match ask.want {
        Want::Unset if caps.thinks_by_default => Some(Thinking::Adaptive),
        Want::Unset => None,
        Want::Off => off(caps, &mut effort, p),
        Want::Level(l) if caps.reasoning == Reasoning::Budget => Some(Thinking::Budget(budget_for(l))),
        Want::Level(l) => {
            effort = Some(l);
            Some(Thinking::Adaptive)
        }
        Want::Adaptive if caps.reasoning == Reasoning::Budget => {
            p.notes
                .push("adaptive thinking asked on a budget-only model: budget from the effort".into());
            Some(Thinking::Budget(budget_for(effort.unwrap_or(Level::High))))
        }
        Want::Adaptive => Some(Thinking::Adaptive),
        Want::Budget(b) if caps.reasoning == Reasoning::AdaptiveOnly => {
            p.notes.push(format!(
                "thinking budget {b} asked on an adaptive-only model: adaptive thinking, effort from the budget"
            ));
            effort = effort.or(Some(level_for(b)));
            Some(Thinking::Adaptive)
        }
        Want::Budget(b) => {
            let min = u64::from(caps.min_budget);
            if b < min {
                p.notes
                    .push(format!("thinking budget {b} raised to the model's minimum {min}"));
            }
            Some(Thinking::Budget(b.max(min)))
        }
    };
    claude_fields(caps, ask, display, thinking, effort, p);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Thinking {
    Adaptive,
    Budget(u64),
    Disabled,
}

/// No thinking: nothing where thinking is off unless asked for; `disabled` where it is on by
/// default (effort at most `high` where the model requires it); the lowest effort where it
/// cannot be turned off.
fn off(caps: &Caps, effort: &mut Option<Level>, p: &mut Plan) -> Option<Thinking> {
    if !caps.thinks_by_default {
        return None;
    }
    match caps.disable {
        Disable::Yes => Some(Thinking::Disabled),
        Disable::UpToHigh => {
            if effort.is_some_and(|e| e > Level::High) {
                p.notes
                    .push("effort lowered to high: thinking can be disabled only at high or below".into());
                *effort = Some(Level::High);
            }
            Some(Thinking::Disabled)
        }
        Disable::No => {
            p.notes
                .push("thinking cannot be turned off on this model: adaptive thinking at the lowest effort".into());
            *effort = Some(Level::Low);
            Some(Thinking::Adaptive)
        }
    }
}

fn claude_fields(
    caps: &Caps,
    ask: &Ask,
    display: Display,
    thinking: Option<Thinking>,
    effort: Option<Level>,
    p: &mut Plan,
) {
    let display = ask.display.unwrap_or(display);
    let mut t = Map::new();
    match thinking {
        None => {}
        Some(Thinking::Disabled) => {
            t.insert("type".into(), Value::String("disabled".into()));
        }
        Some(Thinking::Adaptive) => {
            t.insert("type".into(), Value::String("adaptive".into()));
            p.budget = Some(budget_for(effort.unwrap_or(Level::High)));
        }
        Some(Thinking::Budget(b)) => {
            t.insert("type".into(), Value::String("enabled".into()));
            t.insert("budget_tokens".into(), Value::from(b));
            p.budget = Some(b);
        }
    }
    let on = matches!(thinking, Some(Thinking::Adaptive | Thinking::Budget(_)));
    if on && caps.display.is_some() {
        t.insert("display".into(), Value::String(display.as_str().to_owned()));
    } else if ask.display.is_some() && on {
        p.notes
            .push("thinking.display not sent: the model has no display setting".into());
    }
    if !t.is_empty() {
        p.fields.insert("thinking".into(), Value::Object(t));
    }
    let Some(want) = effort else { return };
    match caps.efforts.nearest(want) {
        Some(l) => {
            if l != want {
                p.notes.push(format!(
                    "effort {} is not offered by the model: {}",
                    want.as_str(),
                    l.as_str()
                ));
            }
            let level = Value::String(l.as_str().to_owned());
            p.fields.insert("output_config".into(), obj([("effort", level)]));
        }
        None if ask.effort.is_some() => p
            .notes
            .push("output_config.effort not sent: the model has no effort setting".into()),
        None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bedrock::catalog::lookup;
    use serde_json::json;

    const S: Display = Display::Summarized;

    fn fields(model: &str, ask: Ask) -> Value {
        Value::Object(plan(&lookup(model), &ask, S).unwrap().fields)
    }

    #[test]
    fn openai_efforts_per_claude_generation() {
        let high = Ask::effort(Effort::High);
        assert_eq!(
            fields("us.anthropic.claude-sonnet-4-5-20250929-v1:0", high),
            json!({"thinking": {"type": "enabled", "budget_tokens": 4096}})
        );
        assert_eq!(
            fields("global.anthropic.claude-opus-4-6-v1", high),
            json!({"thinking": {"type": "adaptive", "display": "summarized"}, "output_config": {"effort": "high"}})
        );
        // xhigh: Opus 4.6 has max but not xhigh; the nearest level below is high.
        let xhigh = Ask::effort(Effort::XHigh);
        assert_eq!(
            fields("anthropic.claude-opus-4-6-v1", xhigh)["output_config"]["effort"],
            "high"
        );
        assert_eq!(
            fields("us.anthropic.claude-opus-4-7", xhigh)["output_config"]["effort"],
            "xhigh"
        );
        assert_eq!(
            fields("anthropic.claude-opus-4-8", Ask::effort(Effort::Minimal))["output_config"]["effort"],
            "low"
        );
    }

    #[test]
    fn none_on_models_that_cannot_stop_thinking() {
        let none = Ask::effort(Effort::None);
        assert_eq!(fields("us.anthropic.claude-opus-4-7", none), json!({}));
        assert_eq!(
            fields("anthropic.claude-opus-5", none),
            json!({"thinking": {"type": "disabled"}})
        );
        let fable = plan(&lookup("global.anthropic.claude-fable-5"), &none, S).unwrap();
        assert_eq!(
            Value::Object(fable.fields),
            json!({"thinking": {"type": "adaptive", "display": "summarized"}, "output_config": {"effort": "low"}})
        );
        assert_eq!(fable.notes.len(), 1);
        // Opus 5: disabled only at high or below.
        let ask = Ask {
            want: Want::Off,
            effort: Some(Level::Max),
            display: None,
        };
        assert_eq!(
            fields("anthropic.claude-opus-5", ask),
            json!({"thinking": {"type": "disabled"}, "output_config": {"effort": "high"}})
        );
        assert_eq!(
            fields("openai.gpt-oss-120b-1:0", none),
            json!({"reasoning_effort": "low"})
        );
        assert_eq!(fields("deepseek.v3-v1:0", none), json!({}));
    }

    #[test]
    fn default_on_models_show_their_thinking() {
        assert_eq!(
            fields("anthropic.claude-opus-5", Ask::default()),
            json!({"thinking": {"type": "adaptive", "display": "summarized"}})
        );
        assert_eq!(fields("anthropic.claude-opus-4-7", Ask::default()), json!({}));
        let omitted = plan(&lookup("anthropic.claude-opus-5"), &Ask::default(), Display::Omitted).unwrap();
        assert_eq!(omitted.fields["thinking"]["display"], "omitted");
    }

    #[test]
    fn anthropic_thinking_objects() {
        let opus47 = "us.anthropic.claude-opus-4-7";
        let budget = |n| Ask {
            want: Want::Budget(n),
            ..Ask::default()
        };
        // enabled + budget on an adaptive-only model: adaptive, effort from the budget.
        assert_eq!(
            fields(opus47, budget(10_000)),
            json!({"thinking": {"type": "adaptive", "display": "summarized"}, "output_config": {"effort": "high"}})
        );
        // 4.6 keeps the client's (deprecated) budget; 4.5 raises a budget below the minimum.
        assert_eq!(
            fields("anthropic.claude-sonnet-4-6", budget(2000))["thinking"],
            json!({"type": "enabled", "budget_tokens": 2000, "display": "summarized"})
        );
        assert_eq!(
            fields("anthropic.claude-haiku-4-5-20251001-v1:0", budget(500))["thinking"]["budget_tokens"],
            1024
        );
        // adaptive with the client's display and effort (what Claude Code sends).
        let cc = Ask {
            want: Want::Adaptive,
            effort: Some(Level::XHigh),
            display: Some(Display::Omitted),
        };
        assert_eq!(
            fields(opus47, cc),
            json!({"thinking": {"type": "adaptive", "display": "omitted"}, "output_config": {"effort": "xhigh"}})
        );
        // adaptive on a budget model becomes a budget; the display is not sent there.
        let p = plan(&lookup("anthropic.claude-sonnet-4-20250514-v1:0"), &cc, S).unwrap();
        assert_eq!(
            Value::Object(p.fields),
            json!({"thinking": {"type": "enabled", "budget_tokens": 8192}})
        );
    }

    #[test]
    fn other_families() {
        let med = Ask::effort(Effort::Medium);
        assert_eq!(
            fields("openai.gpt-oss-20b-1:0", Ask::effort(Effort::XHigh)),
            json!({"reasoning_effort": "high"})
        );
        assert_eq!(fields("deepseek.v3-v1:0", med), json!({"reasoning_effort": "high"}));
        assert_eq!(
            fields("us.amazon.nova-2-lite-v1:0", med),
            json!({"reasoningConfig": {"type": "enabled", "maxReasoningEffort": "medium"}})
        );
        for implicit in [
            "us.deepseek.r1-v1:0",
            "moonshot.kimi-k2-thinking",
            "qwen.qwen3-32b-v1:0",
        ] {
            let p = plan(&lookup(implicit), &med, S).unwrap();
            assert!(p.fields.is_empty(), "{implicit}");
            assert_eq!(p.notes.len(), 1);
        }
        assert_eq!(plan(&lookup("meta.llama3-8b-instruct-v1:0"), &med, S), Err(NoReasoning));
        assert!(plan(&lookup("meta.llama3-8b-instruct-v1:0"), &Ask::effort(Effort::None), S).is_ok());
    }
}
