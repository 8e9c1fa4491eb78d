//! Random bytes as a ConverseStream body, through the eventstream decoder and the whole
//! streaming pipeline, split into chunks at points chosen by the input.
//!
//! Input: `flags` (stream options and limits), `n` (cut count; bit 7: also replay byte by byte),
//! `n` little-endian u16 cut points, then the body.
//!
//! Checks: no panic; the decoder emits the same messages and the same error whatever the
//! chunking; the messages it emits re-encode to exactly the bytes they came from; `header()`
//! agrees with `headers()`; the SSE output is identical for every chunking and well-formed.

#![no_main]

use bedrock_bridge::eventstream::{decode_message, DecodeError, Decoder, HeaderValue, Limits, Message};
use bedrock_bridge_fuzz::{check_sse, cut_points, encode_frame, limits, replay, replay_bytewise, stream_options};
use bedrock_bridge_fuzz::{HeaderVal, Reader};
use libfuzzer_sys::fuzz_target;

/// A decoded message, re-encoded from its parsed headers and payload.
fn reencode(m: &Message<'_>) -> Vec<u8> {
    let headers: Vec<(&[u8], HeaderVal<'_>)> = m
        .headers()
        .map(|(name, v)| {
            let v = match v {
                HeaderValue::Bool(b) => HeaderVal::Bool(b),
                HeaderValue::Byte(b) => HeaderVal::Byte(b),
                HeaderValue::Short(s) => HeaderVal::Short(s),
                HeaderValue::Int(i) => HeaderVal::Int(i),
                HeaderValue::Long(l) => HeaderVal::Long(l),
                HeaderValue::Bytes(b) => HeaderVal::Bytes(b),
                HeaderValue::String(s) => HeaderVal::Str(s),
                HeaderValue::Timestamp(t) => HeaderVal::Timestamp(t),
                HeaderValue::Uuid(u) => HeaderVal::Uuid(u),
            };
            (name.as_bytes(), v)
        })
        .collect();
    for (name, _) in &headers {
        let name = std::str::from_utf8(name).expect("header names are UTF-8");
        let first = m.headers().find(|(n, _)| *n == name).map(|(_, v)| v);
        assert_eq!(m.header(name), first, "header({name:?}) disagrees with headers()");
    }
    encode_frame(&headers, m.payload)
}

/// Decode `body` split at `cuts`: the re-encoded messages and the final result.
fn decode(body: &[u8], cuts: &[usize], limits: Limits) -> (Vec<Vec<u8>>, Result<(), DecodeError>) {
    let mut d = Decoder::new(limits);
    let mut msgs = Vec::new();
    let mut start = 0;
    let mut result = Ok(());
    for &c in cuts.iter().chain(std::iter::once(&body.len())) {
        result = d.feed(&body[start..c], |m| msgs.push(reencode(&m)));
        assert!(d.buffered_len() <= limits.max_message_len);
        start = c;
        if result.is_err() {
            break;
        }
    }
    if result.is_ok() {
        result = d.finish();
    }
    // Poisoned: every later call fails the same way and emits nothing.
    if let Err(e) = &result {
        assert_eq!(
            d.feed(b"\0\0\0\x10", |_| panic!("message after an error")).as_ref(),
            Err(e)
        );
        assert_eq!(d.finish().as_ref(), Err(e));
    }
    (msgs, result)
}

fuzz_target!(|data: &[u8]| {
    let mut r = Reader(data);
    let flags = r.u8();
    let n = r.u8();
    let raw: Vec<usize> = (0..(n & 0x1f)).map(|_| r.u16() as usize).collect();
    let body = r.rest();
    let cuts = cut_points(body.len(), raw);
    let limits = limits(flags);

    // Decoder alone.
    let (whole_msgs, whole_res) = decode(body, &[], limits);
    let consumed: usize = whole_msgs.iter().map(Vec::len).sum();
    assert_eq!(
        whole_msgs.concat(),
        body[..consumed],
        "re-encoded messages differ from the input"
    );
    if whole_res.is_ok() {
        assert_eq!(consumed, body.len());
    }
    let (cut_msgs, cut_res) = decode(body, &cuts, limits);
    assert_eq!(cut_msgs, whole_msgs, "messages depend on chunking");
    assert_eq!(cut_res, whole_res, "decode result depends on chunking");
    if let Ok(m) = decode_message(body, &limits) {
        assert_eq!(whole_msgs.len(), 1);
        assert_eq!(reencode(&m), body);
    }

    // Whole pipeline.
    let opts = stream_options(flags);
    let whole = replay(&opts, limits, body, &[]);
    check_sse(&whole, &opts);
    let split = replay(&opts, limits, body, &cuts);
    assert!(split == whole, "SSE depends on chunking: cuts {cuts:?}");
    if n & 0x80 != 0 && body.len() <= 4096 {
        let bytewise = replay_bytewise(&opts, limits, body);
        assert!(bytewise == whole, "SSE differs when fed byte by byte");
    }
});
