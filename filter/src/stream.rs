//! Bedrock ConverseStream → OpenAI SSE, one [`ResponseStream`] per HTTP stream.
//!
//! [`ResponseStream::on_body`] takes each response body chunk as Envoy hands it over and returns
//! the SSE bytes for the eventstream messages that chunk completed. Between chunks it holds only
//! the decoder's one unfinished message and a few words of state, so memory is bounded by the
//! largest frame, and the output does not depend on where the chunks were split.

use crate::config::ReasoningField;
use crate::error::{self, ApiError};
use crate::eventstream::{self, Decoder, HeaderValue, Message};
use crate::openai::{self, BedrockUsage, Usage};
use crate::sse::{self, ChunkEncoder, Delta, FunctionDelta, ThinkingBlockDelta, ToolCallDelta};
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use std::borrow::Cow;
use std::fmt;

/// What a stream's chunks say about themselves.
#[derive(Debug, Clone)]
pub struct StreamOptions {
    /// `chatcmpl-…`, the same on every chunk.
    pub id: String,
    /// Unix seconds, the same on every chunk.
    pub created: u64,
    /// The model name the client asked for.
    pub model: String,
    pub reasoning_field: ReasoningField,
    /// `stream_options.include_usage`: send a final usage chunk.
    pub include_usage: bool,
    /// The forced `response_format` tool: its input is streamed as `content`.
    pub json_tool: Option<String>,
}

/// A JSON string that borrows from the payload when it has no escapes.
#[derive(Debug)]
struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Text<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V(std::marker::PhantomData))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BlockDelta<'a> {
    #[serde(default)]
    content_block_index: u32,
    #[serde(borrow)]
    delta: DeltaBody<'a>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeltaBody<'a> {
    #[serde(borrow, default)]
    text: Option<Text<'a>>,
    #[serde(borrow, default)]
    reasoning_content: Option<ReasoningDelta<'a>>,
    #[serde(borrow, default)]
    tool_use: Option<ToolUseDelta<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReasoningDelta<'a> {
    #[serde(borrow, default)]
    text: Option<Text<'a>>,
    #[serde(borrow, default)]
    signature: Option<Text<'a>>,
    #[serde(borrow, default)]
    redacted_content: Option<Text<'a>>,
}

