//! Helpers shared by the fuzz targets: the test kit's frame encoder, chunked replay and SSE
//! check, wired to the streaming pipeline, and a reader of fuzzer bytes.

pub mod chat_request;
pub mod json;

use bedrock_bridge::bedrock::events::ResponseStream;
use bedrock_bridge::chat::reply::ChatReply;
use bedrock_bridge::chat::stream::ChatSink;
use bedrock_bridge::config::ReasoningField;
use bedrock_bridge::eventstream::Limits;
use bedrock_bridge_testkit::sse::{self, ChunkHead};

pub use bedrock_bridge_testkit::frame::{encode_frame, HeaderVal};
pub use bedrock_bridge_testkit::replay::cut_points;

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
pub fn stream_options(flags: u8) -> ChatReply {
    ChatReply {
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
        // Small, so that the fuzzer also reaches blocks too long to be replayed.
        max_thinking_bytes: if flags & 16 != 0 { 64 } else { 256 * 1024 },
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

/// Feed `body` to a fresh pipeline split at `cuts` (sorted), ending the stream after the last
/// chunk. Checks the `buffered_len` bound on the way.
pub fn replay(opts: &ChatReply, limits: Limits, body: &[u8], cuts: &[usize]) -> Vec<u8> {
    let mut rs = ResponseStream::new(ChatSink::new(opts.clone()), limits);
    let out = bedrock_bridge_testkit::replay::replay(body, cuts, |c, end, out| {
        rs.on_body(c, end, out);
        assert!(
            rs.buffered_len() <= limits.max_message_len,
            "decoder holds {} bytes, more than one message of at most {}",
            rs.buffered_len(),
            limits.max_message_len
        );
    });
    assert!(rs.is_terminated(), "end of stream did not terminate the stream");
    out
}

/// Feed `body` one byte per chunk.
pub fn replay_bytewise(opts: &ChatReply, limits: Limits, body: &[u8]) -> Vec<u8> {
    let cuts: Vec<usize> = (1..body.len()).collect();
    replay(opts, limits, body, &cuts)
}

/// Check that `out` is the SSE of a finished stream of `opts` (see the test kit's `sse::check`).
pub fn check_sse(out: &[u8], opts: &ChatReply) {
    sse::check(
        out,
        &ChunkHead {
            id: &opts.id,
            created: opts.created,
            model: &opts.model,
        },
    );
}
