//! Decoder + translator throughput: recorded Bedrock streams and a synthetic 5,000-delta stream,
//! fed in 1,400-byte chunks (a typical TLS record's payload) as Envoy would hand them over.

use bedrock_bridge::bedrock::events::ResponseStream;
use bedrock_bridge::chat::reply::ChatReply;
use bedrock_bridge::chat::stream::ChatSink;
use bedrock_bridge::config::ReasoningField;
use bedrock_bridge::eventstream::{Decoder, Limits};
use bedrock_bridge_bench::{frame_count, recordings, synthetic_stream};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;

const CHUNK: usize = 1400;

fn opts() -> ChatReply {
    ChatReply {
        id: "chatcmpl-0123456789abcdef0123456789abcdef".into(),
        created: 1_700_000_000,
        model: "claude".into(),
        reasoning_field: ReasoningField::Reasoning,
        include_usage: true,
        json_tool: None,
    }
}

fn pipeline(bytes: &[u8], out: &mut Vec<u8>) -> usize {
    let mut rs = ResponseStream::new(ChatSink::new(opts()), Limits::default());
    let mut total = 0;
    let mut chunks = bytes.chunks(CHUNK).peekable();
    while let Some(c) = chunks.next() {
        out.clear();
        rs.on_body(c, chunks.peek().is_none(), out);
        total += out.len();
    }
    total
}

fn bench(c: &mut Criterion) {
    let (synthetic, frames) = synthetic_stream(1000, 4000);
    let mut out = Vec::with_capacity(64 * 1024);

    let mut g = c.benchmark_group("synthetic_5000_deltas");
    g.throughput(Throughput::Bytes(synthetic.len() as u64));
    g.bench_function("decode_only", |b| {
        b.iter(|| {
            let mut d = Decoder::new(Limits::default());
            let mut n = 0usize;
            for ch in synthetic.chunks(CHUNK) {
                d.feed(black_box(ch), |m| n += m.payload.len()).unwrap();
            }
            n
        })
    });
    g.bench_function("decode_and_translate", |b| {
        b.iter(|| pipeline(black_box(&synthetic), &mut out))
    });
    g.finish();
    eprintln!("synthetic stream: {} bytes, {frames} frames", synthetic.len());

    let mut g = c.benchmark_group("recorded");
    let all: Vec<u8> = recordings().into_iter().flat_map(|(_, b)| b).collect();
    let recs = recordings();
    let frames: usize = recs.iter().map(|(_, b)| frame_count(b)).sum();
    g.throughput(Throughput::Bytes(all.len() as u64));
    g.bench_with_input(
        BenchmarkId::new("all_converse_stream_recordings", frames),
        &recs,
        |b, recs| {
            b.iter(|| {
                recs.iter()
                    .map(|(_, bytes)| pipeline(black_box(bytes), &mut out))
                    .sum::<usize>()
            })
        },
    );
    g.finish();
    eprintln!("recordings: {} files, {} bytes, {frames} frames", recs.len(), all.len());
}

criterion_group!(benches, bench);
criterion_main!(benches);
