//! `MessagesSink`: ConverseStream events → Anthropic's SSE (`event: NAME\ndata: {…}\n\n`), in the
//! order Anthropic's SDKs expect: `message_start`, `ping`, then per content block
//! `content_block_start` / `content_block_delta`… / `content_block_stop`, then `message_delta`
//! (stop reason, usage) and `message_stop`; an `error` event ends a failed stream.
//!
//! Anthropic blocks are numbered from 0 in the order they open, one open at a time; Bedrock's
//! block indices only decide where a block ends.

use super::error;
use super::response::{stop_reason, usage_json};
use crate::bedrock::events::{Event, EventSink};
use crate::error::ApiError;
use crate::openai::BedrockUsage;
use serde::Serialize;
use serde_json::json;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Thinking,
    Redacted,
    ToolUse,
}

#[derive(Debug)]
struct Open {
    bedrock: u32,
    kind: Kind,
}

/// The Anthropic stream writer for one response.
#[derive(Debug)]
pub struct MessagesSink {
    id: String,
    model: String,
    started: bool,
    open: Option<Open>,
    /// Next Anthropic block index.
    next: u32,
    stop_reason: Option<String>,
    usage: Option<BedrockUsage>,
    done: bool,
}

fn sse<T: Serialize>(out: &mut Vec<u8>, name: &str, data: &T) {
    out.extend_from_slice(b"event: ");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\ndata: ");
    if serde_json::to_writer(&mut *out, data).is_err() {
        out.extend_from_slice(b"{}");
    }
    out.extend_from_slice(b"\n\n");
}

#[derive(Serialize)]
struct Delta<D: Serialize> {
    #[serde(rename = "type")]
    kind: &'static str,
    index: u32,
    delta: D,
}

