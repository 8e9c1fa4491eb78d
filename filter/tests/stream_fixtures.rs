//! Recorded Bedrock ConverseStream responses replayed through the response pipeline.
//!
//! For every recording the expected OpenAI output is derived from the recording's own frames
//! (text, reasoning, tool input, stop reason, usage), then compared field by field with the SSE
//! the pipeline produced; and the SSE bytes must not depend on how the body was chunked.

use bedrock_bridge::bedrock::events::ResponseStream;
use bedrock_bridge::chat::reply::ChatReply;
use bedrock_bridge::chat::stream::ChatSink;
use bedrock_bridge::config::ReasoningField;
use bedrock_bridge::eventstream::Limits;
use bedrock_bridge_testkit::frame::split_frames;
use bedrock_bridge_testkit::recordings::{fixtures, stream_recordings as recordings, Recorded};
use bedrock_bridge_testkit::replay::{assert_same_at_every_split, replay};
use bedrock_bridge_testkit::sse;
use serde_json::Value;

fn opts(reasoning_field: ReasoningField) -> ChatReply {
    ChatReply {
        id: "chatcmpl-test".into(),
        created: 1_700_000_000,
        model: "client-model".into(),
        reasoning_field,
        include_usage: true,
        json_tool: None,
        max_thinking_bytes: 256 * 1024,
    }
}

fn stream(o: &ChatReply) -> ResponseStream<ChatSink> {
    ResponseStream::new(ChatSink::new(o.clone()), Limits::default())
}

/// A fresh pipeline as a `feed(chunk, end_of_stream, out)` closure.
fn pipeline(o: &ChatReply) -> impl FnMut(&[u8], bool, &mut Vec<u8>) {
    let mut rs = stream(o);
    move |c, end, out| rs.on_body(c, end, out)
}

fn run(bytes: &[u8], cuts: &[usize], o: &ChatReply) -> Vec<u8> {
    replay(bytes, cuts, pipeline(o))
}

/// The `data:` payloads of an SSE body.
fn sse_events(out: &[u8]) -> Vec<String> {
    sse::events(out).into_iter().map(str::to_string).collect()
}

fn finish_reason(stop: &str) -> &'static str {
    match stop {
        "end_turn" | "stop_sequence" => "stop",
        "max_tokens" => "length",
        "tool_use" => "tool_calls",
        "guardrail_intervened" | "content_filtered" => "content_filter",
        other => panic!("unexpected stop reason in a recording: {other}"),
    }
}

/// Merge one `thinking_blocks` piece by index the way the openai SDK's stream helper does:
/// `index` and `type` replaced, strings concatenated.
fn merge_thinking_piece(blocks: &mut Vec<Value>, piece: &serde_json::Map<String, Value>, name: &str) {
    let idx = piece["index"].as_u64().unwrap() as usize;
    assert!(idx <= blocks.len(), "{name}: thinking block indexes count from 0");
    if idx == blocks.len() {
        blocks.push(serde_json::json!({}));
    }
    for (k, v) in piece {
        if k == "index" {
            continue;
        }
        let acc = &mut blocks[idx];
        match (acc.get(k).and_then(Value::as_str), v.as_str()) {
            (Some(prev), Some(t)) if k != "type" => acc[k] = Value::from(format!("{prev}{t}")),
            _ => acc[k] = v.clone(),
        }
    }
}

/// The usage chunk against the recording's `metadata.usage` (OpenAI counts cached input tokens
/// in `prompt_tokens`).
fn check_usage(got: &Value, u: &Value, name: &str) {
    let cache_read = u.get("cacheReadInputTokens").and_then(Value::as_u64).unwrap_or(0);
    let cache_write = u.get("cacheWriteInputTokens").and_then(Value::as_u64).unwrap_or(0);
    assert_eq!(
        got["prompt_tokens"].as_u64().unwrap(),
        u["inputTokens"].as_u64().unwrap() + cache_read + cache_write,
        "{name}"
    );
    assert_eq!(got["completion_tokens"], u["outputTokens"], "{name}");
    assert_eq!(got["total_tokens"], u["totalTokens"], "{name}");
    assert_eq!(
        got["prompt_tokens_details"]["cached_tokens"].as_u64().unwrap(),
        cache_read,
        "{name}"
    );
}

/// Add one `tool_calls` piece: a new call (with its id) or more of a call's arguments.
fn add_tool_call_piece(tools: &mut Vec<(String, String, String)>, tc: &Value, name: &str) {
    let idx = tc["index"].as_u64().unwrap() as usize;
    if let Some(id) = tc.get("id") {
        assert_eq!(idx, tools.len(), "{name}: tool call indexes count from 0");
        assert_eq!(tc["type"], "function");
        tools.push((
            id.as_str().unwrap().into(),
            tc["function"]["name"].as_str().unwrap().into(),
            String::new(),
        ));
    }
    tools[idx].2.push_str(tc["function"]["arguments"].as_str().unwrap());
}

