//! TEMPORARY adapter, deleted when `chat::CHAT` lands: OpenAI chat completions as a
//! [`FrontDoor`] on top of today's `request::translate` and `response::translate`, with
//! today's `stream::StreamTranslator` ported from eventstream messages to typed
//! [`Event`]s ([`LegacySink`], same output byte for byte; a test below replays every recording
//! through both). The exchange only sees the `FrontDoor` / `Reply` / `EventSink` contract.

use crate::bedrock::events::{Event, EventSink};
use crate::config::{Api, ReasoningField};
use crate::error::ApiError;
use crate::front::{FrontDoor, Outbound, Reply, RequestContext};
use crate::openai::{self, Usage};
use crate::request;
use crate::response::{self, CompletionMeta};
use crate::sse::{self, ChunkEncoder, Delta, FunctionDelta, ThinkingBlockDelta, ToolCallDelta};

/// OpenAI chat completions, the legacy way.
pub struct LegacyChat;

pub static LEGACY_CHAT: LegacyChat = LegacyChat;

impl FrontDoor for LegacyChat {
    fn name(&self) -> &'static str {
        "chat"
    }

    fn translate(&self, body: &[u8], ctx: &RequestContext<'_>) -> Result<Outbound, ApiError> {
        let req = request::translate(body, ctx.config)?;
        let reply = LegacyReply {
            id: format!("chatcmpl-{}", ctx.id),
            created: ctx.created,
            model: req.client_model.clone(),
            reasoning_field: ctx.config.reasoning_field,
            include_usage: req.include_usage,
            json_tool: req.json_tool,
            passthrough: req.api == Api::Openai,
        };
        Ok(Outbound {
            path: req.path,
            body: req.body,
            stream: req.stream,
            client_model: req.client_model,
            model_id: req.model_id,
            reply: Box::new(reply),
        })
    }

    fn error_body(&self, e: &ApiError) -> Vec<u8> {
        e.to_json()
    }
}

/// What the response side needs (today's `Sent`).
struct LegacyReply {
    id: String,
    created: u64,
    model: String,
    reasoning_field: ReasoningField,
    include_usage: bool,
    json_tool: Option<String>,
    passthrough: bool,
}

impl Reply for LegacyReply {
    fn into_sink(self: Box<Self>) -> Box<dyn EventSink> {
        let r = *self;
        Box::new(LegacySink::new(
            ChunkEncoder::new(&r.id, r.created, &r.model),
            r.reasoning_field,
            r.include_usage,
            r.json_tool,
        ))
    }

    fn translate_json(&self, body: &[u8]) -> Result<Vec<u8>, ApiError> {
        let meta = CompletionMeta {
            id: &self.id,
            created: self.created,
            model: &self.model,
            reasoning_field: self.reasoning_field,
            json_tool: self.json_tool.as_deref(),
        };
        response::translate(body, &meta)
    }

    fn error_body(&self, e: &ApiError) -> Vec<u8> {
        e.to_json()
    }

    fn passthrough(&self) -> bool {
        self.passthrough
    }
}

/// Text held back in `response_format` mode before it is sent anyway (bounded memory).
const MAX_PENDING_TEXT: usize = 64 * 1024;

/// `stream::StreamTranslator`, consuming [`Event`]s.
pub struct LegacySink {
    enc: ChunkEncoder,
    reasoning_field: ReasoningField,
    include_usage: bool,
    role_sent: bool,
    stopped: bool,
    terminated: bool,
    tools: Vec<(u32, u32)>,
    json_tool: Option<String>,
    json_block: Option<u32>,
    pending_text: String,
    reasoning_block: Option<(u32, u32)>,
    reasoning_blocks: u32,
}

impl LegacySink {
    pub fn new(
        enc: ChunkEncoder,
        reasoning_field: ReasoningField,
        include_usage: bool,
        json_tool: Option<String>,
    ) -> Self {
        LegacySink {
            enc,
            reasoning_field,
            include_usage,
            role_sent: false,
            stopped: false,
            terminated: false,
            tools: Vec::new(),
            json_tool,
            json_block: None,
            pending_text: String::new(),
            reasoning_block: None,
            reasoning_blocks: 0,
        }
    }

    fn content(&self, out: &mut Vec<u8>, text: &str) {
        let delta = Delta {
            content: Some(text),
            ..Default::default()
        };
        self.enc.delta(out, &delta);
    }

