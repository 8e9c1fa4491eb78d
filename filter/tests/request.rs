//! OpenAI request → Converse request translation.

// Also run under wasm-bindgen-test in V8 (scripts/test-wasm-bindgen.sh).
#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
use wasm_bindgen_test::wasm_bindgen_test as test;

use bedrock_bridge::bedrock::converse::encode_path_segment;
use bedrock_bridge::chat::request::Translated;
use bedrock_bridge::config::Config;
use bedrock_bridge::error::ApiError;

// The chat front door's decision, flattened (shared with the fuzz targets).
#[allow(dead_code)]
#[path = "../../fuzz/src/chat_request.rs"]
mod chat_request;
use chat_request::{chat_translate as translate, Sent as ChatRequest};
use serde_json::{json, Value};

fn cfg_with(extra: &str) -> Config {
    let text = format!(
        r#"{{"region":"us-east-1","credentials":{{"bearer_token":"t"}},
            "models":{{"claude":"us.anthropic.claude-sonnet-4-20250514-v1:0","oss":"openai.gpt-oss-120b-1:0","qwen":"qwen.qwen3-32b-v1:0",
                       "arn":"arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123"}}{extra}}}"#
    );
    Config::parse(text.as_bytes(), &|_| None).unwrap()
}

fn ok(req: Value) -> (ChatRequest, Value) {
    ok_with(req, "")
}

fn ok_with(req: Value, extra: &str) -> (ChatRequest, Value) {
    let r = translate(&serde_json::to_vec(&req).unwrap(), &cfg_with(extra)).unwrap_or_else(|e| panic!("{e:?}"));
    let body = serde_json::from_slice(&r.body).unwrap();
    (r, body)
}

fn err(req: Value) -> ApiError {
    translate(&serde_json::to_vec(&req).unwrap(), &cfg_with("")).unwrap_err()
}

fn user(text: &str) -> Value {
    json!({"role": "user", "content": text})
}

#[test]
fn basic_conversation_and_path() {
    let (r, b) = ok(json!({
        "model": "claude",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "developer", "content": [{"type": "text", "text": "Use metric units."}]},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello!"},
            {"role": "user", "content": [{"type": "text", "text": "Weather?"}]}
        ],
        "max_tokens": 100, "temperature": 0.5, "top_p": 0.9, "stop": "END"
    }));
    assert_eq!(r.client_model, "claude");
    assert_eq!(r.model_id, "us.anthropic.claude-sonnet-4-20250514-v1:0");
    assert_eq!(r.path, "/model/us.anthropic.claude-sonnet-4-20250514-v1%3A0/converse");
    assert!(!r.stream);
    assert_eq!(
        b["system"],
        json!([{"text": "Be brief."}, {"text": "Use metric units."}])
    );
    assert_eq!(
        b["messages"],
        json!([
            {"role": "user", "content": [{"text": "Hi"}]},
            {"role": "assistant", "content": [{"text": "Hello!"}]},
            {"role": "user", "content": [{"text": "Weather?"}]}
        ])
    );
    assert_eq!(
        b["inferenceConfig"],
        json!({"maxTokens": 100, "temperature": 0.5, "topP": 0.9, "stopSequences": ["END"]})
    );
}

#[test]
fn streaming_and_usage_flags() {
    let (r, _) = ok(
        json!({"model": "x.y:1", "messages": [user("a")], "stream": true, "stream_options": {"include_usage": true}}),
    );
    assert!(r.stream && r.include_usage);
    assert_eq!(r.path, "/model/x.y%3A1/converse-stream");
    let (r, _) = ok(json!({"model": "m", "messages": [user("a")], "stream": false, "stream_options": null}));
    assert!(!r.stream && !r.include_usage);
}

#[test]
fn max_completion_tokens_wins_and_stop_list() {
    let (_, b) = ok(
        json!({"model": "m", "messages": [user("a")], "max_tokens": 5, "max_completion_tokens": 7, "stop": ["a", "b"]}),
    );
    assert_eq!(b["inferenceConfig"]["maxTokens"], 7);
    assert_eq!(b["inferenceConfig"]["stopSequences"], json!(["a", "b"]));
}

