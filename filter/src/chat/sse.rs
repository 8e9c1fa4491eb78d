//! OpenAI `chat.completion.chunk` encoding as server-sent events (`data: {…}\n\n`).
//!
//! The part of every chunk that never changes within a stream (`id`, `object`, `created`,
//! `model`) is serialised once per stream; each delta then costs one small serialisation.

use crate::config::ReasoningField;
use crate::error::ApiError;
use crate::openai::Usage;
use serde::Serialize;

/// The stream terminator.
pub(crate) const DONE: &[u8] = b"data: [DONE]\n\n";

/// One choice's `delta`. Absent fields are omitted.
#[derive(Debug, Default, Serialize)]
pub(crate) struct Delta<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<[ToolCallDelta<'a>; 1]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thinking_blocks: Option<[ThinkingBlockDelta<'a>; 1]>,
}

/// A whole reasoning block, in LiteLLM's `thinking_blocks` form, sent once at the block's end
/// (see `chat::stream`). `index` counts reasoning blocks from 0.
#[derive(Debug, Serialize)]
pub(crate) struct ThinkingBlockDelta<'a> {
    pub index: u32,
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thinking: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<&'a str>,
}

/// One piece of a streamed tool call.
#[derive(Debug, Serialize)]
pub(crate) struct ToolCallDelta<'a> {
    pub index: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<&'a str>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
    pub function: FunctionDelta<'a>,
}

#[derive(Debug, Serialize)]
pub(crate) struct FunctionDelta<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'a str>,
    pub arguments: &'a str,
}

#[derive(Serialize)]
struct Head<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    model: &'a str,
}

/// Writes the chunks of one stream.
#[derive(Debug, Clone)]
pub(crate) struct ChunkEncoder {
    /// `data: {"id":…,"object":…,"created":…,"model":…,` — shared by every chunk.
    head: Vec<u8>,
    /// `stream_options.include_usage`: every chunk before the usage chunk carries
    /// `"usage": null`, as the spec describes.
    usage_null: bool,
    /// What a content-only chunk has before and after its text (see [`Self::content`]).
    content_open: Vec<u8>,
    content_close: Vec<u8>,
}

const CHOICE_OPEN: &[u8] = br#""choices":[{"index":0,"delta":"#;
const CHOICE_CLOSE: &[u8] = b",\"logprobs\":null,\"finish_reason\":null}]";
const USAGE_NULL: &[u8] = b",\"usage\":null";
const CHUNK_END: &[u8] = b"}\n\n";

