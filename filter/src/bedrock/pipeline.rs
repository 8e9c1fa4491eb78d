//! The request pipeline shared by the chat-style front doors (chat completions, the Responses
//! API, Anthropic Messages). A front door reads its API's body into a [`Draft`]: the content in
//! Converse shapes plus what the client asked for. [`finish`] applies Bedrock's rules to the
//! draft in one fixed order and makes each policy choice once, for every door:
//!
//! 1. **catalog rules**: the model's [`Capabilities`], read once (`Config::caps_for`), and
//!    what the model alone decides: `strict` on tools, the field `top_k` goes in, which
//!    `anthropic-beta` flags are forwarded, tool cache points.
//! 2. **repairs** ([`repair::apply`]): the history made into a body Bedrock accepts; tool calls
//!    and results become text when the request declares no tools.
//! 3. **thinking**: the reasoning asked for becomes the model's request fields
//!    ([`models::reasoning`]); thinking is off for this one request when the client forces a tool
//!    or the final tool-calling turn lacks its signed reasoning block (Bedrock would refuse
//!    both); `maxTokens` makes room for an answer above a thinking budget.
//! 4. **sampling**: `temperature` within Converse's 0 to 1; Claude's limits while thinking;
//!    `temperature` with `top_p` where the model refuses both.
//! 5. **tools**: `toolConfig` from the client's tools and choice (`none`: no tools are sent).
//! 6. **metadata**: `requestMetadata`, cleaned into Bedrock's character set, never a 400.
//! 7. **output format**: a JSON answer, natively where the model has structured output, else a
//!    forced tool (offered with `auto` while thinking is on).
//!
//! Then the configuration's guardrail. What a step changes is returned as log lines.

use super::build::{self, ToolChoiceRequest};
use super::catalog::{Display, Sampling};
use super::converse::{ContentBlock, ConverseRequest, Empty, Role, Tool, ToolChoice};
use super::fit;
use super::models::{self, Caching, Capabilities, JsonAnswer, ReasoningAsk, TopK, MAX_TOKENS_LIMIT};
use super::repair;
use crate::config::{Config, UnsupportedParams};
use crate::error::ApiError;
use serde_json::{Map, Value};

type R<T> = Result<T, ApiError>;

/// Output tokens added above the thinking budget when the client's `max_tokens` does not leave
/// room for an answer.
pub(crate) const ANSWER_TOKENS_ABOVE_BUDGET: u64 = 4096;

/// `requestMetadata` entries (key, value) as the client sent them.
pub(crate) type Metadata = Vec<(String, String)>;

/// What a front door read from the client's body, before Bedrock's rules are applied.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Draft {
    /// The content and plain settings: model id, system, messages, `inferenceConfig` (max
    /// tokens, temperature, top_p, stop), service tier.
    pub converse: ConverseRequest,
    pub reasoning: ReasoningAsk,
    /// The client's parameter that asked for `reasoning`, named in a 400.
    pub reasoning_param: &'static str,
    /// The client's tools: spec and cache point entries.
    pub tools: Vec<Tool>,
    pub tool_choice: ToolChoiceRequest,
    pub metadata: Metadata,
    /// A JSON answer, and the client's format parameter (named in a 400).
    pub output: Option<(JsonAnswer, &'static str)>,
    pub top_k: Option<u64>,
    /// `anthropic-beta` flags.
    pub betas: Vec<String>,
    pub stream: bool,
}

/// The Converse request, ready to send.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Built {
    pub converse: ConverseRequest,
    /// The forced tool whose input is the JSON answer (the reply returns it as the content).
    pub json_tool: Option<String>,
    /// Log lines for what the pipeline changed (no content, no secrets).
    pub notes: Vec<String>,
}

