//! Golden files for request translation: `tests/golden/chat/NAME.json` holds a plugin
//! configuration, an OpenAI chat completions request, and what the chat front door makes of it
//! (the Converse body and path, or the OpenAI-compatible passthrough body, or the error). A
//! translation change shows up as a diff of these files.
//!
//! `UPDATE_GOLDEN=1 cargo test --test golden` rewrites them from the current translator; review
//! the diff before committing it.

use bedrock_bridge::chat::request::{translate, Translated};
use bedrock_bridge::config::Config;
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/chat")
}

/// The request bytes of a case: `request` re-encoded, or `request_text` as it is (bodies that
/// are not JSON, or whose bytes matter).
fn body_of(case: &Map<String, Value>) -> Vec<u8> {
    match (case.get("request_text"), case.get("request")) {
        (Some(Value::String(t)), _) => t.as_bytes().to_vec(),
        (_, Some(r)) => serde_json::to_vec(r).unwrap(),
        _ => panic!("a case needs `request` or `request_text`"),
    }
}

/// What the translator makes of a case, and the exact bytes of the body it would send.
fn outcome(case: &Map<String, Value>) -> (Value, Option<Vec<u8>>) {
    let cfg = Config::parse(&serde_json::to_vec(&case["config"]).unwrap(), &|_| None).expect("config");
    match translate(&body_of(case), &cfg) {
        Ok(Translated::Converse(t)) => {
            let thinking_off = t
                .notes
                .iter()
                .find_map(|n| n.strip_prefix("thinking off for this request: "));
            let bytes = t.converse.to_json().unwrap();
            let mut out = json!({
                "path": t.converse.path(t.stream),
                "client_model": t.client_model,
                "model_id": t.converse.model_id,
                "stream": t.stream,
                "include_usage": t.include_usage,
                "json_tool": t.json_tool,
                "converse": serde_json::from_slice::<Value>(&bytes).unwrap(),
            });
            if let Some(why) = thinking_off {
                out["thinking_off"] = json!(why);
            }
            (out, Some(bytes))
        }
        Ok(Translated::Passthrough(p)) => {
            let out = json!({
                "path": bedrock_bridge::bedrock::passthrough::OPENAI_PATH,
                "client_model": p.client_model,
                "model_id": p.model_id,
                "stream": p.stream,
                "passthrough": serde_json::from_slice::<Value>(&p.body).unwrap(),
            });
            (out, Some(p.body))
        }
        Err(e) => (
            json!({"status": e.status, "error": serde_json::from_slice::<Value>(&e.to_json()).unwrap()}),
            None,
        ),
    }
}

const OUTCOME_KEYS: [&str; 11] = [
    "path",
    "client_model",
    "model_id",
    "stream",
    "include_usage",
    "json_tool",
    "converse",
    "passthrough",
    "status",
    "error",
    "thinking_off",
];

#[test]
fn chat_translation_matches_the_golden_files() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 60, "only {} golden cases", paths.len());
    let mut failures = Vec::new();
    for p in &paths {
        let text = std::fs::read(p).unwrap();
        let mut case: Map<String, Value> =
            serde_json::from_slice(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let (got, bytes) = outcome(&case);
        let expected: Map<String, Value> = OUTCOME_KEYS
            .iter()
            .filter_map(|k| case.get(*k).map(|v| (k.to_string(), v.clone())))
            .collect();
        let got_map = got.as_object().unwrap().clone();
        // The body bytes too, not only the JSON value: Bedrock signs and parses the bytes.
        let want_bytes = expected
            .get("converse")
            .or_else(|| expected.get("passthrough"))
            .map(|v| serde_json::to_vec(v).unwrap());
        if got_map == expected && want_bytes == bytes {
            continue;
        }
        if update {
            for k in OUTCOME_KEYS {
                case.remove(k);
            }
            case.extend(got_map);
            let mut out = serde_json::to_vec_pretty(&Value::Object(case)).unwrap();
            out.push(b'\n');
            std::fs::write(p, out).unwrap();
        } else {
            failures.push(format!(
                "{}:\n  expected {}\n  got      {}",
                p.display(),
                Value::Object(expected),
                got
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} golden case(s) differ (UPDATE_GOLDEN=1 to rewrite):\n{}",
        failures.len(),
        failures.join("\n")
    );
}
