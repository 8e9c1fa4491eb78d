//! The recorded Bedrock responses and eventstream vectors under `tests/fixtures` (see
//! `tests/fixtures/README.md`).

use crate::frame::{split_frames, string_parts};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// `tests/fixtures` of this repository.
pub fn fixtures() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures");
    assert!(p.is_dir(), "fixtures missing at {}", p.display());
    p
}

/// The files directly in `dir` whose names end with `suffix`, sorted.
pub fn files(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    let mut out: Vec<PathBuf> = entries
        .map(|e| e.unwrap_or_else(|e| panic!("{}: {e}", dir.display())).path())
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().ends_with(suffix)))
        .collect();
    out.sort();
    out
}

/// The bytes of a fixture file.
pub fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
}

/// The file name of `p`.
pub fn name(p: &Path) -> String {
    p.file_name().unwrap_or_default().to_string_lossy().into_owned()
}

/// Every recorded ConverseStream body: `bedrock-recordings/*.eventstream` and
/// `bedrock-recordings/converse-stream/*.bin`.
pub fn stream_recordings() -> Vec<PathBuf> {
    let base = fixtures().join("bedrock-recordings");
    let mut out = files(&base, ".eventstream");
    out.extend(files(&base.join("converse-stream"), ".bin"));
    out.sort();
    assert!(out.len() >= 40, "expected the recorded streams, found {}", out.len());
    out
}

/// The `converse-stream/*.bin` recordings as (name without extension, bytes), sorted.
pub fn converse_stream_bins() -> Vec<(String, Vec<u8>)> {
    files(&fixtures().join("bedrock-recordings/converse-stream"), ".bin")
        .iter()
        .map(|p| {
            let stem = p.file_stem().unwrap_or_default().to_string_lossy().into_owned();
            (stem, read(p))
        })
        .collect()
}

/// Every recorded 200 Converse (non-streaming) response body: `converse/*.body.json`, and the
/// `bedrock-recordings/*.json` whose `.meta.json` says status 200 on a `/converse` URI.
pub fn converse_recordings() -> Vec<PathBuf> {
    let base = fixtures().join("bedrock-recordings");
    let mut out = files(&base.join("converse"), ".body.json");
    for p in files(&base, ".json") {
        let n = name(&p);
        if n.ends_with(".meta.json") || n.ends_with("INDEX.json") {
            continue;
        }
        let meta_path = PathBuf::from(format!("{}.meta.json", p.display()));
        let meta: serde_json::Value =
            serde_json::from_slice(&read(&meta_path)).unwrap_or_else(|e| panic!("{}: {e}", meta_path.display()));
        if meta["status"] == 200 && meta["request_uri"].as_str().is_some_and(|u| u.ends_with("/converse")) {
            out.push(p);
        }
    }
    out.sort();
    assert!(
        out.len() >= 20,
        "expected the recorded Converse responses, found {}",
        out.len()
    );
    out
}

/// What a ConverseStream body says, read straight from its frames (the oracle the streaming
/// tests compare each front door's output with).
#[derive(Default, Debug, Clone, PartialEq)]
pub struct Recorded {
    /// The text deltas, concatenated.
    pub text: String,
    /// The reasoning text deltas, concatenated.
    pub reasoning: String,
    /// Each reasoning signature delta.
    pub signatures: Vec<String>,
    /// Each redacted reasoning delta.
    pub redacted: Vec<String>,
    /// Each reasoning block as a client merging its pieces by index sees it:
    /// `{"type": "thinking", "thinking", "signature"}` or `{"type": "redacted_thinking", "data"}`
    /// (members only when the block has them).
    pub thinking_blocks: Vec<Value>,
    /// Each tool use: id, name, the input deltas concatenated.
    pub tools: Vec<(String, String, String)>,
    /// The `messageStop` reason.
    pub stop: Option<String>,
    /// The `metadata` event's `usage`.
    pub usage: Option<Value>,
    /// The body ends in (or at) a frame that is not an event or cannot be read: reading stopped
    /// there.
    pub exception: bool,
}

impl Recorded {
    /// Read `body`, a ConverseStream eventstream.
    pub fn of(body: &[u8]) -> Recorded {
        let mut r = Recorded::default();
        let mut tool_blocks: Vec<u64> = Vec::new();
        let mut reasoning_block = None;
        for frame in split_frames(body) {
            let Some((headers, payload)) = string_parts(frame) else {
                r.exception = true;
                break;
            };
            let header = |k: &str| headers.iter().find(|(n, _)| *n == k).map(|(_, v)| *v);
            if header(":message-type") != Some("event") {
                r.exception = true;
                break;
            }
            let v: Value = serde_json::from_slice(payload).unwrap_or(Value::Null);
            let index = v["contentBlockIndex"].as_u64();
            match header(":event-type").unwrap_or("") {
                "contentBlockStart" => {
                    if let Some(t) = v["start"].get("toolUse") {
                        tool_blocks.push(index.expect("tool block index"));
                        let s = |k: &str| t[k].as_str().unwrap_or_default().to_string();
                        r.tools.push((s("toolUseId"), s("name"), String::new()));
                    }
                }
                "contentBlockDelta" => r.delta(&v["delta"], index, &tool_blocks, &mut reasoning_block),
                "messageStop" => r.stop = v["stopReason"].as_str().map(str::to_string),
                "metadata" => r.usage = v.get("usage").cloned(),
                _ => {}
            }
        }
        r
    }

