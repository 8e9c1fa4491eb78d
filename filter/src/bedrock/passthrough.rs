//! Same-format requests: the client's body is forwarded with only the model name mapped (and
//! the authentication, host and path changed), and the answer, already in the client's API,
//! goes back unchanged.
//!
//! - `api: openai`: Bedrock Runtime's OpenAI-compatible chat completions endpoint.
//! - `api: mantle`: Bedrock Mantle (`bedrock-mantle.{region}.api.aws`), Anthropic Messages and
//!   OpenAI chat completions / Responses; its answers are metered on the way through
//!   ([`crate::sse_usage`]).

use super::events::{Event, EventSink};
use crate::config::Api;
use crate::error::{ApiError, ErrorType};
use crate::front::fields::{self, Style};
use crate::front::{Outbound, Reply, RequestContext, Service};
use crate::openai::BedrockUsage;
use crate::sse_usage::{Dialect, SseUsage};
use serde_json::{Map, Value};

/// The path of Bedrock's OpenAI-compatible chat completions endpoint.
pub const OPENAI_PATH: &str = "/openai/v1/chat/completions";

/// A request for the OpenAI-compatible endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct PassthroughRequest {
    pub client_model: String,
    pub model_id: String,
    /// The client asked for `stream: true`.
    pub stream: bool,
    /// The client's body with `model` replaced by `model_id`.
    pub body: Vec<u8>,
}

/// An OpenAI chat completions body (already parsed into `req`) for the OpenAI-compatible
/// endpoint. Only `messages` is checked (a non-empty array); everything else is Bedrock's to judge.
pub fn chat(req: &Map<String, Value>, client_model: String, model_id: String) -> Result<PassthroughRequest, ApiError> {
    if !matches!(req.get("messages"), Some(Value::Array(m)) if !m.is_empty()) {
        return Err(ApiError::invalid_param(
            "messages",
            "`messages` must be a non-empty array",
        ));
    }
    let stream = matches!(req.get("stream"), Some(Value::Bool(true)));
    let body = with_model(req, &model_id, None)?;
    Ok(PassthroughRequest {
        client_model,
        model_id,
        stream,
        body,
    })
}

/// The client's body with `model` set to `model_id` and `(key, value)` set when given.
fn with_model(req: &Map<String, Value>, model_id: &str, set: Option<(&str, Value)>) -> Result<Vec<u8>, ApiError> {
    let mut body = req.clone();
    body.insert("model".into(), Value::String(model_id.to_string()));
    if let Some((k, v)) = set {
        body.insert(k.into(), v);
    }
    serde_json::to_vec(&Value::Object(body))
        .map_err(|e| ApiError::new(500, ErrorType::Server, format!("could not encode the request: {e}")))
}

/// Mantle's path for a request of `dialect` to `model_id`.
///
/// Anthropic Messages: `/anthropic/v1/messages`
/// (<https://docs.aws.amazon.com/bedrock/latest/userguide/inference-messages-api.html>).
/// OpenAI APIs: under `/v1` (the base URL in
/// <https://docs.aws.amazon.com/bedrock/latest/userguide/bedrock-mantle.html>), except OpenAI's
/// GPT models other than gpt-oss (GPT-5.x, Responses only), served under `/openai/v1`
/// (<https://theagenticguy.github.io/ai-gateway/adrs/015-openai-responses-bedrock-mantle-proxy/>,
/// <https://docs.getbifrost.ai/providers/supported-providers/bedrock-mantle>).
pub fn mantle_path(dialect: Dialect, model_id: &str) -> &'static str {
    let openai_base = model_id.starts_with("openai.gpt-") && !model_id.starts_with("openai.gpt-oss");
    match (dialect, openai_base) {
        (Dialect::Anthropic, _) => "/anthropic/v1/messages",
        (Dialect::Chat, false) => "/v1/chat/completions",
        (Dialect::Chat, true) => "/openai/v1/chat/completions",
        (Dialect::Responses, false) => "/v1/responses",
        (Dialect::Responses, true) => "/openai/v1/responses",
    }
}

/// The Anthropic API version sent to Mantle when the client names none (the Anthropic SDKs
/// send `anthropic-version: 2023-06-01`).
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

/// A request of `dialect` for a model configured `api: mantle`, or `None` when the body's model
/// is not one (the front door then translates it as usual). Costs nothing for a configuration
/// without Mantle aliases.
pub fn mantle(body: &[u8], ctx: &RequestContext<'_>, dialect: Dialect) -> Option<Result<Outbound, ApiError>> {
    if !ctx.config.models.values().any(|m| m.api == Api::Mantle) {
        return None;
    }
    let style = match dialect {
        Dialect::Anthropic => Style::Anthropic,
        Dialect::Chat | Dialect::Responses => Style::OpenAi,
    };
    let req = match fields::parse_body(body) {
        Ok(r) => r,
        Err(e) => return Some(Err(e)),
    };
    let model = match fields::model(&req, ctx.config, style) {
        Ok(m) if m.api == Api::Mantle => m,
        Ok(_) => return None,
        Err(e) => return Some(Err(e)),
    };
    Some(mantle_outbound(&req, ctx, dialect, model))
}

