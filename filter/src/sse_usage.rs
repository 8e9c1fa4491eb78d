//! Usage, first token and errors read from a Server-Sent Events stream that goes to the client
//! as it came (Bedrock Mantle's Anthropic Messages, OpenAI chat completions and Responses
//! streams), host-free.
//!
//! [`SseUsage::feed`] takes the upstream's chunks split anywhere and writes every complete
//! event on unchanged (except, for chat completions, the usage-only chunk the filter asked for
//! on the client's behalf); an incomplete event is held until its blank line. Memory is bounded:
//! an event longer than `max_event` is forwarded unread. Nothing here panics on input bytes.
//!
//! Where the usage is, per API:
//! - Anthropic Messages: `message_start.message.usage` (input and cache tokens) and
//!   `message_delta.usage` (cumulative `output_tokens`)
//!   <https://docs.anthropic.com/en/docs/build-with-claude/streaming>.
//! - OpenAI chat completions: the last chunk, `choices: []` with `usage`, sent when the request
//!   has `stream_options.include_usage`
//!   <https://platform.openai.com/docs/api-reference/chat/create#chat-create-stream_options>.
//! - OpenAI Responses: `response.completed` (or `.incomplete` / `.failed`) `response.usage`
//!   <https://platform.openai.com/docs/api-reference/responses-streaming>.

use crate::error::ErrorType;
use crate::openai::BedrockUsage;
use serde::Deserialize;

/// Which API's events the stream carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Anthropic,
    Chat,
    Responses,
}

/// The scanner of one stream.
#[derive(Debug)]
pub struct SseUsage {
    dialect: Dialect,
    /// Drop chat chunks that only carry usage (the client did not ask for them).
    strip_usage_chunks: bool,
    max_event: usize,
    /// The current event's bytes so far (unless `skipping`).
    held: Vec<u8>,
    /// The last byte seen ended a line (`\r` does not count: `\r\n` line ends work too).
    line_end: bool,
    /// The current event is longer than `max_event`: forwarded as it comes, not read.
    skipping: bool,
    usage: Option<BedrockUsage>,
    first_token: bool,
    error: Option<ErrorType>,
    complete: bool,
}

impl SseUsage {
    pub fn new(dialect: Dialect, strip_usage_chunks: bool, max_event: usize) -> SseUsage {
        SseUsage {
            dialect,
            strip_usage_chunks,
            max_event,
            held: Vec::new(),
            line_end: false,
            skipping: false,
            usage: None,
            first_token: false,
            error: None,
            complete: false,
        }
    }

    /// Token usage reported so far.
    pub fn usage(&self) -> Option<BedrockUsage> {
        self.usage
    }

    /// The stream has carried generated content.
    pub fn first_token(&self) -> bool {
        self.first_token
    }

    /// An error event's kind, if the stream carried one.
    pub fn error(&self) -> Option<ErrorType> {
        self.error
    }

    /// The stream's terminal event was seen (`message_stop`, `[DONE]`, `response.completed`...).
    pub fn complete(&self) -> bool {
        self.complete
    }

