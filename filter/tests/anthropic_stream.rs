//! Every recorded ConverseStream response replayed through the Anthropic sink: the SSE must
//! follow Anthropic's event grammar, carry exactly what the recording says (read straight from
//! its frames), and not depend on how the body was chunked (every split point, and byte by byte).

use bedrock_bridge::anthropic::stream::MessagesSink;
use bedrock_bridge::bedrock::events::ResponseStream;
use bedrock_bridge::eventstream::Limits;
use bedrock_bridge_testkit::frame::string_frame;
use bedrock_bridge_testkit::recordings::{stream_recordings as recordings, Recorded};
use bedrock_bridge_testkit::replay::{assert_same_at_every_split, replay};
use serde_json::Value;

fn run(bytes: &[u8], cuts: &[usize]) -> Vec<u8> {
    replay(bytes, cuts, pipeline())
}

/// A fresh pipeline as a `feed(chunk, end_of_stream, out)` closure.
fn pipeline() -> impl FnMut(&[u8], bool, &mut Vec<u8>) {
    let mut rs = ResponseStream::new(MessagesSink::new("msg_test", "client-model"), Limits::default());
    move |c, end, out| rs.on_body(c, end, out)
}

/// `(event name, data)` pairs; every event is `event: NAME\ndata: JSON\n\n` with a matching type.
fn events(out: &[u8]) -> Vec<(String, Value)> {
    let s = std::str::from_utf8(out).expect("UTF-8");
    assert!(s.ends_with("\n\n"));
    s.split("\n\n")
        .filter(|e| !e.is_empty())
        .map(|e| {
            let (head, data) = e.split_once('\n').expect("two lines");
            let name = head.strip_prefix("event: ").expect("event line").to_string();
            let data: Value = serde_json::from_str(data.strip_prefix("data: ").expect("data line")).unwrap();
            assert_eq!(data["type"], name.as_str(), "event name = data.type");
            (name, data)
        })
        .collect()
}

#[derive(Default, Debug, PartialEq)]
struct Seen {
    text: String,
    thinking: String,
    signatures: String,
    redacted: Vec<String>,
    tools: Vec<(String, String, String)>,
    stop: Option<String>,
    usage: Option<(u64, u64, u64, u64)>,
}

/// What the recording says, in the shape the SSE is accumulated into.
fn expected(bytes: &[u8]) -> Seen {
    let r = Recorded::of(bytes);
    assert!(!r.exception, "a recording of events only");
    let usage = r.usage.map(|u| {
        let n = |k: &str| u.get(k).and_then(Value::as_u64).unwrap_or(0);
        (
            n("inputTokens"),
            n("outputTokens"),
            n("cacheWriteInputTokens"),
            n("cacheReadInputTokens"),
        )
    });
    Seen {
        text: r.text,
        thinking: r.reasoning,
        signatures: r.signatures.concat(),
        redacted: r.redacted,
        tools: r.tools,
        stop: r.stop,
        usage,
    }
}

/// Check Anthropic's grammar and accumulate the message as the SDKs do.
fn accumulate(evs: &[(String, Value)], name: &str) -> (Seen, Option<Value>) {
    let mut seen = Seen::default();
    assert_eq!(evs[0].0, "message_start", "{name}");
    let m = &evs[0].1["message"];
    assert_eq!(
        (m["id"].as_str(), m["model"].as_str(), m["role"].as_str()),
        (Some("msg_test"), Some("client-model"), Some("assistant"))
    );
    assert!(m["usage"]["input_tokens"].is_u64());
    let mut open: Option<(u64, String)> = None;
    let mut next = 0u64;
    let mut error = None;
    let mut ended = false;
    for (i, (ev, d)) in evs.iter().enumerate().skip(1) {
        assert!(!ended, "{name}: event after message_stop");
        match ev.as_str() {
            "ping" => {}
            "content_block_start" => {
                assert!(open.is_none(), "{name}: block opened while another is open");
                assert_eq!(d["index"], next, "{name}: indices count from 0");
                let b = &d["content_block"];
                let kind = b["type"].as_str().unwrap().to_string();
                match kind.as_str() {
                    "text" => assert_eq!(b["text"], ""),
                    "thinking" => assert_eq!((b["thinking"].as_str(), b["signature"].as_str()), (Some(""), Some(""))),
                    "redacted_thinking" => seen.redacted.push(b["data"].as_str().unwrap().to_string()),
                    "tool_use" => {
                        assert_eq!(b["input"], serde_json::json!({}));
                        seen.tools.push((
                            b["id"].as_str().unwrap().into(),
                            b["name"].as_str().unwrap().into(),
                            String::new(),
                        ));
                    }
                    other => panic!("{name}: block type {other}"),
                }
                open = Some((next, kind));
                next += 1;
            }
            "content_block_delta" => {
                let (idx, kind) = open.as_ref().unwrap_or_else(|| panic!("{name}: delta outside a block"));
                assert_eq!(d["index"], *idx);
                let delta = &d["delta"];
                match (kind.as_str(), delta["type"].as_str().unwrap()) {
                    ("text", "text_delta") => seen.text.push_str(delta["text"].as_str().unwrap()),
                    ("thinking", "thinking_delta") => seen.thinking.push_str(delta["thinking"].as_str().unwrap()),
                    ("thinking", "signature_delta") => seen.signatures.push_str(delta["signature"].as_str().unwrap()),
                    ("tool_use", "input_json_delta") => seen
                        .tools
                        .last_mut()
                        .unwrap()
                        .2
                        .push_str(delta["partial_json"].as_str().unwrap()),
                    (k, t) => panic!("{name}: {t} inside a {k} block"),
                }
            }
            "content_block_stop" => {
                let (idx, _) = open.take().unwrap_or_else(|| panic!("{name}: stop outside a block"));
                assert_eq!(d["index"], idx);
            }
            "message_delta" => {
                assert!(open.is_none(), "{name}: message_delta with an open block");
                seen.stop = d["delta"]["stop_reason"].as_str().map(str::to_string);
                let u = &d["usage"];
                let n = |k: &str| u[k].as_u64().unwrap();
                seen.usage = Some((
                    n("input_tokens"),
                    n("output_tokens"),
                    n("cache_creation_input_tokens"),
                    n("cache_read_input_tokens"),
                ));
            }
            "message_stop" => {
                assert_eq!(i, evs.len() - 1);
                ended = true;
            }
            "error" => {
                assert_eq!(i, evs.len() - 1, "{name}: error is the last event");
                error = Some(d.clone());
            }
            other => panic!("{name}: unknown event {other}"),
        }
    }
    assert!(
        ended || error.is_some(),
        "{name}: the stream neither stopped nor failed"
    );
    (seen, error)
}

