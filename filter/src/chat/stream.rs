//! ConverseStream events → OpenAI `chat.completion.chunk` SSE: [`ChatSink`], the chat front
//! door's [`EventSink`]. Run it under [`crate::bedrock::events::ResponseStream`], which feeds it
//! each response body chunk's events; it holds a few words of state between chunks, so the
//! output does not depend on where the chunks were split.

use crate::bedrock::events::{Event, EventSink, CUT_STREAM};
use crate::chat::reply::{self, ChatReply};
use crate::chat::sse::{self, ChunkEncoder, Delta, FunctionDelta, ThinkingBlockDelta, ToolCallDelta};
use crate::config::ReasoningField;
use crate::error::ApiError;
use crate::openai::Usage;

/// Writes one OpenAI chat stream from ConverseStream events.
#[derive(Debug)]
pub struct ChatSink {
    enc: ChunkEncoder,
    reasoning_field: ReasoningField,
    include_usage: bool,
    role_sent: bool,
    stopped: bool,
    /// `[DONE]` written (normally or after an error): everything after is ignored.
    terminated: bool,
    /// (Bedrock content block index, OpenAI tool call index) for each tool call so far.
    tools: Vec<(u32, u32)>,
    json_tool: Option<String>,
    /// The content block carrying the `response_format` answer.
    json_block: Option<u32>,
    /// With `response_format`: text written before the answer tool started. Dropped when the
    /// tool comes (the answer is the tool's JSON, as in non-streaming responses); sent as the
    /// content if the model answered in text instead. Bounded by `MAX_PENDING_TEXT`.
    pending_text: String,
    /// (Bedrock content block index, `thinking_blocks` index) of the current reasoning block.
    reasoning_block: Option<(u32, u32)>,
    reasoning_blocks: u32,
    /// The current reasoning block, held to be sent whole at its end (see [`ThinkingHold`]).
    hold: ThinkingHold,
    max_thinking_bytes: usize,
}

/// A reasoning block being streamed. Its text goes out as `reasoning`/`reasoning_content`
/// deltas as it comes; the block itself (text, signature) is sent ONCE, whole, as a single
/// `thinking_blocks` piece when it ends: Python's stream helper merges pieces by `index`
/// (concatenating strings) and openai-node's with `Object.assign` (last piece wins), and both
/// rebuild the same block from one piece. Text beyond `limits.max_thinking_bytes` is not held:
/// such a block is not sent in `thinking_blocks` (it cannot be replayed), and the next turn
/// falls back to thinking memory or the floor (thinking off).
#[derive(Debug, Default)]
struct ThinkingHold {
    text: String,
    signature: Option<String>,
    redacted: Option<String>,
    too_long: bool,
}

/// Text held back in `response_format` mode before it is sent anyway (bounded memory).
const MAX_PENDING_TEXT: usize = 64 * 1024;

impl ChatSink {
    pub fn new(reply: ChatReply) -> Self {
        ChatSink {
            enc: ChunkEncoder::new(&reply.id, reply.created, &reply.model).with_usage_null(reply.include_usage),
            reasoning_field: reply.reasoning_field,
            include_usage: reply.include_usage,
            role_sent: false,
            stopped: false,
            terminated: false,
            tools: Vec::new(),
            json_tool: reply.json_tool,
            json_block: None,
            pending_text: String::new(),
            reasoning_block: None,
            reasoning_blocks: 0,
            hold: ThinkingHold::default(),
            max_thinking_bytes: reply.max_thinking_bytes,
        }
    }

    fn content(&self, out: &mut Vec<u8>, text: &str) {
        self.enc.content(out, text);
    }

    fn tool_start(&mut self, block: u32, id: &str, name: &str, out: &mut Vec<u8>) {
        if reply::is_json_answer(self.json_tool.as_deref(), name, self.json_block.is_some()) {
            self.json_block = Some(block);
            self.pending_text = String::new();
            return;
        }
        let index = self.tool_index(block);
        self.enc.delta(out, &tool_delta(index, Some(id), Some(name), ""));
    }

    fn tool_input(&mut self, block: u32, input: &str, out: &mut Vec<u8>) {
        if self.json_block == Some(block) {
            if !input.is_empty() {
                self.content(out, input);
            }
            return;
        }
        let index = self.tool_index(block);
        if !input.is_empty() {
            self.enc.delta(out, &tool_delta(index, None, None, input));
        }
    }

    fn text(&mut self, text: &str, out: &mut Vec<u8>) {
        if text.is_empty() {
            return;
        }
        if self.json_tool.is_some() {
            self.on_json_mode_text(text, out);
        } else {
            self.content(out, text);
        }
    }

    fn reasoning_text(&mut self, block: u32, text: &str, out: &mut Vec<u8>) {
        self.thinking_index(block);
        if text.is_empty() {
            return;
        }
        if !self.hold.too_long {
            if self.hold.text.len().saturating_add(text.len()) > self.max_thinking_bytes {
                self.hold.too_long = true;
                self.hold.text = String::new();
            } else {
                self.hold.text.push_str(text);
            }
        }
        self.enc.reasoning(out, self.reasoning_field, text);
    }

