//! OpenAI chat completions request bodies through the request translator, under four
//! configurations (defaults; `unsupported_params: drop`; model aliases including an
//! `api: openai` one, a guardrail and small limits; all of it together).
//!
//! Input: byte 0 picks the configuration (bits 0-1) and the mode (bit 2): the rest is either the
//! body itself, or drives a generator of request-shaped JSON (OpenAI keys and values, odd types).
//!
//! Checks: no panic; an error is a 4xx/5xx whose JSON encoding parses; a success has a JSON
//! object body, the model resolved through the aliases, and a path of one percent-encoded model
//! segment (or Bedrock's OpenAI path) with no byte that could break a header.

#![no_main]

use bedrock_bridge::bedrock::converse::encode_path_segment;
use bedrock_bridge::bedrock::passthrough::OPENAI_PATH;
use bedrock_bridge::config::Api;
use bedrock_bridge_fuzz::chat_request::chat_translate as translate;
use bedrock_bridge_fuzz::json::{
    add_params, check_openai_error, check_path_bytes, configs, known_or_any, request_input, Vocab,
};
use libfuzzer_sys::arbitrary::{Arbitrary, Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Map, Number, Value};

const CONFIGS: [&str; 4] = [
    r#"{"region":"us-east-1","credentials":{"bearer_token":"t"}}"#,
    r#"{"region":"us-east-1","credentials":{"bearer_token":"t"},"unsupported_params":"drop","reasoning_field":"both"}"#,
    r#"{"region":"eu-west-1","credentials":{"access_key_id":"AKID","secret_access_key":"s"},
        "models":{"claude":"us.anthropic.claude-sonnet-4-20250514-v1:0","oss":{"id":"openai.gpt-oss-120b-1:0","api":"openai"},
                  "qwen":"qwen.qwen3-32b-v1:0","arn":"arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123",
                  "deepseek":{"id":"us.deepseek.r1-v1:0","api":"converse"}},
        "guardrail":{"identifier":"g","version":"1","trace":"enabled","stream_processing_mode":"async"},
        "limits":{"max_messages":6,"max_tools":3}}"#,
    r#"{"region":"us-west-2","credentials":{"bearer_token":"t"},"unsupported_params":"drop",
        "models":{"claude":"us.anthropic.claude-sonnet-4-20250514-v1:0","oss":{"id":"openai.gpt-oss-120b-1:0","api":"openai"},
                  "nova":"amazon.nova-lite-v1:0"},
        "guardrail":{"identifier":"arn:aws:bedrock:us-west-2:1:guardrail/x","version":"DRAFT"}}"#,
];

const MODELS: &[&str] = &[
    "claude",
    "oss",
    "qwen",
    "arn",
    "deepseek",
    "nova",
    "us.anthropic.claude-3-7-sonnet-20250219-v1:0",
    "anthropic.claude-v2",
    "openai.gpt-oss-20b-1:0",
    "qwen.qwen3-coder",
    "amazon.nova-micro-v1:0",
    "a/b c?d#e%f",
    "",
    " ",
];

const ROLES: &[&str] = &["system", "developer", "user", "assistant", "tool", "function", "wizard"];

const PARAMS: &[&str] = &[
    "stream",
    "stream_options",
    "max_tokens",
    "max_completion_tokens",
    "temperature",
    "top_p",
    "stop",
    "tools",
    "tool_choice",
    "user",
    "metadata",
    "reasoning_effort",
    "thinking",
    "response_format",
    "parallel_tool_calls",
    "store",
    "service_tier",
    "n",
    "logprobs",
    "top_logprobs",
    "presence_penalty",
    "frequency_penalty",
    "logit_bias",
    "modalities",
    "seed",
    "audio",
    "prediction",
    "web_search_options",
    "function_call",
    "functions",
    "bogus",
];

const KEYS: &[&str] = &[
    "type",
    "text",
    "content",
    "role",
    "name",
    "function",
    "arguments",
    "parameters",
    "description",
    "id",
    "tool_calls",
    "tool_call_id",
    "image_url",
    "url",
    "file",
    "file_data",
    "file_id",
    "filename",
    "input_audio",
    "data",
    "format",
    "cache_control",
    "thinking_blocks",
    "thinking",
    "signature",
    "redacted_thinking",
    "json_schema",
    "schema",
    "strict",
    "include_usage",
    "budget_tokens",
    "properties",
    "required",
    "refusal",
];

