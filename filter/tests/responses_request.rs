//! The Responses API request translator and non-streaming response, natively.

// Also run under wasm-bindgen-test in V8 (scripts/test-wasm-bindgen.sh).
#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
use wasm_bindgen_test::wasm_bindgen_test as test;

use bedrock_bridge::config::Config;
use bedrock_bridge::front::{FrontDoor, RequestContext};
use bedrock_bridge::responses::reasoning;
use bedrock_bridge::responses::request::translate;
use bedrock_bridge::responses::RESPONSES;
use serde_json::{json, Value};

const CLAUDE: &str = "us.anthropic.claude-sonnet-4-20250514-v1:0";

fn cfg() -> Config {
    let c = json!({"region": "us-east-1", "credentials": {"access_key_id": "AKID", "secret_access_key": "S"},
                   "models": {"claude": CLAUDE, "nova": "us.amazon.nova-2-lite-v1:0"}});
    Config::parse(c.to_string().as_bytes(), &|_| None).unwrap()
}

/// The Converse body a request becomes.
fn body(req: Value) -> Value {
    let t = translate(req.to_string().as_bytes(), &cfg()).unwrap_or_else(|e| panic!("{e:?}"));
    serde_json::from_slice(&t.converse.to_json().unwrap()).unwrap()
}

fn err(req: Value) -> (u16, String, Option<String>, String) {
    let e = translate(req.to_string().as_bytes(), &cfg()).expect_err("should be refused");
    (
        e.status,
        e.param.unwrap_or_default(),
        e.code.map(|c| c.to_string()),
        e.message,
    )
}

#[test]
fn string_input_and_instructions() {
    let b = body(
        json!({"model": "claude", "input": "hi", "instructions": "be brief", "max_output_tokens": 100,
                        "temperature": 0.5, "top_p": 0.9}),
    );
    assert_eq!(
        b,
        json!({"messages": [{"role": "user", "content": [{"text": "hi"}]}], "system": [{"text": "be brief"}],
               "inferenceConfig": {"maxTokens": 100, "temperature": 0.5, "topP": 0.9}})
    );
}

#[test]
fn items_merge_into_alternating_messages() {
    let png = "data:image/png;base64,iVBORw0KGgo=";
    let pdf = "data:application/pdf;base64,JVBERi0=";
    let b = body(json!({"model": "claude", "input": [
        {"role": "developer", "content": "rules"},
        {"type": "message", "role": "user", "content": [
            {"type": "input_text", "text": "look"},
            {"type": "input_image", "image_url": png, "detail": "auto"},
            {"type": "input_file", "filename": "report.v2.pdf", "file_data": pdf}]},
        {"role": "user", "content": "and this"},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "ok", "annotations": []}]},
        {"type": "function_call", "call_id": "call_1", "name": "get", "arguments": "{\"a\":1}"},
        {"type": "function_call_output", "call_id": "call_1", "output": "42"},
        {"type": "function_call_output", "call_id": "call_2", "output": [{"type": "input_text", "text": "x"}]}
    ], "tools": [{"type": "function", "name": "get"}]}));
    assert_eq!(b["system"], json!([{"text": "rules"}]));
    assert_eq!(
        b["messages"],
        json!([
            {"role": "user", "content": [{"text": "look"}, {"image": {"format": "png", "source": {"bytes": "iVBORw0KGgo="}}},
                {"document": {"format": "pdf", "name": "report v2", "source": {"bytes": "JVBERi0="}}}, {"text": "and this"}]},
            {"role": "assistant", "content": [{"text": "ok"}, {"toolUse": {"toolUseId": "call_1", "name": "get", "input": {"a": 1}}}]},
            {"role": "user", "content": [
                {"toolResult": {"toolUseId": "call_1", "content": [{"text": "42"}]}},
                {"toolResult": {"toolUseId": "call_2", "content": [{"text": "x"}]}}]}
        ])
    );
    assert_eq!(b["toolConfig"]["tools"][0]["toolSpec"]["name"], "get");
}