    fn reasoning_signature(&mut self, block: u32, signature: &str) {
        self.thinking_index(block);
        let sig = self.hold.signature.get_or_insert_with(String::new);
        if sig.len().saturating_add(signature.len()) > self.max_thinking_bytes {
            self.hold.too_long = true;
        } else {
            sig.push_str(signature);
        }
    }

    fn redacted(&mut self, block: u32, data: &str) {
        self.thinking_index(block);
        let d = self.hold.redacted.get_or_insert_with(String::new);
        if d.len().saturating_add(data.len()) > self.max_thinking_bytes {
            self.hold.too_long = true;
        } else {
            d.push_str(data);
        }
    }

    /// The end of content block `block`: if it is the current reasoning block, send it whole.
    fn block_stop(&mut self, block: u32, out: &mut Vec<u8>) {
        if matches!(self.reasoning_block, Some((b, _)) if b == block) {
            self.flush_thinking(out);
        }
    }

    /// Send the held reasoning block as one `thinking_blocks` piece (nothing if it has neither a
    /// signature nor redacted data: an unsigned block cannot be sent back; or if it was too long).
    fn flush_thinking(&mut self, out: &mut Vec<u8>) {
        let hold = std::mem::take(&mut self.hold);
        let Some((_, index)) = self.reasoning_block else {
            return;
        };
        if hold.too_long {
            return;
        }
        let piece = match (&hold.redacted, &hold.signature) {
            (Some(d), _) => ThinkingPiece::Redacted(d),
            (None, Some(sig)) => ThinkingPiece::Signed(&hold.text, sig),
            (None, None) => return,
        };
        let delta = Delta {
            thinking_blocks: Some([thinking_piece(index, piece)]),
            ..Default::default()
        };
        self.enc.delta(out, &delta);
    }

    fn stop(&mut self, stop_reason: &str, out: &mut Vec<u8>) {
        if self.reasoning_block.is_some() {
            self.flush_thinking(out);
        }
        self.flush_pending_text(out);
        let reason = reply::finish_reason(stop_reason, self.json_block.is_some(), self.tools.len());
        self.enc.finish(out, reason);
        self.stopped = true;
    }

    fn metadata(&mut self, usage: Option<Usage>, out: &mut Vec<u8>) {
        if self.include_usage {
            self.enc.usage(out, &usage.unwrap_or_default());
        }
        // metadata is ConverseStream's last event: the client need not wait for the upstream's
        // end of stream to see [DONE].
        if self.stopped {
            out.extend_from_slice(sse::DONE);
            self.terminated = true;
        }
    }

    /// The `thinking_blocks` index of Bedrock content block `block`: reasoning blocks counted
    /// from 0 in the order they start.
    fn thinking_index(&mut self, block: u32) -> u32 {
        match self.reasoning_block {
            Some((b, i)) if b == block => i,
            _ => {
                // A new reasoning block without the previous one's end: drop what was held.
                self.hold = ThinkingHold::default();
                let i = self.reasoning_blocks;
                self.reasoning_blocks = self.reasoning_blocks.saturating_add(1);
                self.reasoning_block = Some((block, i));
                i
            }
        }
    }

    /// Text in `response_format` mode: dropped once the answer tool has started, held back
    /// before it (the model may still call it), sent when the hold exceeds its bound.
    fn on_json_mode_text(&mut self, text: &str, out: &mut Vec<u8>) {
        if self.json_block.is_some() {
            return;
        }
        if self.pending_text.len().saturating_add(text.len()) > MAX_PENDING_TEXT {
            self.flush_pending_text(out);
            self.content(out, text);
            return;
        }
        self.pending_text.push_str(text);
    }

    fn flush_pending_text(&mut self, out: &mut Vec<u8>) {
        if self.pending_text.is_empty() {
            return;
        }
        let text = std::mem::take(&mut self.pending_text);
        self.content(out, &text);
    }

    fn ensure_role(&mut self, out: &mut Vec<u8>) {
        if !self.role_sent {
            self.role_sent = true;
            self.enc.delta(
                out,
                &Delta {
                    role: Some("assistant"),
                    content: Some(""),
                    ..Default::default()
                },
            );
        }
    }

    /// OpenAI tool call indexes count tool calls from 0, whatever Bedrock's block index.
    fn tool_index(&mut self, block: u32) -> u32 {
        if let Some(&(_, i)) = self.tools.iter().find(|(b, _)| *b == block) {
            return i;
        }
        let i = u32::try_from(self.tools.len()).unwrap_or(u32::MAX);
        self.tools.push((block, i));
        i
    }
}

