//! Anthropic Messages answers read as Converse ones, for a chat-style client reaching a Claude
//! model on Bedrock Mantle (`/anthropic/v1/messages`): an SSE stream becomes the ConverseStream
//! [`Event`]s every output format consumes ([`MessagesStream`]), a JSON message becomes a
//! Converse response body ([`converse_json`]). So the client's own writer, the meter, the
//! budget and the error mapping stay the Converse path's.
//!
//! Anthropic's stream (<https://docs.anthropic.com/en/docs/build-with-claude/streaming>):
//! `message_start` (input and cache usage), per block `content_block_start` (a `tool_use` names
//! its id and tool), `content_block_delta` (`text_delta`, `thinking_delta`, `signature_delta`,
//! `input_json_delta`), `content_block_stop`; then `message_delta` (stop reason, cumulative
//! output tokens) and `message_stop`; `ping` anywhere; `error` ends it. Blocks the Converse
//! events cannot carry (server tool results, citations) are skipped, as Converse's are.
//!
//! Incremental and bounded: the SSE body may be split anywhere between chunks; at most one
//! unfinished line ([`MAX_SSE_LINE`]) is held, a longer one fails the stream. No panics.

use super::events::{Event, Text};
use crate::error::{ApiError, ErrorType};
use crate::meter::{SseLines, MAX_SSE_LINE};
use crate::openai::BedrockUsage;
use crate::sse_usage::AnthropicUsage;
use serde::Deserialize;
use serde_json::{json, Value};

/// One Anthropic stream event (fields of every event type, all optional).
#[derive(Deserialize)]
struct Wire<'a> {
    #[serde(rename = "type", borrow)]
    kind: Text<'a>,
    #[serde(default)]
    index: u32,
    #[serde(borrow, default)]
    delta: Option<Part<'a>>,
    #[serde(borrow, default)]
    content_block: Option<Part<'a>>,
    #[serde(default)]
    message: Option<Start>,
    #[serde(default)]
    usage: Option<AnthropicUsage>,
    #[serde(default)]
    error: Option<WireError>,
}

/// A `delta` (of a block: its `type` and text, thinking, signature or JSON piece; of the
/// message: its stop reason) or a `content_block` (its `type`, a tool call's id and name, initial
/// text or thinking, redacted data).
#[derive(Deserialize)]
struct Part<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<Text<'a>>,
    #[serde(borrow, default)]
    text: Option<Text<'a>>,
    #[serde(borrow, default)]
    thinking: Option<Text<'a>>,
    #[serde(borrow, default)]
    signature: Option<Text<'a>>,
    #[serde(borrow, default)]
    partial_json: Option<Text<'a>>,
    #[serde(default)]
    stop_reason: Option<String>,
    #[serde(borrow, default)]
    id: Option<Text<'a>>,
    #[serde(borrow, default)]
    name: Option<Text<'a>>,
    #[serde(borrow, default)]
    data: Option<Text<'a>>,
}

impl Part<'_> {
    fn kind(&self) -> &str {
        self.kind.as_ref().map_or("", |k| k.0.as_ref())
    }
}

#[derive(Deserialize)]
struct Start {
    #[serde(default)]
    usage: Option<AnthropicUsage>,
}