#[test]
fn tools_choice_and_format() {
    let b = body(json!({"model": "claude", "input": "hi",
        "tools": [{"type": "function", "name": "f", "description": "d", "parameters": {"type": "object"}, "strict": true}],
        "tool_choice": {"type": "function", "name": "f"}, "parallel_tool_calls": false}));
    assert_eq!(
        b["toolConfig"],
        json!({"tools": [{"toolSpec": {"name": "f", "description": "d", "inputSchema": {"json": {"type": "object"}}}}],
               "toolChoice": {"tool": {"name": "f"}}})
    );
    let b = body(
        json!({"model": "claude", "input": "hi", "tools": [{"type": "function", "name": "f"}], "tool_choice": "none"}),
    );
    assert!(b.get("toolConfig").is_none());
    let t = translate(
        json!({"model": "claude", "input": "hi", "text": {"format": {"type": "json_schema", "name": "Person",
              "schema": {"type": "object", "properties": {"name": {"type": "string"}}}, "strict": true}}})
        .to_string()
        .as_bytes(),
        &cfg(),
    )
    .unwrap();
    assert_eq!(t.json_tool.as_deref(), Some("Person"));
    let b: Value = serde_json::from_slice(&t.converse.to_json().unwrap()).unwrap();
    assert_eq!(b["toolConfig"]["toolChoice"], json!({"tool": {"name": "Person"}}));
    assert_eq!(t.echo["text"]["format"]["name"], "Person");
}

#[test]
fn reasoning_effort_and_the_signed_round_trip() {
    let b = body(json!({"model": "claude", "input": "hi", "reasoning": {"effort": "medium", "summary": "auto"}}));
    assert_eq!(
        b["additionalModelRequestFields"],
        json!({"thinking": {"type": "enabled", "budget_tokens": 2048}})
    );
    assert_eq!(b["inferenceConfig"]["maxTokens"], 2048 + 4096);
    let b = body(json!({"model": "nova", "input": "hi", "reasoning": {"effort": "high"}}));
    assert_eq!(
        b["additionalModelRequestFields"],
        json!({"reasoningConfig": {"type": "enabled", "maxReasoningEffort": "high"}})
    );

    // A tool loop: the reasoning item's encrypted_content goes back as the signed block, first.
    let enc = reasoning::encode_text("thinking about it", Some("c2ln"));
    let input = json!([
        {"role": "user", "content": "weather?"},
        {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "thinking about it"}], "encrypted_content": enc},
        {"type": "function_call", "id": "fc_1", "call_id": "tooluse_1", "name": "weather", "arguments": "{}", "status": "completed"},
        {"type": "function_call_output", "call_id": "tooluse_1", "output": "sunny"}
    ]);
    let b = body(
        json!({"model": "claude", "input": input, "reasoning": {"effort": "low"},
                        "tools": [{"type": "function", "name": "weather", "parameters": {"type": "object"}}]}),
    );
    assert_eq!(
        b["messages"][1]["content"],
        json!([{"reasoningContent": {"reasoningText": {"text": "thinking about it", "signature": "c2ln"}}},
               {"toolUse": {"toolUseId": "tooluse_1", "name": "weather", "input": {}}}])
    );
    assert!(b["additionalModelRequestFields"]["thinking"].is_object());

    // Without the encrypted content, thinking is off for that turn (Bedrock would refuse it).
    let mut stripped = input.clone();
    stripped[1]["encrypted_content"] = Value::Null;
    let b = body(
        json!({"model": "claude", "input": stripped, "reasoning": {"effort": "low"},
                        "tools": [{"type": "function", "name": "weather"}]}),
    );
    assert_eq!(b["messages"][1]["content"][0]["toolUse"]["name"], "weather");
    assert!(b.get("additionalModelRequestFields").is_none());

    // A forced tool turns thinking off too.
    let b = body(json!({"model": "claude", "input": "hi", "reasoning": {"effort": "low"},
                        "tools": [{"type": "function", "name": "f"}], "tool_choice": "required"}));
    assert!(b.get("additionalModelRequestFields").is_none());
    assert_eq!(b["toolConfig"]["toolChoice"], json!({"any": {}}));

    // Redacted blocks travel too.
    let red = reasoning::encode_redacted("QUJD");
    let b = body(json!({"model": "claude", "input": [
        {"role": "user", "content": "x"}, {"type": "reasoning", "id": "r", "summary": [], "encrypted_content": red},
        {"role": "assistant", "content": "y"}, {"role": "user", "content": "z"}]}));
    assert_eq!(
        b["messages"][1]["content"][0],
        json!({"reasoningContent": {"redactedContent": "QUJD"}})
    );
}