/// Apply Bedrock's rules to a draft, in the order of the module documentation. Errors name the
/// client's parameter.
pub(crate) fn finish(draft: Draft, cfg: &Config) -> R<Built> {
    let relax = cfg.unsupported_params == UnsupportedParams::Drop;
    let mut notes = Vec::new();
    let mut req = draft.converse;
    let mut tools = draft.tools;
    // 1. catalog rules
    let caps = cfg.caps_for(&req.model_id);
    catalog_rules(
        &caps,
        &mut req,
        &mut tools,
        draft.top_k,
        &draft.betas,
        relax,
        &mut notes,
    )?;
    // 2. repairs
    let declares_tools =
        draft.tool_choice != ToolChoiceRequest::None && tools.iter().any(|t| matches!(t, Tool::ToolSpec(_)));
    repair::apply(&mut req, caps.caching, declares_tools)?;
    // 3. thinking
    let forced = matches!(
        draft.tool_choice,
        ToolChoiceRequest::Required | ToolChoiceRequest::Named(_)
    );
    let ask = Asked {
        reasoning: &draft.reasoning,
        param: draft.reasoning_param,
        forced,
        display: cfg.reasoning_display,
    };
    thinking(&caps, &mut req, ask, relax, &mut notes)?;
    // 4. sampling
    sampling(&caps, &mut req, relax, &mut notes)?;
    // 5. tools
    req.tool_config = build::tool_config(tools, draft.tool_choice)?;
    // The model's own limits from its catalog entry: prefill, fixed sampling, output limit,
    // beta flags, strict.
    fit::fit(&mut req, &caps, relax, &mut notes)?;
    // 6. metadata
    for (k, v) in &draft.metadata {
        build::add_metadata(&mut req.request_metadata, k, v, &mut notes);
    }
    // 7. output format
    let json_tool = match draft.output {
        Some((answer, param)) => output_format(&caps, &mut req, answer, param)?,
        None => None,
    };
    req.guardrail_config = cfg.guardrail.as_ref().map(|g| build::guardrail(g, draft.stream));
    Ok(Built {
        converse: req,
        json_tool,
        notes,
    })
}

fn unsupported(param: &str, msg: impl Into<String>) -> ApiError {
    ApiError::invalid_param(param, msg).with_code("unsupported_parameter")
}

/// Step 1: what the model alone decides.
fn catalog_rules(
    caps: &Capabilities,
    req: &mut ConverseRequest,
    tools: &mut Vec<Tool>,
    top_k: Option<u64>,
    betas: &[String],
    relax: bool,
    notes: &mut Vec<String>,
) -> R<()> {
    // `toolSpec.strict` only where the model has strict tool use; elsewhere accepted, not sent.
    if !caps.strict_tools {
        for t in tools.iter_mut() {
            if let Tool::ToolSpec(s) = t {
                s.strict = None;
            }
        }
    }
    if caps.caching != Caching::Full {
        tools.retain(|t| !matches!(t, Tool::CachePoint(_)));
    }
    let extra = &mut req.additional_model_request_fields;
    if let Some(k) = top_k {
        match caps.top_k {
            TopK::Standard => {
                extra.insert("top_k".into(), Value::from(k));
            }
            TopK::CohereK => {
                extra.insert("k".into(), Value::from(k));
            }
            TopK::NovaInference => {
                let mut ic = Map::new();
                ic.insert("topK".into(), Value::from(k));
                extra.insert("inferenceConfig".into(), Value::Object(ic));
            }
            TopK::None if relax => notes.push("top_k left out: the model takes none".into()),
            TopK::None => {
                return Err(unsupported(
                    "top_k",
                    format!("`top_k` is not supported by Bedrock for model {}", req.model_id),
                ))
            }
        }
    }
    let mut forwarded: Vec<&str> = Vec::new();
    let mut dropped: Vec<String> = Vec::new();
    for flag in betas {
        if caps.betas.contains(&flag.as_str()) {
            if !forwarded.contains(&flag.as_str()) {
                forwarded.push(flag);
            }
        } else {
            dropped.push(flag.chars().take(100).collect());
        }
    }
    if !forwarded.is_empty() {
        extra.insert("anthropic_beta".into(), Value::from(forwarded));
    }
    if !dropped.is_empty() {
        notes.push(format!(
            "anthropic-beta flags not forwarded to Bedrock: {}",
            dropped.join(",")
        ));
    }
    Ok(())
}

/// What the client asked of the thinking step.
struct Asked<'a> {
    reasoning: &'a ReasoningAsk,
    param: &'static str,
    /// The client's `tool_choice` forces a tool.
    forced: bool,
    /// The configured `reasoning_display`.
    display: Display,
}

