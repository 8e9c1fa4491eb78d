//! Compatibility shim for `wasm.rs` until it calls the exchange: the chat completion now lives
//! in [`crate::chat::response`] on top of [`crate::bedrock::output`]. Removed at merge.

use crate::chat::reply::ChatReply;
use crate::config::ReasoningField;
use crate::error::ApiError;
use crate::front::Reply;

/// The old per-request completion options.
pub struct CompletionMeta<'a> {
    pub id: &'a str,
    pub created: u64,
    pub model: &'a str,
    pub reasoning_field: ReasoningField,
    pub json_tool: Option<&'a str>,
}

pub fn translate(body: &[u8], meta: &CompletionMeta<'_>) -> Result<Vec<u8>, ApiError> {
    let reply = ChatReply {
        id: meta.id.to_string(),
        created: meta.created,
        model: meta.model.to_string(),
        reasoning_field: meta.reasoning_field,
        include_usage: false,
        json_tool: meta.json_tool.map(str::to_string),
    };
    reply.translate_json(body)
}
