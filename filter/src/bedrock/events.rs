//! ConverseStream events, typed: the layer between the eventstream frame decoder and every
//! output format (OpenAI chat SSE, Responses API events, Anthropic SSE).
//!
//! [`parse`] turns one decoded eventstream [`Message`] into the [`Event`]s it carries (or the
//! Bedrock error it reports). [`ResponseStream`] runs decoder + parser + an [`EventSink`] per
//! HTTP stream: a new output format is one more `EventSink`.

use crate::bedrock::messages_events::MessagesStream;
use crate::bedrock::output;
use crate::bytes;
use crate::error::{self, ApiError};
use crate::eventstream::{self, Decoder, HeaderValue, Message};
use crate::meter::Meter;
use crate::openai::BedrockUsage;
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use std::borrow::Cow;
use std::fmt;

/// One thing Bedrock said, in stream order. Strings borrow from the frame when they can.
#[derive(Debug, Clone, PartialEq)]
pub enum Event<'a> {
    /// `messageStart`: the assistant turn begins.
    MessageStart,
    /// `contentBlockStart` of a tool call.
    ToolUseStart {
        block: u32,
        id: Cow<'a, str>,
        name: Cow<'a, str>,
    },
    /// Answer text.
    Text { block: u32, text: Cow<'a, str> },
    /// Reasoning ("thinking") text.
    ReasoningText { block: u32, text: Cow<'a, str> },
    /// The signature that closes a reasoning block.
    ReasoningSignature { block: u32, signature: Cow<'a, str> },
    /// A redacted reasoning block (base64, opaque).
    RedactedReasoning { block: u32, data: Cow<'a, str> },
    /// A piece of a tool call's JSON input.
    ToolInput { block: u32, input: Cow<'a, str> },
    /// `contentBlockStop`.
    BlockStop { block: u32 },
    /// `messageStop` with Bedrock's stop reason (`end_turn`, `tool_use`, `max_tokens`, …).
    MessageStop { stop_reason: Cow<'a, str> },
    /// `metadata`: ConverseStream's last event.
    Metadata {
        usage: Option<BedrockUsage>,
        latency_ms: Option<u64>,
    },
}

/// Consumes a stream's events and writes one output format.
pub trait EventSink {
    /// Translate one event, appending output bytes to `out`.
    fn event(&mut self, ev: Event<'_>, out: &mut Vec<u8>);
    /// End the stream with an error (Bedrock exception, corrupt stream, cut stream).
    fn fail(&mut self, e: &ApiError, out: &mut Vec<u8>);
    /// The upstream body ended. A stream that ends before `messageStop` must `fail`.
    fn finish(&mut self, out: &mut Vec<u8>);
    /// True once the output is complete (terminated normally or by `fail`): later input is ignored.
    fn is_terminated(&self) -> bool;
}

/// A JSON string that borrows from the payload when it has no escapes.
#[derive(Debug)]
pub(crate) struct Text<'a>(pub(crate) Cow<'a, str>);

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
struct BlockStop {
    #[serde(default)]
    content_block_index: u32,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MessageStop<'a> {
    #[serde(borrow)]
    stop_reason: Text<'a>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Metadata {
    #[serde(default)]
    usage: Option<BedrockUsage>,
    /// Read leniently: `metrics` this gateway cannot read do not fail the stream.
    #[serde(default)]
    metrics: Option<serde_json::Value>,
}

fn json<'a, T: Deserialize<'a>>(event: &str, payload: &'a [u8]) -> Result<T, ApiError> {
    serde_json::from_slice(payload).map_err(|e| ApiError::bad_upstream(format_args!("malformed {event} event: {e}")))
}

/// The events one eventstream message carries, in order, or the error it reports (an
/// `exception` / `error` message, or a malformed event). Unknown event types carry nothing
/// (Bedrock adds event types over time) and emit no event.
pub(crate) fn parse<'a>(msg: &Message<'a>, mut emit: impl FnMut(Event<'a>)) -> Result<(), ApiError> {
    let message_type = match msg.header(":message-type") {
        Some(HeaderValue::String(t)) => t,
        _ => {
            return Err(ApiError::bad_upstream(
                "eventstream message without a string :message-type header",
            ))
        }
    };
    if !bytes::eq(message_type.as_bytes(), b"event") {
        return Err(not_an_event(msg, message_type));
    }
    let event = match msg.header(":event-type") {
        Some(HeaderValue::String(t)) => t,
        _ => return Err(ApiError::bad_upstream("event without a string :event-type header")),
    };
    let payload = msg.payload;
    // Nearly every frame of a stream is a delta: tested first, without a string `match`.
    if bytes::eq(event.as_bytes(), b"contentBlockDelta") {
        return match quick_delta(payload) {
            Some(ev) => {
                emit(ev);
                Ok(())
            }
            None => block_delta(payload, &mut emit),
        };
    }
    match event {
        "messageStart" => emit(Event::MessageStart),
        "contentBlockStart" => {
            let s: BlockStart = json(event, payload)?;
            if let Some(t) = s.start.tool_use {
                emit(Event::ToolUseStart {
                    block: s.content_block_index,
                    id: t.tool_use_id.0,
                    name: t.name.0,
                });
            }
        }
        "contentBlockStop" => {
            // It carries nothing but the block index: a malformed one is skipped, not an error.
            if let Ok(s) = serde_json::from_slice::<BlockStop>(payload) {
                emit(Event::BlockStop {
                    block: s.content_block_index,
                });
            }
        }
        "messageStop" => {
            let s: MessageStop = json(event, payload)?;
            emit(Event::MessageStop {
                stop_reason: s.stop_reason.0,
            });
        }
        "metadata" => {
            let m: Metadata = json(event, payload)?;
            emit(Event::Metadata {
                usage: m.usage,
                latency_ms: m.metrics.as_ref().and_then(output::latency_ms),
            });
        }
        _ => {}
    }
    Ok(())
}

/// The error a message whose `:message-type` is not `event` stands for.
fn not_an_event(msg: &Message<'_>, message_type: &str) -> ApiError {
    match message_type {
        "exception" => {
            let name = msg.header_str(":exception-type").unwrap_or("UnknownException");
            error::from_bedrock_stream(name, msg.payload, None)
        }
        "error" => {
            let name = msg.header_str(":error-code").unwrap_or("UnknownError");
            error::from_bedrock_stream(name, msg.payload, msg.header_str(":error-message"))
        }
        other => ApiError::bad_upstream(format_args!("unknown :message-type {other:?}")),
    }
}

/// `contentBlockDelta` through serde: every shape Bedrock may send.
fn block_delta<'a>(payload: &'a [u8], emit: &mut impl FnMut(Event<'a>)) -> Result<(), ApiError> {
    let d: BlockDelta = json("contentBlockDelta", payload)?;
    let block = d.content_block_index;
    if let Some(t) = d.delta.text {
        emit(Event::Text { block, text: t.0 });
    }
    if let Some(r) = d.delta.reasoning_content {
        if let Some(t) = r.text {
            emit(Event::ReasoningText { block, text: t.0 });
        }
        if let Some(s) = r.signature {
            emit(Event::ReasoningSignature { block, signature: s.0 });
        }
        if let Some(data) = r.redacted_content {
            emit(Event::RedactedReasoning { block, data: data.0 });
        }
    }
    if let Some(t) = d.delta.tool_use {
        emit(Event::ToolInput {
            block,
            input: t.input.0,
        });
    }
    Ok(())
}

/// The two shapes of nearly every `contentBlockDelta`, read without serde:
/// `{"contentBlockIndex":N,"delta":{"text":"…"},"p":"…"}` and the same with
/// `"delta":{"reasoningContent":{"text":"…"}}`, strings without escapes, Bedrock's `p` padding
/// optional. Anything else is `None` and goes through [`block_delta`] (serde), which gives the
/// same events for these inputs (a property test checks it). The per-frame path is dominated by
/// this event; serde's generic field matching costs about a quarter of its instructions.
fn quick_delta(payload: &[u8]) -> Option<Event<'_>> {
    let rest = bytes::strip_prefix(payload, br#"{"contentBlockIndex":"#)?;
    let digits = bytes::count_while(rest, |b| b.is_ascii_digit());
    // At most 9 digits (fits u32), no leading zero (not JSON).
    if digits == 0 || digits > 9 || (digits > 1 && rest.first() == Some(&b'0')) {
        return None;
    }
    let (mut number, rest) = rest.split_at_checked(digits)?;
    let mut block = 0u32;
    while let Some((d, more)) = number.split_first() {
        block = block.wrapping_mul(10).wrapping_add(u32::from(d.wrapping_sub(b'0')));
        number = more;
    }
    let (reasoning, rest) = match bytes::strip_prefix(rest, br#","delta":{"text":""#) {
        Some(r) => (false, r),
        None => (
            true,
            bytes::strip_prefix(rest, br#","delta":{"reasoningContent":{"text":""#)?,
        ),
    };
    let end = bytes::count_while(rest, |b| b != b'"' && b != b'\\' && b >= 0x20);
    let (text, rest) = rest.split_at_checked(end)?;
    let rest = bytes::strip_prefix(rest, b"\"")?;
    let rest = if reasoning {
        bytes::strip_prefix(rest, b"}}")?
    } else {
        bytes::strip_prefix(rest, b"}")?
    };
    let rest = match bytes::strip_prefix(rest, br#","p":""#) {
        Some(p) => {
            let n = bytes::count_while(p, |b| b.is_ascii_alphanumeric());
            bytes::strip_prefix(p.get(n..)?, b"\"")?
        }
        None => rest,
    };
    if !bytes::eq(rest, b"}") {
        return None;
    }
    let text = Cow::Borrowed(bytes::utf8(text).ok()?);
    Some(if reasoning {
        Event::ReasoningText { block, text }
    } else {
        Event::Text { block, text }
    })
}

/// The whole response pipeline of one stream: decoder (Bedrock's eventstream, or an Anthropic
/// SSE stream from Bedrock Mantle), event parser, meter, output sink. The meter sees every event
/// and every failure before the sink does, so whatever the sink writes, the stream's usage, first
/// token and error are known ([`Meter`]).
#[derive(Debug)]
pub struct ResponseStream<S: EventSink> {
    source: Source,
    meter: Meter,
    sink: S,
}

/// Where a stream's events come from.
#[derive(Debug)]
enum Source {
    EventStream(Decoder),
    Messages(MessagesStream),
}

/// The error of a stream that ended before `messageStop` (every output format reports it).
pub(crate) const CUT_STREAM: &str = "the Bedrock stream ended before messageStop";

/// One parsed event (or the error that ends the stream) into the meter, then the sink.
fn deliver<S: EventSink>(sink: &mut S, meter: &mut Meter, out: &mut Vec<u8>, r: Result<Event<'_>, ApiError>) {
    if sink.is_terminated() {
        return;
    }
    match r {
        Ok(ev) => {
            meter.observe(&ev);
            sink.event(ev, out);
            if sink.is_terminated() && meter.stop_reason().is_none() {
                // The sink ended the stream itself (an output limit, say).
                meter.fail(&ApiError::bad_upstream("the gateway ended the stream"));
            }
        }
        Err(e) => {
            meter.fail(&e);
            sink.fail(&e, out);
        }
    }
}

impl<S: EventSink> ResponseStream<S> {
    pub fn new(sink: S, limits: eventstream::Limits) -> Self {
        ResponseStream {
            source: Source::EventStream(Decoder::new(limits)),
            meter: Meter::default(),
            sink,
        }
    }

    /// A stream of Anthropic Messages SSE (Bedrock Mantle) read as ConverseStream events.
    pub fn anthropic_sse(sink: S) -> Self {
        ResponseStream {
            source: Source::Messages(MessagesStream::default()),
            meter: Meter::default(),
            sink,
        }
    }

    /// Feed one upstream body chunk; append the output bytes it completes to `out`.
    pub fn on_body(&mut self, chunk: &[u8], end_of_stream: bool, out: &mut Vec<u8>) {
        if self.sink.is_terminated() {
            return;
        }
        let (sink, meter) = (&mut self.sink, &mut self.meter);
        match &mut self.source {
            Source::EventStream(decoder) => {
                let fed = decoder.feed(chunk, |m| {
                    if sink.is_terminated() {
                        return;
                    }
                    let parsed = parse(&m, |ev| deliver(sink, meter, out, Ok(ev)));
                    if let Err(e) = parsed {
                        deliver(sink, meter, out, Err(e));
                    }
                });
                if let Err(e) = fed {
                    self.fail(&ApiError::bad_upstream(e), out);
                }
                if end_of_stream {
                    if let Source::EventStream(decoder) = &mut self.source {
                        if let Err(e) = decoder.finish() {
                            self.fail(&ApiError::bad_upstream(e), out);
                        }
                    }
                }
            }
            Source::Messages(m) => m.feed(chunk, end_of_stream, |r| deliver(sink, meter, out, r)),
        }
        if end_of_stream {
            if self.meter.stop_reason().is_none() {
                self.fail(&ApiError::bad_upstream(CUT_STREAM), out);
            }
            self.sink.finish(out);
        }
    }

    /// End the stream with `e` (also for failures seen outside the body, such as a reset).
    pub(crate) fn fail(&mut self, e: &ApiError, out: &mut Vec<u8>) {
        if !self.sink.is_terminated() {
            self.meter.fail(e);
        }
        self.sink.fail(e, out);
    }

    /// Bytes held between chunks (at most one unfinished eventstream message or SSE line).
    pub fn buffered_len(&self) -> usize {
        match &self.source {
            Source::EventStream(d) => d.buffered_len(),
            Source::Messages(m) => m.buffered_len(),
        }
    }

    pub fn is_terminated(&self) -> bool {
        self.sink.is_terminated()
    }

    /// What the stream said so far.
    pub(crate) fn meter(&self) -> &Meter {
        &self.meter
    }
}

#[cfg(test)]
mod tests {
    use super::{block_delta, quick_delta, Event};
    use proptest::prelude::*;

    fn by_serde(payload: &[u8]) -> Option<Vec<Event<'_>>> {
        let mut events = Vec::new();
        block_delta(payload, &mut |e| events.push(e)).ok()?;
        Some(events)
    }

    #[test]
    fn quick_path_reads_the_common_shapes() {
        let p = br#"{"contentBlockIndex":12,"delta":{"text":" a1b"},"p":"abcXYZ019"}"#;
        assert_eq!(
            quick_delta(p),
            Some(Event::Text {
                block: 12,
                text: " a1b".into()
            })
        );
        let p = br#"{"contentBlockIndex":0,"delta":{"reasoningContent":{"text":"hm"}}}"#;
        assert_eq!(
            quick_delta(p),
            Some(Event::ReasoningText {
                block: 0,
                text: "hm".into()
            })
        );
        // Escapes, other shapes, extra fields, leading zeros, trailing bytes: left to serde.
        for p in [
            &br#"{"contentBlockIndex":0,"delta":{"text":"a\"b"},"p":"x"}"#[..],
            br#"{"contentBlockIndex":01,"delta":{"text":"a"}}"#,
            br#"{"contentBlockIndex":0,"delta":{"text":"a","x":1}}"#,
            br#"{"contentBlockIndex":0,"delta":{"text":"a"}} "#,
            br#"{"contentBlockIndex":0,"delta":{"toolUse":{"input":"{}"}}}"#,
            br#"{"contentBlockIndex":0,"delta":{"reasoningContent":{"signature":"s"}}}"#,
            br#"{"contentBlockIndex":4294967296,"delta":{"text":"a"}}"#,
            b"{\"contentBlockIndex\":0,\"delta\":{\"text\":\"\xff\"}}",
        ] {
            assert_eq!(quick_delta(p), None, "{}", String::from_utf8_lossy(p));
        }
    }

    fn payload(block: u32, text: &str, reasoning: bool, pad: &str) -> String {
        let t = serde_json::to_string(text).unwrap_or_default();
        let delta = if reasoning {
            format!(r#"{{"reasoningContent":{{"text":{t}}}}}"#)
        } else {
            format!(r#"{{"text":{t}}}"#)
        };
        let pad = if pad.is_empty() {
            String::new()
        } else {
            format!(r#","p":"{pad}""#)
        };
        format!(r#"{{"contentBlockIndex":{block},"delta":{delta}{pad}}}"#)
    }

    proptest! {
        /// Whenever the quick path answers, serde gives the same events.
        #[test]
        fn quick_path_equals_serde(block in any::<u32>(), text in ".{0,40}", reasoning in any::<bool>(),
                                   pad in "[a-zA-Z0-9]{0,12}", cut in 0usize..200, flip in any::<u8>()) {
            let p = payload(block, &text, reasoning, &pad).into_bytes();
            if let Some(ev) = quick_delta(&p) {
                prop_assert_eq!(Some(vec![ev]), by_serde(&p));
            } else {
                // The quick path only declines escaped text (and `p` it does not know).
                prop_assert!(text.contains(['"', '\\']) || text.chars().any(|c| c < ' ') || block > 999_999_999);
            }
            // Damaged payloads: the quick path never disagrees with serde.
            let mut bad = p.clone();
            if let Some(b) = bad.get_mut(cut) {
                *b ^= flip;
            }
            bad.truncate(bad.len().saturating_sub(cut % 3));
            if let Some(ev) = quick_delta(&bad) {
                prop_assert_eq!(Some(vec![ev]), by_serde(&bad));
            }
        }
    }
}
