//! The Responses API `response` object and its output items, shared by the streaming sink and
//! the non-streaming translation; [`translate`] turns a Converse body into a `response`.

use super::reasoning;
use crate::bedrock::output::{ConverseOutput, OutBlock};
use crate::error::ApiError;
use crate::openai::BedrockUsage;
use serde_json::{Map, Value};

/// What a response needs to know about its request.
#[derive(Debug, Clone, PartialEq)]
pub struct Meta {
    /// `resp_…`.
    pub id: String,
    /// Unix seconds.
    pub created_at: u64,
    /// The model name the client asked for.
    pub model: String,
    /// Request fields the response object echoes.
    pub echo: Map<String, Value>,
    /// Reasoning as `summary` (client set `reasoning.summary`) rather than `reasoning_text`.
    pub reasoning_as_summary: bool,
    /// The tool whose input is the answer (`text.format` json_object / json_schema).
    pub json_tool: Option<String>,
}

impl Meta {
    /// The id of output item `n`: `rs_`, `msg_` or `fc_` + the response's id + `_n`.
    pub(crate) fn item_id(&self, prefix: &str, n: usize) -> String {
        let base = self.id.strip_prefix("resp_").unwrap_or(&self.id);
        format!("{prefix}_{base}_{n}")
    }
}

/// A JSON object from key/value pairs.
pub(crate) fn obj<const N: usize>(pairs: [(&str, Value); N]) -> Value {
    let mut m = Map::new();
    for (k, v) in pairs {
        m.insert(k.to_owned(), v);
    }
    Value::Object(m)
}

fn s(v: &str) -> Value {
    Value::String(v.to_owned())
}

/// Status of an item or response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    InProgress,
    Completed,
    Incomplete,
    Failed,
}

impl Status {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Status::InProgress => "in_progress",
            Status::Completed => "completed",
            Status::Incomplete => "incomplete",
            Status::Failed => "failed",
        }
    }
}

/// The response status and `incomplete_details.reason` for a Bedrock stop reason.
pub(crate) fn outcome(stop_reason: &str) -> (Status, Option<&'static str>) {
    match stop_reason {
        "max_tokens" | "model_context_window_exceeded" => (Status::Incomplete, Some("max_output_tokens")),
        "guardrail_intervened" | "content_filtered" => (Status::Incomplete, Some("content_filter")),
        _ => (Status::Completed, None),
    }
}

pub(crate) fn output_text_part(text: &str) -> Value {
    obj([
        ("type", s("output_text")),
        ("text", s(text)),
        ("annotations", Value::Array(Vec::new())),
        ("logprobs", Value::Array(Vec::new())),
    ])
}

pub(crate) fn message_item(id: &str, status: Status, text: Option<&str>) -> Value {
    obj([
        ("type", s("message")),
        ("id", s(id)),
        ("status", s(status.as_str())),
        ("role", s("assistant")),
        (
            "content",
            Value::Array(text.map(output_text_part).into_iter().collect()),
        ),
    ])
}

/// A reasoning block, as a reasoning item.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ReasoningBlock {
    pub(crate) text: String,
    pub(crate) signature: Option<String>,
    pub(crate) redacted: Option<String>,
}

impl ReasoningBlock {
    pub(crate) fn encrypted_content(&self) -> Value {
        match (&self.redacted, &self.signature) {
            (Some(r), _) => Value::String(reasoning::encode_redacted(r)),
            (None, sig) => Value::String(reasoning::encode_text(&self.text, sig.as_deref())),
        }
    }
}

pub(crate) fn summary_part(text: &str) -> Value {
    obj([("type", s("summary_text")), ("text", s(text))])
}

pub(crate) fn reasoning_text_part(text: &str) -> Value {
    obj([("type", s("reasoning_text")), ("text", s(text))])
}

/// A reasoning item. `block` is None while it is in progress (no text, no encrypted content yet).
pub(crate) fn reasoning_item(id: &str, status: Status, block: Option<&ReasoningBlock>, as_summary: bool) -> Value {
    let text_parts = |b: &ReasoningBlock| {
        if b.redacted.is_some() {
            Vec::new()
        } else if as_summary {
            vec![summary_part(&b.text)]
        } else {
            vec![reasoning_text_part(&b.text)]
        }
    };
    let (summary, content) = match block {
        Some(b) if as_summary => (text_parts(b), Vec::new()),
        Some(b) => (Vec::new(), text_parts(b)),
        None => (Vec::new(), Vec::new()),
    };
    obj([
        ("type", s("reasoning")),
        ("id", s(id)),
        ("status", s(status.as_str())),
        ("summary", Value::Array(summary)),
        ("content", Value::Array(content)),
        (
            "encrypted_content",
            block.map(ReasoningBlock::encrypted_content).unwrap_or(Value::Null),
        ),
    ])
}

