//! Plugin configurations through the config parser, with an empty environment or one that
//! supplies region and credentials.
//!
//! Input: byte 0 (bit 0: environment), then the configuration bytes.
//!
//! Checks: no panic; a refused configuration's message never contains a secret it was given; an
//! accepted one has a sane region and endpoint, never shows a secret in `Debug`, resolves every
//! alias to its target, and translates a request for every alias without panicking.

#![no_main]

use bedrock_bridge::bedrock::converse::encode_path_segment;
use bedrock_bridge::bedrock::passthrough::OPENAI_PATH;
use bedrock_bridge::config::{Api, Auth, Config};
use bedrock_bridge_fuzz::chat_request::chat_translate as translate;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fn env_full(k: &str) -> Option<String> {
    match k {
        "AWS_REGION" => Some("us-east-2".into()),
        "AWS_ACCESS_KEY_ID" => Some("AKIAENVENVENVENV".into()),
        "AWS_SECRET_ACCESS_KEY" => Some("env-secret-env-secret".into()),
        "AWS_SESSION_TOKEN" => Some("env-session-env-session".into()),
        _ => None,
    }
}

/// Secret values in the configuration text, when it is JSON.
fn secrets_in(bytes: &[u8]) -> Vec<String> {
    let Ok(v) = serde_json::from_slice::<Value>(bytes) else {
        return Vec::new();
    };
    ["bearer_token", "secret_access_key", "session_token"]
        .iter()
        .filter_map(|k| v["credentials"][k].as_str())
        .filter(|s| s.len() >= 12)
        .map(str::to_string)
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, bytes)) = data.split_first() else {
        return;
    };
    let env: &dyn Fn(&str) -> Option<String> = if sel & 1 != 0 { &env_full } else { &|_| None };
    let cfg = match Config::parse(bytes, env) {
        Err(e) => {
            let msg = e.to_string();
            for s in secrets_in(bytes) {
                assert!(!msg.contains(&s), "error message shows a secret: {msg}");
            }
            return;
        }
        Ok(c) => c,
    };
    assert!(!cfg.region.is_empty() && cfg.region.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    assert!(!cfg.endpoint.is_empty() && !cfg.endpoint.bytes().any(|b| b.is_ascii_whitespace() || b == b'/'));
    let redacted = format!(
        "{:?}{:?}",
        Auth::Bearer(String::new()),
        Auth::SigV4 {
            access_key_id: String::new(),
            secret_access_key: String::new(),
            session_token: Some(String::new())
        }
    );
    let dbg = format!("{cfg:?}");
    let secrets: Vec<&str> = match &cfg.auth {
        Auth::Bearer(b) => vec![b],
        Auth::EnvoySigner => Vec::new(),
        Auth::SigV4 {
            secret_access_key,
            session_token,
            ..
        } => std::iter::once(secret_access_key.as_str())
            .chain(session_token.as_deref())
            .collect(),
    };
    for s in secrets {
        assert!(
            s.len() < 4 || redacted.contains(s) || !dbg.contains(s),
            "Debug shows a secret: {dbg}"
        );
    }

    for (alias, target) in &cfg.models {
        assert_eq!(cfg.resolve_model(alias), (target.id.as_str(), target.api));
        for stream in [false, true] {
            let body = serde_json::json!({
                "model": alias, "stream": stream,
                "messages": [{"role": "user", "content": "hi"}],
                "reasoning_effort": "low", "max_tokens": 10,
            });
            match translate(body.to_string().as_bytes(), &cfg) {
                Err(e) => assert!((400..=599).contains(&e.status)),
                Ok(r) => {
                    serde_json::from_slice::<Value>(&r.body).expect("translated body is JSON");
                    match target.api {
                        Api::Openai => assert_eq!(r.path, OPENAI_PATH),
                        // Mantle aliases are sent on by the front door before this translation.
                        Api::Converse | Api::Mantle => assert!(r
                            .path
                            .starts_with(&format!("/model/{}/", encode_path_segment(&target.id)))),
                    }
                }
            }
        }
    }
});
