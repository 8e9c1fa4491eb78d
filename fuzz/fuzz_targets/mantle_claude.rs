//! Chat completions for a Claude model on Bedrock Mantle, both ways: a chat request body through
//! the chat translation and the Converse → Anthropic Messages writer; Anthropic SSE (cut into
//! chunks at input-chosen points) through the pipeline that reads it as Converse events into the
//! chat SSE writer; an Anthropic JSON message through the chat JSON translation.
//!
//! Input: byte 0 = what to run (mod 3) and chat stream options (`stream_options`), byte 1 =
//! number of cuts (mod 8), then that many 2-byte cut offsets (`Reader`), then the body.
//!
//! Checks: no panic; a translated request is a JSON object with `model`, `max_tokens` and
//! `messages`; the stream ends terminated, holds at most one SSE line, writes well-formed chat
//! SSE, and its output does not depend on the cuts; a JSON answer or error is JSON.

#![no_main]

use bedrock_bridge::bedrock::events::ResponseStream;
use bedrock_bridge::bedrock::{mantle_claude, messages_events};
use bedrock_bridge::chat::request::{self, Translated};
use bedrock_bridge::chat::stream::ChatSink;
use bedrock_bridge::front::Reply;
use bedrock_bridge::meter::MAX_SSE_LINE;
use bedrock_bridge_fuzz::json::configs;
use bedrock_bridge_fuzz::{check_sse, cut_points, stream_options, Reader};
use libfuzzer_sys::fuzz_target;

const CONFIGS: [&str; 1] = [r#"{"region":"us-east-1","credentials":{"bearer_token":"t"},
    "models":{"opus":{"id":"anthropic.claude-opus-4-8","api":"mantle"},"sonnet":{"id":"anthropic.claude-sonnet-4-5","api":"mantle"}}}"#];

fn stream(opts: u8, body: &[u8], cuts: &[usize]) -> Vec<u8> {
    let reply = stream_options(opts);
    let mut rs = ResponseStream::anthropic_sse(ChatSink::new(reply));
    let mut out = Vec::new();
    let mut start = 0;
    for (i, &c) in cuts.iter().chain(std::iter::once(&body.len())).enumerate() {
        let end = c.min(body.len()).max(start);
        rs.on_body(body.get(start..end).unwrap_or_default(), i == cuts.len(), &mut out);
        assert!(rs.buffered_len() <= MAX_SSE_LINE);
        start = end;
    }
    assert!(rs.is_terminated(), "end of stream did not terminate the stream");
    out
}

fuzz_target!(|data: &[u8]| {
    let mut r = Reader(data);
    let mode = r.u8();
    let raw: Vec<usize> = (0..r.u8() % 8).map(|_| usize::from(r.u16())).collect();
    let body = r.rest();
    match mode % 3 {
        0 => {
            let cfg = &configs(&CONFIGS)[0];
            if let Ok(Translated::Converse(t)) = request::translate(body, cfg) {
                let mut notes = Vec::new();
                if let Ok((b, _)) = mantle_claude::messages_body(&t.converse, t.stream, 4096, &mut notes) {
                    let v: serde_json::Value = serde_json::from_slice(&b).expect("a JSON body");
                    assert!(v["model"].is_string() && v["max_tokens"].is_u64() && v["messages"].is_array());
                }
            }
        }
        1 => {
            let opts = mode >> 2;
            let whole = stream(opts, body, &[]);
            check_sse(&whole, &stream_options(opts));
            let cut = stream(opts, body, &cut_points(body.len(), raw));
            assert_eq!(whole, cut, "the cuts change nothing");
        }
        _ => {
            let reply = mantle_claude::ClaudeReply {
                inner: Box::new(stream_options(mode >> 2)),
            };
            match reply.translate_json(body) {
                Ok(a) => drop(serde_json::from_slice::<serde_json::Value>(&a.body).expect("a JSON completion")),
                Err(e) => drop(serde_json::from_slice::<serde_json::Value>(&reply.error_body(&e)).expect("JSON error")),
            }
            let _ = messages_events::converse_json(body);
        }
    }
});
