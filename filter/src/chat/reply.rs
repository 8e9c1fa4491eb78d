//! PLACEHOLDER on branch `reqcore` (respcore writes the real `ChatReply`, with the streaming
//! sink on the typed event layer; take theirs at merge). Only the struct and its public fields
//! are what `ChatFront` relies on. The shell on this branch still uses `crate::stream` /
//! `crate::response` directly and never calls this.

use crate::bedrock::events::{Event, EventSink};
use crate::config::ReasoningField;
use crate::error::ApiError;
use crate::front::Reply;
use crate::response::CompletionMeta;

/// Everything the chat reply needs, decided at request time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatReply {
    /// `chatcmpl-…`.
    pub id: String,
    /// Unix seconds.
    pub created: u64,
    /// The model name the client asked for.
    pub model: String,
    pub reasoning_field: ReasoningField,
    /// `stream_options.include_usage`.
    pub include_usage: bool,
    /// The forced `response_format` tool whose input is the answer.
    pub json_tool: Option<String>,
}

/// Placeholder sink: ends the stream with an error (the real one is respcore's `ChatSink`).
struct PlaceholderSink {
    done: bool,
}

impl EventSink for PlaceholderSink {
    fn event(&mut self, _ev: Event<'_>, _out: &mut Vec<u8>) {}
    fn fail(&mut self, e: &ApiError, out: &mut Vec<u8>) {
        if !self.done {
            out.extend_from_slice(b"data: ");
            out.extend_from_slice(&e.to_json());
            out.extend_from_slice(b"\n\n");
            self.done = true;
        }
    }
    fn finish(&mut self, out: &mut Vec<u8>) {
        self.fail(&ApiError::bad_upstream("streaming is not wired on this branch"), out);
    }
    fn is_terminated(&self) -> bool {
        self.done
    }
}

impl Reply for ChatReply {
    fn into_sink(self: Box<Self>) -> Box<dyn EventSink> {
        Box::new(PlaceholderSink { done: false })
    }
    fn translate_json(&self, body: &[u8]) -> Result<Vec<u8>, ApiError> {
        let meta = CompletionMeta {
            id: &self.id,
            created: self.created,
            model: &self.model,
            reasoning_field: self.reasoning_field,
            json_tool: self.json_tool.as_deref(),
        };
        crate::response::translate(body, &meta)
    }
    fn error_body(&self, e: &ApiError) -> Vec<u8> {
        e.to_json()
    }
}
