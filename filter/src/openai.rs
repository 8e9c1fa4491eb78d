//! OpenAI response-side types shared by the streaming and non-streaming translators, and the
//! Bedrock → OpenAI mappings of stop reasons and usage.

use crate::config::ReasoningField;
use serde::{Deserialize, Serialize};

/// `usage` of a completion or of the final stream chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub(crate) struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub total_tokens: u64,
    pub prompt_tokens_details: PromptTokensDetails,
    /// Tokens written to the prompt cache (Anthropic / LiteLLM convention). An extension the
    /// OpenAI spec does not list: sent only when non-zero.
    #[serde(skip_serializing_if = "is_zero")]
    pub cache_creation_input_tokens: u64,
    /// Tokens read from the prompt cache (also in `prompt_tokens_details.cached_tokens`, the
    /// spec's field). Extension: sent only when non-zero.
    #[serde(skip_serializing_if = "is_zero")]
    pub cache_read_input_tokens: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub(crate) struct PromptTokensDetails {
    pub cached_tokens: u64,
}

/// Bedrock's `usage` object (Converse and ConverseStream `metadata`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct BedrockUsage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub total_tokens: Option<u64>,
    pub cache_read_input_tokens: u64,
    pub cache_write_input_tokens: u64,
}

impl From<BedrockUsage> for Usage {
    /// OpenAI counts cached tokens inside `prompt_tokens`; Bedrock counts them apart from
    /// `inputTokens` (and inside `totalTokens`).
    fn from(u: BedrockUsage) -> Usage {
        let prompt = u
            .input_tokens
            .saturating_add(u.cache_read_input_tokens)
            .saturating_add(u.cache_write_input_tokens);
        let total = u.total_tokens.unwrap_or(prompt.saturating_add(u.output_tokens));
        Usage {
            prompt_tokens: prompt,
            completion_tokens: u.output_tokens,
            total_tokens: total,
            prompt_tokens_details: PromptTokensDetails {
                cached_tokens: u.cache_read_input_tokens,
            },
            cache_creation_input_tokens: u.cache_write_input_tokens,
            cache_read_input_tokens: u.cache_read_input_tokens,
        }
    }
}

/// OpenAI `finish_reason` for a Bedrock `stopReason`.
pub(crate) fn finish_reason(stop_reason: &str) -> &'static str {
    match stop_reason {
        "end_turn" | "stop_sequence" => "stop",
        "max_tokens" | "model_context_window_exceeded" => "length",
        "tool_use" => "tool_calls",
        "guardrail_intervened" | "content_filtered" => "content_filter",
        _ => "stop",
    }
}

/// Where reasoning text goes, per the `reasoning_field` setting: the values of the
/// (`reasoning`, `reasoning_content`) fields of a message or a delta.
pub(crate) fn reasoning_fields(field: ReasoningField, text: Option<&str>) -> (Option<&str>, Option<&str>) {
    match field {
        ReasoningField::Reasoning => (text, None),
        ReasoningField::ReasoningContent => (None, text),
        ReasoningField::Both => (text, text),
    }
}

/// A reasoning block in the form clients send back on the next turn (LiteLLM's
/// `thinking_blocks`): the full text with its signature, or Bedrock's redacted content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum ThinkingBlock<'a> {
    Thinking {
        thinking: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        signature: Option<&'a str>,
    },
    RedactedThinking {
        data: &'a str,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_counts_cache_inside_prompt_tokens() {
        let b: BedrockUsage = serde_json::from_str(
            r#"{"cacheReadInputTokenCount":1028,"cacheReadInputTokens":1028,"cacheWriteInputTokenCount":0,
                "cacheWriteInputTokens":5,"inputTokens":12,"outputTokens":250,"totalTokens":1295}"#,
        )
        .unwrap();
        let u = Usage::from(b);
        assert_eq!(
            (u.prompt_tokens, u.completion_tokens, u.total_tokens),
            (1045, 250, 1295)
        );
        assert_eq!(u.prompt_tokens_details.cached_tokens, 1028);
        assert_eq!(u.cache_creation_input_tokens, 5);
        let v = serde_json::to_value(u).unwrap();
        assert_eq!(v["cache_creation_input_tokens"], 5);
        assert_eq!(v["prompt_tokens_details"]["cached_tokens"], 1028);
    }

    #[test]
    fn cache_extensions_only_when_non_zero() {
        let v = serde_json::to_value(Usage::default()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0,
                               "prompt_tokens_details": {"cached_tokens": 0}})
        );
    }

    #[test]
    fn reasoning_field_mapping() {
        let t = Some("why");
        assert_eq!(reasoning_fields(ReasoningField::Reasoning, t), (t, None));
        assert_eq!(reasoning_fields(ReasoningField::ReasoningContent, t), (None, t));
        assert_eq!(reasoning_fields(ReasoningField::Both, t), (t, t));
        assert_eq!(reasoning_fields(ReasoningField::Both, None), (None, None));
    }

    #[test]
    fn stop_reasons() {
        assert_eq!(finish_reason("end_turn"), "stop");
        assert_eq!(finish_reason("stop_sequence"), "stop");
        assert_eq!(finish_reason("max_tokens"), "length");
        assert_eq!(finish_reason("tool_use"), "tool_calls");
        assert_eq!(finish_reason("guardrail_intervened"), "content_filter");
        assert_eq!(finish_reason("content_filtered"), "content_filter");
    }
}
