//! Anthropic Messages requests → Converse bodies; count_tokens; Message objects from Converse
//! responses; embeddings requests and responses.

// Also run under wasm-bindgen-test in V8 (scripts/test-wasm-bindgen.sh).
#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
use wasm_bindgen_test::wasm_bindgen_test as test;

use base64::Engine;
use bedrock_bridge::anthropic::{count_tokens, request};
use bedrock_bridge::config::Config;
use bedrock_bridge::embeddings::{self, Encoding, Family};
use serde_json::{json, Value};

fn cfg(extra: &str) -> Config {
    let text = format!(
        r#"{{"region":"us-east-1","credentials":{{"access_key_id":"AKID","secret_access_key":"secret"}},
            "models":{{"claude":"us.anthropic.claude-sonnet-4-20250514-v1:0","nova":"us.amazon.nova-pro-v1:0","nova2":"us.amazon.nova-2-lite-v1:0",
                       "llama":"us.meta.llama3-3-70b-instruct-v1:0","oss":"openai.gpt-oss-120b-1:0",
                       "titan":"amazon.titan-embed-text-v2:0"}}{extra}}}"#
    );
    Config::parse(text.as_bytes(), &|_| None).unwrap()
}

fn body(req: &request::MessagesRequest) -> Value {
    serde_json::from_slice(&req.converse.to_json().unwrap()).unwrap()
}

fn tr(v: Value) -> Result<request::MessagesRequest, bedrock_bridge::error::ApiError> {
    request::translate(&serde_json::to_vec(&v).unwrap(), &cfg(""), None)
}

fn err(v: Value) -> String {
    let e = tr(v).expect_err("must be refused");
    assert_eq!(e.status, 400);
    e.message
}

#[test]
fn full_request_maps_to_converse() {
    let png = base64::engine::general_purpose::STANDARD.encode(b"\x89PNG....");
    let r = tr(json!({
        "model": "claude", "max_tokens": 5000, "stream": true,
        "system": [{"type": "text", "text": "sys", "cache_control": {"type": "ephemeral"}}],
        "messages": [
            {"role": "user", "content": [
                {"type": "text", "text": "look"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": png}},
                {"type": "document", "title": "My report.pdf", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERg=="}},
                {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "plain"}, "cache_control": {"type": "ephemeral"}}
            ]},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "hmm", "signature": "SIG"},
                {"type": "redacted_thinking", "data": "REDACTED"},
                {"type": "tool_use", "id": "toolu_1", "name": "get", "input": {"a": 1}}
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": [{"type": "text", "text": "42"}], "is_error": true}
            ]},
            {"role": "user", "content": "and?"}
        ],
        "tools": [{"name": "get", "description": "d", "input_schema": {"type": "object"}, "cache_control": {"type": "ephemeral"}}],
        "tool_choice": {"type": "auto", "disable_parallel_tool_use": true},
        "thinking": {"type": "enabled", "budget_tokens": 2048},
        "temperature": 1, "top_p": 0.95, "top_k": 10, "stop_sequences": ["X"],
        "metadata": {"user_id": "{\"device\":\"abc\"}"}
    }))
    .unwrap();
    assert!(r.stream);
    assert_eq!(
        r.converse.path(true),
        "/model/us.anthropic.claude-sonnet-4-20250514-v1%3A0/converse-stream"
    );
    assert_eq!(
        body(&r),
        json!({
            "additionalModelRequestFields": {"thinking": {"type": "enabled", "budget_tokens": 2048}, "top_k": 10},
            "inferenceConfig": {"maxTokens": 5000, "stopSequences": ["X"], "temperature": 1.0, "topP": 0.95},
            "messages": [
                {"role": "user", "content": [
                    {"text": "look"},
                    {"image": {"format": "png", "source": {"bytes": png}}},
                    {"document": {"format": "pdf", "name": "My report", "source": {"bytes": "JVBERg=="}}},
                    {"document": {"format": "txt", "name": "document", "source": {"bytes": "cGxhaW4="}}},
                    {"cachePoint": {"type": "default"}}
                ]},
                {"role": "assistant", "content": [
                    {"reasoningContent": {"reasoningText": {"signature": "SIG", "text": "hmm"}}},
                    {"reasoningContent": {"redactedContent": "REDACTED"}},
                    {"toolUse": {"input": {"a": 1}, "name": "get", "toolUseId": "toolu_1"}}
                ]},
                {"role": "user", "content": [
                    {"toolResult": {"content": [{"text": "42"}], "status": "error", "toolUseId": "toolu_1"}},
                    {"text": "and?"}
                ]}
            ],
            "requestMetadata": {"user_id": "__device_:_abc__"},
            "system": [{"text": "sys"}, {"cachePoint": {"type": "default"}}],
            "toolConfig": {"toolChoice": {"auto": {}}, "tools": [
                {"toolSpec": {"description": "d", "inputSchema": {"json": {"type": "object"}}, "name": "get"}},
                {"cachePoint": {"type": "default"}}
            ]}
        })
    );
}