    /// One chunk of the upstream's body: complete events are appended to `out`.
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        let mut start = 0;
        for (i, &b) in chunk.iter().enumerate() {
            match b {
                b'\n' if self.line_end => {
                    self.line_end = false;
                    let part = chunk.get(start..=i).unwrap_or_default();
                    self.end_event(part, out);
                    start = i + 1;
                }
                b'\n' => self.line_end = true,
                b'\r' => {}
                _ => self.line_end = false,
            }
        }
        let rest = chunk.get(start..).unwrap_or_default();
        if self.skipping {
            out.extend_from_slice(rest);
        } else if self.held.len().saturating_add(rest.len()) > self.max_event {
            out.append(&mut self.held);
            out.extend_from_slice(rest);
            self.skipping = true;
        } else {
            self.held.extend_from_slice(rest);
        }
    }

    /// The upstream's body ended: an event without its closing blank line is read and sent on.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if !self.held.is_empty() {
            let held = std::mem::take(&mut self.held);
            if self.scan(&held) {
                out.extend_from_slice(&held);
            }
        }
        self.skipping = false;
    }

    /// `part` ends the current event.
    fn end_event(&mut self, part: &[u8], out: &mut Vec<u8>) {
        if std::mem::take(&mut self.skipping) || self.held.len().saturating_add(part.len()) > self.max_event {
            out.append(&mut self.held);
            out.extend_from_slice(part);
            return;
        }
        let event = if self.held.is_empty() {
            std::borrow::Cow::Borrowed(part)
        } else {
            let mut e = std::mem::take(&mut self.held);
            e.extend_from_slice(part);
            std::borrow::Cow::Owned(e)
        };
        if self.scan(&event) {
            out.extend_from_slice(&event);
        }
        if let std::borrow::Cow::Owned(mut e) = event {
            // Keep the allocation for the next event.
            e.clear();
            self.held = e;
        }
    }

    /// Read one event; false to leave it out of the client's stream.
    fn scan(&mut self, event: &[u8]) -> bool {
        let data = data_of(event);
        let data = data.trim_ascii();
        if data.is_empty() {
            return true;
        }
        if data == b"[DONE]" {
            self.complete = true;
            return true;
        }
        // Events without usage, an error or (before the first token) content are not parsed.
        let wanted = !self.first_token
            || contains(data, b"\"usage\"")
            || contains(data, b"error")
            || (self.dialect == Dialect::Anthropic && contains(data, b"message_stop"));
        if !wanted {
            return true;
        }
        match self.dialect {
            Dialect::Anthropic => {
                if let Ok(e) = serde_json::from_slice::<AnthropicEvent>(data) {
                    self.anthropic(e);
                }
                true
            }
            Dialect::Chat => match serde_json::from_slice::<ChatChunk>(data) {
                Ok(c) => self.chat(c),
                Err(_) => true,
            },
            Dialect::Responses => {
                if let Ok(e) = serde_json::from_slice::<ResponsesEvent>(data) {
                    self.responses(e);
                }
                true
            }
        }
    }

    fn anthropic(&mut self, e: AnthropicEvent) {
        match e.kind.as_deref() {
            Some("message_start") => add_anthropic_usage(&mut self.usage, e.message.and_then(|m| m.usage)),
            Some("message_delta") => add_anthropic_usage(&mut self.usage, e.usage),
            Some("content_block_delta") => self.first_token = true,
            Some("message_stop") => self.complete = true,
            Some("error") => {
                let kind = e.error.and_then(|x| x.kind);
                self.error = Some(error_kind(kind.as_deref()));
                self.complete = true;
            }
            _ => {}
        }
    }

    /// Read a chat chunk; false for a usage-only chunk the client did not ask for.
    fn chat(&mut self, c: ChatChunk) -> bool {
        if let Some(e) = c.error {
            self.error = Some(error_kind(e.kind.as_deref()));
        }
        let choices = c.choices.unwrap_or_default();
        if choices
            .iter()
            .any(|ch| ch.delta.as_ref().is_some_and(Delta::has_output))
        {
            self.first_token = true;
        }
        match c.usage {
            Some(u) => {
                let cached = u.prompt_tokens_details.and_then(|d| d.cached_tokens).unwrap_or(0);
                let prompt = u.prompt_tokens.unwrap_or(0);
                self.usage = Some(BedrockUsage {
                    input_tokens: prompt.saturating_sub(cached),
                    output_tokens: u.completion_tokens.unwrap_or(0),
                    total_tokens: None,
                    cache_read_input_tokens: cached,
                    cache_write_input_tokens: 0,
                });
                !(self.strip_usage_chunks && choices.is_empty())
            }
            None => true,
        }
    }

    fn responses(&mut self, e: ResponsesEvent) {
        let kind = e.kind.as_deref().unwrap_or("");
        if kind.ends_with(".delta") {
            self.first_token = true;
        }
        match kind {
            "response.completed" | "response.incomplete" | "response.failed" => {
                self.complete = true;
                let response = e.response.unwrap_or_default();
                if let Some(u) = response.usage {
                    let cached = u.input_tokens_details.and_then(|d| d.cached_tokens).unwrap_or(0);
                    self.usage = Some(BedrockUsage {
                        input_tokens: u.input_tokens.unwrap_or(0).saturating_sub(cached),
                        output_tokens: u.output_tokens.unwrap_or(0),
                        total_tokens: None,
                        cache_read_input_tokens: cached,
                        cache_write_input_tokens: 0,
                    });
                }
                if kind == "response.failed" {
                    let code = response.error.and_then(|x| x.code);
                    self.error = Some(error_kind(code.as_deref()));
                }
            }
            "error" => {
                self.error = Some(error_kind(e.code.as_deref()));
                self.complete = true;
            }
            _ => {}
        }
    }
}

