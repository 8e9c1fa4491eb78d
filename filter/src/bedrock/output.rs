//! The Converse (non-streaming) response body, typed. Output formats build their response
//! objects from a [`ConverseOutput`].

use crate::error::ApiError;
use crate::openai::BedrockUsage;
use serde::Deserialize;
use serde_json::Value;

/// A Converse response: the assistant's content blocks in order, the stop reason and usage.
#[derive(Debug, Clone, PartialEq)]
pub struct ConverseOutput {
    pub(crate) content: Vec<OutBlock>,
    /// Bedrock's `stopReason` (`end_turn` when absent).
    pub(crate) stop_reason: String,
    pub(crate) usage: Option<BedrockUsage>,
    pub(crate) latency_ms: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum OutBlock {
    Text(String),
    /// Reasoning text; `signature` closes a signed block (Claude).
    Reasoning {
        text: String,
        signature: Option<String>,
    },
    /// Redacted reasoning (base64, opaque).
    Redacted(String),
    ToolUse {
        id: String,
        name: String,
        input: Value,
    },
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Wire {
    output: WireOutput,
    #[serde(default)]
    stop_reason: Option<String>,
    #[serde(default)]
    usage: Option<BedrockUsage>,
    /// Read leniently: a `metrics` object this gateway cannot read does not fail the response.
    #[serde(default)]
    metrics: Option<Value>,
}

#[derive(Deserialize)]
struct WireOutput {
    message: Option<WireMessage>,
}

#[derive(Deserialize)]
struct WireMessage {
    #[serde(default)]
    content: Vec<WireBlock>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireBlock {
    text: Option<String>,
    reasoning_content: Option<WireReasoning>,
    tool_use: Option<WireToolUse>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireReasoning {
    reasoning_text: Option<WireReasoningText>,
    redacted_content: Option<String>,
}

#[derive(Deserialize)]
struct WireReasoningText {
    #[serde(default)]
    text: String,
    signature: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireToolUse {
    tool_use_id: String,
    name: String,
    #[serde(default)]
    input: Value,
}

/// Parse a Converse response body. Blocks of kinds this gateway does not translate (citations,
/// guard content, server tool results) are skipped.
pub fn parse(body: &[u8]) -> Result<ConverseOutput, ApiError> {
    let w: Wire = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_upstream(format_args!("malformed Converse response: {e}")))?;
    let mut content = Vec::new();
    for b in w.output.message.map(|m| m.content).unwrap_or_default() {
        if let Some(t) = b.text {
            content.push(OutBlock::Text(t));
        }
        if let Some(r) = b.reasoning_content {
            // One block is either signed text or redacted content, never both.
            if let Some(rt) = r.reasoning_text {
                content.push(OutBlock::Reasoning {
                    text: rt.text,
                    signature: rt.signature,
                });
            } else if let Some(d) = r.redacted_content {
                content.push(OutBlock::Redacted(d));
            }
        }
        if let Some(t) = b.tool_use {
            content.push(OutBlock::ToolUse {
                id: t.tool_use_id,
                name: t.name,
                input: t.input,
            });
        }
    }
    Ok(ConverseOutput {
        content,
        stop_reason: w.stop_reason.unwrap_or_else(|| "end_turn".to_string()),
        usage: w.usage,
        latency_ms: w.metrics.as_ref().and_then(latency_ms),
    })
}

/// `metrics.latencyMs` of a Converse response or a ConverseStream `metadata` event, when it is a
/// non-negative integer.
pub(crate) fn latency_ms(metrics: &Value) -> Option<u64> {
    metrics.get("latencyMs").and_then(Value::as_u64)
}