/// Why thinking is off for a request that asked for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ThinkingOff {
    /// `tool_choice` forces a tool.
    ForcedTool,
    /// The final assistant turn called tools but does not start with its signed reasoning block.
    UnsignedToolTurn,
}

impl ThinkingOff {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ThinkingOff::ForcedTool => "tool_choice forces a tool",
            ThinkingOff::UnsignedToolTurn => "the final assistant turn has tool calls but no signed reasoning block",
        }
    }
}

/// The log line of a request whose thinking was turned off.
pub(crate) fn thinking_off_note(why: ThinkingOff) -> String {
    format!("thinking off for this request: {}", why.as_str())
}

/// True when the request turns Claude-style extended thinking on.
pub(crate) fn thinking_on(req: &ConverseRequest) -> bool {
    req.additional_model_request_fields
        .get("thinking")
        .is_some_and(|t| t.get("type").and_then(Value::as_str) != Some("disabled"))
}

/// The final assistant turn called tools answered by the next message, and does not start with
/// a reasoning block: Bedrock (Claude) refuses such a turn while thinking is on ("a final
/// `assistant` message must start with a thinking block").
fn unsigned_tool_turn(req: &ConverseRequest) -> bool {
    let Some(i) = req.messages.iter().rposition(|m| m.role == Role::Assistant) else {
        return false;
    };
    let content = req.messages.get(i).map(|m| m.content.as_slice()).unwrap_or_default();
    let calls = content.iter().any(|b| matches!(b, ContentBlock::ToolUse(_)));
    let answered = req
        .messages
        .get(i + 1)
        .is_some_and(|m| m.content.iter().any(|b| matches!(b, ContentBlock::ToolResult(_))));
    calls && answered && !matches!(content.first(), Some(ContentBlock::ReasoningContent(_)))
}

/// Step 3. The floor for Claude's two thinking rules (LiteLLM's): with thinking asked, a forced
/// tool or a final tool-calling assistant turn without its signed reasoning block turns thinking
/// off for this one request instead of a 400 from Bedrock ("Thinking may not be enabled when
/// tool_choice forces tool use"; "Expected `thinking` or `redacted_thinking`").
fn thinking(
    caps: &Capabilities,
    req: &mut ConverseRequest,
    ask: Asked<'_>,
    relax: bool,
    notes: &mut Vec<String>,
) -> R<()> {
    let mut setting = match models::reasoning(caps, ask.reasoning, ask.display) {
        Some(s) => s,
        None if relax => {
            notes.push(format!(
                "{} left out: the model has no such reasoning control",
                ask.param
            ));
            Default::default()
        }
        None => {
            return Err(unsupported(
                ask.param,
                format!(
                    "`{}` is not supported for model {}: it has no extended thinking or reasoning effort on \
                     Amazon Bedrock",
                    ask.param, req.model_id
                ),
            ))
        }
    };
    req.additional_model_request_fields
        .extend(std::mem::take(&mut setting.fields));
    notes.append(&mut setting.notes);
    let off = if !fit::thinking_on(req, caps) {
        None
    } else if ask.forced {
        Some(ThinkingOff::ForcedTool)
    } else if unsigned_tool_turn(req) {
        Some(ThinkingOff::UnsignedToolTurn)
    } else {
        None
    };
    // Off as the model allows (removed; `disabled` where thinking is on by default); a model that
    // cannot stop thinking keeps it (Bedrock answers).
    if let Some(why) = off {
        if fit::thinking_off(req, caps) {
            setting.budget = None;
            notes.push(thinking_off_note(why));
        }
    }
    // With a budget the model needs room for the answer above it: no limit becomes budget +
    // 4096, a limit at or below the budget becomes budget + limit (clamped to Bedrock's 32 bits).
    let ic = &mut req.inference_config;
    ic.max_tokens = match (setting.budget, ic.max_tokens) {
        (Some(b), None) => Some(b.saturating_add(ANSWER_TOKENS_ABOVE_BUDGET)),
        (Some(b), Some(m)) if m <= b => Some(b.saturating_add(m)),
        (_, m) => m,
    }
    .map(|m| m.min(MAX_TOKENS_LIMIT));
    Ok(())
}

