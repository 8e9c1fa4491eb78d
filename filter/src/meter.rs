//! The meter: what one response said about itself (usage, first token, stop reason, the error
//! that ended it), kept in one place for metrics, the access log and the token budget.
//!
//! Every response feeds one [`Meter`], whatever its front door:
//! - a translated stream: [`crate::bedrock::events::ResponseStream`] shows the meter each
//!   [`Event`] and each failure before its sink writes them, so a new output format cannot
//!   forget to report;
//! - a JSON answer: [`crate::front::Reply::translate_json`] returns its usage in [`Answer`];
//! - a body passed through unchanged (Bedrock's OpenAI-compatible endpoint, or any reply whose
//!   body is already the client's): a [`Watch`] reads it on the way and reports with
//!   [`Meter::first_token`], [`Meter::report_usage`] and [`Meter::fail`]. [`SseLines`] splits
//!   an SSE body into its `data:` payloads for such watchers.
//!
//! Host-free: time is the exchange's business (it reads the clock once when
//! [`Meter::has_first_token`] turns true, and once at the end).

use crate::bedrock::events::Event;
use crate::error::{ApiError, ErrorType};
use crate::openai::BedrockUsage;

/// What a response said about itself so far.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Meter {
    first_token: bool,
    stop_reason: Option<String>,
    usage: Option<BedrockUsage>,
    latency_ms: Option<u64>,
    error: Option<ApiError>,
}

impl Meter {
    /// Note one Converse event.
    pub fn observe(&mut self, ev: &Event<'_>) {
        match ev {
            Event::Text { text, .. } | Event::ReasoningText { text, .. } => {
                self.first_token |= !text.is_empty();
            }
            Event::ToolUseStart { .. } | Event::RedactedReasoning { .. } => self.first_token = true,
            Event::ToolInput { input, .. } => self.first_token |= !input.is_empty(),
            Event::MessageStop { stop_reason } => self.stop(stop_reason),
            Event::Metadata { usage, latency_ms } => {
                if let Some(u) = usage {
                    self.report_usage(*u);
                }
                self.latency_ms = *latency_ms;
            }
            Event::MessageStart | Event::ReasoningSignature { .. } | Event::BlockStop { .. } => {}
        }
    }

    /// The first piece of output (text, reasoning or a tool call) has come.
    pub fn first_token(&mut self) {
        self.first_token = true;
    }

    /// The model stopped normally, for `reason`.
    pub fn stop(&mut self, reason: &str) {
        self.stop_reason = Some(reason.to_string());
    }

    /// Usage reported by the response. Reports are cumulative (an Anthropic stream reports input
    /// tokens first and output tokens later): each field keeps the largest value reported.
    pub fn report_usage(&mut self, u: BedrockUsage) {
        let merged = match self.usage {
            None => u,
            Some(old) => BedrockUsage {
                input_tokens: old.input_tokens.max(u.input_tokens),
                output_tokens: old.output_tokens.max(u.output_tokens),
                total_tokens: match (old.total_tokens, u.total_tokens) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    (a, b) => a.or(b),
                },
                cache_read_input_tokens: old.cache_read_input_tokens.max(u.cache_read_input_tokens),
                cache_write_input_tokens: old.cache_write_input_tokens.max(u.cache_write_input_tokens),
            },
        };
        self.usage = Some(merged);
    }

    /// The error that ends the response (the first one counts).
    pub fn fail(&mut self, e: &ApiError) {
        if self.error.is_none() {
            self.error = Some(e.clone());
        }
    }

    pub fn has_first_token(&self) -> bool {
        self.first_token
    }

    /// Bedrock's stop reason, once the model stopped.
    pub fn stop_reason(&self) -> Option<&str> {
        self.stop_reason.as_deref()
    }

    pub fn usage(&self) -> Option<BedrockUsage> {
        self.usage
    }

    /// Bedrock's own `metrics.latencyMs`, when it sent one.
    pub fn latency_ms(&self) -> Option<u64> {
        self.latency_ms
    }

    pub fn error(&self) -> Option<&ApiError> {
        self.error.as_ref()
    }

    pub fn error_type(&self) -> Option<ErrorType> {
        self.error.as_ref().map(|e| e.kind)
    }
}

/// A translated JSON answer and the usage it reported (`None` when the answer carries none, as
/// for count_tokens).
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub body: Vec<u8>,
    pub usage: Option<BedrockUsage>,
}

/// Reads a body that goes to the client unchanged, and reports what it says into the meter.
pub trait Watch {
    /// One body chunk (`end_of_stream` on the last).
    fn chunk(&mut self, chunk: &[u8], end_of_stream: bool, meter: &mut Meter);
    /// [`Watch::chunk`] for a watcher that may change what goes on: `Some(bytes)` replaces the
    /// chunk (Mantle's chat streams drop the usage chunk the filter asked for on the client's
    /// behalf). By default the chunk goes on as it is.
    fn relay(&mut self, chunk: &[u8], end_of_stream: bool, meter: &mut Meter) -> Option<Vec<u8>> {
        self.chunk(chunk, end_of_stream, meter);
        None
    }
    /// The body's last event (`[DONE]`, `message_stop`, `response.completed`...) has been read:
    /// a client that leaves now has the whole answer. By default a body is never complete
    /// before its end.
    fn is_complete(&self) -> bool {
        false
    }
}

