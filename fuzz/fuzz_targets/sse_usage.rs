//! Raw upstream SSE bytes through the usage scanner of passed-through streams (Bedrock Mantle),
//! cut into chunks at input-chosen points, for each API dialect.
//!
//! Input: byte 0 = dialect (mod 3) and stripping (bit 2), byte 1 = number of cuts (mod 8), then
//! that many 2-byte cut offsets (`Reader`), then the body.
//!
//! Checks: no panic; the bytes held never exceed the limit; without stripping the output is the
//! input unchanged; output, usage, first token, error and completion do not depend on the cuts.

#![no_main]

use bedrock_bridge::sse_usage::{Dialect, SseUsage};
use bedrock_bridge_fuzz::{cut_points, Reader};
use libfuzzer_sys::fuzz_target;

const MAX_EVENT: usize = 512;

fn run(d: Dialect, strip: bool, body: &[u8], cuts: &[usize]) -> (Vec<u8>, String) {
    let mut s = SseUsage::new(d, strip, MAX_EVENT);
    let mut out = Vec::new();
    let mut start = 0;
    for &c in cuts.iter().chain(std::iter::once(&body.len())) {
        let end = c.min(body.len()).max(start);
        s.feed(body.get(start..end).unwrap_or_default(), &mut out);
        start = end;
    }
    s.finish(&mut out);
    let summary = format!("{:?} {} {:?} {}", s.usage(), s.first_token(), s.error(), s.complete());
    (out, summary)
}

fuzz_target!(|data: &[u8]| {
    let mut r = Reader(data);
    let mode = r.u8();
    let dialect = match mode % 3 {
        0 => Dialect::Anthropic,
        1 => Dialect::Chat,
        _ => Dialect::Responses,
    };
    let strip = mode & 4 != 0;
    let raw: Vec<usize> = (0..r.u8() % 8).map(|_| usize::from(r.u16())).collect();
    let body = r.rest();
    let cuts = cut_points(body.len(), raw);
    let whole = run(dialect, strip, body, &[]);
    let cut = run(dialect, strip, body, &cuts);
    if !strip {
        assert_eq!(whole.0, body, "without stripping the stream passes unchanged");
    }
    // A long event is forwarded unread once it passes the limit, which may depend on where the
    // chunks end only for bodies longer than the limit: compare everything for short inputs.
    if body.len() <= MAX_EVENT {
        assert_eq!(whole, cut, "the cuts change nothing");
    }
});