/// Add an Anthropic usage report to `total`: its counts are cumulative, so each one present
/// replaces the last (`message_start` reports input and cache tokens, `message_delta` the output
/// tokens so far). Anthropic counts cache reads and writes apart from `input_tokens`, as Bedrock.
pub(crate) fn add_anthropic_usage(total: &mut Option<BedrockUsage>, u: Option<AnthropicUsage>) {
    let Some(u) = u else { return };
    let t = total.get_or_insert_with(BedrockUsage::default);
    let set = |slot: &mut u64, v: Option<u64>| {
        if let Some(v) = v {
            *slot = v;
        }
    };
    set(&mut t.input_tokens, u.input_tokens);
    set(&mut t.output_tokens, u.output_tokens);
    set(&mut t.cache_read_input_tokens, u.cache_read_input_tokens);
    set(&mut t.cache_write_input_tokens, u.cache_creation_input_tokens);
}

/// The payload of an event: its `data:` lines joined by `\n` (SSE), borrowed when there is one.
fn data_of(event: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let mut lines = event
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter_map(|l| l.strip_prefix(b"data:"))
        .map(|d| d.strip_prefix(b" ").unwrap_or(d));
    let Some(first) = lines.next() else {
        return std::borrow::Cow::Borrowed(&[]);
    };
    match lines.next() {
        None => std::borrow::Cow::Borrowed(first),
        Some(second) => {
            let mut joined = first.to_vec();
            for l in std::iter::once(second).chain(lines) {
                joined.push(b'\n');
                joined.extend_from_slice(l);
            }
            std::borrow::Cow::Owned(joined)
        }
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// An error event's type or code, as this gateway's error kind (for metrics).
fn error_kind(kind: Option<&str>) -> ErrorType {
    match kind.unwrap_or("") {
        k if k.contains("rate_limit") || k.contains("throttl") => ErrorType::RateLimit,
        k if k.contains("invalid_request") || k.contains("validation") => ErrorType::InvalidRequest,
        k if k.contains("authentication") => ErrorType::Authentication,
        k if k.contains("permission") || k.contains("access_denied") => ErrorType::Permission,
        k if k.contains("not_found") => ErrorType::NotFound,
        _ => ErrorType::Server,
    }
}

#[derive(Deserialize)]
struct AnthropicEvent {
    #[serde(rename = "type")]
    kind: Option<String>,
    message: Option<AnthropicMessage>,
    usage: Option<AnthropicUsage>,
    error: Option<TypedError>,
}

#[derive(Deserialize)]
struct AnthropicMessage {
    usage: Option<AnthropicUsage>,
}

/// An Anthropic `usage` object (`message_start.message.usage`, `message_delta.usage`, a
/// message's `usage`).
#[derive(Deserialize)]
pub(crate) struct AnthropicUsage {
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    cache_read_input_tokens: Option<u64>,
    cache_creation_input_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct TypedError {
    #[serde(rename = "type")]
    kind: Option<String>,
}

#[derive(Deserialize)]
struct ChatChunk {
    choices: Option<Vec<ChatChoice>>,
    usage: Option<ChatUsage>,
    error: Option<TypedError>,
}

#[derive(Deserialize)]
struct ChatChoice {
    delta: Option<Delta>,
}

#[derive(Deserialize)]
struct Delta {
    content: Option<String>,
    reasoning: Option<String>,
    reasoning_content: Option<String>,
    tool_calls: Option<serde_json::Value>,
}

impl Delta {
    fn has_output(&self) -> bool {
        let text = |s: &Option<String>| s.as_ref().is_some_and(|s| !s.is_empty());
        text(&self.content)
            || text(&self.reasoning)
            || text(&self.reasoning_content)
            || self.tool_calls.as_ref().is_some_and(|t| !t.is_null())
    }
}

#[derive(Deserialize)]
struct ChatUsage {
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
    prompt_tokens_details: Option<Cached>,
}

#[derive(Deserialize)]
struct Cached {
    cached_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct ResponsesEvent {
    #[serde(rename = "type")]
    kind: Option<String>,
    response: Option<ResponsesResponse>,
    code: Option<String>,
}

#[derive(Deserialize, Default)]
struct ResponsesResponse {
    usage: Option<ResponsesUsage>,
    error: Option<CodedError>,
}

#[derive(Deserialize)]
struct ResponsesUsage {
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    input_tokens_details: Option<Cached>,
}

#[derive(Deserialize)]
struct CodedError {
    code: Option<String>,
}

/// The usage in a non-streaming JSON answer of `dialect` (`usage` at the top level).
pub(crate) fn json_usage(dialect: Dialect, body: &[u8]) -> Option<BedrockUsage> {
    #[derive(Deserialize)]
    struct Top {
        usage: Option<serde_json::Value>,
    }
    let u = serde_json::from_slice::<Top>(body).ok()?.usage?;
    let n = |v: &serde_json::Value, k: &str| v.get(k).and_then(serde_json::Value::as_u64);
    let cached = |details: &str| u.get(details).and_then(|d| n(d, "cached_tokens")).unwrap_or(0);
    Some(match dialect {
        Dialect::Anthropic => BedrockUsage {
            input_tokens: n(&u, "input_tokens").unwrap_or(0),
            output_tokens: n(&u, "output_tokens").unwrap_or(0),
            total_tokens: None,
            cache_read_input_tokens: n(&u, "cache_read_input_tokens").unwrap_or(0),
            cache_write_input_tokens: n(&u, "cache_creation_input_tokens").unwrap_or(0),
        },
        Dialect::Chat => BedrockUsage {
            input_tokens: n(&u, "prompt_tokens")
                .unwrap_or(0)
                .saturating_sub(cached("prompt_tokens_details")),
            output_tokens: n(&u, "completion_tokens").unwrap_or(0),
            total_tokens: None,
            cache_read_input_tokens: cached("prompt_tokens_details"),
            cache_write_input_tokens: 0,
        },
        Dialect::Responses => BedrockUsage {
            input_tokens: n(&u, "input_tokens")
                .unwrap_or(0)
                .saturating_sub(cached("input_tokens_details")),
            output_tokens: n(&u, "output_tokens").unwrap_or(0),
            total_tokens: None,
            cache_read_input_tokens: cached("input_tokens_details"),
            cache_write_input_tokens: 0,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANTHROPIC: &str = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"usage\":{\"input_tokens\":12,\"cache_read_input_tokens\":5,\"cache_creation_input_tokens\":2,\"output_tokens\":1}}}\n\n\
event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n\
event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n\
event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":7}}\n\n\
event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";

    const CHAT: &str = "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n\
data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}],\"usage\":null}\n\n\
data: {\"choices\":[],\"usage\":{\"prompt_tokens\":20,\"completion_tokens\":3,\"total_tokens\":23,\"prompt_tokens_details\":{\"cached_tokens\":4}}}\n\n\
data: [DONE]\n\n";

    const RESPONSES: &str = "event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"id\":\"r\"}}\n\n\
event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"Hi\"}\n\n\
event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"id\":\"r\",\"usage\":{\"input_tokens\":9,\"output_tokens\":4,\"input_tokens_details\":{\"cached_tokens\":1}}}}\n\n";

    fn run(d: Dialect, strip: bool, stream: &[u8], split: usize) -> (SseUsage, Vec<u8>) {
        let mut s = SseUsage::new(d, strip, 1 << 20);
        let mut out = Vec::new();
        for c in stream.chunks(split.max(1)) {
            s.feed(c, &mut out);
        }
        s.finish(&mut out);
        (s, out)
    }

    fn usage(i: u64, o: u64, r: u64, w: u64) -> Option<BedrockUsage> {
        Some(BedrockUsage {
            input_tokens: i,
            output_tokens: o,
            total_tokens: None,
            cache_read_input_tokens: r,
            cache_write_input_tokens: w,
        })
    }

    #[test]
    fn anthropic_usage_at_every_split() {
        for split in 1..=ANTHROPIC.len() {
            let (s, out) = run(Dialect::Anthropic, false, ANTHROPIC.as_bytes(), split);
            assert_eq!(out, ANTHROPIC.as_bytes(), "split {split}");
            assert_eq!(s.usage(), usage(12, 7, 5, 2), "split {split}");
            assert!(s.first_token() && s.complete() && s.error().is_none());
        }
        let crlf = ANTHROPIC.replace('\n', "\r\n");
        let (s, out) = run(Dialect::Anthropic, false, crlf.as_bytes(), 7);
        assert_eq!(out, crlf.as_bytes());
        assert_eq!(s.usage(), usage(12, 7, 5, 2));
    }

    #[test]
    fn chat_usage_chunk_kept_or_stripped() {
        for split in [1, 3, 17, 1000] {
            let (s, out) = run(Dialect::Chat, false, CHAT.as_bytes(), split);
            assert_eq!(out, CHAT.as_bytes());
            assert_eq!(s.usage(), usage(16, 3, 4, 0));
            assert!(s.first_token() && s.complete());
            let (s, out) = run(Dialect::Chat, true, CHAT.as_bytes(), split);
            let out = String::from_utf8(out).unwrap();
            assert!(!out.contains("prompt_tokens") && out.contains("\"Hi\"") && out.ends_with("data: [DONE]\n\n"));
            assert_eq!(s.usage(), usage(16, 3, 4, 0));
        }
        // The role-only first chunk is no token yet.
        let (s, _) = run(Dialect::Chat, false, CHAT.split("\n\n").next().unwrap().as_bytes(), 5);
        assert!(!s.first_token());
    }

    #[test]
    fn responses_usage_and_errors() {
        let (s, out) = run(Dialect::Responses, false, RESPONSES.as_bytes(), 11);
        assert_eq!(out, RESPONSES.as_bytes());
        assert_eq!(s.usage(), usage(8, 4, 1, 0));
        assert!(s.first_token() && s.complete());
        let failed = "data: {\"type\":\"error\",\"code\":\"rate_limit_exceeded\",\"message\":\"slow\"}\n\n";
        let (s, _) = run(Dialect::Responses, false, failed.as_bytes(), 4);
        assert_eq!(s.error(), Some(ErrorType::RateLimit));
        let overloaded =
            "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"x\"}}\n\n";
        let (s, _) = run(Dialect::Anthropic, false, overloaded.as_bytes(), 9);
        assert_eq!(s.error(), Some(ErrorType::Server));
        assert!(s.complete());
    }

    #[test]
    fn long_events_pass_unread_and_memory_stays_bounded() {
        let big = format!(
            "data: {{\"choices\":[],\"usage\":{{\"prompt_tokens\":1}},\"pad\":\"{}\"}}\n\n",
            "x".repeat(500)
        );
        let stream = format!("{big}{CHAT}");
        let mut s = SseUsage::new(Dialect::Chat, true, 256);
        let mut out = Vec::new();
        for c in stream.as_bytes().chunks(10) {
            s.feed(c, &mut out);
            assert!(s.held.len() <= 256);
        }
        s.finish(&mut out);
        // The long event went through unread (not stripped); the short usage chunk was read.
        assert!(String::from_utf8_lossy(&out).starts_with(&big));
        assert_eq!(s.usage(), usage(16, 3, 4, 0));
    }

    #[test]
    fn garbage_never_panics_and_is_forwarded() {
        let junk: Vec<u8> = (0..=255u8).cycle().take(4000).collect();
        let (s, out) = run(Dialect::Anthropic, false, &junk, 13);
        assert_eq!(out, junk);
        assert!(s.usage().is_none());
        let (_, out) = run(Dialect::Chat, true, b"data: {\"choices\":[],\"usage\":{}}", 3);
        assert!(out.is_empty(), "an unterminated usage-only chunk is stripped too");
    }

    #[test]
    fn usage_of_json_answers() {
        let a = br#"{"type":"message","usage":{"input_tokens":3,"output_tokens":4,"cache_read_input_tokens":1}}"#;
        assert_eq!(json_usage(Dialect::Anthropic, a), usage(3, 4, 1, 0));
        let c = br#"{"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":2,"prompt_tokens_details":{"cached_tokens":6}}}"#;
        assert_eq!(json_usage(Dialect::Chat, c), usage(4, 2, 6, 0));
        let r = br#"{"object":"response","usage":{"input_tokens":5,"output_tokens":6}}"#;
        assert_eq!(json_usage(Dialect::Responses, r), usage(5, 6, 0, 0));
        assert_eq!(json_usage(Dialect::Chat, b"not json"), None);
    }
}
