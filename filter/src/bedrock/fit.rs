//! Fit a built request to what its model accepts ([`Caps`], from the catalog): the per-model
//! rules every front door shares. Where Bedrock would refuse, the request is changed when that
//! keeps its meaning, or it is a 400 naming the client's parameter; under
//! `unsupported_params: "drop"` (`relax`) the parameter is left out instead (a log line).
//!
//! - Assistant prefill (a final assistant turn) on models that refuse it (Claude 4.6 and later:
//!   "This model does not support assistant message prefill", strands-agents/sdk-python#1694).
//! - Sampling on models that take only its defaults (Opus 4.7 and later: "`temperature` is
//!   deprecated for this model", Comfy-Org/ComfyUI#13923; Fable 5 card: temperature 1, top_p
//!   0.99–<1, no top_k).
//! - `maxTokens` above the model's output limit: lowered to it (Bedrock model cards), keeping a
//!   thinking budget below it.
//! - `anthropic_beta` flags the model does not take: left out ("invalid beta flag",
//!   anthropics/claude-code#49490).
//! - `toolSpec.strict` on models without strict tool use: left out.

use super::catalog::{Caps, Disable, Level, Sampling};
use super::converse::{ConverseRequest, Role, Tool};
use crate::error::ApiError;
use serde_json::Value;

fn refuse(param: &str, msg: String) -> ApiError {
    ApiError::invalid_param(param, msg).with_code("unsupported_parameter")
}

/// Apply the rules above. `notes` gets a line per change.
pub(crate) fn fit(
    req: &mut ConverseRequest,
    caps: &Caps,
    relax: bool,
    notes: &mut Vec<String>,
) -> Result<(), ApiError> {
    if !caps.prefill && req.messages.last().is_some_and(|m| m.role == Role::Assistant) {
        if !relax {
            return Err(refuse(
                "messages",
                format!(
                    "model {} does not support assistant message prefill: the conversation must end with a user message",
                    req.model_id
                ),
            ));
        }
        req.messages.pop();
        notes.push("final assistant message (prefill) left out: the model does not take one".into());
    }
    if caps.sampling == Sampling::Fixed {
        fixed_sampling(req, relax, notes)?;
    }
    max_output(req, caps, notes);
    betas(req, caps, notes);
    if !caps.strict_tools {
        for t in req.tool_config.iter_mut().flat_map(|tc| tc.tools.iter_mut()) {
            if let Tool::ToolSpec(s) = t {
                s.strict = None;
            }
        }
    }
    Ok(())
}

/// Only the defaults: `temperature` 1, `top_p` from 0.99 to below 1, no `top_k`.
fn fixed_sampling(req: &mut ConverseRequest, relax: bool, notes: &mut Vec<String>) -> Result<(), ApiError> {
    let id = req.model_id.clone();
    let ic = &mut req.inference_config;
    let mut out = |param: &str, present: bool| -> Result<bool, ApiError> {
        if !present {
            return Ok(false);
        }
        if !relax {
            return Err(refuse(
                param,
                format!("model {id} does not accept `{param}` (only its default): leave it out"),
            ));
        }
        notes.push(format!("{param} left out: the model takes only its default"));
        Ok(true)
    };
    if out("temperature", ic.temperature.is_some_and(|t| t != 1.0))? {
        ic.temperature = None;
    }
    if out("top_p", ic.top_p.is_some_and(|p| !(0.99..1.0).contains(&p)))? {
        ic.top_p = None;
    }
    let extra = &mut req.additional_model_request_fields;
    if out("top_k", extra.contains_key("top_k"))? {
        extra.remove("top_k");
    }
    Ok(())
}

/// `maxTokens` at most the model's limit; a thinking budget stays below it.
fn max_output(req: &mut ConverseRequest, caps: &Caps, notes: &mut Vec<String>) {
    let limit = u64::from(caps.max_output);
    let Some(max) = req.inference_config.max_tokens.filter(|m| limit > 0 && *m > limit) else {
        return;
    };
    req.inference_config.max_tokens = Some(limit);
    notes.push(format!("max_tokens {max} lowered to the model's limit {limit}"));
    let budget = req
        .additional_model_request_fields
        .get_mut("thinking")
        .and_then(|t| t.get_mut("budget_tokens"));
    if let Some(b) = budget {
        if b.as_u64().is_some_and(|b| b >= limit) {
            *b = Value::from(limit / 2);
        }
    }
}

/// Keep only the `anthropic_beta` flags the model takes.
fn betas(req: &mut ConverseRequest, caps: &Caps, notes: &mut Vec<String>) {
    let extra = &mut req.additional_model_request_fields;
    let Some(Value::Array(flags)) = extra.get_mut("anthropic_beta") else {
        return;
    };
    let before = flags.len();
    flags.retain(|f| f.as_str().is_some_and(|f| caps.betas.contains(&f)));
    if flags.len() != before {
        notes.push(format!(
            "{} anthropic-beta flag(s) left out: not accepted by the model",
            before - flags.len()
        ));
    }
    if flags.is_empty() {
        extra.remove("anthropic_beta");
    }
}

/// Claude thinks on this request: `enabled` or `adaptive`, or nothing said on a model that
/// thinks by default.
pub(crate) fn thinking_on(req: &ConverseRequest, caps: &Caps) -> bool {
    match req
        .additional_model_request_fields
        .get("thinking")
        .and_then(|t| t.get("type"))
        .and_then(Value::as_str)
    {
        Some("disabled") => false,
        Some(_) => true,
        None => caps.thinks_by_default && caps.reasoning.is_claude_thinking(),
    }
}