#[test]
fn every_recording_translates_field_by_field() {
    for path in recordings() {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let bytes = std::fs::read(&path).unwrap();
        let exp = Recorded::of(&bytes);
        let out = run(&bytes, &[], &opts(ReasoningField::Reasoning));
        let events = sse_events(&out);
        let (last, chunks) = events.split_last().unwrap();

        if exp.stop.is_none() {
            // A recording cut before messageStop (a cancelled stream) must end with an error.
            let err: Value = serde_json::from_str(&chunks[chunks.len() - 1]).unwrap();
            assert!(
                err["error"]["message"].as_str().unwrap().contains("messageStop"),
                "{name}"
            );
            assert_eq!(last, "[DONE]");
            continue;
        }
        assert_eq!(last, "[DONE]", "{name}");
        let chunks: Vec<Value> = chunks.iter().map(|c| serde_json::from_str(c).unwrap()).collect();
        let mut text = String::new();
        let mut reasoning = String::new();
        let mut signatures = Vec::new();
        let mut thinking_blocks: Vec<Value> = Vec::new();
        let mut tools: Vec<(String, String, String)> = Vec::new();
        let mut finish = None;
        let mut usage = None;
        for (i, c) in chunks.iter().enumerate() {
            assert!(c.get("error").is_none(), "{name}: {c}");
            assert_eq!(c["id"], "chatcmpl-test", "{name}");
            assert_eq!(c["created"], 1_700_000_000);
            assert_eq!(c["model"], "client-model");
            assert_eq!(c["object"], "chat.completion.chunk");
            if c["choices"].as_array().unwrap().is_empty() {
                usage = Some(c["usage"].clone());
                continue;
            }
            let ch = &c["choices"][0];
            let d = &ch["delta"];
            if i == 0 {
                assert_eq!(d["role"], "assistant", "{name}: first chunk carries the role");
            }
            if let Some(t) = d.get("content").and_then(Value::as_str) {
                text.push_str(t);
            }
            if let Some(t) = d.get("reasoning").and_then(Value::as_str) {
                reasoning.push_str(t);
            }
            assert!(d.get("reasoning_content").is_none());
            if let Some(b) = d.get("thinking_blocks") {
                if let Some(s) = b[0].get("signature").and_then(Value::as_str) {
                    signatures.push(s.to_string());
                }
                merge_thinking_piece(&mut thinking_blocks, b[0].as_object().unwrap(), &name);
            }
            if let Some(tc) = d.get("tool_calls") {
                add_tool_call_piece(&mut tools, &tc[0], &name);
            }
            if let Some(f) = ch["finish_reason"].as_str() {
                assert!(finish.is_none(), "{name}: one finish_reason");
                finish = Some(f.to_string());
            }
        }
        assert_eq!(text, exp.text, "{name}: content");
        assert_eq!(reasoning, exp.reasoning, "{name}: reasoning");
        assert_eq!(signatures, exp.signatures, "{name}: signatures");
        // Only blocks a client can send back travel in `thinking_blocks`: signed
        // (a signature-only block with `"thinking": ""`) or redacted; unsigned text stays in
        // `reasoning` only.
        let replayable: Vec<Value> = exp
            .thinking_blocks
            .iter()
            .filter(|b| b["type"] == "redacted_thinking" || b.get("signature").is_some())
            .map(|b| {
                let mut b = b.clone();
                if b["type"] == "thinking" && b.get("thinking").is_none() {
                    b["thinking"] = "".into();
                }
                b
            })
            .collect();
        assert_eq!(thinking_blocks, replayable, "{name}: thinking_blocks merged by index");
        for s in &exp.signatures {
            assert!(
                !text.contains(s.as_str()) && !reasoning.contains(s.as_str()),
                "{name}: signature leaked"
            );
        }
        assert_eq!(tools, exp.tools, "{name}: tool calls");
        for (_, _, args) in &tools {
            serde_json::from_str::<Value>(if args.is_empty() { "{}" } else { args })
                .unwrap_or_else(|e| panic!("{name}: tool arguments {args:?}: {e}"));
        }
        assert_eq!(
            finish.as_deref(),
            Some(finish_reason(exp.stop.as_deref().unwrap())),
            "{name}"
        );
        if let Some(u) = exp.usage {
            check_usage(&usage.unwrap_or_else(|| panic!("{name}: usage chunk")), &u, &name);
        }
    }
}

#[test]
fn reasoning_field_modes() {
    let bytes =
        std::fs::read(fixtures().join("bedrock-recordings/converse-stream/langchain-aws__thinking_v0.bin")).unwrap();
    let exp = Recorded::of(&bytes);
    assert!(!exp.reasoning.is_empty());
    for (mode, keys) in [
        (ReasoningField::Reasoning, &["reasoning"][..]),
        (ReasoningField::ReasoningContent, &["reasoning_content"][..]),
        (ReasoningField::Both, &["reasoning", "reasoning_content"][..]),
    ] {
        let out = run(&bytes, &[], &opts(mode));
        for key in ["reasoning", "reasoning_content"] {
            let mut got = String::new();
            for e in sse_events(&out).iter().filter(|e| e.as_str() != "[DONE]") {
                let v: Value = serde_json::from_str(e).unwrap();
                if let Some(t) = v["choices"][0]["delta"].get(key).and_then(Value::as_str) {
                    got.push_str(t);
                }
            }
            let want = if keys.contains(&key) {
                exp.reasoning.as_str()
            } else {
                ""
            };
            assert_eq!(got, want, "{mode:?} {key}");
        }
    }
}