const STRINGS: &[&str] = &[
    "text",
    "function",
    "image_url",
    "file",
    "input_audio",
    "json_object",
    "json_schema",
    "json_response",
    "auto",
    "required",
    "none",
    "minimal",
    "low",
    "medium",
    "high",
    "enabled",
    "thinking",
    "redacted_thinking",
    "ephemeral",
    "default",
    "object",
    "{}",
    "{\"a\":1}",
    "[1]",
    "data:image/png;base64,iVBORw0KGgo=",
    "data:application/pdf;base64,JVBERi0x",
    "data:text/plain;base64,aGk=",
    "data:image/gif;base64,",
    "data:;base64,====",
    "data:image/png,raw",
    "https://example.com/cat.png",
    "get_weather",
    "bad name!",
    "",
];

fn string(u: &mut Unstructured<'_>) -> Result<String> {
    known_or_any(u, STRINGS, 3, 4)
}

fn key(u: &mut Unstructured<'_>) -> Result<String> {
    known_or_any(u, KEYS, 7, 8)
}

fn number(u: &mut Unstructured<'_>) -> Result<Value> {
    Ok(match u.int_in_range(0..=6)? {
        0 => json!(u.int_in_range(0u32..=3)?),
        1 => json!(u32::arbitrary(u)?),
        2 => json!(u64::arbitrary(u)?),
        3 => json!(i64::arbitrary(u)?),
        4 => json!(2147483647u64 + u64::from(u8::arbitrary(u)?) - 128),
        5 => json!(u.int_in_range(0..=40)? as f64 / 10.0),
        _ => Number::from_f64(f64::arbitrary(u)?).map_or(Value::Null, Value::Number),
    })
}

const VOCAB: Vocab = Vocab {
    string,
    number,
    key,
    max_items: 3,
};

/// A content part: `{"type": …, …}` of a known kind, or anything.
fn part(u: &mut Unstructured<'_>) -> Result<Value> {
    let mut p = match u.int_in_range(0..=6)? {
        0 | 1 => json!({"type": "text", "text": string(u)?}),
        2 => json!({"type": "image_url", "image_url": {"url": string(u)?}}),
        3 => json!({"type": "file", "file": {"file_data": string(u)?, "filename": string(u)?}}),
        4 => json!({"type": "input_audio", "input_audio": {"data": string(u)?, "format": "wav"}}),
        5 => json!({"type": "thinking", "thinking": string(u)?, "signature": string(u)?}),
        _ => VOCAB.value(u, 2)?,
    };
    if let (true, Some(o)) = (u.ratio(1, 6)?, p.as_object_mut()) {
        o.insert("cache_control".into(), json!({"type": "ephemeral"}));
    }
    Ok(p)
}

fn content(u: &mut Unstructured<'_>) -> Result<Value> {
    Ok(match u.int_in_range(0..=4)? {
        0 | 1 => Value::String(string(u)?),
        2 | 3 => Value::Array((0..u.int_in_range(0..=3)?).map(|_| part(u)).collect::<Result<_>>()?),
        _ => VOCAB.value(u, 2)?,
    })
}

fn tool_call(u: &mut Unstructured<'_>) -> Result<Value> {
    Ok(if u.ratio(7, 8)? {
        json!({"id": string(u)?, "type": "function", "function": {"name": string(u)?, "arguments": string(u)?}})
    } else {
        VOCAB.value(u, 2)?
    })
}

fn message(u: &mut Unstructured<'_>) -> Result<Value> {
    if u.ratio(1, 16)? {
        return VOCAB.value(u, 2);
    }
    let role = *u.choose(ROLES)?;
    let mut m = json!({"role": role});
    if u.ratio(7, 8)? {
        m["content"] = content(u)?;
    }
    if role == "assistant" && u.ratio(1, 2)? {
        m["tool_calls"] = Value::Array(
            (0..u.int_in_range(0..=2)?)
                .map(|_| tool_call(u))
                .collect::<Result<_>>()?,
        );
    }
    if role == "assistant" && u.ratio(1, 4)? {
        m["thinking_blocks"] = json!([{"type": "thinking", "thinking": string(u)?, "signature": string(u)?},
                                      {"type": "redacted_thinking", "data": string(u)?}]);
    }
    if role == "tool" || u.ratio(1, 16)? {
        m["tool_call_id"] = Value::String(string(u)?);
    }
    if u.ratio(1, 8)? {
        m["name"] = Value::String(string(u)?);
    }
    if u.ratio(1, 8)? {
        m["cache_control"] = json!({"type": "ephemeral"});
    }
    Ok(m)
}

