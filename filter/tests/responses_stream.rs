//! Recorded Bedrock ConverseStream responses replayed through `ResponseStream<ResponsesSink>`.
//!
//! For every recording: the Responses API event stream is well formed (sequence numbers 0, 1,
//! 2, …; created and in_progress first; every item added is done; deltas add up to the `.done`
//! texts and to the final response's output; one terminal event, last), it carries the
//! recording's own text, reasoning and tool input, and its bytes do not depend on how the body
//! was chunked (every split point, and byte by byte).

use bedrock_bridge::bedrock::events::ResponseStream;
use bedrock_bridge::eventstream::Limits;
use bedrock_bridge::responses::reasoning;
use bedrock_bridge::responses::response::Meta;
use bedrock_bridge::responses::stream::ResponsesSink;
use bedrock_bridge_testkit::recordings::{stream_recordings as recordings, Recorded};
use bedrock_bridge_testkit::replay::replay;
use serde_json::{Map, Value};
use std::collections::HashMap;

fn meta(summary: bool, json_tool: Option<&str>) -> Meta {
    let mut echo = Map::new();
    echo.insert("tools".into(), Value::Array(vec![]));
    Meta {
        id: "resp_test".into(),
        created_at: 1_700_000_000,
        model: "client-model".into(),
        echo,
        reasoning_as_summary: summary,
        json_tool: json_tool.map(str::to_string),
    }
}

fn run(bytes: &[u8], cuts: &[usize], m: &Meta, max: usize) -> Vec<u8> {
    let mut rs = ResponseStream::new(ResponsesSink::new(m.clone(), max), Limits::default());
    replay(bytes, cuts, |c, end, out| rs.on_body(c, end, out))
}

/// The events of an SSE body; the `event:` line must name the `type` of its data.
fn events(out: &[u8]) -> Vec<Value> {
    let s = std::str::from_utf8(out).unwrap();
    assert!(s.ends_with("\n\n"), "{s}");
    s.split_terminator("\n\n")
        .map(|e| {
            let (ev, data) = e.split_once('\n').unwrap();
            let ev = ev.strip_prefix("event: ").unwrap();
            let v: Value = serde_json::from_str(data.strip_prefix("data: ").unwrap()).unwrap();
            assert_eq!(v["type"], ev);
            v
        })
        .collect()
}

/// What the recording says, with the tool names and all tool input in one string.
struct Expected {
    r: Recorded,
    tool_names: Vec<String>,
    tool_input: String,
}

fn expected(bytes: &[u8]) -> Expected {
    let r = Recorded::of(bytes);
    Expected {
        tool_names: r.tools.iter().map(|t| t.1.clone()).collect(),
        tool_input: r.tools.iter().map(|t| t.2.as_str()).collect(),
        r,
    }
}

