//! Transitional wrapper (removed at merge, once the exchange calls [`crate::chat::ChatFront`]):
//! today's `translate` and `ChatRequest`, over [`crate::chat::request`].

use crate::chat::request::{self as chat, Translated};
use crate::config::{Api, Config};
use crate::error::ApiError;

pub use crate::bedrock::converse::encode_path_segment;
pub use crate::bedrock::models::{thinking_budget, ANSWER_TOKENS_ABOVE_BUDGET, JSON_TOOL_NAME, MAX_TOKENS_LIMIT};
pub use crate::bedrock::passthrough::OPENAI_PATH;

/// A translated request, ready to sign and send.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatRequest {
    /// The model name the client asked for (echoed in responses).
    pub client_model: String,
    /// The Bedrock model id, inference profile id or ARN.
    pub model_id: String,
    pub stream: bool,
    pub include_usage: bool,
    /// `/model/{percent-encoded id}/converse` or `/converse-stream`.
    pub path: String,
    /// The Converse JSON body.
    pub body: Vec<u8>,
    /// With `response_format` json_object / json_schema: the forced tool whose input is the
    /// answer, returned to the client as the message content.
    pub json_tool: Option<String>,
    /// Converse (translated) or Bedrock's OpenAI-compatible endpoint (passed through).
    pub api: Api,
}

/// Translate an OpenAI chat completions request body.
pub fn translate(body: &[u8], cfg: &Config) -> Result<ChatRequest, ApiError> {
    Ok(match chat::translate(body, cfg)? {
        Translated::Converse(t) => ChatRequest {
            path: t.converse.path(t.stream),
            body: t.converse.to_json()?,
            client_model: t.client_model,
            model_id: t.converse.model_id,
            stream: t.stream,
            include_usage: t.include_usage,
            json_tool: t.json_tool,
            api: Api::Converse,
        },
        Translated::Passthrough(p) => ChatRequest {
            client_model: p.client_model,
            model_id: p.model_id,
            stream: p.stream,
            include_usage: false,
            path: OPENAI_PATH.to_string(),
            body: p.body,
            json_tool: None,
            api: Api::Openai,
        },
    })
}
