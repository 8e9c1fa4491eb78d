//! Front doors: the client-facing APIs the filter serves (OpenAI chat completions, the Responses
//! API, Anthropic Messages and count_tokens, embeddings), and the contract between each of them
//! and the per-request exchange.
//!
//! A front door turns a client's body into an [`Outbound`] Bedrock request plus a [`Reply`]:
//! everything decided at request time that the response side needs, in one value. The exchange
//! sends the request, then hands Bedrock's answer to the `Reply`: an eventstream to its
//! [`EventSink`], a JSON body to [`Reply::translate_json`], an error to [`Reply::error_body`].

pub(crate) mod fields;

use crate::bedrock::converse::ConverseRequest;
use crate::bedrock::events::{Event, EventSink};
use crate::config::{Api, Config};
use crate::error::ApiError;
use crate::meter::{Answer, Watch};

/// Which Bedrock endpoint a request goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Service {
    /// `bedrock-runtime` (the configuration's `endpoint`), signed as service `bedrock`.
    #[default]
    Runtime,
    /// Bedrock Mantle (`mantle_endpoint`), signed as service `bedrock-mantle`; it answers in
    /// the client's own format, SSE for streams.
    Mantle,
}

/// What a front door knows about the request besides its body.
pub struct RequestContext<'a> {
    pub config: &'a Config,
    /// A unique id for this response (from `x-request-id` when present), without any prefix.
    pub id: &'a str,
    /// Unix seconds.
    pub created: u64,
    /// The client's `:path` (query included).
    pub path: &'a str,
    /// A client request header by lower-case name.
    pub header: &'a dyn Fn(&str) -> Option<String>,
}

/// The Bedrock request a front door made, and how to answer the client.
pub struct Outbound {
    /// `/model/{id}/converse[-stream]`, `/model/{id}/invoke`, `/openai/v1/chat/completions`.
    pub path: String,
    pub body: Vec<u8>,
    /// Ask Bedrock for an eventstream (`accept: application/vnd.amazon.eventstream`).
    pub stream: bool,
    /// The model name the client asked for.
    pub client_model: String,
    /// The Bedrock model id, inference profile id or ARN.
    pub model_id: String,
    pub reply: Box<dyn Reply>,
    /// Log lines about repairs made to the client's request (`bedrock::repair`), logged by the
    /// exchange at info level. Never secrets or message content.
    pub notes: Vec<String>,
    /// The endpoint (and SigV4 service) that serves the request.
    pub(crate) service: Service,
    /// Request headers to send besides the exchange's own (signed with them), for example
    /// `anthropic-version` for Mantle's Messages API.
    pub(crate) headers: Vec<(&'static str, String)>,
}

/// The [`Outbound`] of a request a front door translated into Converse: bedrock-runtime's
/// Converse / ConverseStream, or for a model configured `api: mantle` (a Claude model: the others
/// are passed through before translation) Bedrock Mantle's Messages API
/// ([`crate::bedrock::mantle_claude`]).
pub fn converse_outbound(
    converse: ConverseRequest,
    stream: bool,
    ctx: &RequestContext<'_>,
    client_model: String,
    reply: Box<dyn Reply>,
    notes: Vec<String>,
) -> Result<Outbound, ApiError> {
    if ctx.config.resolve_model(&client_model).1 == Api::Mantle {
        return crate::bedrock::mantle_claude::outbound(&converse, stream, ctx, client_model, reply, notes);
    }
    Ok(Outbound {
        path: converse.path(stream),
        body: converse.to_json()?,
        stream,
        model_id: converse.model_id,
        reply,
        client_model,
        notes,
        service: Service::Runtime,
        headers: Vec::new(),
    })
}

/// A client-facing API.
pub trait FrontDoor: Sync {
    /// Short name for logs and metrics (`chat`, `responses`, `messages`, `embeddings`).
    fn name(&self) -> &'static str;
    /// Translate the client's request body (already size-checked).
    fn translate(&self, body: &[u8], ctx: &RequestContext<'_>) -> Result<Outbound, ApiError>;
    /// This API's error body for `e` (the HTTP status is `e.status`).
    fn error_body(&self, e: &ApiError) -> Vec<u8>;
}

/// The response side of one request.
pub trait Reply {
    /// A 200 eventstream from Bedrock: the sink that writes this API's stream.
    fn into_sink(self: Box<Self>) -> Box<dyn EventSink>;
    /// A 200 JSON body from Bedrock: this API's response body, and the usage it reported (for
    /// metrics, the access log and the token budget: see [`crate::meter`]).
    fn translate_json(&self, body: &[u8]) -> Result<Answer, ApiError>;
    /// Bedrock's response headers, before they are cleaned for the client: a reply that needs
    /// one of them (embeddings: the input token count is in `x-amzn-bedrock-input-token-count`)
    /// keeps it here.
    fn on_response_headers(&mut self, _header: &dyn Fn(&str) -> Option<String>) {}
    /// This API's error body for `e`.
    fn error_body(&self, e: &ApiError) -> Vec<u8>;
    /// `content-type` of this API's stream.
    fn stream_content_type(&self) -> &'static str {
        "text/event-stream; charset=utf-8"
    }
    /// Bedrock's answer is already in the client's format (Bedrock's OpenAI-compatible
    /// endpoint): pass it through unchanged, read on the way by the returned [`Watch`], which
    /// reports its usage, first token and errors into the request's meter. `content_type` is
    /// Bedrock's (`text/event-stream` for a stream). `None`: translate the answer.
    fn passthrough(&self, _content_type: &str) -> Option<Box<dyn Watch>> {
        None
    }
    /// The upstream answers in Anthropic's Messages format (Bedrock Mantle's Messages API): a
    /// stream is Anthropic SSE, read as Converse events ([`crate::bedrock::messages_events`]).
    fn anthropic_sse(&self) -> bool {
        false
    }
}

impl EventSink for Box<dyn EventSink> {
    fn event(&mut self, ev: Event<'_>, out: &mut Vec<u8>) {
        (**self).event(ev, out)
    }
    fn fail(&mut self, e: &ApiError, out: &mut Vec<u8>) {
        (**self).fail(e, out)
    }
    fn finish(&mut self, out: &mut Vec<u8>) {
        (**self).finish(out)
    }
    fn is_terminated(&self) -> bool {
        (**self).is_terminated()
    }
}