    fn delta(&mut self, d: &Value, index: Option<u64>, tool_blocks: &[u64], reasoning_block: &mut Option<u64>) {
        if let Some(t) = d.get("text").and_then(Value::as_str) {
            self.text.push_str(t);
        }
        if let Some(rc) = d.get("reasoningContent") {
            if *reasoning_block != index || self.thinking_blocks.is_empty() {
                *reasoning_block = index;
                self.thinking_blocks.push(json!({"type": "thinking"}));
            }
            let Some(block) = self.thinking_blocks.last_mut() else {
                return;
            };
            let append = |block: &mut Value, k: &str, t: &str| {
                let prev = block.get(k).and_then(Value::as_str).unwrap_or("").to_string();
                block[k] = Value::from(prev + t);
            };
            if let Some(t) = rc.get("text").and_then(Value::as_str) {
                self.reasoning.push_str(t);
                append(block, "thinking", t);
            }
            if let Some(s) = rc.get("signature").and_then(Value::as_str) {
                self.signatures.push(s.to_string());
                append(block, "signature", s);
            }
            if let Some(data) = rc.get("redactedContent").and_then(Value::as_str) {
                self.redacted.push(data.to_string());
                block["type"] = "redacted_thinking".into();
                append(block, "data", data);
            }
        }
        if let Some(i) = d.get("toolUse").and_then(|t| t.get("input")).and_then(Value::as_str) {
            let slot = tool_blocks
                .iter()
                .rposition(|b| Some(*b) == index)
                .expect("tool delta after its start");
            self.tools[slot].2.push_str(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{event, exception_frame};

    #[test]
    fn recorded_reads_blocks_tools_stop_and_usage() {
        let body = [
            event("messageStart", json!({"role": "assistant"})),
            event(
                "contentBlockDelta",
                json!({"contentBlockIndex": 0, "delta": {"reasoningContent": {"text": "th"}}}),
            ),
            event(
                "contentBlockDelta",
                json!({"contentBlockIndex": 0, "delta": {"reasoningContent": {"signature": "sig"}}}),
            ),
            event(
                "contentBlockDelta",
                json!({"contentBlockIndex": 1, "delta": {"reasoningContent": {"redactedContent": "eA=="}}}),
            ),
            event(
                "contentBlockDelta",
                json!({"contentBlockIndex": 2, "delta": {"text": "hi"}}),
            ),
            event(
                "contentBlockStart",
                json!({"contentBlockIndex": 3, "start": {"toolUse": {"toolUseId": "t1", "name": "f"}}}),
            ),
            event(
                "contentBlockDelta",
                json!({"contentBlockIndex": 3, "delta": {"toolUse": {"input": "{\"a\""}}}),
            ),
            event(
                "contentBlockDelta",
                json!({"contentBlockIndex": 3, "delta": {"toolUse": {"input": ":1}"}}}),
            ),
            event("messageStop", json!({"stopReason": "tool_use"})),
            event("metadata", json!({"usage": {"inputTokens": 3}})),
        ]
        .concat();
        let r = Recorded::of(&body);
        assert_eq!((r.text.as_str(), r.reasoning.as_str()), ("hi", "th"));
        assert_eq!(
            (r.signatures, r.redacted),
            (vec!["sig".to_string()], vec!["eA==".to_string()])
        );
        assert_eq!(
            r.thinking_blocks,
            vec![
                json!({"type": "thinking", "thinking": "th", "signature": "sig"}),
                json!({"type": "redacted_thinking", "data": "eA=="})
            ]
        );
        assert_eq!(r.tools, vec![("t1".into(), "f".into(), "{\"a\":1}".into())]);
        assert_eq!(
            (r.stop.as_deref(), r.usage),
            (Some("tool_use"), Some(json!({"inputTokens": 3})))
        );
        assert!(!r.exception);

        let cut = [
            event(
                "contentBlockDelta",
                json!({"contentBlockIndex": 0, "delta": {"text": "a"}}),
            ),
            exception_frame("throttlingException", b"{}"),
            event(
                "contentBlockDelta",
                json!({"contentBlockIndex": 0, "delta": {"text": "b"}}),
            ),
        ]
        .concat();
        let r = Recorded::of(&cut);
        assert_eq!((r.text.as_str(), r.exception, r.stop), ("a", true, None));
    }
}