#[test]
fn stateless_and_unsupported_are_refused_clearly() {
    let cases = [
        (
            json!({"model": "claude", "input": "hi", "store": true}),
            "store",
            "unsupported_parameter",
        ),
        (
            json!({"model": "claude", "input": "hi", "previous_response_id": "resp_1"}),
            "previous_response_id",
            "unsupported_parameter",
        ),
        (
            json!({"model": "claude", "input": [{"type": "item_reference", "id": "rs_1"}]}),
            "input[0].type",
            "unsupported_parameter",
        ),
        (
            json!({"model": "claude", "input": "hi", "tools": [{"type": "web_search"}]}),
            "tools[0].type",
            "unsupported_tool_type",
        ),
        (
            json!({"model": "claude", "input": "hi", "tools": [{"type": "file_search", "vector_store_ids": []}]}),
            "tools[0].type",
            "unsupported_tool_type",
        ),
        (
            json!({"model": "claude", "input": "hi", "background": true}),
            "background",
            "unsupported_parameter",
        ),
        (
            json!({"model": "claude", "input": "hi", "frobnicate": 1}),
            "frobnicate",
            "unknown_parameter",
        ),
        (json!({"model": "claude"}), "input", "missing_required_parameter"),
        (json!({"input": "hi"}), "model", "missing_required_parameter"),
        (
            json!({"model": "claude", "input": [{"type": "reasoning", "id": "r", "summary": [], "encrypted_content": "gAAAAAB"}]}),
            "input[0].encrypted_content",
            "invalid_encrypted_content",
        ),
        (
            json!({"model": "claude", "input": [{"role": "user", "content": [{"type": "input_image", "image_url": "https://x/y.png"}]}]}),
            "input[0].content[0].image_url",
            "unsupported_parameter",
        ),
        (
            json!({"model": "claude", "input": "hi", "include": ["message.output_text.logprobs"]}),
            "include[0]",
            "unsupported_parameter",
        ),
        (
            json!({"model": "claude", "input": "hi", "reasoning": {"effort": "extreme"}}),
            "reasoning.effort",
            "invalid_value",
        ),
        (
            json!({"model": "claude", "input": [{"type": "function_call", "call_id": "c", "name": "f", "arguments": "[1]"}]}),
            "input[0].arguments",
            "invalid_value",
        ),
    ];
    for (req, param, code) in cases {
        let (status, p, c, msg) = err(req.clone());
        assert_eq!(
            (status, p.as_str(), c.as_deref()),
            (400, param, Some(code)),
            "{req} -> {msg}"
        );
        assert!(!msg.is_empty());
    }
    let (_, _, _, msg) = err(json!({"model": "claude", "input": "hi", "store": true}));
    assert!(msg.contains("stores no responses"), "{msg}");
    // What clients send by default is accepted: store false / absent, include encrypted content.
    body(
        json!({"model": "claude", "input": "hi", "store": false, "include": ["reasoning.encrypted_content"],
                "prompt_cache_key": "k", "truncation": "disabled", "stream_options": {"include_obfuscation": false},
                "text": {"verbosity": "medium", "format": {"type": "text"}}, "parallel_tool_calls": true}),
    );
    assert!(translate(b"[1]", &cfg()).is_err());
    assert!(translate(b"{", &cfg()).is_err());
}

fn ctx_translate(req: Value) -> bedrock_bridge::front::Outbound {
    let c = cfg();
    let header = |_: &str| None;
    let ctx = RequestContext {
        config: &c,
        id: "abc-123",
        created: 1_700_000_000,
        path: "/v1/responses",
        header: &header,
    };
    RESPONSES
        .translate(req.to_string().as_bytes(), &ctx)
        .unwrap_or_else(|e| panic!("{e:?}"))
}