pub(crate) fn function_call_item(id: &str, status: Status, call_id: &str, name: &str, arguments: &str) -> Value {
    obj([
        ("type", s("function_call")),
        ("id", s(id)),
        ("status", s(status.as_str())),
        ("call_id", s(call_id)),
        ("name", s(name)),
        ("arguments", s(arguments)),
    ])
}

/// The Responses API `usage` object. Bedrock counts cache reads and writes apart from
/// `inputTokens`; OpenAI counts them inside `input_tokens`. Bedrock does not report reasoning
/// tokens separately (they are inside `output_tokens`): `reasoning_tokens` is 0.
pub(crate) fn usage(u: &BedrockUsage) -> Value {
    let input = u
        .input_tokens
        .saturating_add(u.cache_read_input_tokens)
        .saturating_add(u.cache_write_input_tokens);
    let total = u.total_tokens.unwrap_or(input.saturating_add(u.output_tokens));
    obj([
        ("input_tokens", Value::from(input)),
        (
            "input_tokens_details",
            obj([("cached_tokens", Value::from(u.cache_read_input_tokens))]),
        ),
        ("output_tokens", Value::from(u.output_tokens)),
        ("output_tokens_details", obj([("reasoning_tokens", Value::from(0u64))])),
        ("total_tokens", Value::from(total)),
    ])
}

/// The Responses API error code for a failed response, from the HTTP status of the error.
pub(crate) fn failure_code(e: &ApiError) -> &'static str {
    match e.status {
        429 => "rate_limit_exceeded",
        400 => "invalid_prompt",
        _ => "server_error",
    }
}

/// Everything a response object holds besides what the request echoes.
pub(crate) struct State<'a> {
    pub(crate) status: Status,
    pub(crate) output: Vec<Value>,
    pub(crate) usage: Option<&'a BedrockUsage>,
    pub(crate) incomplete_reason: Option<&'a str>,
    pub(crate) error: Option<&'a ApiError>,
}

/// The `response` object.
pub(crate) fn response_object(meta: &Meta, st: State<'_>) -> Value {
    let mut m = meta.echo.clone();
    m.insert("id".into(), s(&meta.id));
    m.insert("object".into(), s("response"));
    m.insert("created_at".into(), Value::from(meta.created_at));
    m.insert("model".into(), s(&meta.model));
    m.insert("status".into(), s(st.status.as_str()));
    m.insert("background".into(), Value::Bool(false));
    m.insert("output".into(), Value::Array(st.output));
    m.insert("usage".into(), st.usage.map(usage).unwrap_or(Value::Null));
    m.insert(
        "incomplete_details".into(),
        st.incomplete_reason
            .map(|r| obj([("reason", s(r))]))
            .unwrap_or(Value::Null),
    );
    m.insert(
        "error".into(),
        st.error
            .map(|e| obj([("code", s(failure_code(e))), ("message", s(&e.message))]))
            .unwrap_or(Value::Null),
    );
    Value::Object(m)
}

/// A Converse (non-streaming) body → the Responses API `response` body.
pub(crate) fn translate(out: &ConverseOutput, meta: &Meta) -> Result<Vec<u8>, ApiError> {
    let (status, reason) = outcome(&out.stop_reason);
    let mut items = Vec::with_capacity(out.content.len());
    for b in &out.content {
        let n = items.len();
        items.push(match b {
            OutBlock::Text(t) => message_item(&meta.item_id("msg", n), Status::Completed, Some(t)),
            OutBlock::Reasoning { text, signature } => {
                let block = ReasoningBlock {
                    text: text.clone(),
                    signature: signature.clone(),
                    redacted: None,
                };
                reasoning_item(
                    &meta.item_id("rs", n),
                    Status::Completed,
                    Some(&block),
                    meta.reasoning_as_summary,
                )
            }
            OutBlock::Redacted(d) => {
                let block = ReasoningBlock {
                    redacted: Some(d.clone()),
                    ..Default::default()
                };
                reasoning_item(
                    &meta.item_id("rs", n),
                    Status::Completed,
                    Some(&block),
                    meta.reasoning_as_summary,
                )
            }
            OutBlock::ToolUse { name, input, .. } if meta.json_tool.as_deref() == Some(name.as_str()) => {
                let text = serde_json::to_string(input).unwrap_or_default();
                message_item(&meta.item_id("msg", n), Status::Completed, Some(&text))
            }
            OutBlock::ToolUse { id, name, input } => {
                let args = serde_json::to_string(input).unwrap_or_else(|_| "{}".to_string());
                function_call_item(&meta.item_id("fc", n), Status::Completed, id, name, &args)
            }
        });
    }
    let v = response_object(
        meta,
        State {
            status,
            output: items,
            usage: out.usage.as_ref(),
            incomplete_reason: reason,
            error: None,
        },
    );
    serde_json::to_vec(&v).map_err(|e| ApiError::bad_upstream(format_args!("could not encode the response: {e}")))
}
