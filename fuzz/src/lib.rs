//! Helpers shared by the fuzz targets: an eventstream frame encoder, chunked replay of a body
//! through the streaming pipeline, and the SSE well-formedness check.

pub mod chat_request;

use bedrock_bridge::config::ReasoningField;
use bedrock_bridge::eventstream::Limits;
use bedrock_bridge::stream::{ResponseStream, StreamOptions};
use serde_json::Value;

/// An eventstream header value, with the wire type it is encoded as.
#[derive(Debug, Clone)]
pub enum HeaderVal<'a> {
    Bool(bool),
    Byte(i8),
    Short(i16),
    Int(i32),
    Long(i64),
    Bytes(&'a [u8]),
    Str(&'a str),
    Timestamp(i64),
    Uuid([u8; 16]),
}

/// One well-formed eventstream message (lengths and both CRC32s correct). Header names longer
/// than 255 bytes and values longer than 65535 bytes are truncated to fit their length fields
/// (a truncated string may then end inside a UTF-8 sequence, which the decoder must reject).
pub fn encode_frame(headers: &[(&[u8], HeaderVal<'_>)], payload: &[u8]) -> Vec<u8> {
    let mut h = Vec::new();
    for (name, value) in headers {
        let name = &name[..name.len().min(255)];
        h.push(name.len() as u8);
        h.extend_from_slice(name);
        match value {
            HeaderVal::Bool(true) => h.push(0),
            HeaderVal::Bool(false) => h.push(1),
            HeaderVal::Byte(v) => {
                h.push(2);
                h.extend_from_slice(&v.to_be_bytes());
            }
            HeaderVal::Short(v) => {
                h.push(3);
                h.extend_from_slice(&v.to_be_bytes());
            }
            HeaderVal::Int(v) => {
                h.push(4);
                h.extend_from_slice(&v.to_be_bytes());
            }
            HeaderVal::Long(v) => {
                h.push(5);
                h.extend_from_slice(&v.to_be_bytes());
            }
            HeaderVal::Bytes(b) => {
                let b = &b[..b.len().min(u16::MAX as usize)];
                h.push(6);
                h.extend_from_slice(&(b.len() as u16).to_be_bytes());
                h.extend_from_slice(b);
            }
            HeaderVal::Str(s) => {
                let b = &s.as_bytes()[..s.len().min(u16::MAX as usize)];
                h.push(7);
                h.extend_from_slice(&(b.len() as u16).to_be_bytes());
                h.extend_from_slice(b);
            }
            HeaderVal::Timestamp(v) => {
                h.push(8);
                h.extend_from_slice(&v.to_be_bytes());
            }
            HeaderVal::Uuid(u) => {
                h.push(9);
                h.extend_from_slice(u);
            }
        }
    }
    let total = (16 + h.len() + payload.len()) as u32;
    let mut m = Vec::with_capacity(total as usize);
    m.extend_from_slice(&total.to_be_bytes());
    m.extend_from_slice(&(h.len() as u32).to_be_bytes());
    let crc = crc32fast::hash(&m);
    m.extend_from_slice(&crc.to_be_bytes());
    m.extend_from_slice(&h);
    m.extend_from_slice(payload);
    let crc = crc32fast::hash(&m);
    m.extend_from_slice(&crc.to_be_bytes());
    m
}

/// A frame with string headers only, the shape Bedrock sends.
pub fn string_frame(headers: &[(&str, &str)], payload: &[u8]) -> Vec<u8> {
    let h: Vec<(&[u8], HeaderVal<'_>)> = headers.iter().map(|(n, v)| (n.as_bytes(), HeaderVal::Str(v))).collect();
    encode_frame(&h, payload)
}

/// Reads input bytes from the front; yields zeros once exhausted.
pub struct Reader<'a>(pub &'a [u8]);

impl<'a> Reader<'a> {
    pub fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }

    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }

    /// Up to `n` bytes.
    pub fn bytes(&mut self, n: usize) -> &'a [u8] {
        let (a, b) = self.0.split_at(n.min(self.0.len()));
        self.0 = b;
        a
    }

    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.0)
    }
}

/// Stream options chosen by one byte: reasoning field, usage chunk, `response_format` tool.
pub fn stream_options(flags: u8) -> StreamOptions {
    StreamOptions {
        id: "chatcmpl-fuzz".into(),
        created: 1_700_000_000,
        model: "fuzz-model".into(),
        reasoning_field: match flags & 3 {
            0 => ReasoningField::Reasoning,
            1 => ReasoningField::ReasoningContent,
            _ => ReasoningField::Both,
        },
        include_usage: flags & 4 != 0,
        json_tool: (flags & 8 != 0).then(|| "json_response".to_string()),
    }
}