#[test]
fn model_ids_are_one_path_segment() {
    let (r, _) = ok(json!({"model": "arn", "messages": [user("a")]}));
    assert_eq!(
        r.path,
        "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Aapplication-inference-profile%2Fabc123/converse"
    );
    assert_eq!(encode_path_segment("../../x?y#z w"), "..%2F..%2Fx%3Fy%23z%20w");
    for id in [
        "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "eu.amazon.nova-lite-v1:0",
        "apac.meta.llama3-2-90b-instruct-v1:0",
    ] {
        let (r, _) = ok(json!({"model": id, "messages": [user("a")]}));
        assert_eq!(r.path.matches('/').count(), 3, "{}", r.path);
        assert!(!r.path.contains(':'));
    }
    // Control characters (header injection) are refused.
    assert_eq!(
        err(json!({"model": "a\r\nx-evil: 1", "messages": [user("a")]})).status,
        400
    );
}

#[test]
fn invalid_requests_name_the_problem() {
    let cases: Vec<(Value, &str)> = vec![
        (json!([1, 2]), "JSON object"),
        (json!({"messages": [user("a")]}), "model"),
        (json!({"model": 3, "messages": [user("a")]}), "model"),
        (json!({"model": "m"}), "messages"),
        (json!({"model": "m", "messages": []}), "messages"),
        (json!({"model": "m", "messages": "hi"}), "messages"),
        (
            json!({"model": "m", "messages": [{"content": "x"}]}),
            "messages[0].role",
        ),
        (
            json!({"model": "m", "messages": [{"role": "wizard", "content": "x"}]}),
            "messages[0].role",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": 5}]}),
            "messages[0].content",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user"}]}),
            "messages[0].content",
        ),
        (
            json!({"model": "m", "messages": [user("a")], "temperature": "hot"}),
            "temperature",
        ),
        (
            json!({"model": "m", "messages": [user("a")], "max_tokens": -1}),
            "max_tokens",
        ),
        (
            json!({"model": "m", "messages": [user("a")], "stream": "yes"}),
            "stream",
        ),
        (json!({"model": "m", "messages": [user("a")], "stop": 3}), "stop"),
        (json!({"model": "m", "messages": [user("a")], "bogus": 1}), "bogus"),
        (json!({"model": "m", "messages": [user("a")], "n": 2}), "n"),
        (
            json!({"model": "m", "messages": [user("a")], "logprobs": true}),
            "logprobs",
        ),
        (
            json!({"model": "m", "messages": [user("a")], "presence_penalty": 0.5}),
            "presence_penalty",
        ),
        (json!({"model": "m", "messages": [user("a")], "seed": 42}), "seed"),
        (
            json!({"model": "m", "messages": [{"role": "system", "content": "only system"}]}),
            "messages",
        ),
    ];
    for (req, needle) in cases {
        let e = err(req.clone());
        assert_eq!(e.status, 400, "{req}");
        let body: Value = serde_json::from_slice(&e.to_json()).unwrap();
        assert_eq!(body["error"]["type"], "invalid_request_error");
        let text = format!("{} {}", e.message, e.param.clone().unwrap_or_default());
        assert!(text.contains(needle), "{req}: {text}");
    }
    assert_eq!(translate(b"{not json", &cfg_with("")).unwrap_err().status, 400);
    assert_eq!(translate(b"", &cfg_with("")).unwrap_err().status, 400);
}

#[test]
fn defaults_that_clients_always_send_are_accepted() {
    ok(
        json!({"model": "m", "messages": [user("a")], "n": 1, "logprobs": false, "presence_penalty": 0, "frequency_penalty": 0.0,
              "logit_bias": {}, "seed": null, "parallel_tool_calls": true, "store": false, "service_tier": "auto"}),
    );
}