/// Longest SSE line held between chunks; a longer one is skipped (its data is not metered).
pub const MAX_SSE_LINE: usize = 1 << 20;

/// Splits an SSE body, chunk by chunk, into the payloads of its `data:` lines. Holds at most one
/// unfinished line ([`MAX_SSE_LINE`]) between chunks.
#[derive(Debug, Default)]
pub struct SseLines {
    partial: Vec<u8>,
    /// The current line outgrew [`MAX_SSE_LINE`]: skip to its end.
    skipping: bool,
    /// A line was skipped.
    overflowed: bool,
}

impl SseLines {
    /// A line longer than [`MAX_SSE_LINE`] was skipped.
    pub fn overflowed(&self) -> bool {
        self.overflowed
    }

    /// Bytes of the unfinished line held.
    pub fn buffered_len(&self) -> usize {
        self.partial.len()
    }

    /// Feed one chunk; `on_data` gets each complete `data:` payload (leading space removed).
    pub fn feed(&mut self, chunk: &[u8], mut on_data: impl FnMut(&[u8])) {
        let mut rest = chunk;
        while let Some(nl) = rest.iter().position(|&b| b == b'\n') {
            let (line, after) = rest.split_at(nl);
            rest = after.get(1..).unwrap_or_default();
            if std::mem::take(&mut self.skipping) {
                continue;
            }
            if self.partial.is_empty() {
                data_of(line).map(&mut on_data);
            } else {
                self.partial.extend_from_slice(line);
                let whole = std::mem::take(&mut self.partial);
                data_of(&whole).map(&mut on_data);
            }
        }
        if self.skipping {
            return;
        }
        if self.partial.len().saturating_add(rest.len()) > MAX_SSE_LINE {
            self.partial = Vec::new();
            self.skipping = true;
            self.overflowed = true;
        } else {
            self.partial.extend_from_slice(rest);
        }
    }
}

/// The payload of a `data:` line (`\r` at its end and one leading space removed).
fn data_of(line: &[u8]) -> Option<&[u8]> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let d = line.strip_prefix(b"data:")?;
    Some(d.strip_prefix(b" ").unwrap_or(d))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(i: u64, o: u64) -> BedrockUsage {
        BedrockUsage {
            input_tokens: i,
            output_tokens: o,
            ..BedrockUsage::default()
        }
    }

    #[test]
    fn events_report_first_token_stop_and_usage() {
        let mut m = Meter::default();
        m.observe(&Event::MessageStart);
        m.observe(&Event::Text {
            block: 0,
            text: "".into(),
        });
        assert!(!m.has_first_token(), "empty text is not a token");
        m.observe(&Event::ToolInput {
            block: 1,
            input: "{".into(),
        });
        assert!(m.has_first_token());
        m.observe(&Event::MessageStop {
            stop_reason: "end_turn".into(),
        });
        m.observe(&Event::Metadata {
            usage: Some(usage(3, 4)),
            latency_ms: Some(9),
        });
        assert_eq!(m.stop_reason(), Some("end_turn"));
        assert_eq!(m.usage(), Some(usage(3, 4)));
        assert_eq!(m.latency_ms(), Some(9));
        assert_eq!(m.error(), None);
    }

    #[test]
    fn the_first_error_counts_and_usage_reports_accumulate() {
        let mut m = Meter::default();
        m.report_usage(usage(10, 1));
        m.report_usage(usage(0, 25));
        assert_eq!(m.usage(), Some(usage(10, 25)));
        m.fail(&ApiError::new(429, ErrorType::RateLimit, "slow"));
        m.fail(&ApiError::bad_upstream("later"));
        assert_eq!(m.error_type(), Some(ErrorType::RateLimit));
    }

    #[test]
    fn sse_lines_yield_data_payloads_across_any_split() {
        let body = b"event: x\ndata: {\"a\":1}\r\n\n: comment\ndata:[DONE]\n\n";
        for cut in 0..body.len() {
            let (a, b) = body.split_at(cut);
            let mut s = SseLines::default();
            let mut got = Vec::new();
            s.feed(a, |d| got.push(d.to_vec()));
            s.feed(b, |d| got.push(d.to_vec()));
            assert_eq!(got, vec![b"{\"a\":1}".to_vec(), b"[DONE]".to_vec()], "cut at {cut}");
        }
    }

    #[test]
    fn an_overlong_line_is_skipped_and_the_next_one_read() {
        let mut s = SseLines::default();
        let mut got = Vec::new();
        let long = vec![b'x'; MAX_SSE_LINE + 1];
        s.feed(b"data: ", |d| got.push(d.to_vec()));
        s.feed(&long, |d| got.push(d.to_vec()));
        s.feed(b"yy\ndata: ok\n", |d| got.push(d.to_vec()));
        assert_eq!(got, vec![b"ok".to_vec()]);
    }
}
