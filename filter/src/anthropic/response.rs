//! Converse response → Anthropic `Message` object; Bedrock stop reasons and usage in
//! Anthropic's terms (shared with the stream sink).

use crate::bedrock::output::{ConverseOutput, OutBlock};
use crate::error::ApiError;
use crate::openai::BedrockUsage;
use serde_json::{json, Value};

/// Anthropic's `stop_reason` for a Bedrock `stopReason`.
pub(crate) fn stop_reason(bedrock: &str) -> &'static str {
    match bedrock {
        "max_tokens" => "max_tokens",
        "stop_sequence" => "stop_sequence",
        "tool_use" => "tool_use",
        "guardrail_intervened" | "content_filtered" => "refusal",
        "model_context_window_exceeded" => "model_context_window_exceeded",
        _ => "end_turn",
    }
}

/// Anthropic's `usage`: like Bedrock, `input_tokens` excludes cache reads and writes.
pub(crate) fn usage_json(u: &BedrockUsage) -> Value {
    json!({
        "input_tokens": u.input_tokens,
        "output_tokens": u.output_tokens,
        "cache_creation_input_tokens": u.cache_write_input_tokens,
        "cache_read_input_tokens": u.cache_read_input_tokens,
    })
}

/// A Converse JSON body → the Anthropic `Message` JSON.
pub fn translate(out: &ConverseOutput, id: &str, model: &str) -> Result<Vec<u8>, ApiError> {
    let content: Vec<Value> = out
        .content
        .iter()
        .map(|b| match b {
            OutBlock::Text(t) => json!({"type": "text", "text": t}),
            OutBlock::Reasoning { text, signature } => {
                json!({"type": "thinking", "thinking": text, "signature": signature.as_deref().unwrap_or("")})
            }
            OutBlock::Redacted(d) => json!({"type": "redacted_thinking", "data": d}),
            OutBlock::ToolUse { id, name, input } => {
                let input = if input.is_object() { input.clone() } else { json!({}) };
                json!({"type": "tool_use", "id": id, "name": name, "input": input})
            }
        })
        .collect();
    let msg = json!({
        "id": id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason(&out.stop_reason),
        "stop_sequence": null,
        "usage": usage_json(&out.usage.unwrap_or_default()),
    });
    serde_json::to_vec(&msg).map_err(|e| ApiError::bad_upstream(format_args!("could not encode the message: {e}")))
}