impl EventSink for ChatSink {
    fn event(&mut self, ev: Event<'_>, out: &mut Vec<u8>) {
        if self.terminated {
            return;
        }
        // Every event but a block's end and the metadata opens the assistant message.
        if !matches!(ev, Event::BlockStop { .. } | Event::Metadata { .. }) {
            self.ensure_role(out);
        }
        match ev {
            Event::MessageStart => {}
            Event::BlockStop { block } => self.block_stop(block, out),
            Event::ToolUseStart { block, id, name } => self.tool_start(block, &id, &name, out),
            Event::Text { text, .. } => self.text(&text, out),
            Event::ReasoningText { block, text } => self.reasoning_text(block, &text, out),
            Event::ReasoningSignature { block, signature } => self.reasoning_signature(block, &signature),
            Event::RedactedReasoning { block, data } => self.redacted(block, &data),
            Event::ToolInput { block, input } => self.tool_input(block, &input, out),
            Event::MessageStop { stop_reason } => self.stop(&stop_reason, out),
            Event::Metadata { usage, .. } => self.metadata(usage.map(Usage::from), out),
        }
    }

    /// End the stream with an error event and `[DONE]` (text held back goes out first).
    fn fail(&mut self, e: &ApiError, out: &mut Vec<u8>) {
        if self.terminated {
            return;
        }
        self.flush_pending_text(out);
        sse::error_event(out, e);
        out.extend_from_slice(sse::DONE);
        self.terminated = true;
    }

    /// The upstream body ended. A stream cut before `messageStop` ends with an error event.
    fn finish(&mut self, out: &mut Vec<u8>) {
        if self.terminated {
            return;
        }
        if !self.stopped {
            self.fail(&ApiError::bad_upstream(CUT_STREAM), out);
            return;
        }
        out.extend_from_slice(sse::DONE);
        self.terminated = true;
    }

    fn is_terminated(&self) -> bool {
        self.terminated
    }
}

/// A whole reasoning block, as streamed once at its end.
#[derive(Debug, Clone, Copy)]
enum ThinkingPiece<'a> {
    /// Text (possibly empty: a signature-only block carries `"thinking": ""`) and signature.
    Signed(&'a str, &'a str),
    Redacted(&'a str),
}

/// A reasoning piece in `thinking_blocks` form: the one place its streamed shape is decided.
fn thinking_piece(index: u32, piece: ThinkingPiece<'_>) -> ThinkingBlockDelta<'_> {
    let (kind, thinking, signature, data) = match piece {
        ThinkingPiece::Signed(t, s) => ("thinking", Some(t), Some(s), None),
        ThinkingPiece::Redacted(d) => ("redacted_thinking", None, None, Some(d)),
    };
    ThinkingBlockDelta {
        index,
        kind,
        thinking,
        signature,
        data,
    }
}

fn tool_delta<'a>(index: u32, id: Option<&'a str>, name: Option<&'a str>, arguments: &'a str) -> Delta<'a> {
    Delta {
        tool_calls: Some([ToolCallDelta {
            index,
            id,
            kind: id.map(|_| "function"),
            function: FunctionDelta { name, arguments },
        }]),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    fn sink(max: usize) -> ChatSink {
        ChatSink::new(ChatReply {
            id: "c".into(),
            created: 1,
            model: "m".into(),
            reasoning_field: ReasoningField::Reasoning,
            include_usage: false,
            json_tool: None,
            max_thinking_bytes: max,
        })
    }

    fn blocks(out: &[u8]) -> Vec<serde_json::Value> {
        String::from_utf8_lossy(out)
            .split("\n\n")
            .filter_map(|e| e.strip_prefix("data: "))
            .filter_map(|e| serde_json::from_str::<serde_json::Value>(e).ok())
            .filter_map(|v| v["choices"][0]["delta"].get("thinking_blocks").cloned())
            .collect()
    }

    fn run(max: usize, texts: &[&str], sig: &str) -> Vec<serde_json::Value> {
        let mut s = sink(max);
        let mut out = Vec::new();
        for t in texts {
            let text = Cow::Borrowed(*t);
            s.event(Event::ReasoningText { block: 0, text }, &mut out);
        }
        let signature = Cow::Borrowed(sig);
        s.event(Event::ReasoningSignature { block: 0, signature }, &mut out);
        s.event(Event::BlockStop { block: 0 }, &mut out);
        blocks(&out)
    }

    #[test]
    fn a_reasoning_block_is_sent_once_whole_at_its_end() {
        let b = run(1024, &["Let me ", "think."], "sig");
        assert_eq!(
            b,
            vec![
                serde_json::json!([{"index": 0, "type": "thinking", "thinking": "Let me think.", "signature": "sig"}])
            ]
        );
        // Signature only: "thinking": "".
        let b = run(1024, &[], "sig");
        assert_eq!(b[0][0]["thinking"], "");
        // Too long to hold: not sent as a replayable block.
        assert!(run(4, &["Let me ", "think."], "sig").is_empty());
    }
}