#[derive(Deserialize)]
struct ToolUseDelta<'a> {
    #[serde(borrow)]
    input: Text<'a>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BlockStart<'a> {
    #[serde(default)]
    content_block_index: u32,
    #[serde(borrow)]
    start: StartBody<'a>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StartBody<'a> {
    #[serde(borrow, default)]
    tool_use: Option<ToolUseStart<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ToolUseStart<'a> {
    #[serde(borrow)]
    tool_use_id: Text<'a>,
    #[serde(borrow)]
    name: Text<'a>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MessageStop<'a> {
    #[serde(borrow)]
    stop_reason: Text<'a>,
}

#[derive(Deserialize)]
struct Metadata {
    #[serde(default)]
    usage: Option<BedrockUsage>,
}

fn parse<'a, T: Deserialize<'a>>(event: &str, payload: &'a [u8]) -> Result<T, ApiError> {
    serde_json::from_slice(payload).map_err(|e| ApiError::bad_upstream(format_args!("malformed {event} event: {e}")))
}

/// Translates decoded ConverseStream messages into OpenAI chunks.
#[derive(Debug)]
pub struct StreamTranslator {
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
}

/// Text held back in `response_format` mode before it is sent anyway (bounded memory).
const MAX_PENDING_TEXT: usize = 64 * 1024;

impl StreamTranslator {
    pub fn new(opts: &StreamOptions) -> Self {
        StreamTranslator {
            enc: ChunkEncoder::new(&opts.id, opts.created, &opts.model),
            reasoning_field: opts.reasoning_field,
            include_usage: opts.include_usage,
            role_sent: false,
            stopped: false,
            terminated: false,
            tools: Vec::new(),
            json_tool: opts.json_tool.clone(),
            json_block: None,
            pending_text: String::new(),
            reasoning_block: None,
            reasoning_blocks: 0,
        }
    }

    /// True once `[DONE]` has been written.
    pub fn is_terminated(&self) -> bool {
        self.terminated
    }

    /// Translate one eventstream message, appending SSE bytes to `out`.
    pub fn on_message(&mut self, msg: &Message<'_>, out: &mut Vec<u8>) {
        if self.terminated {
            return;
        }
        if let Err(e) = self.dispatch(msg, out) {
            self.fail(&e, out);
        }
    }

    /// End the stream with an error event and `[DONE]`.
    pub fn fail(&mut self, e: &ApiError, out: &mut Vec<u8>) {
        if self.terminated {
            return;
        }
        self.flush_pending_text(out);
        sse::error_event(out, e);
        out.extend_from_slice(sse::DONE);
        self.terminated = true;
    }

    /// The upstream body ended. A stream cut before `messageStop` ends with an error event.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
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

    fn dispatch(&mut self, msg: &Message<'_>, out: &mut Vec<u8>) -> Result<(), ApiError> {
        let message_type = match msg.header(":message-type") {
            Some(HeaderValue::String(t)) => t,
            _ => {
                return Err(ApiError::bad_upstream(
                    "eventstream message without a string :message-type header",
                ))
            }
        };
        match message_type {
            "event" => {}
            "exception" => {
                let name = msg.header_str(":exception-type").unwrap_or("UnknownException");
                return Err(error::from_bedrock_stream(name, msg.payload, None));
            }
            "error" => {
                let name = msg.header_str(":error-code").unwrap_or("UnknownError");
                return Err(error::from_bedrock_stream(
                    name,
                    msg.payload,
                    msg.header_str(":error-message"),
                ));
            }
            other => return Err(ApiError::bad_upstream(format_args!("unknown :message-type {other:?}"))),
        }
        let event = match msg.header(":event-type") {
            Some(HeaderValue::String(t)) => t,
            _ => return Err(ApiError::bad_upstream("event without a string :event-type header")),
        };
        let payload = msg.payload;
        match event {
            "messageStart" => self.ensure_role(out),
            "contentBlockStart" => {
                let s: BlockStart = parse(event, payload)?;
                if let Some(t) = s.start.tool_use {
                    self.ensure_role(out);
                    if self.json_block.is_none() && self.json_tool.as_deref() == Some(&*t.name.0) {
                        self.json_block = Some(s.content_block_index);
                        self.pending_text = String::new();
                        return Ok(());
                    }
                    let index = self.tool_index(s.content_block_index);
                    self.enc
                        .delta(out, &tool_delta(index, Some(&t.tool_use_id.0), Some(&t.name.0), ""));
                }
            }
            "contentBlockDelta" => {
                let d: BlockDelta = parse(event, payload)?;
                self.ensure_role(out);
                self.on_delta(d, out);
            }
            "messageStop" => {
                let s: MessageStop = parse(event, payload)?;
                self.ensure_role(out);
                self.flush_pending_text(out);
                let mut reason = openai::finish_reason(&s.stop_reason.0);
                if reason == "tool_calls" && self.json_block.is_some() && self.tools.is_empty() {
                    reason = "stop";
                }
                self.enc.finish(out, reason);
                self.stopped = true;
            }
            "metadata" => {
                let m: Metadata = parse(event, payload)?;
                if self.include_usage {
                    let usage = m.usage.map(Usage::from).unwrap_or_default();
                    self.enc.usage(out, &usage);
                }
                // metadata is ConverseStream's last event: the client need not wait for the
                // upstream's end of stream to see [DONE].
                if self.stopped {
                    out.extend_from_slice(sse::DONE);
                    self.terminated = true;
                }
            }
            // contentBlockStop and events added to the API later carry nothing for the client.
            _ => {}
        }
        Ok(())
    }

    fn on_delta(&mut self, d: BlockDelta<'_>, out: &mut Vec<u8>) {
        let body = d.delta;
        if let Some(t) = body.text {
            if !t.0.is_empty() {
                if self.json_tool.is_some() {
                    self.on_json_mode_text(&t.0, out);
                } else {
                    self.enc.delta(
                        out,
                        &Delta {
                            content: Some(&t.0),
                            ..Default::default()
                        },
                    );
                }
            }
        }
        if let Some(r) = body.reasoning_content {
            let index = self.thinking_index(d.content_block_index);
            if let Some(t) = r.text {
                if !t.0.is_empty() {
                    let mut delta = self.reasoning_delta(&t.0);
                    delta.thinking_blocks = Some([thinking_piece(index, "thinking", Some(&t.0), None, None)]);
                    self.enc.delta(out, &delta);
                }
            }
            if let Some(sig) = r.signature {
                let block = thinking_piece(index, "thinking", None, Some(&sig.0), None);
                self.enc.delta(
                    out,
                    &Delta {
                        thinking_blocks: Some([block]),
                        ..Default::default()
                    },
                );
            }
            if let Some(data) = r.redacted_content {
                let block = thinking_piece(index, "redacted_thinking", None, None, Some(&data.0));
                self.enc.delta(
                    out,
                    &Delta {
                        thinking_blocks: Some([block]),
                        ..Default::default()
                    },
                );
            }
        }
        if let Some(t) = body.tool_use {
            if self.json_block == Some(d.content_block_index) {
                if !t.input.0.is_empty() {
                    self.enc.delta(
                        out,
                        &Delta {
                            content: Some(&t.input.0),
                            ..Default::default()
                        },
                    );
                }
                return;
            }
            let index = self.tool_index(d.content_block_index);
            if !t.input.0.is_empty() {
                self.enc.delta(out, &tool_delta(index, None, None, &t.input.0));
            }
        }
    }

    /// The `thinking_blocks` index of Bedrock content block `block`: reasoning blocks counted
    /// from 0 in the order they start.
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

    /// Text in `response_format` mode: dropped once the answer tool has started, held back
    /// before it (the model may still call it), sent when the hold exceeds its bound.
    fn on_json_mode_text(&mut self, text: &str, out: &mut Vec<u8>) {
        if self.json_block.is_some() {
            return;
        }
        if self.pending_text.len().saturating_add(text.len()) > MAX_PENDING_TEXT {
            self.flush_pending_text(out);
            self.enc.delta(
                out,
                &Delta {
                    content: Some(text),
                    ..Default::default()
                },
            );
            return;
        }
        self.pending_text.push_str(text);
    }

    fn flush_pending_text(&mut self, out: &mut Vec<u8>) {
        if self.pending_text.is_empty() {
            return;
        }
        let text = std::mem::take(&mut self.pending_text);
        self.enc.delta(
            out,
            &Delta {
                content: Some(&text),
                ..Default::default()
            },
        );
    }

    fn reasoning_delta<'a>(&self, text: &'a str) -> Delta<'a> {
        let (r, rc) = match self.reasoning_field {
            ReasoningField::Reasoning => (Some(text), None),
            ReasoningField::ReasoningContent => (None, Some(text)),
            ReasoningField::Both => (Some(text), Some(text)),
        };
        Delta {
            reasoning: r,
            reasoning_content: rc,
            ..Default::default()
        }
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

fn thinking_piece<'a>(
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

/// The whole response pipeline of one stream: eventstream decoder + translator.
#[derive(Debug)]
pub struct ResponseStream {
    decoder: Decoder,
    translator: StreamTranslator,
}

impl ResponseStream {
    pub fn new(opts: &StreamOptions, limits: eventstream::Limits) -> Self {
        ResponseStream {
            decoder: Decoder::new(limits),
            translator: StreamTranslator::new(opts),
        }
    }

    /// Feed one upstream body chunk; append the SSE bytes it completes to `out`.
    pub fn on_body(&mut self, chunk: &[u8], end_of_stream: bool, out: &mut Vec<u8>) {
        if self.translator.is_terminated() {
            return;
        }
        let translator = &mut self.translator;
        let fed = self.decoder.feed(chunk, |m| translator.on_message(&m, out));
        if let Err(e) = fed {
            translator.fail(&ApiError::bad_upstream(e), out);
        }
        if end_of_stream {
            if let Err(e) = self.decoder.finish() {
                self.translator.fail(&ApiError::bad_upstream(e), out);
            }
            self.translator.finish(out);
        }
    }

    /// End the stream with `e` (for failures seen outside the body, such as a reset).
    pub fn fail(&mut self, e: &ApiError, out: &mut Vec<u8>) {
        self.translator.fail(e, out);
    }

    /// Bytes held between chunks (at most one unfinished eventstream message).
    pub fn buffered_len(&self) -> usize {
        self.decoder.buffered_len()
    }

    pub fn is_terminated(&self) -> bool {
        self.translator.is_terminated()
    }
}