#[test]
fn unsupported_params_can_be_dropped() {
    let (_, b) = ok_with(
        json!({"model": "m", "messages": [user("a")], "n": 3, "logprobs": true, "seed": 1, "whatever": {}}),
        r#","unsupported_params":"drop""#,
    );
    assert_eq!(b.as_object().unwrap().keys().collect::<Vec<_>>(), vec!["messages"]);
}

#[test]
fn tools_and_tool_choice() {
    let tools = json!([
        {"type": "function", "function": {"name": "get_weather", "description": "Weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}},
        {"type": "function", "function": {"name": "noargs"}}
    ]);
    let (_, b) = ok(json!({"model": "m", "messages": [user("a")], "tools": tools, "tool_choice": "required"}));
    assert_eq!(b["toolConfig"]["tools"][0]["toolSpec"]["name"], "get_weather");
    assert_eq!(
        b["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"]["json"]["properties"]["city"]["type"],
        "string"
    );
    assert_eq!(
        b["toolConfig"]["tools"][1]["toolSpec"]["inputSchema"]["json"],
        json!({"type": "object", "properties": {}})
    );
    assert_eq!(b["toolConfig"]["toolChoice"], json!({"any": {}}));
    let (_, b) = ok(json!({"model": "m", "messages": [user("a")], "tools": tools, "tool_choice": "auto"}));
    assert_eq!(b["toolConfig"]["toolChoice"], json!({"auto": {}}));
    let (_, b) = ok(
        json!({"model": "m", "messages": [user("a")], "tools": tools, "tool_choice": {"type": "function", "function": {"name": "noargs"}}}),
    );
    assert_eq!(b["toolConfig"]["toolChoice"], json!({"tool": {"name": "noargs"}}));
    let (_, b) = ok(json!({"model": "m", "messages": [user("a")], "tools": tools, "tool_choice": "none"}));
    assert!(b.get("toolConfig").is_none());
    assert_eq!(err(json!({"model": "m", "messages": [user("a")], "tools": tools, "tool_choice": {"type": "function", "function": {"name": "nope"}}})).status, 400);
    assert_eq!(
        err(json!({"model": "m", "messages": [user("a")], "tools": [{"type": "web_search"}]})).status,
        400
    );
    assert_eq!(err(json!({"model": "m", "messages": [user("a")], "tools": [{"type": "function", "function": {"name": "bad name!"}}]})).status, 400);
}

#[test]
fn tool_round_trip_merges_turns() {
    let (_, b) = ok(json!({"model": "m", "messages": [
        user("weather in Paris and Rome?"),
        {"role": "assistant", "content": null, "tool_calls": [
            {"id": "t1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
            {"id": "t2", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Rome\"}"}}
        ]},
        {"role": "tool", "tool_call_id": "t1", "content": "18C"},
        {"role": "tool", "tool_call_id": "t2", "content": [{"type": "text", "text": "25C"}]},
        user("thanks")
    ], "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]}));
    let m = b["messages"].as_array().unwrap();
    assert_eq!(
        m.len(),
        3,
        "tool results and the next user text merge into one user turn: {b}"
    );
    assert_eq!(
        m[1]["content"][0]["toolUse"],
        json!({"toolUseId": "t1", "name": "get_weather", "input": {"city": "Paris"}})
    );
    assert_eq!(m[1]["content"][1]["toolUse"]["input"], json!({"city": "Rome"}));
    assert_eq!(
        m[2]["content"][0]["toolResult"],
        json!({"toolUseId": "t1", "content": [{"text": "18C"}]})
    );
    assert_eq!(m[2]["content"][1]["toolResult"]["content"], json!([{"text": "25C"}]));
    assert_eq!(m[2]["content"][2], json!({"text": "thanks"}));
    // Exactly one spec: the history's tool is already defined.
    assert_eq!(b["toolConfig"]["tools"].as_array().unwrap().len(), 1);
}

#[test]
fn tool_history_without_tools_becomes_text() {
    for extra in [
        json!({}),
        json!({"tool_choice": "none", "tools": [{"type": "function", "function": {"name": "lookup"}}]}),
    ] {
        let mut req = json!({"model": "m", "messages": [
            user("q"),
            {"role": "assistant", "tool_calls": [{"id": "t1", "type": "function", "function": {"name": "lookup", "arguments": ""}}]},
            {"role": "tool", "tool_call_id": "t1", "content": "r"}
        ]});
        req.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        let (_, b) = ok(req);
        assert!(b.get("toolConfig").is_none(), "{b}");
        assert_eq!(
            b["messages"][1]["content"],
            json!([{"text": "[tool call t1: lookup {}]"}])
        );
        assert_eq!(
            b["messages"][2]["content"],
            json!([{"text": "[tool result t1 (lookup)]: r"}])
        );
    }
}

#[test]
fn tool_arguments_not_json_become_empty_input_non_objects_are_400() {
    let f = json!([{"type": "function", "function": {"name": "f"}}]);
    let (_, b) = ok(json!({"model": "m", "tools": f, "messages": [
        user("q"),
        {"role": "assistant", "tool_calls": [{"id": "t1", "type": "function", "function": {"name": "f", "arguments": "{\"city\": \"Os"}}]},
        {"role": "tool", "tool_call_id": "t1", "content": "r"}
    ]}));
    assert_eq!(b["messages"][1]["content"][0]["toolUse"]["input"], json!({}));
    let e = err(json!({"model": "m", "tools": f, "messages": [
        user("q"),
        {"role": "assistant", "tool_calls": [{"id": "t1", "type": "function", "function": {"name": "f", "arguments": "[1]"}}]}
    ]}));
    assert_eq!(e.status, 400);
    assert!(e.param.unwrap().contains("arguments"));
    let e = err(json!({"model": "m", "tools": f, "messages": [
        user("q"),
        {"role": "assistant", "tool_calls": [{"id": "t1", "type": "function", "function": {"name": "get.weather", "arguments": "{}"}}]}
    ]}));
    assert_eq!(e.param.as_deref(), Some("messages[1].tool_calls[0].function.name"));
}

#[test]
fn images_and_documents() {
    let (_, b) = ok(json!({"model": "m", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "what is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
        {"type": "image_url", "image_url": {"url": "data:image/jpg;base64,/9j/4AAQ"}},
        {"type": "file", "file": {"filename": "Q3 report (final).pdf", "file_data": "data:application/pdf;base64,JVBERi0x"}}
    ]}]}));
    let c = &b["messages"][0]["content"];
    assert_eq!(
        c[1],
        json!({"image": {"format": "png", "source": {"bytes": "iVBORw0KGgo="}}})
    );
    assert_eq!(c[2]["image"]["format"], "jpeg");
    assert_eq!(
        c[3],
        json!({"document": {"format": "pdf", "name": "Q3 report (final)", "source": {"bytes": "JVBERi0x"}}})
    );
    let e = err(
        json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]}]}),
    );
    assert_eq!(e.status, 400);
    assert!(e.message.contains("data URI"), "{}", e.message);
    for bad in [
        "data:image/bmp;base64,AAAA",
        "data:image/png,rawdata",
        "data:image/png;base64,@@@",
    ] {
        let e = err(
            json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": bad}}]}]}),
        );
        assert_eq!(e.status, 400, "{bad}");
    }
    let e = err(
        json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": "x", "format": "wav"}}]}]}),
    );
    assert_eq!(e.status, 400);
}