fn tool(u: &mut Unstructured<'_>) -> Result<Value> {
    Ok(if u.ratio(7, 8)? {
        let mut f = json!({"name": string(u)?});
        if u.ratio(3, 4)? {
            f["parameters"] = if u.ratio(1, 2)? {
                json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]})
            } else {
                VOCAB.value(u, 2)?
            };
        }
        if u.ratio(1, 2)? {
            f["description"] = Value::String(string(u)?);
        }
        json!({"type": "function", "function": f})
    } else {
        VOCAB.value(u, 2)?
    })
}

fn param(u: &mut Unstructured<'_>, name: &str) -> Result<Value> {
    if u.ratio(1, 8)? {
        return VOCAB.value(u, 2);
    }
    Ok(match name {
        "stream" | "parallel_tool_calls" | "store" | "logprobs" => Value::Bool(bool::arbitrary(u)?),
        "stream_options" => json!({"include_usage": bool::arbitrary(u)?}),
        "stop" => {
            if u.ratio(1, 2)? {
                Value::String(string(u)?)
            } else {
                Value::Array(
                    (0..u.int_in_range(0..=5)?)
                        .map(|_| string(u).map(Value::String))
                        .collect::<Result<_>>()?,
                )
            }
        }
        "tools" => Value::Array((0..u.int_in_range(0..=4)?).map(|_| tool(u)).collect::<Result<_>>()?),
        "tool_choice" => match u.int_in_range(0..=3)? {
            0 => Value::String(string(u)?),
            1 => json!({"type": "function", "function": {"name": string(u)?}}),
            2 => json!("required"),
            _ => json!("none"),
        },
        "reasoning_effort" => Value::String(string(u)?),
        "thinking" => json!({"type": "enabled", "budget_tokens": number(u)?}),
        "response_format" => match u.int_in_range(0..=3)? {
            0 => json!({"type": "json_object"}),
            1 => json!({"type": "text"}),
            2 => json!({"type": "json_schema", "json_schema": {"name": string(u)?, "schema": VOCAB.value(u, 2)?}}),
            _ => json!({"type": "json_schema", "json_schema": {"name": "answer",
                        "schema": {"type": "object", "properties": {"a": {"type": "integer"}}}}}),
        },
        "metadata" => json!({"k": string(u)?}),
        "user" | "service_tier" => Value::String(string(u)?),
        _ => number(u)?,
    })
}

fn request(u: &mut Unstructured<'_>) -> Result<Value> {
    let mut r = Map::new();
    if u.ratio(15, 16)? {
        let model = if u.ratio(7, 8)? {
            u.choose(MODELS)?.to_string()
        } else {
            String::arbitrary(u)?
        };
        r.insert("model".into(), Value::String(model));
    }
    if u.ratio(15, 16)? {
        let n = u.int_in_range(0..=8)?;
        r.insert(
            "messages".into(),
            Value::Array((0..n).map(|_| message(u)).collect::<Result<_>>()?),
        );
    }
    add_params(u, &mut r, PARAMS, param)?;
    Ok(Value::Object(r))
}

fuzz_target!(|data: &[u8]| {
    let Some((cfg, body)) = request_input(data, configs(&CONFIGS), request) else {
        return;
    };

    match translate(&body, cfg) {
        Err(e) => check_openai_error(e.status, &e.to_json()),
        Ok(r) => {
            let v: Value = serde_json::from_slice(&r.body).expect("translated body is JSON");
            assert!(v.is_object(), "translated body is not an object");
            let (id, api) = cfg.resolve_model(&r.client_model);
            assert_eq!(r.model_id, id);
            assert_eq!(r.api, api);
            check_path_bytes(&r.path);
            match api {
                Api::Openai => {
                    assert_eq!(r.path, OPENAI_PATH);
                    assert_eq!(v["model"], r.model_id.as_str());
                }
                // Mantle aliases are sent on by the front door before this translation.
                Api::Converse | Api::Mantle => {
                    let op = if r.stream { "converse-stream" } else { "converse" };
                    assert_eq!(r.path, format!("/model/{}/{op}", encode_path_segment(&r.model_id)));
                    let msgs = v["messages"].as_array().expect("messages");
                    assert!(!msgs.is_empty());
                    assert!(msgs.len() <= cfg.limits.max_messages.max(1) * 2 + 1);
                    if r.json_tool.is_some() {
                        assert!(v["toolConfig"].is_object(), "json tool without toolConfig");
                    }
                }
            }
        }
    }
});
