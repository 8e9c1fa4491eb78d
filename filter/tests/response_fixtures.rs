//! Recorded Bedrock Converse JSON responses → OpenAI chat.completion, field by field.

use bedrock_bridge::chat::reply::ChatReply;
use bedrock_bridge::config::ReasoningField;
use bedrock_bridge::error::ApiError;
use bedrock_bridge::front::Reply;
use bedrock_bridge_testkit::recordings::converse_recordings as recordings;
use serde_json::{json, Value};

fn reply(json_tool: Option<&str>) -> ChatReply {
    ChatReply {
        id: "chatcmpl-x".into(),
        created: 1_700_000_000,
        model: "client-model".into(),
        reasoning_field: ReasoningField::Reasoning,
        include_usage: false,
        json_tool: json_tool.map(str::to_string),
        max_thinking_bytes: 256 * 1024,
    }
}

fn translate(body: &[u8], r: &ChatReply) -> Result<Vec<u8>, ApiError> {
    r.translate_json(body).map(|a| a.body)
}

#[test]
fn every_recorded_converse_response() {
    for path in recordings() {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let body = std::fs::read(&path).unwrap();
        let src: Value = serde_json::from_slice(&body).unwrap();
        let out: Value =
            serde_json::from_slice(&translate(&body, &reply(None)).unwrap_or_else(|e| panic!("{name}: {e:?}")))
                .unwrap();
        assert_eq!(out["object"], "chat.completion");
        assert_eq!(out["id"], "chatcmpl-x");
        assert_eq!(out["model"], "client-model");
        let blocks = src["output"]["message"]["content"].as_array().unwrap();
        let text: String = blocks
            .iter()
            .filter_map(|b| b.get("text").and_then(Value::as_str))
            .collect();
        let reasoning: String = blocks
            .iter()
            .filter_map(|b| {
                b.pointer("/reasoningContent/reasoningText/text")
                    .and_then(Value::as_str)
            })
            .collect();
        let tools: Vec<&Value> = blocks.iter().filter_map(|b| b.get("toolUse")).collect();
        let msg = &out["choices"][0]["message"];
        assert_eq!(msg["role"], "assistant");
        if tools.is_empty() || blocks.iter().any(|b| b.get("text").is_some()) {
            assert_eq!(msg["content"].as_str().unwrap(), text, "{name}");
        } else {
            assert!(msg["content"].is_null(), "{name}: tool-only answers have null content");
        }
        if reasoning.is_empty() {
            assert!(msg.get("reasoning").is_none(), "{name}");
        } else {
            assert_eq!(msg["reasoning"].as_str().unwrap(), reasoning, "{name}");
        }
        let calls = msg
            .get("tool_calls")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        assert_eq!(calls.len(), tools.len(), "{name}");
        for (c, t) in calls.iter().zip(&tools) {
            assert_eq!(c["id"], t["toolUseId"]);
            assert_eq!(c["type"], "function");
            assert_eq!(c["function"]["name"], t["name"]);
            let args: Value = serde_json::from_str(c["function"]["arguments"].as_str().unwrap()).unwrap();
            assert_eq!(args, t["input"], "{name}");
        }
        // Signatures and redacted reasoning come back as thinking_blocks, never in content.
        let sigs: Vec<&str> = blocks
            .iter()
            .filter_map(|b| {
                b.pointer("/reasoningContent/reasoningText/signature")
                    .and_then(Value::as_str)
            })
            .collect();
        let redacted: Vec<&str> = blocks
            .iter()
            .filter_map(|b| b.pointer("/reasoningContent/redactedContent").and_then(Value::as_str))
            .collect();
        let tb = msg
            .get("thinking_blocks")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for s in &sigs {
            assert!(
                tb.iter().any(|b| b["type"] == "thinking" && b["signature"] == *s),
                "{name}"
            );
            assert!(!msg["content"].to_string().contains(s));
        }
        for r in &redacted {
            assert!(
                tb.iter().any(|b| b["type"] == "redacted_thinking" && b["data"] == *r),
                "{name}"
            );
        }
        let stop = src["stopReason"].as_str().unwrap();
        let want = match stop {
            "end_turn" | "stop_sequence" => "stop",
            "max_tokens" => "length",
            "tool_use" => "tool_calls",
            "guardrail_intervened" | "content_filtered" => "content_filter",
            other => panic!("{other}"),
        };
        assert_eq!(out["choices"][0]["finish_reason"], want, "{name}");
        if let Some(u) = src.get("usage") {
            let cache = u.get("cacheReadInputTokens").and_then(Value::as_u64).unwrap_or(0)
                + u.get("cacheWriteInputTokens").and_then(Value::as_u64).unwrap_or(0);
            assert_eq!(
                out["usage"]["prompt_tokens"].as_u64().unwrap(),
                u["inputTokens"].as_u64().unwrap() + cache,
                "{name}"
            );
            assert_eq!(out["usage"]["completion_tokens"], u["outputTokens"], "{name}");
        }
    }
}

#[test]
fn json_tool_answer_becomes_content() {
    let body = json!({"output": {"message": {"role": "assistant", "content": [
        {"toolUse": {"toolUseId": "t", "name": "person", "input": {"name": "Ada"}}}
    ]}}, "stopReason": "tool_use", "usage": {"inputTokens": 1, "outputTokens": 2, "totalTokens": 3}});
    let out: Value =
        serde_json::from_slice(&translate(&serde_json::to_vec(&body).unwrap(), &reply(Some("person"))).unwrap())
            .unwrap();
    let msg = &out["choices"][0]["message"];
    assert_eq!(
        serde_json::from_str::<Value>(msg["content"].as_str().unwrap()).unwrap(),
        json!({"name": "Ada"})
    );
    assert!(msg.get("tool_calls").is_none());
    assert_eq!(out["choices"][0]["finish_reason"], "stop");
}

#[test]
fn malformed_responses_are_502() {
    for body in [&b"not json"[..], b"{}", b"{\"output\":5}", b""] {
        assert_eq!(translate(body, &reply(None)).unwrap_err().status, 502);
    }
}