#[test]
fn reasoning_effort_per_model_family() {
    let (_, b) = ok(json!({"model": "claude", "messages": [user("a")], "reasoning_effort": "medium"}));
    assert_eq!(
        b["additionalModelRequestFields"]["thinking"],
        json!({"type": "enabled", "budget_tokens": 2048})
    );
    assert_eq!(b["inferenceConfig"]["maxTokens"], 2048 + 4096);
    let (_, b) = ok(json!({"model": "claude", "messages": [user("a")], "reasoning_effort": "high", "max_tokens": 100}));
    assert_eq!(
        b["inferenceConfig"]["maxTokens"],
        4096 + 100,
        "max_tokens raised above the budget"
    );
    let (_, b) =
        ok(json!({"model": "claude", "messages": [user("a")], "reasoning_effort": "low", "max_tokens": 20000}));
    assert_eq!(b["inferenceConfig"]["maxTokens"], 20000);
    let (_, b) = ok(json!({"model": "oss", "messages": [user("a")], "reasoning_effort": "high"}));
    assert_eq!(b["additionalModelRequestFields"], json!({"reasoning_effort": "high"}));
    // Qwen3 reasons on its own and Bedrock documents no field for it: nothing is sent.
    let (_, b) = ok(json!({"model": "qwen", "messages": [user("a")], "reasoning_effort": "high"}));
    assert!(b.get("additionalModelRequestFields").is_none());
    let (_, b) = ok(json!({"model": "claude", "messages": [user("a")], "reasoning_effort": "none"}));
    assert!(b.get("additionalModelRequestFields").is_none());
    assert_eq!(
        err(json!({"model": "amazon.titan-text-express-v1", "messages": [user("a")], "reasoning_effort": "high"}))
            .status,
        400
    );
    assert_eq!(
        err(json!({"model": "claude", "messages": [user("a")], "reasoning_effort": "max"})).status,
        400
    );
    let (_, b) = ok(
        json!({"model": "claude", "messages": [user("a")], "thinking": {"type": "enabled", "budget_tokens": 3000}, "max_tokens": 1000}),
    );
    assert_eq!(b["additionalModelRequestFields"]["thinking"]["budget_tokens"], 3000);
    assert_eq!(b["inferenceConfig"]["maxTokens"], 4000);
}