/// Step 4. Converse takes `temperature` 0 to 1 (OpenAI's 0 to 2 has no faithful mapping above
/// 1: a 400). Claude with extended thinking takes `temperature` 1 only and `top_p` of 0.95 or
/// more; Claude 4.5 and later refuse `temperature` and `top_p` together. A 400 naming the
/// parameter, or with `relax` the parameter left out (a log line).
fn sampling(caps: &Capabilities, req: &mut ConverseRequest, relax: bool, notes: &mut Vec<String>) -> R<()> {
    let claude_thinking = caps.reasoning.is_claude_thinking() && thinking_on(req);
    let ic = &mut req.inference_config;
    if ic.temperature.is_some_and(|t| t > 1.0) {
        return Err(ApiError::invalid_param(
            "temperature",
            "`temperature` must be a number from 0 to 1 on Amazon Bedrock",
        ));
    }
    if claude_thinking && ic.temperature.is_some_and(|t| t != 1.0) {
        let msg = "`temperature` may only be 1 (or left out) while Claude's extended thinking is on";
        relax_or_refuse(
            relax,
            "temperature",
            msg,
            "temperature left out: Claude's extended thinking takes only 1",
            notes,
        )?;
        ic.temperature = None;
    }
    if claude_thinking && ic.top_p.is_some_and(|p| p < 0.95) {
        let msg = "`top_p` must be at least 0.95 (or left out) while Claude's extended thinking is on";
        relax_or_refuse(
            relax,
            "top_p",
            msg,
            "top_p left out: Claude's extended thinking takes 0.95 or more",
            notes,
        )?;
        ic.top_p = None;
    }
    if caps.sampling != Sampling::Free && ic.temperature.is_some() && ic.top_p.is_some() {
        let msg = format!(
            "model {} does not accept `temperature` and `top_p` together: send only one",
            req.model_id
        );
        let note = "top_p left out: the model does not take temperature and top_p together";
        relax_or_refuse(relax, "top_p", msg, note, notes)?;
        ic.top_p = None;
    }
    Ok(())
}

/// A 400 naming `param`, or with `relax` a log line (the caller leaves the parameter out).
fn relax_or_refuse(relax: bool, param: &str, msg: impl Into<String>, note: &str, notes: &mut Vec<String>) -> R<()> {
    if !relax {
        return Err(unsupported(param, msg));
    }
    notes.push(note.to_string());
    Ok(())
}