#[derive(Deserialize, Default)]
struct WireError {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// The client error for an Anthropic error object (`{"type": "...", "message": "..."}`), by
/// Anthropic's error types (<https://docs.anthropic.com/en/api/errors>).
fn stream_error(e: WireError) -> ApiError {
    let (status, kind) = match e.kind.as_deref().unwrap_or("") {
        "invalid_request_error" => (400, ErrorType::InvalidRequest),
        "authentication_error" => (401, ErrorType::Authentication),
        "permission_error" => (403, ErrorType::Permission),
        "not_found_error" => (404, ErrorType::NotFound),
        "request_too_large" => (413, ErrorType::InvalidRequest),
        "rate_limit_error" => (429, ErrorType::RateLimit),
        "overloaded_error" => (503, ErrorType::Server),
        _ => (502, ErrorType::Server),
    };
    let message = e
        .message
        .unwrap_or_else(|| "Bedrock Mantle's stream failed without a message".to_string());
    ApiError::new(status, kind, message)
}

/// What the stream said so far that Converse says only at its end.
#[derive(Debug, Default)]
struct State {
    usage: Option<BedrockUsage>,
    stop_reason: Option<String>,
    /// `message_stop` or an error was seen: later events are ignored.
    done: bool,
}

impl State {
    /// The events of one `data:` payload, or the error it reports.
    fn event<'a>(&mut self, data: &'a [u8], emit: &mut impl FnMut(Event<'a>)) -> Result<(), ApiError> {
        if self.done || data.trim_ascii().is_empty() {
            return Ok(());
        }
        let w: Wire<'a> = serde_json::from_slice(data)
            .map_err(|e| ApiError::bad_upstream(format_args!("malformed Anthropic stream event: {e}")))?;
        let block = w.index;
        match w.kind.0.as_ref() {
            "message_start" => {
                crate::sse_usage::add_anthropic_usage(&mut self.usage, w.message.and_then(|m| m.usage));
                emit(Event::MessageStart);
            }
            "content_block_start" => {
                if let Some(b) = w.content_block {
                    block_start(block, b, emit);
                }
            }
            "content_block_delta" => {
                if let Some(d) = w.delta {
                    block_delta(block, d, emit);
                }
            }
            "content_block_stop" => emit(Event::BlockStop { block }),
            "message_delta" => {
                crate::sse_usage::add_anthropic_usage(&mut self.usage, w.usage);
                if let Some(r) = w.delta.and_then(|d| d.stop_reason) {
                    self.stop_reason = Some(r);
                }
            }
            "message_stop" => {
                self.done = true;
                let stop_reason = self.stop_reason.take().unwrap_or_else(|| "end_turn".into());
                emit(Event::MessageStop {
                    stop_reason: stop_reason.into(),
                });
                emit(Event::Metadata {
                    usage: self.usage,
                    latency_ms: None,
                });
            }
            "error" => {
                self.done = true;
                return Err(stream_error(w.error.unwrap_or_default()));
            }
            _ => {}
        }
        Ok(())
    }
}

fn block_start<'a>(block: u32, b: Part<'a>, emit: &mut impl FnMut(Event<'a>)) {
    let nonempty = |t: Option<Text<'a>>| t.map(|t| t.0).filter(|t| !t.is_empty());
    match b.kind() {
        "tool_use" => emit(Event::ToolUseStart {
            block,
            id: b.id.map(|t| t.0).unwrap_or_default(),
            name: b.name.map(|t| t.0).unwrap_or_default(),
        }),
        "text" => {
            if let Some(text) = nonempty(b.text) {
                emit(Event::Text { block, text });
            }
        }
        "thinking" => {
            if let Some(text) = nonempty(b.thinking) {
                emit(Event::ReasoningText { block, text });
            }
            if let Some(signature) = nonempty(b.signature) {
                emit(Event::ReasoningSignature { block, signature });
            }
        }
        "redacted_thinking" => {
            if let Some(data) = nonempty(b.data) {
                emit(Event::RedactedReasoning { block, data });
            }
        }
        _ => {}
    }
}

fn block_delta<'a>(block: u32, d: Part<'a>, emit: &mut impl FnMut(Event<'a>)) {
    match d.kind() {
        "text_delta" => {
            if let Some(t) = d.text {
                emit(Event::Text { block, text: t.0 });
            }
        }
        "thinking_delta" => {
            if let Some(t) = d.thinking {
                emit(Event::ReasoningText { block, text: t.0 });
            }
        }
        "signature_delta" => {
            if let Some(s) = d.signature {
                emit(Event::ReasoningSignature { block, signature: s.0 });
            }
        }
        "input_json_delta" => {
            if let Some(p) = d.partial_json {
                emit(Event::ToolInput { block, input: p.0 });
            }
        }
        _ => {}
    }
}

/// An Anthropic SSE body, chunk by chunk, as ConverseStream events.
#[derive(Debug, Default)]
pub struct MessagesStream {
    lines: SseLines,
    state: State,
}

impl MessagesStream {
    /// Feed one body chunk: `on` gets each event it completes, or the error that ends the stream
    /// (an `error` event, a malformed event, an event longer than [`MAX_SSE_LINE`]).
    pub fn feed<F>(&mut self, chunk: &[u8], end_of_stream: bool, mut on: F)
    where
        F: FnMut(Result<Event<'_>, ApiError>),
    {
        let state = &mut self.state;
        let mut line = |data: &[u8]| {
            let mut emit = |ev: Event<'_>| on(Ok(ev));
            if let Err(e) = state.event(data, &mut emit) {
                state.done = true;
                on(Err(e));
            }
        };
        self.lines.feed(chunk, &mut line);
        if end_of_stream {
            // A last line without its line end.
            self.lines.feed(b"\n", &mut line);
        }
        if self.lines.overflowed() && !state.done {
            state.done = true;
            on(Err(ApiError::bad_upstream(format_args!(
                "Bedrock Mantle sent a stream event longer than {MAX_SSE_LINE} bytes"
            ))));
        }
    }

    /// Bytes held between chunks (at most one unfinished line).
    pub fn buffered_len(&self) -> usize {
        self.lines.buffered_len()
    }
}

/// An Anthropic Messages JSON answer as a Converse response body (what
/// [`crate::bedrock::output::parse`] reads): content blocks, stop reason, usage.
pub fn converse_json(body: &[u8]) -> Result<Vec<u8>, ApiError> {
    #[derive(Deserialize)]
    struct Message {
        #[serde(default)]
        content: Vec<Value>,
        #[serde(default)]
        stop_reason: Option<String>,
        #[serde(default)]
        usage: Option<AnthropicUsage>,
    }
    let m: Message = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_upstream(format_args!("malformed Anthropic message: {e}")))?;
    let s = |b: &Value, k: &str| b.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
    let mut content = Vec::with_capacity(m.content.len());
    for b in &m.content {
        let block = match b.get("type").and_then(Value::as_str) {
            Some("text") => json!({"text": s(b, "text")}),
            Some("thinking") => json!({"reasoningContent": {"reasoningText":
                {"text": s(b, "thinking"), "signature": b.get("signature")}}}),
            Some("redacted_thinking") => json!({"reasoningContent": {"redactedContent": s(b, "data")}}),
            Some("tool_use") => json!({"toolUse": {"toolUseId": s(b, "id"), "name": s(b, "name"),
                "input": b.get("input").cloned().unwrap_or_else(|| json!({}))}}),
            _ => continue,
        };
        content.push(block);
    }
    let mut usage = None;
    crate::sse_usage::add_anthropic_usage(&mut usage, m.usage);
    let usage = usage.map(|u| {
        json!({"inputTokens": u.input_tokens, "outputTokens": u.output_tokens,
               "cacheReadInputTokens": u.cache_read_input_tokens,
               "cacheWriteInputTokens": u.cache_write_input_tokens})
    });
    let out = json!({
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": m.stop_reason.unwrap_or_else(|| "end_turn".into()),
        "usage": usage,
    });
    serde_json::to_vec(&out).map_err(|e| ApiError::bad_upstream(format_args!("could not encode the answer: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An Anthropic stream with thinking, text and a tool call (the shapes of Anthropic's
    /// streaming documentation).
    pub(crate) const STREAM: &str = concat!(
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"m\",\"stop_reason\":null,\"usage\":{\"input_tokens\":12,\"cache_read_input_tokens\":3,\"cache_creation_input_tokens\":0,\"output_tokens\":1}}}\n\n",
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\",\"signature\":\"\"}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"Let me \\\"think\\\"\"}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"signature_delta\",\"signature\":\"c2ln\"}}\n\n",
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
        "event: ping\ndata: {\"type\":\"ping\"}\n\n",
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\",\"text\":\"Héllo\"}}\n\n",
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}\n\n",
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":2,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"get_weather\",\"input\":{}}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":2,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"city\\\":\"}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":2,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"\\\"Paris\\\"}\"}}\n\n",
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":2}\n\n",
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":42}}\n\n",
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
    );

    /// Every event (as owned debug strings) of `body` fed in pieces of `step` bytes.
    fn events(body: &[u8], step: usize) -> Vec<Result<String, (u16, String)>> {
        let mut s = MessagesStream::default();
        let mut got = Vec::new();
        let chunks: Vec<&[u8]> = body.chunks(step.max(1)).collect();
        for (i, c) in chunks.iter().enumerate() {
            s.feed(c, i + 1 == chunks.len(), |r| {
                got.push(r.map(|e| format!("{e:?}")).map_err(|e| (e.status, e.message)))
            });
        }
        got
    }

    #[test]
    fn a_stream_becomes_converse_events_wherever_it_is_split() {
        let whole = events(STREAM.as_bytes(), usize::MAX);
        let want = [
            "MessageStart",
            r#"ReasoningText { block: 0, text: "Let me \"think\"" }"#,
            r#"ReasoningSignature { block: 0, signature: "c2ln" }"#,
            "BlockStop { block: 0 }",
            r#"Text { block: 1, text: "Héllo" }"#,
            "BlockStop { block: 1 }",
            r#"ToolUseStart { block: 2, id: "toolu_1", name: "get_weather" }"#,
            r#"ToolInput { block: 2, input: "{\"city\":" }"#,
            r#"ToolInput { block: 2, input: "\"Paris\"}" }"#,
            "BlockStop { block: 2 }",
            r#"MessageStop { stop_reason: "tool_use" }"#,
            "Metadata { usage: Some(BedrockUsage { input_tokens: 12, output_tokens: 42, total_tokens: None, cache_read_input_tokens: 3, cache_write_input_tokens: 0 }), latency_ms: None }",
        ];
        assert_eq!(whole, want.iter().map(|s| Ok(s.to_string())).collect::<Vec<_>>());
        for step in [1, 2, 7, 64, 300] {
            assert_eq!(events(STREAM.as_bytes(), step), whole, "step {step}");
        }
        // CRLF line ends read the same.
        assert_eq!(events(STREAM.replace('\n', "\r\n").as_bytes(), 5), whole);
    }

    #[test]
    fn errors_end_the_stream_in_their_kind() {
        let body = concat!(
            "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":5}}}\n\n",
            "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n",
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"late\"}}\n\n",
        );
        let got = events(body.as_bytes(), 9);
        assert_eq!(got, vec![Ok("MessageStart".into()), Err((503, "Overloaded".into()))]);
        let got = events(b"data: {\"type\":\"message_start\"\n\n", 4);
        assert!(
            matches!(got.as_slice(), [Err((502, m))] if m.contains("malformed")),
            "{got:?}"
        );
        // A line longer than the limit: one error, nothing held beyond the limit.
        let mut s = MessagesStream::default();
        let mut errors = 0;
        let big = vec![b'a'; 64 * 1024];
        for _ in 0..20 {
            s.feed(&big, false, |r| errors += usize::from(r.is_err()));
            assert!(s.buffered_len() <= MAX_SSE_LINE);
        }
        assert_eq!(errors, 1);
    }