#[test]
fn thinking_blocks_go_back_in_front_of_the_turn() {
    let (_, b) = ok(
        json!({"model": "claude", "tools": [{"type": "function", "function": {"name": "f"}}], "messages": [
            user("q"),
            {"role": "assistant", "content": "", "thinking_blocks": [
                {"type": "thinking", "thinking": "let me think", "signature": "sig=="},
                {"type": "redacted_thinking", "data": "opaque"},
                {"type": "redacted_thinking", "data": "b3BhcXVl"}
            ], "tool_calls": [{"id": "t1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "t1", "content": "ok"}
        ]}),
    );
    let c = &b["messages"][1]["content"];
    assert_eq!(
        c[0],
        json!({"reasoningContent": {"reasoningText": {"text": "let me think", "signature": "sig=="}}})
    );
    // LiteLLM's decoded form is encoded again; ours (base64 of printable text) passes as it is.
    assert_eq!(c[1], json!({"reasoningContent": {"redactedContent": "b3BhcXVl"}}));
    assert_eq!(c[2], json!({"reasoningContent": {"redactedContent": "b3BhcXVl"}}));
    assert!(c[3].get("toolUse").is_some());
    assert_eq!(c.as_array().unwrap().len(), 4, "empty text dropped");
}

#[test]
fn response_format_forces_a_tool() {
    let (r, b) = ok(
        json!({"model": "m", "messages": [user("a")], "response_format": {"type": "json_schema", "json_schema": {"name": "person", "schema": {"type": "object", "properties": {"name": {"type": "string"}}}}}}),
    );
    assert_eq!(r.json_tool.as_deref(), Some("person"));
    assert_eq!(b["toolConfig"]["toolChoice"], json!({"tool": {"name": "person"}}));
    assert_eq!(
        b["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"]["json"]["properties"]["name"]["type"],
        "string"
    );
    let (r, _) = ok(json!({"model": "m", "messages": [user("a")], "response_format": {"type": "json_object"}}));
    assert_eq!(r.json_tool.as_deref(), Some("json_response"));
    let (r, b) = ok(json!({"model": "m", "messages": [user("a")], "response_format": {"type": "text"}}));
    assert!(r.json_tool.is_none() && b.get("toolConfig").is_none());
}

#[test]
fn cache_control_becomes_cache_points() {
    let (_, b) = ok(json!({"model": "claude", "messages": [
        {"role": "system", "content": [{"type": "text", "text": "long context", "cache_control": {"type": "ephemeral"}}]},
        {"role": "user", "content": "q", "cache_control": {"type": "ephemeral"}}
    ], "tools": [{"type": "function", "function": {"name": "f"}, "cache_control": {"type": "ephemeral"}}]}));
    assert_eq!(
        b["system"],
        json!([{"text": "long context"}, {"cachePoint": {"type": "default"}}])
    );
    assert_eq!(
        b["messages"][0]["content"],
        json!([{"text": "q"}, {"cachePoint": {"type": "default"}}])
    );
    assert_eq!(b["toolConfig"]["tools"][1], json!({"cachePoint": {"type": "default"}}));
}

#[test]
fn metadata_and_guardrail() {
    let (_, b) = ok_with(
        json!({"model": "m", "messages": [user("a")], "user": "u-1", "metadata": {"team": "search"}, "stream": true}),
        r#","guardrail":{"identifier":"gr-1","version":"2","trace":"enabled","stream_processing_mode":"async"}"#,
    );
    assert_eq!(b["requestMetadata"], json!({"user": "u-1", "team": "search"}));
    assert_eq!(
        b["guardrailConfig"],
        json!({"guardrailIdentifier": "gr-1", "guardrailVersion": "2", "trace": "enabled", "streamProcessingMode": "async"})
    );
}

#[test]
fn message_limit() {
    let msgs: Vec<Value> = (0..3000).map(|_| user("a")).collect();
    let e = err(json!({"model": "m", "messages": msgs}));
    assert_eq!(e.status, 400);
    assert!(e.message.contains("at most"));
}

#[test]
fn openai_compatible_models_pass_through_with_the_model_mapped() {
    let cfg = Config::parse(
        br#"{"region":"us-west-2","credentials":{"bearer_token":"t"},"models":{"oss":{"id":"openai.gpt-oss-20b-1:0","api":"openai"}}}"#,
        &|_| None,
    )
    .unwrap();
    let req = json!({"model": "oss", "stream": true, "messages": [user("hi")], "logprobs": true, "n": 2});
    let r = translate(&serde_json::to_vec(&req).unwrap(), &cfg).unwrap();
    assert_eq!(r.path, "/openai/v1/chat/completions");
    assert!(r.stream);
    assert_eq!(r.client_model, "oss");
    let b: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(b["model"], "openai.gpt-oss-20b-1:0");
    assert_eq!(b["logprobs"], true, "everything else is untouched");
    assert_eq!(b["messages"], req["messages"]);
    assert_eq!(translate(br#"{"model":"oss"}"#, &cfg).unwrap_err().status, 400);
}

#[test]
fn token_counts_fit_bedrock_integer() {
    // Bedrock's maxTokens is a 32-bit signed integer: larger values are refused here, not upstream.
    // Within that, the model's own output limit applies (Sonnet 4: 64K, from the catalog).
    let (_, b) = ok(json!({"model": "claude", "messages": [user("hi")], "max_tokens": 2147483647u64}));
    assert_eq!(b["inferenceConfig"]["maxTokens"], 64000);
    for big in [2147483648u64, u64::MAX] {
        let e = err(json!({"model": "claude", "messages": [user("hi")], "max_tokens": big}));
        assert_eq!(e.status, 400);
        assert!(e.message.contains("max_tokens"), "{}", e.message);
    }
    // A thinking budget added on top never pushes maxTokens past the limit.
    let (_, b) = ok(
        json!({"model": "claude", "messages": [user("hi")], "reasoning_effort": "high",
                          "max_tokens": 4000}),
    );
    assert_eq!(b["inferenceConfig"]["maxTokens"], 8096);
}

#[test]
fn dot_segment_model_ids_are_refused() {
    for m in [".", ".."] {
        let e = err(json!({"model": m, "messages": [user("hi")]}));
        assert_eq!(e.status, 400, "{m}");
    }
    // Dots inside an id are ordinary characters.
    let (r, _) = ok(json!({"model": "...", "messages": [user("hi")]}));
    assert_eq!(r.path, "/model/.../converse");
}

fn choice_json(choice: &Value) -> Value {
    if choice == "required" {
        json!({"any": {}})
    } else {
        json!({"tool": {"name": "f"}})
    }
}

#[test]
fn forced_tools_and_thinking_do_not_mix() {
    // Bedrock: "Thinking may not be enabled when tool_choice forces tool use".
    let rf = json!({"type": "json_schema", "json_schema": {"name": "Weather", "schema": {"type": "object"}}});
    let (r, b) =
        ok(json!({"model": "claude", "messages": [user("hi")], "reasoning_effort": "low", "response_format": rf}));
    assert_eq!(r.json_tool.as_deref(), Some("Weather"));
    assert_eq!(b["toolConfig"]["toolChoice"], json!({"auto": {}}));
    assert_eq!(b["additionalModelRequestFields"]["thinking"]["type"], "enabled");
    // Without thinking the schema tool stays forced.
    let (_, b) = ok(json!({"model": "claude", "messages": [user("hi")], "response_format": rf}));
    assert_eq!(b["toolConfig"]["toolChoice"], json!({"tool": {"name": "Weather"}}));

    let tools = json!([{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]);
    for choice in [
        json!("required"),
        json!({"type": "function", "function": {"name": "f"}}),
    ] {
        let req = json!({"model": "claude", "messages": [user("hi")], "tools": tools, "tool_choice": choice,
                         "thinking": {"type": "enabled", "budget_tokens": 2000}});
        // The forced call wins: the pipeline's thinking floor turns thinking off.
        let t = match bedrock_bridge::chat::request::translate(&serde_json::to_vec(&req).unwrap(), &cfg_with("")) {
            Ok(Translated::Converse(t)) => t,
            _ => panic!("expected a Converse translation"),
        };
        let converse = t.converse;
        assert_eq!(
            t.notes,
            vec!["thinking off for this request: tool_choice forces a tool"]
        );
        let b: Value = serde_json::from_slice(&converse.to_json().unwrap()).unwrap();
        assert_eq!(b["toolConfig"]["toolChoice"], choice_json(&choice));
        assert!(b.get("additionalModelRequestFields").is_none(), "{b}");
    }
    // Thinking explicitly disabled: the forced choice stands.
    let (_, b) = ok(
        json!({"model": "claude", "messages": [user("hi")], "tools": tools, "tool_choice": "required",
                          "thinking": {"type": "disabled"}}),
    );
    assert_eq!(b["toolConfig"]["toolChoice"], json!({"any": {}}));
}

#[test]
fn metadata_must_fit_bedrock_request_metadata() {
    let (_, b) = ok(
        json!({"model": "m", "messages": [user("a")], "user": "alice@example.com",
                          "metadata": {"trace-id": "a1:b2/c3=d4", "empty": ""}}),
    );
    assert_eq!(
        b["requestMetadata"],
        json!({"user": "alice@example.com", "trace-id": "a1:b2/c3=d4", "empty": ""})
    );
    // Metadata never fails a completion: cleaned into Bedrock's set, cut, or left out.
    let long = "x".repeat(257);
    let (_, b) = ok(
        json!({"model": "m", "messages": [user("a")], "user": "auth0|abc", "safety_identifier": "sid-1",
                           "metadata": {"k": "naïve", "long": long, "k!": "v", "": "v"}}),
    );
    assert_eq!(
        b["requestMetadata"],
        json!({"user": "auth0_abc", "safety_identifier": "sid-1", "k": "na_ve", "long": "x".repeat(256), "k_": "v"})
    );
    let many: serde_json::Map<String, Value> = (0..20).map(|i| (format!("k{i:02}"), json!("v"))).collect();
    let (r, b) = ok(json!({"model": "m", "messages": [user("a")], "user": "u", "metadata": many}));
    assert_eq!(b["requestMetadata"].as_object().unwrap().len(), 16);
    assert_eq!(b["requestMetadata"]["user"], "u");
    let _ = r;
}
