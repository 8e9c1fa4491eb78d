//! The Anthropic Messages front door: `POST /v1/messages` (streaming and not) served by Bedrock
//! Converse / ConverseStream for any model Converse serves.
//!
//! - [`request`]: Messages body → typed Converse request (beta flags, cache points, thinking).
//! - [`stream`]: `MessagesSink`, ConverseStream events → Anthropic SSE.
//! - [`response`]: Converse JSON → Anthropic `Message`.
//! - [`error`]: Anthropic's error shape.
//! - [`count_tokens`]: `POST /v1/messages/count_tokens` → Bedrock CountTokens.

pub mod count_tokens;
pub mod error;
pub mod request;
pub mod response;
pub mod stream;
pub(crate) mod thinking;

use crate::bedrock::events::EventSink;
use crate::error::ApiError;
use crate::front::{FrontDoor, Outbound, Reply, RequestContext};
use crate::meter::Answer;

/// `POST /v1/messages`.
pub struct MessagesFront;

pub static MESSAGES: MessagesFront = MessagesFront;

/// The message id for a request id.
pub(crate) fn message_id(id: &str) -> String {
    format!("msg_{id}")
}

impl FrontDoor for MessagesFront {
    fn name(&self) -> &'static str {
        "messages"
    }

    fn translate(&self, body: &[u8], ctx: &RequestContext<'_>) -> Result<Outbound, ApiError> {
        if let Some(mantle) = crate::bedrock::passthrough::mantle(body, ctx, crate::sse_usage::Dialect::Anthropic) {
            return mantle;
        }
        let beta = (ctx.header)("anthropic-beta");
        let req = request::translate(body, ctx.config, beta.as_deref())?;
        if !req.dropped_fields.is_empty() {
            log::info!(
                "bedrock-bridge: messages: fields not forwarded to Bedrock: {}",
                req.dropped_fields.join(",")
            );
        }
        let reply = Box::new(MessagesReply {
            id: message_id(ctx.id),
            model: req.client_model.clone(),
        });
        crate::front::converse_outbound(req.converse, req.stream, ctx, req.client_model, reply, req.notes)
    }

    fn error_body(&self, e: &ApiError) -> Vec<u8> {
        error::body(e)
    }
}

/// The response side of a Messages request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MessagesReply {
    pub(crate) id: String,
    pub(crate) model: String,
}

impl Reply for MessagesReply {
    fn into_sink(self: Box<Self>) -> Box<dyn EventSink> {
        Box::new(stream::MessagesSink::new(self.id, self.model))
    }

    fn translate_json(&self, body: &[u8]) -> Result<Answer, ApiError> {
        let o = crate::bedrock::output::parse(body)?;
        Ok(Answer {
            body: response::translate(&o, &self.id, &self.model)?,
            usage: o.usage,
        })
    }

    fn error_body(&self, e: &ApiError) -> Vec<u8> {
        error::body(e)
    }
}