/// Step 7. A strict schema on a model with native structured output becomes Converse's
/// `outputConfig.textFormat` (the answer is the message text; returns `None`). Otherwise, for
/// every model: a forced tool whose input schema is the answer's schema (returns its name; the
/// reply unwraps its input). Native output is used only for `strict` schemas: Bedrock refuses
/// schema features outside its supported subset there, which OpenAI's strict mode restricts the
/// same way; the forced tool takes any schema. Sources: Amazon Bedrock user guide, "Get
/// validated JSON results from models" (structured-output.html).
///
/// While thinking is on the answer tool is offered with `auto` (Bedrock: "Thinking may not be
/// enabled when tool_choice forces tool use"); its description asks for the JSON answer.
fn output_format(caps: &Capabilities, req: &mut ConverseRequest, answer: JsonAnswer, param: &str) -> R<Option<String>> {
    if answer.strict && caps.native_structured_output {
        let schema = serde_json::to_string(&answer.schema)
            .map_err(|e| ApiError::invalid_param(param, format!("the schema cannot be encoded: {e}")))?;
        let mut json_schema = Map::new();
        json_schema.insert("description".into(), Value::String(answer.description));
        json_schema.insert("name".into(), Value::String(answer.name));
        json_schema.insert("schema".into(), Value::String(schema));
        let mut structure = Map::new();
        structure.insert("jsonSchema".into(), Value::Object(json_schema));
        let mut text_format = Map::new();
        text_format.insert("structure".into(), Value::Object(structure));
        text_format.insert("type".into(), Value::String("json_schema".into()));
        let mut output = Map::new();
        output.insert("textFormat".into(), Value::Object(text_format));
        req.output_config = Some(Value::Object(output));
        return Ok(None);
    }
    let name = build::answer_tool(&mut req.tool_config, answer, param)?;
    if thinking_on(req) {
        if let Some(tc) = req.tool_config.as_mut() {
            tc.tool_choice = Some(ToolChoice::Auto(Empty {}));
        }
    }
    Ok(Some(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bedrock::converse::{InferenceConfig, Message};
    use crate::bedrock::models::Effort;

    const CLAUDE: &str = "us.anthropic.claude-sonnet-4-20250514-v1:0";
    const CLAUDE45: &str = "global.anthropic.claude-sonnet-4-5-20250929-v1:0";
    const LLAMA: &str = "meta.llama3-8b-instruct-v1:0";

    fn cfg(relax: bool) -> Config {
        let drop = if relax { r#","unsupported_params":"drop""# } else { "" };
        let text =
            format!(r#"{{"region":"us-east-1","credentials":{{"access_key_id":"A","secret_access_key":"S"}}{drop}}}"#);
        Config::parse(text.as_bytes(), &|_| None).unwrap()
    }

    fn sampled(model: &str, thinking: bool, t: Option<f64>, p: Option<f64>) -> Draft {
        Draft {
            converse: ConverseRequest {
                model_id: model.into(),
                messages: vec![Message {
                    role: Role::User,
                    content: vec![ContentBlock::Text("q".into())],
                }],
                inference_config: InferenceConfig {
                    temperature: t,
                    top_p: p,
                    ..Default::default()
                },
                ..Default::default()
            },
            reasoning: if thinking {
                ReasoningAsk::Effort(Effort::Low)
            } else {
                ReasoningAsk::Unset
            },
            reasoning_param: "reasoning_effort",
            ..Default::default()
        }
    }

    #[test]
    fn sampling_rules() {
        let strict = cfg(false);
        let e = finish(sampled(CLAUDE, true, Some(0.3), None), &strict).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("temperature"));
        let e = finish(sampled(CLAUDE, true, None, Some(0.5)), &strict).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("top_p"));
        assert!(finish(sampled(CLAUDE, true, Some(1.0), Some(0.95)), &strict).is_ok());
        assert!(finish(sampled(CLAUDE, false, Some(0.3), Some(0.5)), &strict).is_ok());
        let e = finish(sampled(CLAUDE45, false, Some(0.3), Some(0.9)), &strict).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("top_p"));
        let e = finish(sampled(LLAMA, false, Some(1.5), None), &strict).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("temperature"));
        let relax = cfg(true);
        let b = finish(sampled(CLAUDE, true, Some(0.3), Some(0.5)), &relax).unwrap();
        assert_eq!(b.notes.len(), 2);
        let ic = &b.converse.inference_config;
        assert_eq!(
            (ic.temperature, ic.top_p, ic.max_tokens),
            (None, None, Some(1024 + 4096))
        );
        let b = finish(sampled(CLAUDE45, false, Some(0.3), Some(0.9)), &relax).unwrap();
        let ic = &b.converse.inference_config;
        assert_eq!((ic.temperature, ic.top_p), (Some(0.3), None));
        // Llama has no effort control: a 400 naming the client's parameter, dropped with "drop".
        let e = finish(sampled(LLAMA, true, Some(0.3), Some(0.5)), &strict).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("reasoning_effort"));
        assert!(finish(sampled(LLAMA, true, Some(0.3), Some(0.5)), &relax).is_ok());
    }

    #[test]
    fn answer_tool_is_auto_while_thinking() {
        let answer = JsonAnswer {
            name: "A".into(),
            description: "d".into(),
            schema: build::open_object_schema(),
            strict: false,
        };
        for (thinking, choice) in [
            (true, ToolChoice::Auto(Empty {})),
            (false, ToolChoice::Tool { name: "A".into() }),
        ] {
            let mut d = sampled(CLAUDE, thinking, None, None);
            d.output = Some((answer.clone(), "response_format"));
            let b = finish(d, &cfg(false)).unwrap();
            assert_eq!(b.json_tool.as_deref(), Some("A"));
            assert_eq!(
                b.converse.tool_config.clone().and_then(|tc| tc.tool_choice),
                Some(choice)
            );
            assert_eq!(thinking_on(&b.converse), thinking);
        }
    }
}