#[derive(Serialize)]
#[serde(tag = "type")]
enum BlockDelta<'a> {
    #[serde(rename = "text_delta")]
    Text { text: &'a str },
    #[serde(rename = "thinking_delta")]
    Thinking { thinking: &'a str },
    #[serde(rename = "signature_delta")]
    Signature { signature: &'a str },
    #[serde(rename = "input_json_delta")]
    InputJson { partial_json: &'a str },
}

impl MessagesSink {
    /// `id` is the message id (`msg_…`), `model` the name the client asked for.
    pub fn new(id: impl Into<String>, model: impl Into<String>) -> Self {
        MessagesSink {
            id: id.into(),
            model: model.into(),
            started: false,
            open: None,
            next: 0,
            stop_reason: None,
            usage: None,
            done: false,
        }
    }

    fn start(&mut self, out: &mut Vec<u8>) {
        if self.started {
            return;
        }
        self.started = true;
        sse(
            out,
            "message_start",
            &json!({"type": "message_start", "message": {
                "id": self.id, "type": "message", "role": "assistant", "model": self.model,
                "content": [], "stop_reason": null, "stop_sequence": null,
                "usage": {"input_tokens": 0, "output_tokens": 0,
                          "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}}}),
        );
        sse(out, "ping", &json!({"type": "ping"}));
    }

    fn close(&mut self, out: &mut Vec<u8>) {
        if self.open.take().is_some() {
            sse(
                out,
                "content_block_stop",
                &json!({"type": "content_block_stop", "index": self.next.saturating_sub(1)}),
            );
        }
    }

    /// Make sure block `bedrock` of kind `kind` is the open block; open it with `start` if not.
    fn ensure(
        &mut self,
        bedrock: u32,
        kind: Kind,
        start: impl FnOnce() -> serde_json::Value,
        out: &mut Vec<u8>,
    ) -> u32 {
        self.start(out);
        if let Some(o) = &self.open {
            if o.bedrock == bedrock && o.kind == kind && kind != Kind::Redacted {
                return self.next.saturating_sub(1);
            }
        }
        self.close(out);
        let index = self.next;
        self.next = self.next.saturating_add(1);
        self.open = Some(Open { bedrock, kind });
        sse(
            out,
            "content_block_start",
            &json!({"type": "content_block_start", "index": index, "content_block": start()}),
        );
        index
    }

    /// [`Self::ensure`] for a thinking block (its text and signature come in separate events).
    fn ensure_thinking(&mut self, bedrock: u32, out: &mut Vec<u8>) -> u32 {
        self.ensure(
            bedrock,
            Kind::Thinking,
            || json!({"type": "thinking", "thinking": "", "signature": ""}),
            out,
        )
    }

    fn delta(out: &mut Vec<u8>, index: u32, d: BlockDelta<'_>) {
        // Text and thinking deltas, nearly every event of a stream, are written directly: the
        // same bytes as serde's (checked in the tests), without walking the structs.
        let (tag, field, text): (&[u8], &[u8], &str) = match d {
            BlockDelta::Text { text } => (b"text_delta", b"text", text),
            BlockDelta::Thinking { thinking } => (b"thinking_delta", b"thinking", thinking),
            other => {
                let delta = Delta {
                    kind: "content_block_delta",
                    index,
                    delta: other,
                };
                return sse(out, "content_block_delta", &delta);
            }
        };
        out.reserve(text.len() + 128);
        out.extend_from_slice(b"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":");
        // Serialising an integer into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, &index);
        out.extend_from_slice(b",\"delta\":{\"type\":\"");
        out.extend_from_slice(tag);
        out.extend_from_slice(b"\",\"");
        out.extend_from_slice(field);
        out.extend_from_slice(b"\":");
        fastjson::write::write_str(out, text);
        out.extend_from_slice(b"}}\n\n");
    }

    fn end(&mut self, out: &mut Vec<u8>) {
        if self.done {
            return;
        }
        self.start(out);
        self.close(out);
        let reason = stop_reason(self.stop_reason.as_deref().unwrap_or("end_turn"));
        let usage = usage_json(&self.usage.unwrap_or_default());
        sse(
            out,
            "message_delta",
            &json!({"type": "message_delta", "delta": {"stop_reason": reason, "stop_sequence": null}, "usage": usage}),
        );
        sse(out, "message_stop", &json!({"type": "message_stop"}));
        self.done = true;
    }
}

impl EventSink for MessagesSink {
    fn event(&mut self, ev: Event<'_>, out: &mut Vec<u8>) {
        if self.done {
            return;
        }
        match ev {
            Event::MessageStart => self.start(out),
            Event::Text { block, text } => {
                let i = self.ensure(block, Kind::Text, || json!({"type": "text", "text": ""}), out);
                if !text.is_empty() {
                    Self::delta(out, i, BlockDelta::Text { text: &text });
                }
            }
            Event::ReasoningText { block, text } => {
                let i = self.ensure_thinking(block, out);
                if !text.is_empty() {
                    Self::delta(out, i, BlockDelta::Thinking { thinking: &text });
                }
            }
            Event::ReasoningSignature { block, signature } => {
                let i = self.ensure_thinking(block, out);
                Self::delta(out, i, BlockDelta::Signature { signature: &signature });
            }
            Event::RedactedReasoning { block, data } => {
                self.ensure(
                    block,
                    Kind::Redacted,
                    || json!({"type": "redacted_thinking", "data": data}),
                    out,
                );
            }
            Event::ToolUseStart { block, id, name } => {
                // A new tool block, even when Bedrock reuses an index.
                self.start(out);
                self.close(out);
                self.ensure(
                    block,
                    Kind::ToolUse,
                    || json!({"type": "tool_use", "id": id, "name": name, "input": {}}),
                    out,
                );
            }
            Event::ToolInput { block, input } => {
                let i = self.ensure(
                    block,
                    Kind::ToolUse,
                    || json!({"type": "tool_use", "id": "", "name": "", "input": {}}),
                    out,
                );
                if !input.is_empty() {
                    Self::delta(out, i, BlockDelta::InputJson { partial_json: &input });
                }
            }
            Event::BlockStop { block } => {
                if self.open.as_ref().is_some_and(|o| o.bedrock == block) {
                    self.close(out);
                }
            }
            Event::MessageStop { stop_reason } => {
                self.close(out);
                self.stop_reason = Some(stop_reason.into_owned());
            }
            Event::Metadata { usage, .. } => {
                if let Some(u) = usage {
                    self.usage = Some(u);
                }
                if self.stop_reason.is_some() {
                    self.end(out);
                }
            }
        }
    }

    fn fail(&mut self, e: &ApiError, out: &mut Vec<u8>) {
        if self.done {
            return;
        }
        self.done = true;
        error::event(e, out);
    }

    fn finish(&mut self, out: &mut Vec<u8>) {
        if self.done {
            return;
        }
        if self.stop_reason.is_some() {
            // `messageStop` came but no `metadata`: end without usage.
            self.end(out);
        } else {
            self.fail(&ApiError::bad_upstream(crate::bedrock::events::CUT_STREAM), out);
        }
    }

    fn is_terminated(&self) -> bool {
        self.done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn text_and_thinking_deltas_are_serdes_bytes(text in "(\\PC|[\\x00-\\x7f])*", index: u32) {
            for (fast, other) in [
                (BlockDelta::Text { text: &text }, BlockDelta::Text { text: &text }),
                (BlockDelta::Thinking { thinking: &text }, BlockDelta::Thinking { thinking: &text }),
            ] {
                let (mut direct, mut general) = (b"prefix".to_vec(), b"prefix".to_vec());
                MessagesSink::delta(&mut direct, index, fast);
                let delta = Delta { kind: "content_block_delta", index, delta: other };
                sse(&mut general, "content_block_delta", &delta);
                proptest::prop_assert_eq!(direct, general);
            }
        }
    }
}
