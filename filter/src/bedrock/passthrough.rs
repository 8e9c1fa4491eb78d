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
use crate::meter::{Answer, Meter, SseLines, Watch};
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
pub(crate) fn chat(
    req: &Map<String, Value>,
    client_model: String,
    model_id: String,
) -> Result<PassthroughRequest, ApiError> {
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
pub(crate) fn mantle_path(dialect: Dialect, model_id: &str) -> &'static str {
    let openai_base = crate::bedrock::catalog::mantle_openai_base(model_id);
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
pub(crate) const ANTHROPIC_VERSION: &str = "2023-06-01";

/// A request of `dialect` for a model configured `api: mantle`, or `None` when the body's model
/// is not one, or is a Claude model asked through an OpenAI API (the front door then translates
/// it as usual, and sends Claude's to Mantle's Messages API). Costs nothing for a configuration
/// without Mantle aliases.
pub(crate) fn mantle(body: &[u8], ctx: &RequestContext<'_>, dialect: Dialect) -> Option<Result<Outbound, ApiError>> {
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
        // Claude is served by Mantle's Messages API only: an OpenAI-style request for it is
        // translated by its front door (`super::mantle_claude`).
        Ok(m)
            if m.api == Api::Mantle
                && (dialect == Dialect::Anthropic || !super::catalog::mantle_messages_only(&m.id)) =>
        {
            m
        }
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
pub(crate) fn header_value(v: &str) -> bool {
    !v.is_empty() && v.len() <= 1024 && v.bytes().all(|b| (0x20..0x7f).contains(&b))
}

/// The reply side of a Mantle request: the answer is the client's, metered on its way.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MantleReply {
    pub(crate) dialect: Dialect,
    /// The filter asked for chat usage chunks the client did not want: drop them.
    pub(crate) strip_usage: bool,
    /// Longest SSE event read for usage (`limits.max_frame_bytes`).
    pub(crate) max_event: usize,
}

impl Reply for MantleReply {
    fn into_sink(self: Box<Self>) -> Box<dyn EventSink> {
        Box::new(NoSink::default())
    }
    fn translate_json(&self, body: &[u8]) -> Result<Answer, ApiError> {
        Ok(Answer {
            body: body.to_vec(),
            usage: crate::sse_usage::json_usage(self.dialect, body),
        })
    }
    fn error_body(&self, e: &ApiError) -> Vec<u8> {
        match self.dialect {
            Dialect::Anthropic => crate::anthropic::error::body(e),
            Dialect::Chat | Dialect::Responses => e.to_json(),
        }
    }
    fn passthrough(&self, content_type: &str) -> Option<Box<dyn Watch>> {
        let sse = content_type
            .starts_with("text/event-stream")
            .then(|| SseUsage::new(self.dialect, self.strip_usage, self.max_event));
        Some(Box::new(MantleWatch {
            dialect: self.dialect,
            sse,
            json: JsonBody::default(),
        }))
    }
}

/// Reads a Mantle answer on its way to the client: an SSE stream through [`SseUsage`] (which
/// drops the chat usage chunk the client did not ask for), a JSON answer whole.
struct MantleWatch {
    dialect: Dialect,
    sse: Option<SseUsage>,
    json: JsonBody,
}

impl Watch for MantleWatch {
    fn chunk(&mut self, chunk: &[u8], end_of_stream: bool, meter: &mut Meter) {
        // The bytes this would replace the chunk with are the exchange's (`relay`).
        let _ = self.relay(chunk, end_of_stream, meter);
    }

    fn relay(&mut self, chunk: &[u8], end_of_stream: bool, meter: &mut Meter) -> Option<Vec<u8>> {
        let Some(sse) = &mut self.sse else {
            if let Some(body) = self.json.feed(chunk, end_of_stream) {
                if let Some(u) = crate::sse_usage::json_usage(self.dialect, body) {
                    meter.report_usage(u);
                }
            }
            return None;
        };
        let mut out = Vec::with_capacity(chunk.len());
        sse.feed(chunk, &mut out);
        if end_of_stream {
            sse.finish(&mut out);
        }
        if sse.first_token() {
            meter.first_token();
        }
        if let Some(u) = sse.usage() {
            meter.report_usage(u);
        }
        if let Some(kind) = sse.error() {
            let status = match kind {
                ErrorType::InvalidRequest => 400,
                ErrorType::Authentication => 401,
                ErrorType::Permission => 403,
                ErrorType::NotFound => 404,
                ErrorType::RateLimit => 429,
                ErrorType::Server => 500,
            };
            meter.fail(&ApiError::new(
                status,
                kind,
                "Bedrock Mantle's stream carried an error event",
            ));
        } else if end_of_stream && !sse.complete() {
            meter.fail(&ApiError::bad_upstream("the stream ended before its last event"));
        }
        Some(out)
    }

    fn is_complete(&self) -> bool {
        self.sse.as_ref().is_some_and(SseUsage::complete)
    }
}

/// The reply side of a passthrough request: Bedrock's answer is already the client's.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PassthroughReply;

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
    fn translate_json(&self, body: &[u8]) -> Result<Answer, ApiError> {
        Ok(Answer {
            body: body.to_vec(),
            usage: openai_usage(body),
        })
    }
    fn error_body(&self, e: &ApiError) -> Vec<u8> {
        e.to_json()
    }
    fn passthrough(&self, content_type: &str) -> Option<Box<dyn Watch>> {
        Some(Box::new(OpenAiWatch {
            sse: content_type.starts_with("text/event-stream").then(SseLines::default),
            ..OpenAiWatch::default()
        }))
    }
}