    #[test]
    fn a_json_message_becomes_a_converse_answer() {
        let body = br#"{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[
            {"type":"thinking","thinking":"hmm","signature":"sig"},
            {"type":"redacted_thinking","data":"ZW5j"},
            {"type":"text","text":"Hi"},
            {"type":"server_tool_use","id":"s","name":"web_search","input":{}},
            {"type":"tool_use","id":"toolu_1","name":"f","input":{"a":1}}],
            "stop_reason":"tool_use","usage":{"input_tokens":9,"output_tokens":4,"cache_read_input_tokens":2}}"#;
        let o = crate::bedrock::output::parse(&converse_json(body).unwrap()).unwrap();
        use crate::bedrock::output::OutBlock;
        assert_eq!(
            o.content,
            vec![
                OutBlock::Reasoning {
                    text: "hmm".into(),
                    signature: Some("sig".into())
                },
                OutBlock::Redacted("ZW5j".into()),
                OutBlock::Text("Hi".into()),
                OutBlock::ToolUse {
                    id: "toolu_1".into(),
                    name: "f".into(),
                    input: json!({"a": 1})
                },
            ]
        );
        assert_eq!(o.stop_reason, "tool_use");
        let u = o.usage.unwrap();
        assert_eq!((u.input_tokens, u.output_tokens, u.cache_read_input_tokens), (9, 4, 2));
        assert!(converse_json(b"[1]").is_err());
    }
}