#[test]
fn other_families_get_their_own_fields() {
    let base = |model: &str| {
        json!({"model": model, "max_tokens": 4000, "messages": [{"role": "user", "content": "hi"}],
                                     "thinking": {"type": "enabled", "budget_tokens": 3000}})
    };
    assert_eq!(
        body(&tr(base("oss")).unwrap())["additionalModelRequestFields"],
        json!({"reasoning_effort": "medium"})
    );
    assert_eq!(
        body(&tr(base("nova2")).unwrap())["additionalModelRequestFields"],
        json!({"reasoningConfig": {"type": "enabled", "maxReasoningEffort": "medium"}})
    );
    assert!(err(base("llama")).contains("no extended thinking"));
    assert!(err(base("nova")).contains("no extended thinking"));
    let mut v = base("nova");
    v["thinking"] = Value::Null;
    v["top_k"] = json!(5);
    assert_eq!(
        body(&tr(v).unwrap())["additionalModelRequestFields"],
        json!({"inferenceConfig": {"topK": 5}})
    );
    let v = json!({"model": "llama", "max_tokens": 10, "top_k": 5, "messages": [{"role": "user", "content": "hi"}]});
    assert!(err(v).contains("top_k"));
    // Adaptive thinking on a budget-only model: a budget from the default effort
    // (high), below max_tokens; no room at all: thinking off.
    let v = json!({"model": "claude", "max_tokens": 8000, "thinking": {"type": "adaptive"}, "messages": [{"role": "user", "content": "hi"}]});
    assert_eq!(
        body(&tr(v).unwrap())["additionalModelRequestFields"],
        json!({"thinking": {"type": "enabled", "budget_tokens": 4096}})
    );
    // Too little room: the pipeline raises maxTokens above the budget (budget + the client's limit).
    let v = json!({"model": "claude", "max_tokens": 10, "thinking": {"type": "adaptive"}, "messages": [{"role": "user", "content": "hi"}]});
    assert_eq!(body(&tr(v).unwrap())["inferenceConfig"]["maxTokens"], 4096 + 10);
}