/// Turn thinking off for this one request (a forced tool, or a tool turn without its signed
/// reasoning): the field is removed where thinking is off unless asked for, `disabled` (effort at
/// most `high`) where it is on by default. `false` when the model cannot stop thinking (the
/// request is left as it is).
pub(crate) fn thinking_off(req: &mut ConverseRequest, caps: &Caps) -> bool {
    let extra = &mut req.additional_model_request_fields;
    if !caps.thinks_by_default {
        extra.remove("thinking");
        return true;
    }
    if caps.disable == Disable::No {
        return false;
    }
    extra.insert("thinking".into(), serde_json::json!({"type": "disabled"}));
    if caps.disable == Disable::UpToHigh {
        if let Some(e) = extra.get_mut("output_config").and_then(|o| o.get_mut("effort")) {
            if e.as_str().and_then(Level::parse).is_some_and(|l| l > Level::High) {
                *e = Value::String(Level::High.as_str().into());
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bedrock::catalog::lookup;
    use crate::bedrock::converse::{ContentBlock, Message};
    use serde_json::json;

    fn req(model: &str, last: Role) -> ConverseRequest {
        let mut r = ConverseRequest {
            model_id: model.into(),
            ..Default::default()
        };
        r.messages.push(Message {
            role: Role::User,
            content: vec![ContentBlock::Text("hi".into())],
        });
        if last == Role::Assistant {
            r.messages.push(Message {
                role: Role::Assistant,
                content: vec![ContentBlock::Text("The answer is".into())],
            });
        }
        r
    }

    #[test]
    fn prefill_is_refused_or_dropped_where_the_model_refuses_it() {
        let m = "us.anthropic.claude-opus-4-6-v1";
        let mut notes = Vec::new();
        let e = fit(&mut req(m, Role::Assistant), &lookup(m), false, &mut notes).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("messages"));
        let mut r = req(m, Role::Assistant);
        fit(&mut r, &lookup(m), true, &mut notes).unwrap();
        assert_eq!(r.messages.len(), 1);
        let old = "anthropic.claude-sonnet-4-5-20250929-v1:0";
        let mut r = req(old, Role::Assistant);
        fit(&mut r, &lookup(old), false, &mut notes).unwrap();
        assert_eq!(r.messages.len(), 2);
    }

    #[test]
    fn fixed_sampling_limits_betas_and_strict() {
        let m = "global.anthropic.claude-opus-4-8";
        let caps = lookup(m);
        let mut r = req(m, Role::User);
        r.inference_config.temperature = Some(0.2);
        let mut notes = Vec::new();
        let e = fit(&mut r.clone(), &caps, false, &mut notes).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("temperature"));
        r.inference_config.top_p = Some(0.995);
        r.inference_config.max_tokens = Some(1_000_000);
        r.additional_model_request_fields = serde_json::from_value(json!({
            "top_k": 5, "anthropic_beta": ["interleaved-thinking-2025-05-14"],
            "thinking": {"type": "enabled", "budget_tokens": 200_000}}))
        .unwrap();
        fit(&mut r, &caps, true, &mut notes).unwrap();
        assert_eq!(r.inference_config.temperature, None);
        assert_eq!(r.inference_config.top_p, Some(0.995));
        assert_eq!(r.inference_config.max_tokens, Some(128_000));
        assert_eq!(
            serde_json::to_value(&r.additional_model_request_fields).unwrap(),
            json!({"thinking": {"type": "enabled", "budget_tokens": 64_000}})
        );
        // Opus 4.6 keeps the flags it takes and drops interleaved thinking.
        let m46 = "anthropic.claude-opus-4-6-v1";
        let mut r = req(m46, Role::User);
        r.additional_model_request_fields.insert(
            "anthropic_beta".into(),
            json!(["interleaved-thinking-2025-05-14", "context-1m-2025-08-07"]),
        );
        fit(&mut r, &lookup(m46), false, &mut notes).unwrap();
        assert_eq!(
            r.additional_model_request_fields["anthropic_beta"],
            json!(["context-1m-2025-08-07"])
        );
    }

    #[test]
    fn thinking_off_per_model() {
        let mut notes = Vec::new();
        for (m, after, ok) in [
            ("anthropic.claude-opus-4-7", json!({}), true),
            (
                "anthropic.claude-opus-5",
                json!({"thinking": {"type": "disabled"}, "output_config": {"effort": "high"}}),
                true,
            ),
            (
                "anthropic.claude-fable-5",
                json!({"thinking": {"type": "adaptive"}, "output_config": {"effort": "max"}}),
                false,
            ),
        ] {
            let caps = lookup(m);
            let mut r = req(m, Role::User);
            r.additional_model_request_fields =
                serde_json::from_value(json!({"thinking": {"type": "adaptive"}, "output_config": {"effort": "max"}}))
                    .unwrap();
            assert!(thinking_on(&r, &caps));
            assert_eq!(thinking_off(&mut r, &caps), ok, "{m}");
            let mut expected = after;
            if m.ends_with("4-7") {
                expected = json!({"output_config": {"effort": "max"}});
            }
            assert_eq!(
                serde_json::to_value(&r.additional_model_request_fields).unwrap(),
                expected,
                "{m}"
            );
            fit(&mut r, &caps, false, &mut notes).unwrap();
        }
        let opus5 = lookup("anthropic.claude-opus-5");
        assert!(thinking_on(&req("anthropic.claude-opus-5", Role::User), &opus5));
        assert!(!thinking_on(
            &req("anthropic.claude-opus-4-7", Role::User),
            &lookup("anthropic.claude-opus-4-7")
        ));
    }
}
