//! TEMPORARY (deleted with `request_legacy` before the branch is done): the new chat translator
//! against the pre-split one, on every request body we have, under several configurations.

use bedrock_bridge::config::Config;
use std::path::Path;

const CONFIGS: [&str; 5] = [
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
    r#"{"region":"us-east-1","credentials":{"bearer_token":"t"},
        "models":{"claude":"us.anthropic.claude-sonnet-4-20250514-v1:0","oss":"openai.gpt-oss-120b-1:0","qwen":"qwen.qwen3-32b-v1:0","nova":"amazon.nova-2-lite-v1:0",
                  "arn":"arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123"}}"#,
];

static OKS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn check(body: &[u8], cfg: &Config, what: &str) -> bool {
    let old = bedrock_bridge::request_legacy::translate(body, cfg);
    if old.is_ok() {
        OKS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    let new = bedrock_bridge::request::translate(body, cfg);
    let same = match (&old, &new) {
        (Ok(a), Ok(b)) => {
            a.client_model == b.client_model
                && a.model_id == b.model_id
                && a.stream == b.stream
                && a.include_usage == b.include_usage
                && a.path == b.path
                && a.body == b.body
                && a.json_tool == b.json_tool
                && a.api == b.api
        }
        (Err(a), Err(b)) => a == b,
        _ => false,
    };
    if !same {
        eprintln!(
            "DIFF {what}: body {}\n old {:?}\n new {:?}",
            String::from_utf8_lossy(body),
            old.map(|r| String::from_utf8_lossy(&r.body).into_owned()),
            new.map(|r| String::from_utf8_lossy(&r.body).into_owned())
        );
    }
    same
}

const MODELS: [&str; 9] = [
    "claude",
    "oss",
    "qwen",
    "nova",
    "arn",
    "deepseek",
    "us.deepseek.r1-v1:0",
    "amazon.nova-2-lite-v1:0",
    "mistral.mistral-large",
];

const OVERLAYS: [&str; 12] = [
    "{}",
    r#"{"reasoning_effort":"low"}"#,
    r#"{"reasoning_effort":"minimal","stream":true,"stream_options":{"include_usage":true}}"#,
    r#"{"reasoning_effort":"high","max_tokens":100}"#,
    r#"{"thinking":{"type":"enabled","budget_tokens":3000},"max_completion_tokens":5000}"#,
    r#"{"response_format":{"type":"json_object"},"reasoning_effort":"medium"}"#,
    r#"{"response_format":{"type":"json_schema","json_schema":{"name":"get_weather","schema":{"type":"object"}}}}"#,
    r#"{"tool_choice":"required","reasoning_effort":"low"}"#,
    r#"{"tool_choice":"none"}"#,
    r#"{"user":"u@x","metadata":{"a":"b"},"store":false,"service_tier":"auto","parallel_tool_calls":true}"#,
    r#"{"stop":["x",""],"temperature":1,"top_p":0.5,"n":1,"seed":null}"#,
    r#"{"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}},"cache_control":{"type":"ephemeral"}}],"tool_choice":{"type":"function","function":{"name":"get_weather"}}}"#,
];

#[test]
fn new_translator_equals_the_old_one() {
    let configs: Vec<Config> = CONFIGS
        .iter()
        .map(|c| Config::parse(c.as_bytes(), &|_| None).unwrap())
        .collect();
    let mut bodies: Vec<(String, Vec<u8>, Option<Config>)> = Vec::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for e in std::fs::read_dir(root.join("fuzz/corpus/request")).unwrap() {
        let p = e.unwrap().path();
        let data = std::fs::read(&p).unwrap();
        if data.len() > 1 {
            bodies.push((p.display().to_string(), data[1..].to_vec(), None));
        }
    }
    for e in std::fs::read_dir(root.join("filter/tests/golden/chat")).unwrap() {
        let p = e.unwrap().path();
        let case: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
        let cfg = Config::parse(&serde_json::to_vec(&case["config"]).unwrap(), &|_| None).unwrap();
        let body = match case.get("request_text") {
            Some(t) => t.as_str().unwrap().as_bytes().to_vec(),
            None => serde_json::to_vec(&case["request"]).unwrap(),
        };
        bodies.push((p.display().to_string(), body, Some(cfg)));
    }
    if let Ok(dir) = std::env::var("RECORDED") {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            let rec: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
            let cfg = Config::parse(&serde_json::to_vec(&rec["config"]).unwrap(), &|_| None).unwrap();
            let body = rec["body"].as_str().unwrap().as_bytes().to_vec();
            bodies.push((p.display().to_string(), body.clone(), Some(cfg)));
            // Variations: every model family, and the features that interact with it.
            let Ok(serde_json::Value::Object(base)) = serde_json::from_slice::<serde_json::Value>(&body) else {
                continue;
            };
            for model in MODELS {
                for overlay in OVERLAYS {
                    let mut m = base.clone();
                    m.insert("model".into(), serde_json::Value::String(model.to_string()));
                    let o: serde_json::Map<String, serde_json::Value> = serde_json::from_str(overlay).unwrap();
                    m.extend(o);
                    let b = serde_json::to_vec(&serde_json::Value::Object(m)).unwrap();
                    bodies.push((format!("{} {model} {overlay}", p.display()), b, None));
                }
            }
        }
    }
    let (mut n, mut bad) = (0, 0);
    for (name, body, own) in &bodies {
        for cfg in own.iter().chain(configs.iter()) {
            n += 1;
            if !check(body, cfg, name) {
                bad += 1;
            }
        }
    }
    eprintln!(
        "compared {n} (body, config) pairs from {} bodies ({} translated, the rest refused); {bad} differ",
        bodies.len(),
        OKS.load(std::sync::atomic::Ordering::Relaxed)
    );
    assert_eq!(bad, 0);
}
