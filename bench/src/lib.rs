//! Inputs for the benchmarks: recorded Bedrock streams and a synthetic long stream.

use std::path::{Path, PathBuf};

/// Encode one eventstream message with string headers.
pub fn encode(headers: &[(&str, &str)], payload: &[u8]) -> Vec<u8> {
    let mut h = Vec::new();
    for (name, value) in headers {
        h.push(name.len() as u8);
        h.extend_from_slice(name.as_bytes());
        h.push(7);
        h.extend_from_slice(&(value.len() as u16).to_be_bytes());
        h.extend_from_slice(value.as_bytes());
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

fn event(kind: &str, payload: &str) -> Vec<u8> {
    encode(
        &[
            (":event-type", kind),
            (":content-type", "application/json"),
            (":message-type", "event"),
        ],
        payload.as_bytes(),
    )
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

/// Recorded ConverseStream bodies from the fixtures: (name, bytes).
pub fn recordings() -> Vec<(String, Vec<u8>)> {
    let dir: PathBuf =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/bedrock-recordings/converse-stream");
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "bin"))
        .map(|p| {
            (
                p.file_stem().unwrap_or_default().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap_or_default(),
            )
        })
        .collect();
    out.sort();
    out
}

/// Count the frames of an eventstream body.
pub fn frame_count(bytes: &[u8]) -> usize {
    let mut n = 0;
    let mut pos = 0;
    while let Some(len) = bytes.get(pos..pos + 4) {
        pos += u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
        n += 1;
    }
    n
}