    fn thinking(&self, out: &mut Vec<u8>, piece: ThinkingBlockDelta<'_>) {
        let delta = Delta {
            thinking_blocks: Some([piece]),
            ..Default::default()
        };
        self.enc.delta(out, &delta);
    }

    fn ensure_role(&mut self, out: &mut Vec<u8>) {
        if !self.role_sent {
            self.role_sent = true;
            let delta = Delta {
                role: Some("assistant"),
                content: Some(""),
                ..Default::default()
            };
            self.enc.delta(out, &delta);
        }
    }

    fn thinking_index(&mut self, block: u32) -> u32 {
        match self.reasoning_block {
            Some((b, i)) if b == block => i,
            _ => {
                let i = self.reasoning_blocks;
                self.reasoning_blocks = self.reasoning_blocks.saturating_add(1);
                self.reasoning_block = Some((block, i));
                i
            }
        }
    }

    fn tool_index(&mut self, block: u32) -> u32 {
        if let Some(&(_, i)) = self.tools.iter().find(|(b, _)| *b == block) {
            return i;
        }
        let i = u32::try_from(self.tools.len()).unwrap_or(u32::MAX);
        self.tools.push((block, i));
        i
    }

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
        if !self.pending_text.is_empty() {
            let text = std::mem::take(&mut self.pending_text);
            self.content(out, &text);
        }
    }

    fn reasoning(&self, out: &mut Vec<u8>, index: u32, text: &str) {
        let (r, rc) = match self.reasoning_field {
            ReasoningField::Reasoning => (Some(text), None),
            ReasoningField::ReasoningContent => (None, Some(text)),
            ReasoningField::Both => (Some(text), Some(text)),
        };
        let delta = Delta {
            reasoning: r,
            reasoning_content: rc,
            thinking_blocks: Some([piece(index, "thinking", Some(text), None, None)]),
            ..Default::default()
        };
        self.enc.delta(out, &delta);
    }

    fn tool_start(&mut self, out: &mut Vec<u8>, block: u32, id: &str, name: &str) {
        if self.json_block.is_none() && self.json_tool.as_deref() == Some(name) {
            self.json_block = Some(block);
            self.pending_text = String::new();
            return;
        }
        let index = self.tool_index(block);
        self.enc.delta(out, &tool_delta(index, Some(id), Some(name), ""));
    }

    fn tool_input(&mut self, out: &mut Vec<u8>, block: u32, input: &str) {
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
}

impl EventSink for LegacySink {
    fn event(&mut self, ev: Event<'_>, out: &mut Vec<u8>) {
        if self.terminated {
            return;
        }
        if !matches!(ev, Event::BlockStop { .. } | Event::Metadata { .. }) {
            self.ensure_role(out);
        }
        match ev {
            Event::MessageStart | Event::BlockStop { .. } => {}
            Event::ToolUseStart { block, id, name } => self.tool_start(out, block, &id, &name),
            Event::Text { text, .. } if text.is_empty() => {}
            Event::Text { text, .. } if self.json_tool.is_some() => self.on_json_mode_text(&text, out),
            Event::Text { text, .. } => self.content(out, &text),
            Event::ReasoningText { block, text } => {
                let index = self.thinking_index(block);
                if !text.is_empty() {
                    self.reasoning(out, index, &text);
                }
            }
            Event::ReasoningSignature { block, signature } => {
                let index = self.thinking_index(block);
                self.thinking(out, piece(index, "thinking", None, Some(&signature), None));
            }
            Event::RedactedReasoning { block, data } => {
                let index = self.thinking_index(block);
                self.thinking(out, piece(index, "redacted_thinking", None, None, Some(&data)));
            }
            Event::ToolInput { block, input } => self.tool_input(out, block, &input),
            Event::MessageStop { stop_reason } => {
                self.flush_pending_text(out);
                let mut reason = openai::finish_reason(&stop_reason);
                if reason == "tool_calls" && self.json_block.is_some() && self.tools.is_empty() {
                    reason = "stop";
                }
                self.enc.finish(out, reason);
                self.stopped = true;
            }
            Event::Metadata { usage, .. } => {
                if self.include_usage {
                    let usage = usage.map(Usage::from).unwrap_or_default();
                    self.enc.usage(out, &usage);
                }
                if self.stopped {
                    out.extend_from_slice(sse::DONE);
                    self.terminated = true;
                }
            }
        }
    }

