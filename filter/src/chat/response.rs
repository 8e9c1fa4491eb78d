//! Bedrock Converse output → OpenAI `chat.completion`.

use crate::bedrock::output::{ConverseOutput, OutBlock};
use crate::chat::reply::{self, ChatReply};
use crate::error::ApiError;
use crate::openai::{self, ThinkingBlock, Usage};
use serde::Serialize;

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

/// The `chat.completion` body for a Converse output.
pub(crate) fn completion(out: &ConverseOutput, r: &ChatReply) -> Result<Vec<u8>, ApiError> {
    let mut content = String::new();
    let mut has_text = false;
    let mut reasoning = String::new();
    let mut thinking_blocks = Vec::new();
    let mut tool_calls = Vec::new();
    let mut json_answer = None;
    for b in &out.content {
        match b {
            OutBlock::Text(t) => {
                content.push_str(t);
                has_text = true;
            }
            OutBlock::Reasoning { text, signature } => {
                reasoning.push_str(text);
                thinking_blocks.push(ThinkingBlock::Thinking {
                    thinking: text,
                    signature: signature.as_deref(),
                });
            }
            OutBlock::Redacted(data) => thinking_blocks.push(ThinkingBlock::RedactedThinking { data }),
            OutBlock::ToolUse { id, name, input } => {
                let arguments = serde_json::to_string(input).unwrap_or_else(|_| "{}".into());
                if reply::is_json_answer(r.json_tool.as_deref(), name, json_answer.is_some()) {
                    json_answer = Some(arguments);
                    continue;
                }
                tool_calls.push(ToolCall {
                    id: id.clone(),
                    kind: "function",
                    function: Function {
                        name: name.clone(),
                        arguments,
                    },
                });
            }
        }
    }
    let finish_reason = reply::finish_reason(&out.stop_reason, json_answer.is_some(), tool_calls.len());
    let content = if json_answer.is_some() {
        json_answer
    } else if has_text || tool_calls.is_empty() {
        Some(content)
    } else {
        None
    };
    let reasoning_text = (!reasoning.is_empty()).then_some(reasoning.as_str());
    let (reasoning, reasoning_content) = openai::reasoning_fields(r.reasoning_field, reasoning_text);
    let completion = Completion {
        id: &r.id,
        object: "chat.completion",
        created: r.created,
        model: &r.model,
        choices: [Choice {
            index: 0,
            message: OutgoingMessage {
                role: "assistant",
                content,
                reasoning,
                reasoning_content,
                thinking_blocks,
                tool_calls,
                refusal: None,
            },
            logprobs: None,
            finish_reason,
        }],
        usage: out.usage.map(Usage::from).unwrap_or_default(),
    };
    serde_json::to_vec(&completion)
        .map_err(|e| ApiError::bad_upstream(format_args!("could not encode the completion: {e}")))
}
