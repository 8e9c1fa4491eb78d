//! The per-chunk path of the filter, natively, for an instruction profile: the in-Envoy
//! benchmark's stream (8-character deltas with Bedrock's `p` padding) fed `BURST` frames per
//! chunk, each chunk's output in a fresh buffer of twice its size (as the exchange does).
//!
//!   cargo build --profile bench --example frame_path -p bedrock-bridge-bench
//!   valgrind --tool=callgrind target/release/examples/frame_path 1   # frames per chunk
//!   (then: streams, default 10; reasoning deltas before the 5,000 text deltas, default 20;
//!   `anthropic` for Anthropic Messages SSE instead of chat completions)
use bedrock_bridge::anthropic::stream::MessagesSink;
use bedrock_bridge::bedrock::events::{EventSink, ResponseStream};
use bedrock_bridge::chat::reply::ChatReply;
use bedrock_bridge::chat::stream::ChatSink;
use bedrock_bridge::config::ReasoningField;
use bedrock_bridge::eventstream::Limits;
use bedrock_bridge_testkit::frame::event_frame;
use std::hint::black_box;

const B62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const PAD: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

fn frames(reasoning: usize, content: usize) -> Vec<Vec<u8>> {
    let ev = |kind: &str, p: String| event_frame(kind, p.as_bytes());
    let mut out = vec![ev("messageStart", r#"{"p":"abcdefghijk","role":"assistant"}"#.into())];
    for i in 0..reasoning {
        let t = format!(" 0a1b2c{}", B62[i % 62] as char);
        out.push(ev(
            "contentBlockDelta",
            format!(
                r#"{{"contentBlockIndex":0,"delta":{{"reasoningContent":{{"text":"{t}"}}}},"p":"{}"}}"#,
                &PAD[..1 + i % 40]
            ),
        ));
    }
    out.push(ev("contentBlockDelta", r#"{"contentBlockIndex":0,"delta":{"reasoningContent":{"signature":"EqQBCkgIARABGAIiQMZ3c2lnbmF0dXJl"}},"p":"abc"}"#.into()));
    out.push(ev(
        "contentBlockStop",
        r#"{"contentBlockIndex":0,"p":"abcdefgh"}"#.into(),
    ));
    for i in 0..content {
        let t = format!(" 0a1b2c{}", B62[i % 62] as char);
        out.push(ev(
            "contentBlockDelta",
            format!(
                r#"{{"contentBlockIndex":1,"delta":{{"text":"{t}"}},"p":"{}"}}"#,
                &PAD[..1 + i % 40]
            ),
        ));
    }
    out.push(ev(
        "contentBlockStop",
        r#"{"contentBlockIndex":1,"p":"abcdefgh"}"#.into(),
    ));
    out.push(ev("messageStop", r#"{"p":"abcdef","stopReason":"end_turn"}"#.into()));
    out.push(ev("metadata", format!(
        r#"{{"metrics":{{"latencyMs":1234}},"p":"abc","usage":{{"inputTokens":10,"outputTokens":{0},"totalTokens":{1}}}}}"#,
        reasoning + content, 10 + reasoning + content
    )));
    out
}

fn main() {
    let burst: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(1);
    let streams: usize = std::env::args().nth(2).and_then(|s| s.parse().ok()).unwrap_or(10);
    let reasoning: usize = std::env::args().nth(3).and_then(|s| s.parse().ok()).unwrap_or(20);
    let chunks: Vec<Vec<u8>> = frames(reasoning, 5000).chunks(burst).map(|g| g.concat()).collect();
    let mut total = 0usize;
    for _ in 0..streams {
        let reply = ChatReply {
            max_thinking_bytes: 256 * 1024,
            id: "chatcmpl-benchbench0123456789".into(),
            created: 1_764_000_000,
            model: "claude".into(),
            reasoning_field: ReasoningField::Reasoning,
            include_usage: false,
            json_tool: None,
        };
        let sink: Box<dyn EventSink> = if std::env::args().nth(4).as_deref() == Some("anthropic") {
            Box::new(MessagesSink::new("msg_benchbench0123456789", "claude"))
        } else {
            Box::new(ChatSink::new(reply))
        };
        let mut rs = ResponseStream::new(sink, Limits::default());
        for (i, c) in chunks.iter().enumerate() {
            let chunk = black_box(c.clone()); // the host hands each chunk over in a new allocation
            let mut out = Vec::with_capacity(chunk.len().saturating_mul(2));
            rs.on_body(&chunk, i + 1 == chunks.len(), &mut out);
            total += black_box(out).len();
        }
    }
    println!("{total} SSE bytes");
}
