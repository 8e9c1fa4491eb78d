//! The chat front door's request translation, flattened for the `request` and `config` targets
//! and for the filter's own `tests/request.rs` (which includes this file).

use bedrock_bridge::bedrock::passthrough::OPENAI_PATH;
use bedrock_bridge::chat::request::{translate, Translated};
use bedrock_bridge::config::{Api, Config};
use bedrock_bridge::error::ApiError;

/// What the chat front door would send, and where.
#[derive(Debug)]
pub struct Sent {
    pub client_model: String,
    pub model_id: String,
    pub stream: bool,
    pub include_usage: bool,
    pub path: String,
    pub body: Vec<u8>,
    pub json_tool: Option<String>,
    pub api: Api,
}

/// Translate an OpenAI chat completions body as the chat front door does.
pub fn chat_translate(body: &[u8], cfg: &Config) -> Result<Sent, ApiError> {
    Ok(match translate(body, cfg)? {
        Translated::Converse(t) => Sent {
            path: t.converse.path(t.stream),
            body: t.converse.to_json()?,
            client_model: t.client_model,
            model_id: t.converse.model_id,
            stream: t.stream,
            include_usage: t.include_usage,
            json_tool: t.json_tool,
            api: Api::Converse,
        },
        Translated::Passthrough(p) => Sent {
            path: OPENAI_PATH.to_string(),
            client_model: p.client_model,
            model_id: p.model_id,
            stream: p.stream,
            include_usage: false,
            body: p.body,
            json_tool: None,
            api: Api::Openai,
        },
    })
}