#[test]
fn beta_flags_and_system_role_messages() {
    let v = json!({"model": "claude", "max_tokens": 10, "messages": [
        {"role": "system", "content": [{"type": "text", "text": "reminder"}]},
        {"role": "user", "content": "hi"}]});
    let r = request::translate(
        &serde_json::to_vec(&v).unwrap(),
        &cfg(""),
        Some("claude-code-20250219, interleaved-thinking-2025-05-14,context-1m-2025-08-07,oauth-2025-04-20"),
    )
    .unwrap();
    let b = body(&r);
    assert_eq!(
        b["additionalModelRequestFields"]["anthropic_beta"],
        json!(["interleaved-thinking-2025-05-14", "context-1m-2025-08-07"])
    );
    assert_eq!(
        r.notes,
        vec!["anthropic-beta flags not forwarded to Bedrock: claude-code-20250219,oauth-2025-04-20"]
    );
    assert_eq!(b["system"], json!([{"text": "reminder"}]));
    // Not Claude: no flag reaches Bedrock.
    let v = json!({"model": "nova", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]});
    let r = request::translate(
        &serde_json::to_vec(&v).unwrap(),
        &cfg(""),
        Some("interleaved-thinking-2025-05-14"),
    )
    .unwrap();
    assert!(body(&r).get("additionalModelRequestFields").is_none());
    assert_eq!(
        r.notes,
        vec!["anthropic-beta flags not forwarded to Bedrock: interleaved-thinking-2025-05-14"]
    );
}

#[test]
fn refusals_name_the_field() {
    let m = || json!([{"role": "user", "content": "hi"}]);
    assert!(err(json!({"model": "claude", "messages": m()})).contains("max_tokens"));
    assert!(err(json!({"model": "claude", "max_tokens": 0, "messages": m()})).contains("max_tokens"));
    assert!(err(json!({"max_tokens": 5, "messages": m()})).contains("model"));
    assert!(err(json!({"model": "claude", "max_tokens": 5})).contains("messages"));
    assert!(err(json!({"model": "claude", "max_tokens": 5, "messages": m(), "bogus": 1})).contains("bogus"));
    assert!(
        err(json!({"model": "claude", "max_tokens": 5, "messages": m(), "temperature": 1.5})).contains("temperature")
    );
    assert!(err(json!({"model": "claude", "max_tokens": 2000, "messages": m(),
        "thinking": {"type": "enabled", "budget_tokens": 2000}}))
    .contains("budget_tokens"));
    assert!(err(json!({"model": "claude", "max_tokens": 5000, "messages": m(),
        "thinking": {"type": "enabled", "budget_tokens": 2000},
        "tools": [{"name": "t", "input_schema": {"type": "object"}}], "tool_choice": {"type": "any"}}))
    .contains("Thinking may not be enabled"));
    assert!(err(
        json!({"model": "claude", "max_tokens": 5, "messages": [{"role": "user", "content": [
        {"type": "image", "source": {"type": "url", "url": "http://x"}}]}]})
    )
    .contains("base64"));
    assert!(err(
        json!({"model": "claude", "max_tokens": 5, "messages": [{"role": "user", "content": [
        {"type": "text", "text": ""}]}]})
    )
    .contains("non-empty"));
    assert!(err(json!({"model": "claude", "max_tokens": 5, "messages": m(),
        "tools": [{"type": "web_search_20250305", "name": "web_search"}]}))
    .contains("custom tool"));
    assert!(
        err(json!({"model": "claude", "max_tokens": 5, "messages": [{"role": "tool", "content": "x"}]}))
            .contains("role")
    );
    assert!(err(
        json!({"model": "claude", "max_tokens": 5, "messages": m(), "tool_choice": {"type": "tool", "name": "nope"},
        "tools": [{"name": "t", "input_schema": {"type": "object"}}]})
    )
    .contains("nope"));
    // Not JSON / not an object.
    assert_eq!(request::translate(b"{", &cfg(""), None).unwrap_err().status, 400);
    assert_eq!(request::translate(b"[]", &cfg(""), None).unwrap_err().status, 400);
    // unsupported_params: drop keeps going.
    let v = json!({"model": "claude", "max_tokens": 5, "messages": m(), "context_management": {}});
    let r = request::translate(
        &serde_json::to_vec(&v).unwrap(),
        &cfg(r#","unsupported_params":"drop""#),
        None,
    )
    .unwrap();
    assert_eq!(r.dropped_fields, vec!["context_management"]);
}

#[test]
fn output_config_format_is_checked_as_anthropic_does() {
    let m = || json!([{"role": "user", "content": "hi"}]);
    let with = |format: Value| json!({"model": "claude", "max_tokens": 5, "messages": m(), "output_config": {"format": format}});
    let e = tr(with(json!({"type": "text"}))).unwrap_err();
    assert_eq!(e.param.as_deref(), Some("output_config.format.type"));
    assert!(e.message.contains("json_schema"), "{}", e.message);
    let e = tr(with(json!({"type": "json_schema"}))).unwrap_err();
    assert_eq!(e.message, "output_config.format.schema: Field required");
    let e = tr(with(json!({"type": "json_schema", "schema": {}, "strict": true}))).unwrap_err();
    assert_eq!(e.param.as_deref(), Some("output_config.format.strict"));
    assert!(err(with(json!({"type": "json_schema", "schema": []}))).contains("must be an object"));
    assert!(err(with(json!("json"))).contains("output_config.format: must be an object"));
    // Other keys of output_config are still refused; `format: null` is no format.
    assert!(
        err(json!({"model": "claude", "max_tokens": 5, "messages": m(), "output_config": {"verbosity": 1}}))
            .contains("output_config")
    );
    assert!(tr(with(Value::Null)).is_ok());
}

#[test]
fn tool_choice_none_and_history_tools() {
    let r = tr(
        json!({"model": "claude", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}],
        "tools": [{"name": "t", "input_schema": {"type": "object"}}], "tool_choice": {"type": "none"}}),
    )
    .unwrap();
    assert!(body(&r).get("toolConfig").is_none());
    // No tools declared: the history's calls and results become text (Bedrock needs a
    // toolConfig for toolUse blocks; the model is offered no tool the client did not offer).
    let r = tr(json!({"model": "claude", "max_tokens": 5, "messages": [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "a", "name": "f", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "a"}]}]}))
    .unwrap();
    let b = body(&r);
    assert!(b.get("toolConfig").is_none(), "{b}");
    assert_eq!(b["messages"][1]["content"], json!([{"text": "[tool call a: f {}]"}]));
    assert_eq!(b["messages"][2]["content"], json!([{"text": "[tool result a (f)]: "}]));
}

