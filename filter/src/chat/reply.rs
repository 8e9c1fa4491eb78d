//! The response side of one chat completion: everything decided at request time that the
//! translation of Bedrock's answer needs, in one value ([`ChatReply`]), and the
//! `response_format`-as-a-forced-tool rules both the stream and the JSON translation apply.

use crate::bedrock::events::EventSink;
use crate::bedrock::output;
use crate::chat::response;
use crate::chat::stream::ChatSink;
use crate::config::ReasoningField;
use crate::error::ApiError;
use crate::front::Reply;
use crate::meter::Answer;
use crate::openai;

/// How to answer one chat completion request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatReply {
    /// `chatcmpl-…`: the completion's id, the same on every chunk.
    pub id: String,
    /// Unix seconds, the same on every chunk.
    pub created: u64,
    /// The model name the client asked for.
    pub model: String,
    pub reasoning_field: ReasoningField,
    /// `stream_options.include_usage`: end the stream with a usage chunk.
    pub include_usage: bool,
    /// The forced tool that carries a `response_format` answer: its input is the message's
    /// `content` (see [`is_json_answer`]).
    pub json_tool: Option<String>,
    /// `limits.max_thinking_bytes`: the longest reasoning block streamed whole in
    /// `thinking_blocks`.
    pub max_thinking_bytes: usize,
}

impl Reply for ChatReply {
    fn into_sink(self: Box<Self>) -> Box<dyn EventSink> {
        Box::new(ChatSink::new(*self))
    }

    fn translate_json(&self, body: &[u8]) -> Result<Answer, ApiError> {
        let o = output::parse(body)?;
        Ok(Answer {
            body: response::completion(&o, self)?,
            usage: o.usage,
        })
    }

    fn error_body(&self, e: &ApiError) -> Vec<u8> {
        e.to_json()
    }
}

/// `response_format` is sent to Bedrock as a forced tool, `json_tool`. Its first call (`name`)
/// is the answer: its input becomes the message's `content`, never a tool call. `taken`: an
/// earlier block already was the answer.
pub(crate) fn is_json_answer(json_tool: Option<&str>, name: &str, taken: bool) -> bool {
    !taken && json_tool == Some(name)
}

/// The `finish_reason` for Bedrock's `stop_reason`. A turn that stopped only to call the
/// `response_format` tool (`json_answered`, no other `tool_calls`) finished normally: `stop`.
pub(crate) fn finish_reason(stop_reason: &str, json_answered: bool, tool_calls: usize) -> &'static str {
    let reason = openai::finish_reason(stop_reason);
    if reason == "tool_calls" && json_answered && tool_calls == 0 {
        "stop"
    } else {
        reason
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_json_tool_answers_once() {
        assert!(is_json_answer(Some("json_response"), "json_response", false));
        assert!(!is_json_answer(Some("json_response"), "json_response", true));
        assert!(!is_json_answer(Some("json_response"), "f", false));
        assert!(!is_json_answer(None, "json_response", false));
    }

    #[test]
    fn a_json_answer_finishes_with_stop() {
        assert_eq!(finish_reason("tool_use", true, 0), "stop");
        assert_eq!(finish_reason("tool_use", true, 1), "tool_calls");
        assert_eq!(finish_reason("tool_use", false, 0), "tool_calls");
        assert_eq!(finish_reason("max_tokens", true, 0), "length");
    }

    #[test]
    fn the_reply_translates_and_answers_errors_in_openai_shape() {
        let reply = ChatReply {
            id: "chatcmpl-r".into(),
            created: 7,
            model: "m".into(),
            reasoning_field: ReasoningField::Reasoning,
            include_usage: false,
            json_tool: None,
            max_thinking_bytes: 1024,
        };
        let body = br#"{"output":{"message":{"content":[{"text":"hi"}]}},"stopReason":"end_turn"}"#;
        let v: serde_json::Value = serde_json::from_slice(&reply.translate_json(body).unwrap().body).unwrap();
        assert_eq!(v["choices"][0]["message"]["content"], "hi");
        assert_eq!(v["id"], "chatcmpl-r");
        assert_eq!(reply.translate_json(b"nope").unwrap_err().status, 502);
        let e = ApiError::invalid_request("bad");
        assert_eq!(reply.error_body(&e), e.to_json());
        assert!(reply.passthrough("application/json").is_none());
    }
}
