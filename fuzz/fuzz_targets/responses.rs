//! OpenAI Responses API request bodies through the Responses front door (request translator and
//! the non-streaming response of its reply), under three configurations (defaults;
//! `unsupported_params: drop`; aliases, a guardrail and small limits).
//!
//! Input: byte 0 picks the configuration (bits 0-1, 3 = 0) and the mode (bit 2): the rest is
//! either the body itself, or drives a generator of Responses-shaped JSON (input items, tools,
//! reasoning items with real or forged `encrypted_content`, odd types).
//!
//! Checks: no panic; an error is a 4xx/5xx whose JSON encoding parses; a success has a Converse
//! body that is a JSON object with messages, a path of one percent-encoded model segment with no
//! byte that could break a header, and a reply whose response object parses.

#![no_main]

use bedrock_bridge::bedrock::converse::encode_path_segment;
use bedrock_bridge::front::{FrontDoor, RequestContext};
use bedrock_bridge::responses::{reasoning, RESPONSES};
use bedrock_bridge_fuzz::json::{
    add_params, check_openai_error, check_path_bytes, configs, known_or_any, request_input, Vocab,
};
use libfuzzer_sys::arbitrary::{Arbitrary, Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Map, Value};

const CONFIGS: [&str; 3] = [
    r#"{"region":"us-east-1","credentials":{"bearer_token":"t"}}"#,
    r#"{"region":"us-east-1","credentials":{"bearer_token":"t"},"unsupported_params":"drop"}"#,
    r#"{"region":"eu-west-1","credentials":{"access_key_id":"AKID","secret_access_key":"s"},
        "models":{"claude":"us.anthropic.claude-sonnet-4-20250514-v1:0","oss":{"id":"openai.gpt-oss-120b-1:0","api":"openai"},
                  "nova":"us.amazon.nova-2-lite-v1:0","qwen":"qwen.qwen3-32b-v1:0"},
        "guardrail":{"identifier":"g","version":"1","trace":"enabled","stream_processing_mode":"async"},
        "limits":{"max_messages":6,"max_tools":3}}"#,
];

const MODELS: &[&str] = &[
    "claude",
    "oss",
    "nova",
    "qwen",
    "us.anthropic.claude-3-7-sonnet-20250219-v1:0",
    "openai.gpt-oss-20b-1:0",
    "amazon.nova-micro-v1:0",
    "deepseek.r1-v1:0",
    "a/b c?d#e%f",
    "",
    ".",
];

const PARAMS: &[&str] = &[
    "instructions",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "reasoning",
    "max_output_tokens",
    "temperature",
    "top_p",
    "text",
    "metadata",
    "user",
    "stream",
    "store",
    "previous_response_id",
    "include",
    "service_tier",
    "stream_options",
    "truncation",
    "prompt_cache_key",
    "background",
    "top_logprobs",
    "bogus",
];

const STRINGS: &[&str] = &[
    "input_text",
    "output_text",
    "input_image",
    "input_file",
    "message",
    "function_call",
    "function_call_output",
    "reasoning",
    "item_reference",
    "user",
    "assistant",
    "system",
    "developer",
    "tool",
    "function",
    "web_search",
    "auto",
    "required",
    "none",
    "low",
    "medium",
    "high",
    "xhigh",
    "minimal",
    "detailed",
    "json_schema",
    "json_object",
    "text",
    "{}",
    "{\"city\":\"x\"}",
    "[1]",
    "get_weather",
    "bad name!",
    "data:image/png;base64,iVBORw0KGgo=",
    "data:application/pdf;base64,JVBERi0x",
    "data:;base64,",
    "https://x/y.png",
    "reasoning.encrypted_content",
    "message.output_text.logprobs",
    "",
];

fn string(u: &mut Unstructured<'_>) -> Result<String> {
    known_or_any(u, STRINGS, 3, 4)
}

fn number(u: &mut Unstructured<'_>) -> Result<Value> {
    Ok(json!(i64::arbitrary(u)?))
}

const VOCAB: Vocab = Vocab {
    string,
    number,
    key: string,
    max_items: 3,
};

fn part(u: &mut Unstructured<'_>) -> Result<Value> {
    Ok(match u.int_in_range(0..=4)? {
        0 | 1 => json!({"type": "input_text", "text": string(u)?}),
        2 => json!({"type": "input_image", "image_url": string(u)?}),
        3 => json!({"type": "input_file", "file_data": string(u)?, "filename": string(u)?}),
        _ => VOCAB.value(u, 2)?,
    })
}