/// The checks shared with the OpenAI front doors (`front::fields`) answer in Anthropic's terms:
/// `tools.0.name`-style params and `param: message` wording.
#[test]
fn shared_checks_answer_in_anthropic_terms() {
    let cfg = Config::parse(
        br#"{"region":"us-east-1","credentials":{"bearer_token":"t"},"limits":{"max_tools":1},
            "models":{"compat":{"id":"openai.gpt-oss-20b-1:0","api":"openai"},"dot":".."}}"#,
        &|_| None,
    )
    .unwrap();
    let tr = |v: Value| request::translate(&serde_json::to_vec(&v).unwrap(), &cfg, None);
    let m = || json!([{"role": "user", "content": "hi"}]);
    let tool = |name: &str| json!({"name": name, "input_schema": {"type": "object"}});
    let e = tr(json!({"model": "compat", "max_tokens": 5, "messages": m()})).unwrap_err();
    assert_eq!((e.status, e.param.as_deref()), (400, Some("model")));
    assert!(
        e.message.starts_with("model: ") && e.message.contains("/v1/chat/completions"),
        "{}",
        e.message
    );
    assert_eq!(
        tr(json!({"model": "dot", "max_tokens": 5, "messages": m()}))
            .unwrap_err()
            .status,
        404
    );
    let e = tr(json!({"model": "x", "max_tokens": 5, "messages": m(), "tools": [tool("a"), tool("b")]})).unwrap_err();
    assert_eq!(e.param.as_deref(), Some("tools"));
    assert!(
        e.message.starts_with("tools: ") && e.message.contains("at most 1"),
        "{}",
        e.message
    );
    let cases = [
        (
            json!({"name": "a b", "input_schema": {}}),
            "tools.0.name",
            "tools.0.name: must be 1-64 characters",
        ),
        (
            json!({"input_schema": {}}),
            "tools.0.name",
            "tools.0.name: Field required",
        ),
        (
            json!({"name": "a"}),
            "tools.0.input_schema",
            "tools.0.input_schema: Field required",
        ),
        (
            json!({"name": "a", "input_schema": []}),
            "tools.0.input_schema",
            "tools.0.input_schema: must be an object",
        ),
        (
            json!({"name": "a", "input_schema": {}, "description": 1}),
            "tools.0.description",
            "tools.0.description: must be a string",
        ),
        (json!([1]), "tools.0", "tools.0: must be an object, not an array"),
    ];
    for (t, param, msg) in cases {
        let e = tr(json!({"model": "x", "max_tokens": 5, "messages": m(), "tools": [t]})).unwrap_err();
        assert_eq!(e.param.as_deref(), Some(param));
        assert!(e.message.starts_with(msg), "{}", e.message);
    }
    // `tool_choice: none` with tool calls in the history: no tools are sent, the history's calls
    // and results become text.
    let r = tr(
        json!({"model": "x", "max_tokens": 5, "tools": [tool("t")], "tool_choice": {"type": "none"},
        "messages": [{"role": "user", "content": "hi"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "a", "name": "f", "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "a", "content": "ok"}]}]}),
    )
    .unwrap();
    let b = body(&r);
    assert!(b.get("toolConfig").is_none(), "{b}");
    assert_eq!(
        b["messages"][2]["content"],
        json!([{"text": "[tool result a (f)]: ok"}])
    );
}

#[test]
fn count_tokens_body() {
    let v = json!({"model": "claude", "system": "s", "messages": [{"role": "user", "content": "hi"}],
                   "tools": [{"name": "t", "input_schema": {"type": "object"}}]});
    let (path, b, model) = count_tokens::translate(&serde_json::to_vec(&v).unwrap(), &cfg(""), None).unwrap();
    assert_eq!(path, "/model/us.anthropic.claude-sonnet-4-20250514-v1%3A0/count-tokens");
    assert_eq!(model, "claude");
    let b: Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(
        b,
        json!({"input": {"converse": {
            "messages": [{"role": "user", "content": [{"text": "hi"}]}],
            "system": [{"text": "s"}],
            "toolConfig": {"tools": [{"toolSpec": {"name": "t", "inputSchema": {"json": {"type": "object"}}}}]}}}})
    );
    let v = json!({"model": "claude", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]});
    assert!(count_tokens::translate(&serde_json::to_vec(&v).unwrap(), &cfg(""), None).is_err());
}

// Reads a fixture directory: native and WASI only.
#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
#[test]
fn converse_responses_become_messages() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/bedrock-recordings/converse");
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if !p.to_string_lossy().ends_with(".body.json") {
            continue;
        }
        let raw: Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
        let out: Value = serde_json::from_slice(
            &bedrock_bridge::bedrock::output::parse(&std::fs::read(&p).unwrap())
                .and_then(|o| bedrock_bridge::anthropic::response::translate(&o, "msg_1", "m"))
                .unwrap(),
        )
        .unwrap();
        assert_eq!(out["type"], "message");
        let mut text = String::new();
        let mut tools = Vec::new();
        for b in raw["output"]["message"]["content"].as_array().unwrap() {
            if let Some(t) = b.get("text").and_then(Value::as_str) {
                text.push_str(t);
            }
            if let Some(t) = b.get("toolUse") {
                tools.push((t["toolUseId"].clone(), t["input"].clone()));
            }
        }
        let got_text: String = out["content"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|b| b.get("text").and_then(Value::as_str))
            .collect();
        assert_eq!(got_text, text, "{}", p.display());
        let got_tools: Vec<(Value, Value)> = out["content"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|b| b["type"] == "tool_use")
            .map(|b| (b["id"].clone(), b["input"].clone()))
            .collect();
        assert_eq!(got_tools, tools, "{}", p.display());
        assert_eq!(
            out["usage"]["input_tokens"],
            raw["usage"]["inputTokens"].as_u64().unwrap_or(0)
        );
        n += 1;
    }
    assert!(n >= 5);
}