    fn fail(&mut self, e: &ApiError, out: &mut Vec<u8>) {
        if self.terminated {
            return;
        }
        self.flush_pending_text(out);
        sse::error_event(out, e);
        out.extend_from_slice(sse::DONE);
        self.terminated = true;
    }

    fn finish(&mut self, out: &mut Vec<u8>) {
        if self.terminated {
            return;
        }
        if !self.stopped {
            self.fail(&ApiError::bad_upstream("the stream ended before messageStop"), out);
            return;
        }
        out.extend_from_slice(sse::DONE);
        self.terminated = true;
    }

    fn is_terminated(&self) -> bool {
        self.terminated
    }
}

fn piece<'a>(
    index: u32,
    kind: &'static str,
    thinking: Option<&'a str>,
    signature: Option<&'a str>,
    data: Option<&'a str>,
) -> ThinkingBlockDelta<'a> {
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
    //! The port against the original: every recording, every reasoning field, with and without
    //! a `response_format` tool, in one piece and cut at several places.
    use super::*;
    use crate::bedrock::events::ResponseStream;
    use crate::eventstream::Limits;
    use crate::stream::{self, StreamOptions};
    use std::path::Path;

    fn recordings() -> Vec<Vec<u8>> {
        let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/bedrock-recordings");
        let mut out = Vec::new();
        for dir in [base.clone(), base.join("converse-stream"), base.join("errors")] {
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().to_string();
                if name.ends_with(".eventstream") || name.ends_with(".bin") {
                    out.push(std::fs::read(e.path()).unwrap());
                }
            }
        }
        assert!(out.len() >= 40, "recordings missing: {}", out.len());
        out
    }

    fn run_both(bytes: &[u8], cuts: &[usize], opts: &StreamOptions) -> (Vec<u8>, Vec<u8>) {
        let mut old = stream::ResponseStream::new(opts, Limits::default());
        let sink: Box<dyn EventSink> = Box::new(LegacySink::new(
            ChunkEncoder::new(&opts.id, opts.created, &opts.model),
            opts.reasoning_field,
            opts.include_usage,
            opts.json_tool.clone(),
        ));
        let mut new = ResponseStream::new(sink, Limits::default());
        let (mut a, mut b) = (Vec::new(), Vec::new());
        let mut start = 0;
        for &c in cuts.iter().chain(std::iter::once(&bytes.len())) {
            let end = c.min(bytes.len()).max(start);
            old.on_body(&bytes[start..end], end == bytes.len(), &mut a);
            new.on_body(&bytes[start..end], end == bytes.len(), &mut b);
            start = end;
        }
        (a, b)
    }

    #[test]
    fn legacy_sink_writes_what_stream_translator_writes() {
        let recs = recordings();
        let mut compared = 0;
        for bytes in &recs {
            for rf in [
                ReasoningField::Reasoning,
                ReasoningField::ReasoningContent,
                ReasoningField::Both,
            ] {
                for json_tool in [None, Some("json_response".to_string()), Some("get_weather".to_string())] {
                    let opts = StreamOptions {
                        id: "chatcmpl-x".into(),
                        created: 1,
                        model: "m".into(),
                        reasoning_field: rf,
                        include_usage: json_tool.is_none(),
                        json_tool,
                    };
                    let n = bytes.len();
                    for cuts in [vec![], vec![n / 3, 2 * n / 3], vec![7, 8, n / 2, n.saturating_sub(3)]] {
                        let (a, b) = run_both(bytes, &cuts, &opts);
                        assert!(!a.is_empty());
                        assert_eq!(String::from_utf8_lossy(&a), String::from_utf8_lossy(&b));
                        compared += 1;
                    }
                }
            }
        }
        assert!(compared > 300);
        // Cut streams and garbage end the same way too.
        let opts = StreamOptions {
            id: "chatcmpl-x".into(),
            created: 1,
            model: "m".into(),
            reasoning_field: ReasoningField::Both,
            include_usage: true,
            json_tool: None,
        };
        for bytes in &recs {
            let cut = &bytes[..bytes.len() / 2];
            let (a, b) = run_both(cut, &[cut.len() / 2], &opts);
            assert_eq!(a, b);
        }
        let (a, b) = run_both(b"\x00\x00\x00\x10garbage-garbage!", &[], &opts);
        assert_eq!(a, b);
    }
}
