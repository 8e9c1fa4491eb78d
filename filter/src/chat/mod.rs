//! The OpenAI chat completions front door (`POST /v1/chat/completions`).
//!
//! [`request`] reads and validates the client's body and builds the Converse request (or a
//! request for Bedrock's OpenAI-compatible endpoint); the reply side ([`reply`], [`stream`],
//! [`response`], [`sse`]) turns Bedrock's answer into OpenAI's.

pub mod reply;
pub mod request;
pub(crate) mod response;
pub(crate) mod sse;
pub mod stream;

use crate::bedrock::passthrough::PassthroughReply;
use crate::error::ApiError;
use crate::front::{self, FrontDoor, Outbound, RequestContext};
use reply::ChatReply;
use request::Translated;

/// The chat completions front door.
#[derive(Debug, Clone, Copy, Default)]
pub struct ChatFront;

/// The one instance the exchange routes `/v1/chat/completions` to.
pub static CHAT: ChatFront = ChatFront;

impl FrontDoor for ChatFront {
    fn name(&self) -> &'static str {
        "chat"
    }

    fn translate(&self, body: &[u8], ctx: &RequestContext<'_>) -> Result<Outbound, ApiError> {
        if let Some(mantle) = crate::bedrock::passthrough::mantle(body, ctx, crate::sse_usage::Dialect::Chat) {
            return mantle;
        }
        match request::translate(body, ctx.config)? {
            Translated::Converse(t) => {
                let reply = Box::new(ChatReply {
                    id: format!("chatcmpl-{}", ctx.id),
                    created: ctx.created,
                    model: t.client_model.clone(),
                    reasoning_field: ctx.config.reasoning_field,
                    include_usage: t.include_usage,
                    json_tool: t.json_tool,
                    max_thinking_bytes: ctx.config.limits.max_thinking_bytes,
                });
                front::converse_outbound(t.converse, t.stream, ctx, t.client_model, reply, t.notes)
            }
            Translated::Passthrough(p) => Ok(Outbound {
                path: crate::bedrock::passthrough::OPENAI_PATH.to_string(),
                body: p.body,
                stream: p.stream,
                client_model: p.client_model,
                model_id: p.model_id,
                reply: Box::new(PassthroughReply),
                notes: Vec::new(),
                service: Default::default(),
                headers: Vec::new(),
            }),
        }
    }

    fn error_body(&self, e: &ApiError) -> Vec<u8> {
        e.to_json()
    }
}
