//! Inputs for the benchmarks: recorded Bedrock streams (from the test kit) and a synthetic long
//! stream.

use bedrock_bridge_testkit::frame::event_frame;
pub use bedrock_bridge_testkit::frame::frame_count;
pub use bedrock_bridge_testkit::recordings::converse_stream_bins as recordings;

fn event(kind: &str, payload: &str) -> Vec<u8> {
    event_frame(kind, payload.as_bytes())
}

/// A ConverseStream like Claude's: `reasoning` reasoning deltas, then `text` text deltas, each
/// a few words with Bedrock's `p` padding, then stop and metadata. Returns (bytes, frames).
pub fn synthetic_stream(reasoning: usize, text: usize) -> (Vec<u8>, usize) {
    let pad = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0";
    let mut out = event("messageStart", r#"{"p":"abcdefghijk","role":"assistant"}"#);
    for i in 0..reasoning {
        let p = format!(
            r#"{{"contentBlockIndex":0,"delta":{{"reasoningContent":{{"text":" step {i} of the careful reasoning"}}}},"p":"{}"}}"#,
            &pad[..i % 40]
        );
        out.extend(event("contentBlockDelta", &p));
    }
    out.extend(event(
        "contentBlockDelta",
        r#"{"contentBlockIndex":0,"delta":{"reasoningContent":{"signature":"EqQBCkgIARABGAIiQMZ3c2lnbmF0dXJl"}},"p":"abc"}"#,
    ));
    out.extend(event("contentBlockStop", r#"{"contentBlockIndex":0,"p":"abcdefgh"}"#));
    for i in 0..text {
        let p = format!(
            r#"{{"contentBlockIndex":1,"delta":{{"text":" word{i} and \"more\""}},"p":"{}"}}"#,
            &pad[..i % 40]
        );
        out.extend(event("contentBlockDelta", &p));
    }
    out.extend(event("contentBlockStop", r#"{"contentBlockIndex":1,"p":"abcdefgh"}"#));
    out.extend(event("messageStop", r#"{"p":"abcdef","stopReason":"end_turn"}"#));
    out.extend(event(
        "metadata",
        r#"{"metrics":{"latencyMs":1234},"p":"abc","usage":{"inputTokens":100,"outputTokens":5000,"totalTokens":5100}}"#,
    ));
    (out, reasoning + text + 6)
}