#[test]
fn usage_chunk_only_when_asked() {
    let bytes = std::fs::read(fixtures().join("bedrock-recordings/test_bedrock_model_stream.eventstream")).unwrap();
    let mut o = opts(ReasoningField::Reasoning);
    o.include_usage = false;
    let out = String::from_utf8(run(&bytes, &[], &o)).unwrap();
    assert!(!out.contains("\"usage\""));
    assert!(out.ends_with("data: [DONE]\n\n"));
}

#[test]
fn output_is_identical_at_every_split_point() {
    let o = opts(ReasoningField::Both);
    for path in recordings() {
        let bytes = std::fs::read(&path).unwrap();
        assert_same_at_every_split(&bytes, || pipeline(&o), &path.display().to_string());
    }
}

#[test]
fn memory_holds_at_most_one_partial_frame() {
    let bytes =
        std::fs::read(fixtures().join("bedrock-recordings/converse-stream/langchain-aws__thinking_v1.bin")).unwrap();
    let largest = split_frames(&bytes).iter().map(|f| f.len()).max().unwrap();
    let mut rs = stream(&opts(ReasoningField::Reasoning));
    let mut out = Vec::new();
    for chunk in bytes.chunks(37) {
        out.clear();
        rs.on_body(chunk, false, &mut out);
        assert!(
            rs.buffered_len() < largest,
            "buffered {} >= largest frame {largest}",
            rs.buffered_len()
        );
    }
}

#[test]
fn negative_vectors_end_the_stream_with_an_error() {
    let dir = fixtures().join("eventstream-vectors/negative");
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let bytes = std::fs::read(&p).unwrap();
        for cuts in [vec![], (1..bytes.len()).collect::<Vec<_>>()] {
            let out = run(&bytes, &cuts, &opts(ReasoningField::Reasoning));
            let events = sse_events(&out);
            assert_eq!(events.len(), 2, "{}: {events:?}", p.display());
            let err: Value = serde_json::from_str(&events[0]).unwrap();
            assert_eq!(err["error"]["type"], "server_error", "{}", p.display());
            assert_eq!(events[1], "[DONE]");
        }
        n += 1;
    }
    assert!(n >= 12);
}

#[test]
fn exception_frames_become_openai_errors() {
    let bytes = std::fs::read(
        fixtures().join("eventstream-vectors/constructed-exception-frames/vercel-ai__modelStreamErrorException.bin"),
    )
    .unwrap();
    let events = sse_events(&run(&bytes, &[], &opts(ReasoningField::Reasoning)));
    let err: Value = serde_json::from_str(&events[0]).unwrap();
    assert_eq!(err["error"]["code"], "ModelStreamErrorException");
    assert_eq!(err["error"]["type"], "server_error");
    assert_eq!(events.last().unwrap(), "[DONE]");

    // Text already streamed, then an exception: the text is delivered, then the error.
    let good = std::fs::read(fixtures().join("bedrock-recordings/test_bedrock_model_stream.eventstream")).unwrap();
    let frames = split_frames(&good);
    let second = frames[0].len() + frames[1].len();
    let mut mixed = good[..second].to_vec();
    mixed.extend_from_slice(&bytes);
    mixed.extend_from_slice(&good[second..]);
    let events = sse_events(&run(&mixed, &[], &opts(ReasoningField::Reasoning)));
    assert_eq!(events.last().unwrap(), "[DONE]");
    assert_eq!(events.iter().filter(|e| e.as_str() == "[DONE]").count(), 1);
    let err: Value = serde_json::from_str(&events[events.len() - 2]).unwrap();
    assert_eq!(err["error"]["code"], "ModelStreamErrorException");
}

#[test]
fn smithy_protocol_messages() {
    let dir = fixtures().join("eventstream-vectors/smithy-protocol-tests");
    let expected: Value = serde_json::from_slice(&std::fs::read(dir.join("expected.json")).unwrap()).unwrap();
    let cases = expected["cases"].as_object().unwrap();
    let mut failures = 0;
    for (name, case) in cases {
        let bytes = std::fs::read(dir.join(case["file"].as_str().unwrap())).unwrap();
        // The message alone, stream still open: success cases are events of a protocol-test
        // service, not Bedrock's, so they carry nothing for the client but must not fail it.
        let mut rs = stream(&opts(ReasoningField::Reasoning));
        let mut out = Vec::new();
        rs.on_body(&bytes, false, &mut out);
        let has_error = String::from_utf8(out.clone()).unwrap().contains("data: {\"error\"");
        assert_eq!(
            has_error,
            case["expected"] == "failure",
            "{name}: {}",
            String::from_utf8_lossy(&out)
        );
        failures += usize::from(has_error);
    }
    assert!(failures >= 4, "the suite has malformed and error cases");
}
