//! Bedrock Converse JSON response → OpenAI `chat.completion`.

use crate::config::ReasoningField;
use crate::error::ApiError;
use crate::openai::{self, BedrockUsage, ThinkingBlock, Usage};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What the completion says about itself (shared with streams).
#[derive(Debug, Clone)]
pub struct CompletionMeta<'a> {
    pub id: &'a str,
    pub created: u64,
    pub model: &'a str,
    pub reasoning_field: ReasoningField,
    /// The forced `response_format` tool whose input is the answer.
    pub json_tool: Option<&'a str>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConverseResponse {
    output: Output,
    #[serde(default)]
    stop_reason: Option<String>,
    #[serde(default)]
    usage: Option<BedrockUsage>,
}

#[derive(Deserialize)]
struct Output {
    message: Option<OutMessage>,
}

#[derive(Deserialize)]
struct OutMessage {
    #[serde(default)]
    content: Vec<Block>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Block {
    text: Option<String>,
    reasoning_content: Option<Reasoning>,
    tool_use: Option<ToolUse>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Reasoning {
    reasoning_text: Option<ReasoningText>,
    redacted_content: Option<String>,
}

#[derive(Deserialize)]
struct ReasoningText {
    #[serde(default)]
    text: String,
    signature: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ToolUse {
    tool_use_id: String,
    name: String,
    #[serde(default)]
    input: Value,
}

#[derive(Serialize)]
struct Completion<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    model: &'a str,
    choices: [Choice<'a>; 1],
    usage: Usage,
}

#[derive(Serialize)]
struct Choice<'a> {
    index: u32,
    message: OutgoingMessage<'a>,
    logprobs: Option<()>,
    finish_reason: &'static str,
}

#[derive(Serialize)]
struct OutgoingMessage<'a> {
    role: &'static str,
    content: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning_content: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    thinking_blocks: Vec<ThinkingBlock<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<ToolCall>,
    refusal: Option<()>,
}

#[derive(Serialize)]
struct ToolCall {
    id: String,
    #[serde(rename = "type")]
    kind: &'static str,
    function: Function,
}

#[derive(Serialize)]
struct Function {
    name: String,
    arguments: String,
}

/// Translate a Converse response body into a `chat.completion` body.
pub fn translate(body: &[u8], meta: &CompletionMeta<'_>) -> Result<Vec<u8>, ApiError> {
    let r: ConverseResponse = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_upstream(format_args!("malformed Converse response: {e}")))?;
    let blocks = r.output.message.map(|m| m.content).unwrap_or_default();

    let mut content = String::new();
    let mut has_text = false;
    let mut reasoning = String::new();
    let mut tool_calls = Vec::new();
    let mut json_answer = None;
    for b in &blocks {
        if let Some(t) = &b.text {
            content.push_str(t);
            has_text = true;
        }
        if let Some(rc) = &b.reasoning_content {
            if let Some(rt) = &rc.reasoning_text {
                reasoning.push_str(&rt.text);
            }
        }
        if let Some(tu) = &b.tool_use {
            let arguments = serde_json::to_string(&tu.input).unwrap_or_else(|_| "{}".into());
            if meta.json_tool == Some(tu.name.as_str()) && json_answer.is_none() {
                json_answer = Some(arguments);
                continue;
            }
            tool_calls.push(ToolCall {
                id: tu.tool_use_id.clone(),
                kind: "function",
                function: Function {
                    name: tu.name.clone(),
                    arguments,
                },
            });
        }
    }
    let thinking_blocks: Vec<ThinkingBlock<'_>> = blocks
        .iter()
        .filter_map(|b| b.reasoning_content.as_ref())
        .filter_map(|rc| match (&rc.reasoning_text, &rc.redacted_content) {
            (Some(rt), _) => Some(ThinkingBlock::Thinking {
                thinking: &rt.text,
                signature: rt.signature.as_deref(),
            }),
            (None, Some(data)) => Some(ThinkingBlock::RedactedThinking { data }),
            (None, None) => None,
        })
        .collect();

    let stop = r.stop_reason.as_deref().unwrap_or("end_turn");
    let mut finish_reason = openai::finish_reason(stop);
    let content = if let Some(answer) = json_answer {
        if finish_reason == "tool_calls" && tool_calls.is_empty() {
            finish_reason = "stop";
        }
        Some(answer)
    } else if has_text || tool_calls.is_empty() {
        Some(content)
    } else {
        None
    };
    let reasoning_text = (!reasoning.is_empty()).then_some(reasoning.as_str());
    let (reasoning_field, reasoning_content) = match meta.reasoning_field {
        ReasoningField::Reasoning => (reasoning_text, None),
        ReasoningField::ReasoningContent => (None, reasoning_text),
        ReasoningField::Both => (reasoning_text, reasoning_text),
    };
    let completion = Completion {
        id: meta.id,
        object: "chat.completion",
        created: meta.created,
        model: meta.model,
        choices: [Choice {
            index: 0,
            message: OutgoingMessage {
                role: "assistant",
                content,
                reasoning: reasoning_field,
                reasoning_content,
                thinking_blocks,
                tool_calls,
                refusal: None,
            },
            logprobs: None,
            finish_reason,
        }],
        usage: r.usage.map(Usage::from).unwrap_or_default(),
    };
    serde_json::to_vec(&completion)
        .map_err(|e| ApiError::bad_upstream(format_args!("could not encode the completion: {e}")))
}