#[test]
fn embeddings_requests_and_responses() {
    let c = cfg("");
    let r = embeddings::translate(
        br#"{"model":"titan","input":"hi","dimensions":512,"encoding_format":"base64"}"#,
        &c,
    )
    .unwrap();
    assert_eq!(r.path, "/model/amazon.titan-embed-text-v2%3A0/invoke");
    assert_eq!(
        serde_json::from_slice::<Value>(&r.body).unwrap(),
        json!({"inputText": "hi", "dimensions": 512, "normalize": true})
    );
    assert_eq!((r.family, r.encoding), (Family::TitanV2, Encoding::Base64));
    let e = embeddings::translate(br#"{"model":"titan","input":["a","b"]}"#, &c).unwrap_err();
    assert_eq!((e.status, e.code.as_deref()), (400, Some("too_many_inputs")));
    assert!(embeddings::translate(br#"{"model":"claude","input":"x"}"#, &c).is_err());
    assert!(embeddings::translate(br#"{"model":"titan","input":[1,2]}"#, &c).is_err());
    assert!(embeddings::translate(br#"{"model":"titan","input":""}"#, &c).is_err());
    let r = embeddings::translate(
        br#"{"model":"cohere.embed-v4:0","input":["a","b"],"dimensions":256}"#,
        &c,
    )
    .unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(&r.body).unwrap(),
        json!({"texts": ["a", "b"], "input_type": "search_document", "embedding_types": ["float"], "output_dimension": 256})
    );
    // Responses: Titan in its v2 shape, base64 as little-endian float32.
    let titan = br#"{"embedding":[0.5,-0.25],"inputTextTokenCount":3,"embeddingsByType":{"float":[0.5,-0.25]}}"#;
    let out: Value = serde_json::from_slice(
        &embeddings::translate_response(titan, Family::TitanV2, Encoding::Base64, "titan", 1, None)
            .unwrap()
            .body,
    )
    .unwrap();
    let raw = base64::engine::general_purpose::STANDARD
        .decode(out["data"][0]["embedding"].as_str().unwrap())
        .unwrap();
    let floats: Vec<f32> = raw
        .chunks(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(floats, vec![0.5, -0.25]);
    assert_eq!(out["usage"], json!({"prompt_tokens": 3, "total_tokens": 3}));
    assert_eq!(out["model"], "titan");
    // Cohere, both shapes; the token count from the header.
    for body in [
        &br#"{"id":"x","texts":["a","b"],"response_type":"embeddings_by_type","embeddings":{"float":[[1.0],[2.0]]}}"#[..],
        &br#"{"id":"x","texts":["a","b"],"response_type":"embeddings_floats","embeddings":[[1.0],[2.0]]}"#[..],
    ] {
        let out: Value = serde_json::from_slice(
            &embeddings::translate_response(body, Family::CohereV3, Encoding::Float, "c", 2, Some(7))
                .unwrap()
                .body,
        )
        .unwrap();
        assert_eq!(
            out["data"][1],
            json!({"object": "embedding", "index": 1, "embedding": [2.0]})
        );
        assert_eq!(out["usage"]["prompt_tokens"], 7);
    }
    // A count mismatch or garbage is a 502, never a panic.
    assert_eq!(
        embeddings::translate_response(
            b"{\"embeddings\":[[1.0]]}",
            Family::CohereV3,
            Encoding::Float,
            "c",
            2,
            None
        )
        .unwrap_err()
        .status,
        502
    );
    assert_eq!(
        embeddings::translate_response(b"nope", Family::TitanV2, Encoding::Float, "c", 1, None)
            .unwrap_err()
            .status,
        502
    );
}
