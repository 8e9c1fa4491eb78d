//! The OpenAI Responses API front door: `POST /v1/responses`, streaming and not, on Bedrock
//! Converse / ConverseStream.
//!
//! - [`request`]: the request body → a typed Converse request (stateless: nothing stored).
//! - [`reasoning`]: the `encrypted_content` of reasoning items (the signed Bedrock block).
//! - [`response`]: the `response` object and its output items; the non-streaming translation.
//! - [`stream`]: [`stream::ResponsesSink`], ConverseStream events → Responses API events.
//! - [`reply`]: [`reply::ResponsesReply`], the [`Reply`](crate::front::Reply) of one request.
//!
//! Errors have the same `{"error":{"message","type","param","code"}}` shape and statuses as
//! chat completions (the Responses API uses OpenAI's common error object).

pub mod reasoning;
pub(crate) mod reply;
pub mod request;
pub mod response;
pub mod stream;

use crate::error::ApiError;
use crate::front::{self, FrontDoor, Outbound, RequestContext};

/// The Responses API.
pub struct ResponsesFront;

pub static RESPONSES: ResponsesFront = ResponsesFront;

impl FrontDoor for ResponsesFront {
    fn name(&self) -> &'static str {
        "responses"
    }

    fn translate(&self, body: &[u8], ctx: &RequestContext<'_>) -> Result<Outbound, ApiError> {
        if let Some(mantle) = crate::bedrock::passthrough::mantle(body, ctx, crate::sse_usage::Dialect::Responses) {
            return mantle;
        }
        let t = request::translate(body, ctx.config)?;
        let id: String = ctx.id.chars().filter(char::is_ascii_alphanumeric).take(64).collect();
        let meta = response::Meta {
            id: format!("resp_{id}"),
            created_at: ctx.created,
            model: t.client_model.clone(),
            echo: t.echo,
            reasoning_as_summary: t.reasoning_as_summary,
            json_tool: t.json_tool,
        };
        let reply = Box::new(reply::ResponsesReply {
            meta,
            max_bytes: ctx.config.limits.max_response_bytes,
        });
        front::converse_outbound(t.converse, t.stream, ctx, t.client_model, reply, t.notes)
    }

    fn error_body(&self, e: &ApiError) -> Vec<u8> {
        e.to_json()
    }
}