fn mantle_outbound(
    req: &Map<String, Value>,
    ctx: &RequestContext<'_>,
    dialect: Dialect,
    model: fields::Model,
) -> Result<Outbound, ApiError> {
    let stream = matches!(req.get("stream"), Some(Value::Bool(true)));
    let mut headers = Vec::new();
    let mut strip_usage = false;
    let body = match dialect {
        Dialect::Chat if stream => {
            // Usage arrives in a last chunk only when asked for: ask, and drop that chunk again
            // when the client did not ask.
            let mut options = match req.get("stream_options") {
                Some(Value::Object(o)) => o.clone(),
                _ => Map::new(),
            };
            strip_usage = options.get("include_usage") != Some(&Value::Bool(true));
            options.insert("include_usage".into(), Value::Bool(true));
            with_model(req, &model.id, Some(("stream_options", Value::Object(options))))?
        }
        Dialect::Anthropic => {
            let version = (ctx.header)("anthropic-version").filter(|v| header_value(v));
            headers.push(("anthropic-version", version.unwrap_or_else(|| ANTHROPIC_VERSION.into())));
            if let Some(beta) = (ctx.header)("anthropic-beta").filter(|v| header_value(v)) {
                headers.push(("anthropic-beta", beta));
            }
            with_model(req, &model.id, None)?
        }
        _ => with_model(req, &model.id, None)?,
    };
    Ok(Outbound {
        path: mantle_path(dialect, &model.id).to_string(),
        body,
        stream,
        client_model: model.client,
        model_id: model.id,
        reply: Box::new(MantleReply {
            dialect,
            strip_usage,
            max_event: ctx.config.limits.max_frame_bytes,
        }),
        notes: Vec::new(),
        service: Service::Mantle,
        headers,
    })
}

/// A client header value worth sending on: printable ASCII, not too long.
fn header_value(v: &str) -> bool {
    !v.is_empty() && v.len() <= 1024 && v.bytes().all(|b| (0x20..0x7f).contains(&b))
}

/// The reply side of a Mantle request: the answer is the client's, metered on its way.
#[derive(Debug, Clone, Copy)]
pub struct MantleReply {
    pub dialect: Dialect,
    /// The filter asked for chat usage chunks the client did not want: drop them.
    pub strip_usage: bool,
    /// Longest SSE event read for usage (`limits.max_frame_bytes`).
    pub max_event: usize,
}

impl Reply for MantleReply {
    fn into_sink(self: Box<Self>) -> Box<dyn EventSink> {
        Box::new(NoSink::default())
    }
    fn translate_json(&self, body: &[u8]) -> Result<Vec<u8>, ApiError> {
        Ok(body.to_vec())
    }
    fn error_body(&self, e: &ApiError) -> Vec<u8> {
        match self.dialect {
            Dialect::Anthropic => crate::anthropic::error::body(e),
            Dialect::Chat | Dialect::Responses => e.to_json(),
        }
    }
    fn passthrough(&self) -> bool {
        true
    }
    fn relay(&self) -> Option<SseUsage> {
        Some(SseUsage::new(self.dialect, self.strip_usage, self.max_event))
    }
    fn json_usage(&self, body: &[u8]) -> Option<BedrockUsage> {
        crate::sse_usage::json_usage(self.dialect, body)
    }
}

/// The reply side of a passthrough request: Bedrock's answer is already the client's.
#[derive(Debug, Clone, Copy, Default)]
pub struct PassthroughReply;

/// The sink of a passthrough reply. The exchange forwards passthrough bodies without decoding
/// them ([`Reply::passthrough`]), so this sees no events; if it ever does, it writes nothing.
#[derive(Debug, Default)]
struct NoSink {
    done: bool,
}

impl EventSink for NoSink {
    fn event(&mut self, _ev: Event<'_>, _out: &mut Vec<u8>) {}
    fn fail(&mut self, e: &ApiError, out: &mut Vec<u8>) {
        if !self.done {
            out.extend_from_slice(&e.to_json());
            self.done = true;
        }
    }
    fn finish(&mut self, _out: &mut Vec<u8>) {
        self.done = true;
    }
    fn is_terminated(&self) -> bool {
        self.done
    }
}

impl Reply for PassthroughReply {
    fn into_sink(self: Box<Self>) -> Box<dyn EventSink> {
        Box::new(NoSink::default())
    }
    fn translate_json(&self, body: &[u8]) -> Result<Vec<u8>, ApiError> {
        Ok(body.to_vec())
    }
    fn error_body(&self, e: &ApiError) -> Vec<u8> {
        e.to_json()
    }
    fn passthrough(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_the_model_and_keeps_the_rest() {
        let req: Map<String, Value> =
            serde_json::from_str(r#"{"model":"oss","stream":true,"messages":[{"role":"user","content":"hi"}],"n":2}"#)
                .unwrap();
        let p = chat(&req, "oss".into(), "openai.gpt-oss-20b-1:0".into()).unwrap();
        assert!(p.stream);
        let b: Value = serde_json::from_slice(&p.body).unwrap();
        assert_eq!(b["model"], "openai.gpt-oss-20b-1:0");
        assert_eq!(b["n"], 2);
        let empty: Map<String, Value> = serde_json::from_str(r#"{"model":"oss","messages":[]}"#).unwrap();
        assert_eq!(
            chat(&empty, "oss".into(), "x".into()).unwrap_err().param.as_deref(),
            Some("messages")
        );
        let r = PassthroughReply;
        assert!(r.passthrough());
        assert_eq!(r.translate_json(b"{\"a\":1}").unwrap(), b"{\"a\":1}");
    }
}
