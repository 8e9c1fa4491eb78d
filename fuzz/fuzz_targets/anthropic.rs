//! Anthropic Messages / count_tokens request bodies and OpenAI embeddings request bodies through
//! their translators, under two configurations (defaults; aliases, a guardrail, small limits and
//! `unsupported_params: drop`), with an `anthropic-beta` header taken from the input; and Bedrock
//! answers (Converse JSON, CountTokens, InvokeModel embeddings) through the response side.
//!
//! Input: byte 0 picks the configuration (bit 0) and the translator (bits 1-2); the rest is the
//! body (a line starting with `beta:` first is the header).
//!
//! Checks: no panic; errors are 4xx/5xx with a JSON Anthropic (or OpenAI) body; a success has a
//! JSON body and a path of one percent-encoded model segment.

#![no_main]

use bedrock_bridge::anthropic::{count_tokens, error, request, response};
use bedrock_bridge::embeddings::{self, Encoding, Family};
use bedrock_bridge_fuzz::json::configs;
use libfuzzer_sys::fuzz_target;

const CONFIGS: [&str; 2] = [
    r#"{"region":"us-east-1","credentials":{"bearer_token":"t"}}"#,
    r#"{"region":"eu-west-1","credentials":{"bearer_token":"t"},"unsupported_params":"drop",
        "models":{"claude":"us.anthropic.claude-sonnet-4-20250514-v1:0","nova":"us.amazon.nova-2-lite-v1:0",
                  "oss":"openai.gpt-oss-120b-1:0","titan":"amazon.titan-embed-text-v2:0","cohere":"cohere.embed-v4:0",
                  "compat":{"id":"openai.gpt-oss-20b-1:0","api":"openai"}},
        "guardrail":{"identifier":"g","version":"1","stream_processing_mode":"async"},
        "limits":{"max_messages":6,"max_tools":3}}"#,
];

fn check_err(e: &bedrock_bridge::error::ApiError) {
    assert!((400..600).contains(&e.status), "status {}", e.status);
    let v: serde_json::Value = serde_json::from_slice(&error::body(e)).expect("error body is JSON");
    assert_eq!(v["type"], "error");
    serde_json::from_slice::<serde_json::Value>(&e.to_json()).expect("OpenAI error body is JSON");
}

fn check_path(p: &str) {
    let seg = p.strip_prefix("/model/").expect("model path");
    let (id, op) = seg.split_once('/').expect("one segment then the operation");
    assert!(
        matches!(op, "converse" | "converse-stream" | "count-tokens" | "invoke"),
        "{op}"
    );
    assert!(
        id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)),
        "{id}"
    );
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else { return };
    let cfg = &configs(&CONFIGS)[usize::from(sel & 1)];
    let (beta, body) = match rest.strip_prefix(b"beta:") {
        Some(r) => {
            let end = r.iter().position(|b| *b == b'\n').unwrap_or(r.len());
            (std::str::from_utf8(&r[..end]).ok(), r.get(end + 1..).unwrap_or(&[]))
        }
        None => (None, rest),
    };
    match (sel >> 1) & 3 {
        0 => match request::translate(body, cfg, beta) {
            Ok(r) => {
                check_path(&r.converse.path(r.stream));
                let b = r.converse.to_json().expect("encodes");
                serde_json::from_slice::<serde_json::Value>(&b).expect("JSON body");
            }
            Err(e) => check_err(&e),
        },
        1 => match count_tokens::translate(body, cfg, beta) {
            Ok((p, b, _)) => {
                check_path(&p);
                serde_json::from_slice::<serde_json::Value>(&b).expect("JSON body");
            }
            Err(e) => check_err(&e),
        },
        2 => match embeddings::translate(body, cfg) {
            Ok(r) => {
                check_path(&r.path);
                serde_json::from_slice::<serde_json::Value>(&r.body).expect("JSON body");
            }
            Err(e) => check_err(&e),
        },
        _ => {
            // Upstream answers.
            match bedrock_bridge::bedrock::output::parse(body).and_then(|o| response::translate(&o, "msg_x", "m")) {
                Ok(b) => drop(serde_json::from_slice::<serde_json::Value>(&b).expect("JSON message")),
                Err(e) => check_err(&e),
            }
            for fam in [Family::TitanV2, Family::CohereV3] {
                for enc in [Encoding::Float, Encoding::Base64] {
                    let n = usize::from(sel >> 3) % 4;
                    match embeddings::translate_response(body, fam, enc, "m", n, Some(3)) {
                        Ok(a) => drop(serde_json::from_slice::<serde_json::Value>(&a.body).expect("JSON list")),
                        Err(e) => check_err(&e),
                    }
                }
            }
        }
    }
});