fn anthropic_stop(s: &str) -> &'static str {
    match s {
        "end_turn" => "end_turn",
        "max_tokens" => "max_tokens",
        "stop_sequence" => "stop_sequence",
        "tool_use" => "tool_use",
        "guardrail_intervened" | "content_filtered" => "refusal",
        other => panic!("unexpected stop reason in a recording: {other}"),
    }
}

#[test]
fn every_recording_becomes_the_same_message() {
    for path in recordings() {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let bytes = std::fs::read(&path).unwrap();
        let mut exp = expected(&bytes);
        let (mut seen, error) = accumulate(&events(&run(&bytes, &[])), &name);
        if exp.stop.is_none() {
            let e = error.unwrap_or_else(|| panic!("{name}: a cut stream must end with an error event"));
            assert_eq!(e["error"]["type"], "api_error");
            assert!(
                e["error"]["message"].as_str().unwrap().contains("messageStop"),
                "{name}"
            );
            continue;
        }
        assert!(error.is_none(), "{name}: {error:?}");
        exp.stop = exp.stop.as_deref().map(|s| anthropic_stop(s).to_string());
        if exp.usage.is_none() {
            exp.usage = Some((0, 0, 0, 0));
        }
        // Tool inputs: the concatenated partial_json parses as the recorded input.
        for (a, b) in seen.tools.iter_mut().zip(exp.tools.iter_mut()) {
            let pa: Value = serde_json::from_str(if a.2.is_empty() { "{}" } else { &a.2 }).unwrap();
            let pb: Value = serde_json::from_str(if b.2.is_empty() { "{}" } else { &b.2 }).unwrap();
            assert_eq!(pa, pb, "{name}");
            a.2.clear();
            b.2.clear();
        }
        assert_eq!(seen, exp, "{name}");
    }
}

#[test]
fn output_is_identical_at_every_split_point() {
    for path in recordings() {
        let bytes = std::fs::read(&path).unwrap();
        assert_same_at_every_split(&bytes, pipeline, &path.display().to_string());
    }
}

#[test]
fn an_exception_mid_stream_is_an_error_event() {
    // A real recording cut after its first content frame, then a throttling exception frame.
    let path = recordings()
        .into_iter()
        .find(|p| p.to_string_lossy().contains("envoy-ai-gateway__claude_text_then_tool"))
        .unwrap();
    let bytes = std::fs::read(path).unwrap();
    let first = u32::from_be_bytes(bytes[..4].try_into().unwrap()) as usize;
    let second = u32::from_be_bytes(bytes[first..first + 4].try_into().unwrap()) as usize;
    let mut data = bytes[..first + second].to_vec();
    data.extend(string_frame(
        &[
            (":message-type", "exception"),
            (":exception-type", "throttlingException"),
        ],
        br#"{"message":"Too many requests"}"#,
    ));
    let evs = events(&run(&data, &[]));
    let (_, err) = accumulate(&evs, "exception");
    let err = err.unwrap();
    assert_eq!(err["error"]["type"], "rate_limit_error");
    assert!(err["error"]["message"].as_str().unwrap().contains("Too many requests"));
}