/// Most bytes of a passed-through JSON answer kept to read its `usage` (larger answers pass
/// unmetered).
const MAX_WATCHED_JSON: usize = 4 << 20;

/// Reads an OpenAI chat completion (JSON or SSE chunks) on its way to the client: first token,
/// `usage`, `finish_reason`, and an `error` object sent mid-stream.
#[derive(Debug, Default)]
struct OpenAiWatch {
    /// `Some` for an SSE stream.
    sse: Option<SseLines>,
    /// A JSON answer, kept up to [`MAX_WATCHED_JSON`].
    json: JsonBody,
    done: bool,
}

/// A passed-through JSON answer, kept whole (up to [`MAX_WATCHED_JSON`]) to read its usage.
#[derive(Debug, Default)]
struct JsonBody {
    json: Vec<u8>,
    too_large: bool,
}

impl JsonBody {
    /// Keep `chunk`; at the end, the whole body (`None` when it outgrew the limit).
    fn feed(&mut self, chunk: &[u8], end_of_stream: bool) -> Option<&[u8]> {
        if self.json.len().saturating_add(chunk.len()) > MAX_WATCHED_JSON {
            self.too_large = true;
            self.json = Vec::new();
        }
        if !self.too_large {
            self.json.extend_from_slice(chunk);
        }
        (end_of_stream && !self.too_large).then_some(self.json.as_slice())
    }
}

impl Watch for OpenAiWatch {
    fn chunk(&mut self, chunk: &[u8], end_of_stream: bool, meter: &mut Meter) {
        match &mut self.sse {
            Some(lines) => {
                let done = &mut self.done;
                lines.feed(chunk, |data| {
                    if data == b"[DONE]" {
                        *done = true;
                    } else {
                        sse_chunk(data, meter);
                    }
                });
                if end_of_stream && !self.done && meter.stop_reason().is_none() {
                    meter.fail(&ApiError::bad_upstream("the stream ended before [DONE]"));
                }
            }
            None => {
                if let Some(u) = self.json.feed(chunk, end_of_stream).and_then(openai_usage) {
                    meter.report_usage(u);
                }
            }
        }
    }

    fn is_complete(&self) -> bool {
        self.done
    }
}

/// OpenAI's `usage` as Bedrock's: OpenAI counts cached tokens inside `prompt_tokens`, Bedrock's
/// `inputTokens` does not. (Read through `Value`, whose parser the module already carries.)
fn usage_of(u: &Value) -> Option<BedrockUsage> {
    let n = |v: Option<&Value>| v.and_then(Value::as_u64);
    let cached = n(u.pointer("/prompt_tokens_details/cached_tokens")).unwrap_or(0);
    Some(BedrockUsage {
        input_tokens: n(u.get("prompt_tokens"))?.saturating_sub(cached),
        output_tokens: n(u.get("completion_tokens")).unwrap_or(0),
        total_tokens: n(u.get("total_tokens")),
        cache_read_input_tokens: cached,
        cache_write_input_tokens: 0,
    })
}