/// Decoder limits chosen by one byte: the defaults, or small ones so the limits are reached.
pub fn limits(flags: u8) -> Limits {
    if flags & 16 != 0 {
        Limits {
            max_message_len: 16 + (flags as usize & 0xe0) * 8,
            max_header_count: (flags as usize >> 5) + 1,
        }
    } else {
        Limits {
            max_message_len: 1024 * 1024,
            max_header_count: 32,
        }
    }
}

/// Sorted cut points in `0..=len` from raw fuzzer values.
pub fn cut_points(len: usize, raw: impl IntoIterator<Item = usize>) -> Vec<usize> {
    let mut cuts: Vec<usize> = raw.into_iter().map(|c| c % (len + 1)).collect();
    cuts.sort_unstable();
    cuts
}

/// Feed `body` to a fresh pipeline split at `cuts` (sorted), ending the stream after the last
/// chunk. Checks the `buffered_len` bound on the way.
pub fn replay(opts: &StreamOptions, limits: Limits, body: &[u8], cuts: &[usize]) -> Vec<u8> {
    let mut rs = ResponseStream::new(opts, limits);
    let mut out = Vec::new();
    let mut start = 0;
    for &c in cuts {
        rs.on_body(&body[start..c], false, &mut out);
        assert!(
            rs.buffered_len() <= limits.max_message_len,
            "decoder holds {} bytes, more than one message of at most {}",
            rs.buffered_len(),
            limits.max_message_len
        );
        start = c;
    }
    rs.on_body(&body[start..], true, &mut out);
    assert!(rs.is_terminated(), "end of stream did not terminate the stream");
    out
}

/// Feed `body` one byte per chunk.
pub fn replay_bytewise(opts: &StreamOptions, limits: Limits, body: &[u8]) -> Vec<u8> {
    let cuts: Vec<usize> = (1..body.len()).collect();
    replay(opts, limits, body, &cuts)
}

/// Check that `out` is the SSE of a finished stream: UTF-8 `data: …\n\n` events, each a JSON
/// object (a `chat.completion.chunk` of this stream or an `{"error":…}` followed by `[DONE]`),
/// and exactly one `[DONE]`, last.
pub fn check_sse(out: &[u8], opts: &StreamOptions) {
    let text = std::str::from_utf8(out).unwrap_or_else(|e| panic!("SSE is not UTF-8: {e}"));
    assert!(
        text.ends_with("data: [DONE]\n\n"),
        "SSE does not end with [DONE]: {text:?}"
    );
    let body = &text[..text.len() - 2];
    let events: Vec<&str> = if body.is_empty() {
        Vec::new()
    } else {
        body.split("\n\n").collect()
    };
    let n = events.len();
    let mut role_seen = false;
    for (i, event) in events.iter().enumerate() {
        let data = event
            .strip_prefix("data: ")
            .unwrap_or_else(|| panic!("event {i} is not a data line: {event:?}"));
        assert!(
            !data.contains('\n') && !data.contains('\r'),
            "newline inside event {i}: {data:?}"
        );
        if data == "[DONE]" {
            assert_eq!(i, n - 1, "[DONE] is not the last event: {text:?}");
            continue;
        }
        let v: Value = serde_json::from_str(data).unwrap_or_else(|e| panic!("event {i} is not JSON ({e}): {data:?}"));
        let obj = v
            .as_object()
            .unwrap_or_else(|| panic!("event {i} is not an object: {data:?}"));
        if let Some(err) = obj.get("error") {
            assert!(err["message"].is_string(), "error event without message: {data:?}");
            assert!(err["type"].is_string(), "error event without type: {data:?}");
            assert_eq!(i + 2, n, "an error event must be followed by [DONE] only: {text:?}");
        } else {
            assert_eq!(obj["object"], "chat.completion.chunk", "{data:?}");
            assert_eq!(obj["id"], opts.id.as_str(), "{data:?}");
            assert_eq!(obj["model"], opts.model.as_str(), "{data:?}");
            assert_eq!(obj["created"], opts.created, "{data:?}");
            let choices = obj["choices"]
                .as_array()
                .unwrap_or_else(|| panic!("chunk without choices: {data:?}"));
            if let Some(choice) = choices.first() {
                // The first chunk with a choice opens the assistant message; no other one does.
                let has_role = choice["delta"].get("role").is_some();
                assert_eq!(has_role, !role_seen, "role on the wrong chunk: {text:?}");
                role_seen = true;
            }
        }
    }
}