impl ChunkEncoder {
    pub(crate) fn new(id: &str, created: u64, model: &str) -> Self {
        let mut head = b"data: ".to_vec();
        let fields = Head {
            id,
            object: "chat.completion.chunk",
            created,
            model,
        };
        // Serialising strings and integers into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut head, &fields);
        head.pop(); // the closing brace: more fields follow
        head.push(b',');
        ChunkEncoder {
            content_open: [&head[..], CHOICE_OPEN, br#"{"content":"#].concat(),
            content_close: Self::close(false),
            head,
            usage_null: false,
        }
    }

    /// What follows a content-only chunk's text.
    fn close(usage_null: bool) -> Vec<u8> {
        let usage: &[u8] = if usage_null { USAGE_NULL } else { b"" };
        [&b"}"[..], CHOICE_CLOSE, usage, CHUNK_END].concat()
    }

    /// Chunks before the usage chunk carry `"usage": null` (with `include_usage`).
    pub(crate) fn with_usage_null(mut self, on: bool) -> Self {
        self.usage_null = on;
        self.content_close = Self::close(on);
        self
    }

    fn end(&self, out: &mut Vec<u8>) {
        if self.usage_null {
            out.extend_from_slice(USAGE_NULL);
        }
        out.extend_from_slice(CHUNK_END);
    }

    /// A chunk carrying `delta`.
    pub(crate) fn delta(&self, out: &mut Vec<u8>, delta: &Delta<'_>) {
        out.extend_from_slice(&self.head);
        out.extend_from_slice(CHOICE_OPEN);
        let _ = serde_json::to_writer(&mut *out, delta);
        out.extend_from_slice(CHOICE_CLOSE);
        self.end(out);
    }

    /// A chunk whose delta is only `content`, as most chunks of a stream are: the same bytes as
    /// [`Self::delta`] with `Delta { content, .. }`, written as three copies (the parts before and
    /// after the text are kept per stream) without walking the other fields.
    pub(crate) fn content(&self, out: &mut Vec<u8>, text: &str) {
        let len = self.content_open.len() + text.len() + 2 + self.content_close.len();
        out.reserve(len);
        out.extend_from_slice(&self.content_open);
        fastjson::write::write_str(out, text);
        out.extend_from_slice(&self.content_close);
    }

    /// A chunk whose delta is only reasoning text, in the field or fields `field` names: the same
    /// bytes as [`Self::delta`] with those fields set, without walking the others.
    pub(crate) fn reasoning(&self, out: &mut Vec<u8>, field: ReasoningField, text: &str) {
        out.reserve(self.head.len() + 2 * text.len() + 128);
        out.extend_from_slice(&self.head);
        out.extend_from_slice(CHOICE_OPEN);
        let mut open = b'{';
        if matches!(field, ReasoningField::Reasoning | ReasoningField::Both) {
            out.push(open);
            out.extend_from_slice(br#""reasoning":"#);
            fastjson::write::write_str(out, text);
            open = b',';
        }
        if matches!(field, ReasoningField::ReasoningContent | ReasoningField::Both) {
            out.push(open);
            out.extend_from_slice(br#""reasoning_content":"#);
            fastjson::write::write_str(out, text);
        }
        out.push(b'}');
        out.extend_from_slice(CHOICE_CLOSE);
        self.end(out);
    }

    /// The chunk that ends the choice: an empty delta and `finish_reason`.
    pub(crate) fn finish(&self, out: &mut Vec<u8>, finish_reason: &str) {
        out.extend_from_slice(&self.head);
        out.extend_from_slice(CHOICE_OPEN);
        out.extend_from_slice(b"{},\"logprobs\":null,\"finish_reason\":");
        let _ = serde_json::to_writer(&mut *out, finish_reason);
        out.extend_from_slice(b"}]");
        self.end(out);
    }

    /// The usage chunk sent when `stream_options.include_usage` is set: no choices.
    pub(crate) fn usage(&self, out: &mut Vec<u8>, usage: &Usage) {
        out.extend_from_slice(&self.head);
        out.extend_from_slice(b"\"choices\":[],\"usage\":");
        let _ = serde_json::to_writer(&mut *out, usage);
        out.extend_from_slice(b"}\n\n");
    }
}

/// An error event: `data: {"error":{…}}` (the body [`ApiError::to_json`] writes). OpenAI's
/// SDKs raise it as an API error.
pub(crate) fn error_event(out: &mut Vec<u8>, e: &ApiError) {
    out.extend_from_slice(b"data: ");
    e.write_json(out);
    out.extend_from_slice(b"\n\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn events(out: &[u8]) -> Vec<Value> {
        let s = std::str::from_utf8(out).unwrap();
        s.split("\n\n")
            .filter(|e| !e.is_empty())
            .map(|e| serde_json::from_str(e.strip_prefix("data: ").unwrap()).unwrap())
            .collect()
    }

    #[test]
    fn content_chunk_is_the_delta_chunk() {
        let enc = ChunkEncoder::new("chatcmpl-1", 1700000000, "m");
        let usage = ChunkEncoder::new("chatcmpl-1", 1700000000, "m").with_usage_null(true);
        for (enc, text) in [&enc, &usage].into_iter().flat_map(|e| {
            [
                "",
                " abc",
                "line\nwith \"quotes\", \\ and \u{1}",
                "日本語 ✓",
                "\u{7f}\u{2028}x",
                "tab\t",
                "q\"",
            ]
            .map(|t| (e, t))
        }) {
            let (mut fast, mut general) = (Vec::new(), Vec::new());
            enc.content(&mut fast, text);
            enc.delta(
                &mut general,
                &Delta {
                    content: Some(text),
                    ..Default::default()
                },
            );
            assert_eq!(String::from_utf8(fast).unwrap(), String::from_utf8(general).unwrap());
        }
    }

    proptest::proptest! {
        #[test]
        fn reasoning_chunk_is_the_delta_chunk_for_any_text(text in "(\\PC|[\\x00-\\x7f])*", usage: bool) {
            let enc = ChunkEncoder::new("chatcmpl-1", 1700000000, "m").with_usage_null(usage);
            for field in [ReasoningField::Reasoning, ReasoningField::ReasoningContent, ReasoningField::Both] {
                let (reasoning, reasoning_content) = crate::openai::reasoning_fields(field, Some(&text));
                let (mut fast, mut general) = (b"prefix".to_vec(), b"prefix".to_vec());
                enc.reasoning(&mut fast, field, &text);
                enc.delta(&mut general, &Delta { reasoning, reasoning_content, ..Default::default() });
                proptest::prop_assert_eq!(fast, general);
            }
        }

        #[test]
        fn content_chunk_is_the_delta_chunk_for_any_text(text in "(\\PC|[\\x00-\\x7f])*") {
            let enc = ChunkEncoder::new("chatcmpl-1", 1700000000, "m");
            let (mut fast, mut general) = (b"prefix".to_vec(), b"prefix".to_vec());
            enc.content(&mut fast, &text);
            enc.delta(&mut general, &Delta { content: Some(&text), ..Default::default() });
            proptest::prop_assert_eq!(fast, general);
        }
    }

    #[test]
    fn chunks_are_valid_openai_json() {
        let enc = ChunkEncoder::new("chatcmpl-1", 1700000000, "my \"model\"");
        let mut out = Vec::new();
        enc.delta(
            &mut out,
            &Delta {
                role: Some("assistant"),
                content: Some(""),
                ..Default::default()
            },
        );
        enc.delta(
            &mut out,
            &Delta {
                content: Some("line\nwith \"quotes\" and </script>"),
                ..Default::default()
            },
        );
        enc.delta(
            &mut out,
            &Delta {
                tool_calls: Some([ToolCallDelta {
                    index: 0,
                    id: Some("t1"),
                    kind: Some("function"),
                    function: FunctionDelta {
                        name: Some("f"),
                        arguments: "",
                    },
                }]),
                ..Default::default()
            },
        );
        enc.finish(&mut out, "stop");
        enc.usage(
            &mut out,
            &Usage {
                prompt_tokens: 3,
                completion_tokens: 4,
                total_tokens: 7,
                ..Default::default()
            },
        );
        let ev = events(&out);
        assert_eq!(ev.len(), 5);
        for e in &ev {
            assert_eq!(e["id"], "chatcmpl-1");
            assert_eq!(e["object"], "chat.completion.chunk");
            assert_eq!(e["created"], 1700000000);
            assert_eq!(e["model"], "my \"model\"");
        }
        assert_eq!(ev[0]["choices"][0]["delta"]["role"], "assistant");
        assert_eq!(
            ev[1]["choices"][0]["delta"]["content"],
            "line\nwith \"quotes\" and </script>"
        );
        assert_eq!(ev[2]["choices"][0]["delta"]["tool_calls"][0]["function"]["name"], "f");
        assert_eq!(ev[3]["choices"][0]["finish_reason"], "stop");
        assert_eq!(ev[3]["choices"][0]["delta"], serde_json::json!({}));
        assert_eq!(ev[4]["choices"], serde_json::json!([]));
        assert_eq!(ev[4]["usage"]["total_tokens"], 7);
        assert!(ev[..4].iter().all(|e| e.get("usage").is_none()));
    }

    #[test]
    fn usage_null_before_the_usage_chunk() {
        let enc = ChunkEncoder::new("c", 1, "m").with_usage_null(true);
        let mut out = Vec::new();
        enc.delta(
            &mut out,
            &Delta {
                content: Some("x"),
                ..Default::default()
            },
        );
        enc.finish(&mut out, "stop");
        enc.usage(&mut out, &Usage::default());
        let ev = events(&out);
        assert_eq!(ev.len(), 3);
        assert!(ev[0]["usage"].is_null() && ev[0].get("usage").is_some());
        assert!(ev[1]["usage"].is_null() && ev[1].get("usage").is_some());
        assert_eq!(ev[2]["usage"]["total_tokens"], 0);
    }

    #[test]
    fn error_event_shape() {
        let mut out = Vec::new();
        error_event(
            &mut out,
            &ApiError::bad_upstream("eventstream prelude checksum mismatch"),
        );
        let ev = events(&out);
        assert_eq!(ev[0]["error"]["type"], "server_error");
        assert!(ev[0]["error"]["message"].as_str().unwrap().contains("checksum"));
    }
}
