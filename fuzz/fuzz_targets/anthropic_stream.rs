//! Raw upstream bytes through the eventstream decoder, the ConverseStream event parser and the
//! Anthropic SSE sink (`MessagesSink`), cut into chunks at input-chosen points.
//!
//! Input: byte 0 = number of cuts (mod 8), then that many 2-byte cut offsets, then the body.
//!
//! Checks: no panic; the output is a sequence of `event: NAME\ndata: JSON\n\n` whose JSON `type`
//! is NAME; after the end of the body the stream is terminated (message_stop or error last);
//! the output does not depend on the cuts.

#![no_main]

use bedrock_bridge::anthropic::stream::MessagesSink;
use bedrock_bridge::bedrock::events::ResponseStream;
use bedrock_bridge::eventstream::Limits;
use libfuzzer_sys::fuzz_target;

fn run(body: &[u8], cuts: &[usize]) -> Vec<u8> {
    let mut rs = ResponseStream::new(MessagesSink::new("msg_f", "m"), Limits::default());
    let mut out = Vec::new();
    let mut start = 0;
    for &c in cuts.iter().chain(std::iter::once(&body.len())) {
        let end = c.min(body.len()).max(start);
        rs.on_body(&body[start..end], end == body.len(), &mut out);
        start = end;
    }
    assert!(rs.is_terminated(), "terminated after the body ends");
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&n, rest)) = data.split_first() else { return };
    let n = usize::from(n % 8);
    if rest.len() < 2 * n {
        return;
    }
    let (cut_bytes, body) = rest.split_at(2 * n);
    let mut cuts: Vec<usize> = cut_bytes
        .chunks(2)
        .map(|c| usize::from(u16::from_be_bytes([c[0], c[1]])))
        .collect();
    cuts.sort_unstable();
    let out = run(body, &cuts);
    assert!(out == run(body, &[]), "chunking changed the output");
    let s = std::str::from_utf8(&out).expect("UTF-8");
    let mut last = String::new();
    for ev in s.split("\n\n").filter(|e| !e.is_empty()) {
        let (head, data) = ev.split_once('\n').expect("two lines");
        let name = head.strip_prefix("event: ").expect("event line");
        let v: serde_json::Value = serde_json::from_str(data.strip_prefix("data: ").expect("data line")).expect("JSON");
        assert_eq!(v["type"], name);
        last = name.to_string();
    }
    assert!(last == "message_stop" || last == "error", "ends with {last}");
});