fn item(u: &mut Unstructured<'_>) -> Result<Value> {
    Ok(match u.int_in_range(0..=6)? {
        0 | 1 => {
            let content = if u.ratio(1, 2)? {
                Value::String(string(u)?)
            } else {
                Value::Array((0..u.int_in_range(0..=3)?).map(|_| part(u)).collect::<Result<_>>()?)
            };
            json!({"type": "message", "role": string(u)?, "content": content})
        }
        2 => json!({"type": "function_call", "call_id": string(u)?, "name": string(u)?, "arguments": string(u)?}),
        3 => json!({"type": "function_call_output", "call_id": string(u)?, "output": string(u)?}),
        4 => {
            let enc = match u.int_in_range(0..=2)? {
                0 => Value::String(reasoning::encode_text(&string(u)?, Some(&string(u)?))),
                1 => Value::String(reasoning::encode_redacted(&string(u)?)),
                _ => VOCAB.value(u, 1)?,
            };
            json!({"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": enc})
        }
        5 => json!({"role": "user", "content": string(u)?}),
        _ => VOCAB.value(u, 2)?,
    })
}

fn param(u: &mut Unstructured<'_>, name: &str) -> Result<Value> {
    if u.ratio(1, 8)? {
        return VOCAB.value(u, 2);
    }
    Ok(match name {
        "tools" => Value::Array(
            (0..u.int_in_range(0..=3)?)
                .map(|_| -> Result<Value> {
                    Ok(json!({"type": string(u)?, "name": string(u)?,
                              "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}))
                })
                .collect::<Result<_>>()?,
        ),
        "tool_choice" => {
            if u.ratio(1, 2)? {
                Value::String(string(u)?)
            } else {
                json!({"type": "function", "name": string(u)?})
            }
        }
        "reasoning" => json!({"effort": string(u)?, "summary": string(u)?}),
        "text" => json!({"format": {"type": string(u)?, "name": string(u)?, "schema": {"type": "object"}}}),
        "metadata" => json!({"k": string(u)?}),
        "include" => json!([string(u)?]),
        "stream" | "store" | "parallel_tool_calls" => Value::Bool(bool::arbitrary(u)?),
        "max_output_tokens" => json!(u32::arbitrary(u)?),
        "temperature" | "top_p" => json!(f64::from(u.int_in_range(0u8..=30)?) / 10.0),
        _ => Value::String(string(u)?),
    })
}

fn request(u: &mut Unstructured<'_>) -> Result<Value> {
    let mut r = Map::new();
    if u.ratio(15, 16)? {
        r.insert("model".into(), Value::String(u.choose(MODELS)?.to_string()));
    }
    if u.ratio(15, 16)? {
        let input = if u.ratio(1, 4)? {
            Value::String(string(u)?)
        } else {
            Value::Array((0..u.int_in_range(0..=8)?).map(|_| item(u)).collect::<Result<_>>()?)
        };
        r.insert("input".into(), input);
    }
    add_params(u, &mut r, PARAMS, param)?;
    Ok(Value::Object(r))
}

fuzz_target!(|data: &[u8]| {
    let Some((cfg, body)) = request_input(data, configs(&CONFIGS), request) else {
        return;
    };
    let header = |_: &str| None;
    let ctx = RequestContext {
        config: cfg,
        id: "fuzz",
        created: 1,
        path: "/v1/responses",
        header: &header,
    };
    match RESPONSES.translate(&body, &ctx) {
        Err(e) => check_openai_error(e.status, &RESPONSES.error_body(&e)),
        Ok(o) => {
            let v: Value = serde_json::from_slice(&o.body).expect("translated body is JSON");
            assert!(!v["messages"].as_array().expect("messages").is_empty());
            let op = if o.stream { "converse-stream" } else { "converse" };
            assert_eq!(o.path, format!("/model/{}/{op}", encode_path_segment(&o.model_id)));
            check_path_bytes(&o.path);
            let out = br#"{"output":{"message":{"content":[{"text":"a"},{"reasoningContent":{"reasoningText":{"text":"t","signature":"s"}}},{"toolUse":{"toolUseId":"x","name":"json_response","input":{}}}]}},"stopReason":"max_tokens"}"#;
            let r: Value =
                serde_json::from_slice(&o.reply.translate_json(out).expect("response").body).expect("response JSON");
            assert_eq!(r["object"], "response");
        }
    }
});
