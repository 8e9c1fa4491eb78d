//! Bedrock non-streaming responses: Converse JSON bodies through the response translator, and
//! error bodies with any status, `x-amzn-ErrorType` header and body through the error mapping
//! (HTTP and in-stream).
//!
//! Input: byte 0 picks the mode (bits 0-1) and the completion options; the rest is the body, after
//! a status code and an error name for the error modes.
//!
//! Checks: no panic; a translated completion is a `chat.completion` whose tool call arguments
//! (and `response_format` answer) are JSON; every error is a 4xx/5xx with a parsable JSON body;
//! the status known from the headers alone is the final status when the header names the error.

#![no_main]

use bedrock_bridge::chat::reply::ChatReply;
use bedrock_bridge::config::ReasoningField;
use bedrock_bridge::error::{error_name, from_bedrock_http, from_bedrock_stream, status_for_bedrock, ApiError};
use bedrock_bridge::front::Reply;
use bedrock_bridge_fuzz::json::check_openai_error;
use bedrock_bridge_fuzz::Reader;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fn check_error(e: &ApiError) {
    let body = e.to_json();
    check_openai_error(e.status, &body);
    let j: Value = serde_json::from_slice(&body).expect("error JSON");
    assert_eq!(j["error"]["type"], e.kind.as_str());
}

fuzz_target!(|data: &[u8]| {
    let mut r = Reader(data);
    let sel = r.u8();
    match sel & 3 {
        0 | 1 => {
            let json_tool = match (sel >> 2) & 3 {
                0 => None,
                1 => Some("json_response"),
                _ => Some("f"),
            };
            let reply = ChatReply {
                id: "chatcmpl-fuzz".into(),
                created: 1,
                model: "fuzz-model".into(),
                reasoning_field: match (sel >> 4) & 3 {
                    0 => ReasoningField::Reasoning,
                    1 => ReasoningField::ReasoningContent,
                    _ => ReasoningField::Both,
                },
                include_usage: false,
                json_tool: json_tool.map(str::to_string),
                max_thinking_bytes: 256 * 1024,
            };
            let body = r.rest();
            match reply.translate_json(body) {
                Err(e) => check_error(&e),
                Ok(out) => {
                    let v: Value = serde_json::from_slice(&out.body).expect("completion is JSON");
                    assert_eq!(v["object"], "chat.completion");
                    assert_eq!(v["id"], "chatcmpl-fuzz");
                    let choice = &v["choices"][0];
                    assert_eq!(choice["message"]["role"], "assistant");
                    assert!(choice["finish_reason"].is_string());
                    assert!(v["usage"].is_object());
                    if let Some(calls) = choice["message"]["tool_calls"].as_array() {
                        assert!(!calls.is_empty());
                        for c in calls {
                            let args = c["function"]["arguments"].as_str().expect("arguments string");
                            serde_json::from_str::<Value>(args).expect("arguments are JSON");
                        }
                    }
                    let content = &choice["message"]["content"];
                    assert!(content.is_string() || content.is_null());
                }
            }
        }
        2 => {
            let status = r.u16();
            let n = usize::from(r.u8() & 0x7f);
            let header = (n != 0x7f).then(|| String::from_utf8_lossy(r.bytes(n)).into_owned());
            let body = r.rest();
            let e = from_bedrock_http(status, header.as_deref(), body);
            check_error(&e);
            let (early_status, early_kind) = status_for_bedrock(status, header.as_deref());
            assert!((400..=599).contains(&early_status), "early status {early_status}");
            if header.as_deref().map(error_name).is_some_and(|n| !n.is_empty()) {
                assert_eq!(
                    (e.status, e.kind),
                    (early_status, early_kind),
                    "header status != final status"
                );
            }
        }
        _ => {
            let n = usize::from(r.u8() & 0x3f);
            let name = String::from_utf8_lossy(r.bytes(n)).into_owned();
            let m = usize::from(r.u8());
            let message = (m != 0xff).then(|| String::from_utf8_lossy(r.bytes(m)).into_owned());
            let payload = r.rest();
            check_error(&from_bedrock_stream(&name, payload, message.as_deref()));
        }
    }
});