/// Check the stream's structure; return the final response object.
fn check_structure(evs: &[Value], ctx: &str) -> Value {
    assert!(evs.len() >= 3, "{ctx}: {evs:?}");
    for (i, e) in evs.iter().enumerate() {
        assert_eq!(e["sequence_number"], i as u64, "{ctx}: event {i}");
    }
    assert_eq!(evs[0]["type"], "response.created", "{ctx}");
    assert_eq!(evs[1]["type"], "response.in_progress", "{ctx}");
    assert_eq!(evs[0]["response"]["status"], "in_progress");
    let last = evs.last().unwrap();
    let terminal = ["response.completed", "response.incomplete", "response.failed"];
    assert!(
        terminal.contains(&last["type"].as_str().unwrap()),
        "{ctx}: ends with {}",
        last["type"]
    );
    for e in &evs[..evs.len() - 1] {
        assert!(
            !terminal.contains(&e["type"].as_str().unwrap()),
            "{ctx}: terminal event before the end"
        );
    }
    let final_resp = &last["response"];
    assert_eq!(final_resp["id"], "resp_test");
    assert_eq!(final_resp["object"], "response");
    // Per item: added once, deltas, done once with the concatenated deltas.
    let mut added: HashMap<u64, Value> = HashMap::new();
    let mut deltas: HashMap<u64, String> = HashMap::new();
    let mut done: HashMap<u64, Value> = HashMap::new();
    for e in evs {
        let t = e["type"].as_str().unwrap();
        let idx = e["output_index"].as_u64();
        match t {
            "response.output_item.added" => {
                let i = idx.unwrap();
                assert_eq!(i as usize, added.len(), "{ctx}: output indexes in order");
                assert!(added.insert(i, e["item"].clone()).is_none());
                assert_eq!(e["item"]["status"], "in_progress");
            }
            "response.output_text.delta"
            | "response.reasoning_text.delta"
            | "response.reasoning_summary_text.delta"
            | "response.function_call_arguments.delta" => {
                let i = idx.unwrap();
                assert!(
                    added.contains_key(&i) && !done.contains_key(&i),
                    "{ctx}: delta outside its item"
                );
                assert_eq!(e["item_id"], added[&i]["id"]);
                deltas.entry(i).or_default().push_str(e["delta"].as_str().unwrap());
            }
            "response.output_text.done" | "response.reasoning_text.done" | "response.reasoning_summary_text.done" => {
                let i = idx.unwrap();
                assert_eq!(
                    e["text"].as_str().unwrap(),
                    deltas.get(&i).map(String::as_str).unwrap_or(""),
                    "{ctx}"
                );
            }
            "response.function_call_arguments.done" => {
                let i = idx.unwrap();
                let d = deltas.get(&i).map(String::as_str).unwrap_or("");
                let want = if d.trim().is_empty() { "{}" } else { d };
                assert_eq!(e["arguments"].as_str().unwrap(), want, "{ctx}");
            }
            "response.output_item.done" => {
                let i = idx.unwrap();
                assert_eq!(e["item"]["id"], added[&i]["id"], "{ctx}");
                assert_eq!(e["item"]["status"], "completed");
                assert!(done.insert(i, e["item"].clone()).is_none(), "{ctx}: item done twice");
            }
            _ => {}
        }
    }
    if last["type"] != "response.failed" {
        assert_eq!(added.len(), done.len(), "{ctx}: every item added is done");
        let output = final_resp["output"].as_array().unwrap();
        assert_eq!(output.len(), done.len(), "{ctx}");
        for (i, item) in output.iter().enumerate() {
            assert_eq!(item, &done[&(i as u64)], "{ctx}: final output item {i}");
        }
    }
    final_resp.clone()
}