#[test]
fn front_door_and_non_streaming_response() {
    let o = ctx_translate(
        json!({"model": "claude", "input": "hi", "stream": true, "metadata": {"a": "b"},
                                 "reasoning": {"effort": "low"}}),
    );
    assert_eq!(
        o.path,
        "/model/us.anthropic.claude-sonnet-4-20250514-v1%3A0/converse-stream"
    );
    assert!(o.stream);
    assert_eq!((o.client_model.as_str(), o.model_id.as_str()), ("claude", CLAUDE));
    let converse = json!({
        "output": {"message": {"role": "assistant", "content": [
            {"reasoningContent": {"reasoningText": {"text": "hmm", "signature": "c2ln"}}},
            {"text": "Hello"},
            {"toolUse": {"toolUseId": "tooluse_9", "name": "f", "input": {"x": 1}}}]}},
        "stopReason": "tool_use",
        "usage": {"inputTokens": 10, "outputTokens": 5, "totalTokens": 19, "cacheReadInputTokens": 4},
    });
    let r: Value =
        serde_json::from_slice(&o.reply.translate_json(converse.to_string().as_bytes()).unwrap().body).unwrap();
    assert_eq!(r["id"], "resp_abc123");
    assert_eq!(r["object"], "response");
    assert_eq!(r["status"], "completed");
    assert_eq!(r["model"], "claude");
    assert_eq!(r["created_at"], 1_700_000_000);
    assert_eq!(r["metadata"], json!({"a": "b"}));
    assert_eq!(r["store"], false);
    assert_eq!(r["reasoning"]["effort"], "low");
    let out = r["output"].as_array().unwrap();
    assert_eq!(out[0]["type"], "reasoning");
    assert_eq!(out[0]["content"], json!([{"type": "reasoning_text", "text": "hmm"}]));
    assert_eq!(
        reasoning::decode(out[0]["encrypted_content"].as_str().unwrap()),
        Some(bedrock_bridge::bedrock::converse::Reasoning::ReasoningText {
            text: "hmm".into(),
            signature: Some("c2ln".into())
        })
    );
    assert_eq!(
        out[1]["content"][0],
        json!({"type": "output_text", "text": "Hello", "annotations": [], "logprobs": []})
    );
    assert_eq!(out[2]["type"], "function_call");
    assert_eq!(out[2]["call_id"], "tooluse_9");
    assert_eq!(out[2]["arguments"], "{\"x\":1}");
    assert_eq!(
        r["usage"],
        json!({"input_tokens": 14, "input_tokens_details": {"cached_tokens": 4}, "output_tokens": 5,
               "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 19})
    );
    let r: Value = serde_json::from_slice(
        &o.reply
            .translate_json(
                json!({"output": {"message": {"content": [{"text": "cut"}]}}, "stopReason": "max_tokens"})
                    .to_string()
                    .as_bytes(),
            )
            .unwrap()
            .body,
    )
    .unwrap();
    assert_eq!(
        (r["status"].as_str(), r["incomplete_details"]["reason"].as_str()),
        (Some("incomplete"), Some("max_output_tokens"))
    );
    assert!(o.reply.translate_json(b"not json").is_err());
}

#[test]
fn codex_request_shape() {
    // What Codex CLI 0.171 sends: client_metadata, store false, include, prompt_cache_key, a
    // namespace and web_search besides function tools.
    let req = json!({"model": "claude", "stream": true, "input": [
            {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "perms"}]},
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "say hi"}]}],
        "tools": [{"type": "function", "name": "exec_command", "strict": false, "parameters": {"type": "object"}},
                  {"type": "namespace", "name": "multi_agent_v1", "tools": []},
                  {"type": "web_search", "external_web_access": false}],
        "tool_choice": "auto", "parallel_tool_calls": true, "reasoning": {"effort": "low", "summary": "auto"},
        "store": false, "include": ["reasoning.encrypted_content"], "prompt_cache_key": "k",
        "client_metadata": {"session_id": "s"}});
    let (status, param, code, _) = err(req.clone());
    assert_eq!(
        (status, param.as_str(), code.as_deref()),
        (400, "tools[1].type", Some("unsupported_tool_type"))
    );
    let drop = json!({"region": "us-east-1", "credentials": {"bearer_token": "t"}, "unsupported_params": "drop",
                      "models": {"claude": CLAUDE}});
    let c = Config::parse(drop.to_string().as_bytes(), &|_| None).unwrap();
    let t = translate(req.to_string().as_bytes(), &c).unwrap();
    assert!(t.reasoning_as_summary && t.stream);
    let b: Value = serde_json::from_slice(&t.converse.to_json().unwrap()).unwrap();
    assert_eq!(b["system"], json!([{"text": "perms"}]));
    let names: Vec<&str> = b["toolConfig"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["toolSpec"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["exec_command"]);
}

#[test]
fn the_echoed_tools_are_the_client_s_with_their_schemas() {
    let tools = json!([{"type": "function", "name": "f", "description": "d",
                        "parameters": {"type": "object", "properties": {"a": {"type": "integer"}}}}]);
    let t = translate(
        json!({"model": "claude", "input": "hi", "tools": tools})
            .to_string()
            .as_bytes(),
        &cfg(),
    )
    .unwrap();
    assert_eq!(t.echo["tools"], tools);
}