/// The `usage` of an OpenAI chat completion body.
fn openai_usage(body: &[u8]) -> Option<BedrockUsage> {
    usage_of(serde_json::from_slice::<Value>(body).ok()?.get("usage")?)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// One `chat.completion.chunk` (or error) payload. After the first token only payloads that may
/// carry a usage, a finish reason or an error are parsed.
fn sse_chunk(data: &[u8], meter: &mut Meter) {
    if meter.has_first_token()
        && !(contains(data, b"\"usage\"") || contains(data, b"\"finish_reason\":\"") || contains(data, b"\"error\""))
    {
        return;
    }
    let Ok(c) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    for choice in c.get("choices").and_then(Value::as_array).into_iter().flatten() {
        if let Some(d) = choice.get("delta") {
            let text = ["content", "reasoning_content", "reasoning"]
                .iter()
                .any(|k| d.get(k).and_then(Value::as_str).is_some_and(|t| !t.is_empty()));
            let tools = d
                .get("tool_calls")
                .and_then(Value::as_array)
                .is_some_and(|t| !t.is_empty());
            if text || tools {
                meter.first_token();
            }
        }
        if let Some(r) = choice.get("finish_reason").and_then(Value::as_str) {
            meter.stop(r);
        }
    }
    if let Some(u) = c.get("usage").and_then(usage_of) {
        meter.report_usage(u);
    }
    if let Some(e) = c.get("error") {
        let kind = e.get("type").and_then(Value::as_str);
        let kind = ERROR_KINDS
            .into_iter()
            .find(|k| kind == Some(k.as_str()))
            .unwrap_or(ErrorType::Server);
        let status = if kind == ErrorType::RateLimit { 429 } else { 502 };
        let message = e.get("message").and_then(Value::as_str).unwrap_or_default();
        meter.fail(&ApiError::new(status, kind, message));
    }
}

const ERROR_KINDS: [ErrorType; 6] = [
    ErrorType::InvalidRequest,
    ErrorType::Authentication,
    ErrorType::Permission,
    ErrorType::NotFound,
    ErrorType::RateLimit,
    ErrorType::Server,
];

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
        assert!(r.passthrough("application/json").is_some());
        assert_eq!(r.translate_json(b"{\"a\":1}").unwrap().body, b"{\"a\":1}");
    }

    fn watched(content_type: &str, chunks: &[&[u8]]) -> Meter {
        let mut w = PassthroughReply.passthrough(content_type).unwrap();
        let mut m = Meter::default();
        for (i, c) in chunks.iter().enumerate() {
            w.chunk(c, i + 1 == chunks.len(), &mut m);
        }
        m
    }

    #[test]
    fn a_passed_through_stream_reports_first_token_usage_and_end() {
        let role = br#"data: {"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"#;
        let text = br#"data: {"choices":[{"index":0,"delta":{"content":"Hi"}}]}"#;
        let stop = br#"data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#;
        let usage = br#"data: {"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":5,"total_tokens":17,"prompt_tokens_details":{"cached_tokens":2}}}"#;
        let body = [
            &role[..],
            b"\n\n",
            text,
            b"\n\n",
            stop,
            b"\n\n",
            usage,
            b"\n\ndata: [DONE]\n\n",
        ]
        .concat();
        let (a, b) = body.split_at(70);
        let m = watched("text/event-stream", &[a, b]);
        assert!(m.has_first_token());
        assert_eq!(m.stop_reason(), Some("stop"));
        let u = m.usage().unwrap();
        assert_eq!((u.input_tokens, u.output_tokens, u.cache_read_input_tokens), (10, 5, 2));
        assert_eq!(m.error(), None);
        // Only the role chunk, then cut: no first token, an error.
        let m = watched("text/event-stream", &[&[&role[..], b"\n\n"].concat()]);
        assert!(!m.has_first_token());
        assert_eq!(m.error_type(), Some(ErrorType::Server));
        let err = br#"data: {"error":{"message":"slow down","type":"rate_limit_error"}}"#;
        let m = watched("text/event-stream", &[text, b"\n\n", err, b"\n\n"]);
        assert_eq!(m.error_type(), Some(ErrorType::RateLimit));
    }

    #[test]
    fn a_passed_through_json_answer_reports_its_usage() {
        let body = br#"{"choices":[{"message":{"content":"hi"}}],"usage":{"prompt_tokens":7,"completion_tokens":3}}"#;
        let (a, b) = body.split_at(20);
        let m = watched("application/json", &[a, b]);
        let u = m.usage().unwrap();
        assert_eq!((u.input_tokens, u.output_tokens), (7, 3));
        assert_eq!(PassthroughReply.translate_json(body).unwrap().usage, Some(u));
    }
}