#[test]
fn every_recording_is_a_well_formed_responses_stream() {
    let mut with_reasoning = 0;
    let mut with_tools = 0;
    for path in recordings() {
        let ctx = path.display().to_string();
        let bytes = std::fs::read(&path).unwrap();
        let want = expected(&bytes);
        for summary in [false, true] {
            let evs = events(&run(&bytes, &[], &meta(summary, None), usize::MAX));
            let resp = check_structure(&evs, &ctx);
            let last = evs.last().unwrap();
            if want.r.exception || want.r.stop.is_none() {
                assert_eq!(last["type"], "response.failed", "{ctx}");
                assert!(evs.iter().any(|e| e["type"] == "error"), "{ctx}");
                assert_eq!(resp["status"], "failed");
                assert!(resp["error"]["message"].is_string());
                continue;
            }
            let stop = want.r.stop.as_deref().unwrap();
            if stop == "max_tokens" {
                assert_eq!(last["type"], "response.incomplete", "{ctx}");
                assert_eq!(resp["incomplete_details"]["reason"], "max_output_tokens");
            } else if stop != "guardrail_intervened" && stop != "content_filtered" {
                assert_eq!(last["type"], "response.completed", "{ctx}");
                assert_eq!(resp["status"], "completed");
            }
            let mut text = String::new();
            let mut reasoning_text = String::new();
            let mut sigs = Vec::new();
            let mut names = Vec::new();
            let mut args = String::new();
            for item in resp["output"].as_array().unwrap() {
                match item["type"].as_str().unwrap() {
                    "message" => text += item["content"][0]["text"].as_str().unwrap(),
                    "reasoning" => {
                        let parts = if summary { &item["summary"] } else { &item["content"] };
                        let other = if summary { &item["content"] } else { &item["summary"] };
                        assert_eq!(other, &Value::Array(vec![]), "{ctx}");
                        for p in parts.as_array().unwrap() {
                            reasoning_text += p["text"].as_str().unwrap();
                        }
                        // encrypted_content is the block itself, text and signature.
                        let block = reasoning::decode(item["encrypted_content"].as_str().unwrap()).unwrap();
                        match block {
                            bedrock_bridge::bedrock::converse::Reasoning::ReasoningText { text, signature } => {
                                assert_eq!(parts[0]["text"].as_str().unwrap(), text);
                                if let Some(s) = signature {
                                    sigs.push(s);
                                }
                            }
                            bedrock_bridge::bedrock::converse::Reasoning::RedactedContent(_) => {}
                        }
                    }
                    "function_call" => {
                        names.push(item["name"].as_str().unwrap().to_string());
                        args += item["arguments"].as_str().unwrap().trim_start_matches("{}");
                        assert!(item["call_id"].as_str().unwrap().len() > 1);
                    }
                    other => panic!("{ctx}: unexpected item {other}"),
                }
            }
            assert_eq!(text, want.r.text, "{ctx}");
            assert_eq!(reasoning_text, want.r.reasoning, "{ctx}");
            assert_eq!(sigs, want.r.signatures, "{ctx}");
            assert_eq!(names, want.tool_names, "{ctx}");
            assert_eq!(args, want.tool_input, "{ctx}");
            if let Some(u) = resp["usage"].as_object() {
                assert!(u["input_tokens"].as_u64().unwrap() > 0, "{ctx}");
                assert!(u["input_tokens_details"]["cached_tokens"].is_u64());
                assert!(u["output_tokens_details"]["reasoning_tokens"].is_u64());
            }
            with_reasoning += usize::from(!want.r.reasoning.is_empty());
            with_tools += usize::from(!want.tool_names.is_empty());
        }
    }
    assert!(with_reasoning >= 2 && with_tools >= 4, "{with_reasoning} {with_tools}");
}

#[test]
fn output_is_identical_at_every_split_point() {
    for summary in [false, true] {
        let m = meta(summary, None);
        for path in recordings() {
            let bytes = std::fs::read(&path).unwrap();
            let whole = run(&bytes, &[], &m, usize::MAX);
            // Every split point with reasoning as `reasoning_text`; byte by byte in both modes.
            for c in (1..bytes.len()).filter(|_| !summary) {
                assert!(
                    run(&bytes, &[c], &m, usize::MAX) == whole,
                    "{} split at {c}",
                    path.display()
                );
            }
            let every_byte: Vec<usize> = (1..bytes.len()).collect();
            assert!(
                run(&bytes, &every_byte, &m, usize::MAX) == whole,
                "{} byte by byte",
                path.display()
            );
        }
    }
}

#[test]
fn held_text_is_bounded() {
    let path = recordings()
        .into_iter()
        .find(|p| p.to_string_lossy().contains("claude35_sonnet_long"))
        .unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let evs = events(&run(&bytes, &[], &meta(false, None), 100));
    let last = evs.last().unwrap();
    assert_eq!(last["type"], "response.failed");
    assert!(last["response"]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("limit of 100 bytes"));
    // Nothing after the failure, however much more the stream carries.
    let n = evs.iter().filter(|e| e["type"] == "response.output_text.delta").count();
    assert!(n <= 100, "{n}");
}

#[test]
fn json_tool_streams_as_message_text() {
    let path = recordings()
        .into_iter()
        .find(|p| p.to_string_lossy().contains("kong__tool_use_three_chunks"))
        .unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let want = expected(&bytes);
    let name = want.tool_names[0].clone();
    let evs = events(&run(&bytes, &[], &meta(false, Some(&name)), usize::MAX));
    let resp = check_structure(&evs, "json tool");
    let out = resp["output"].as_array().unwrap();
    assert!(out.iter().all(|i| i["type"] != "function_call"));
    let text: String = out
        .iter()
        .filter(|i| i["type"] == "message")
        .map(|i| i["content"][0]["text"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(text, format!("{}{}", want.r.text, want.tool_input));
}
