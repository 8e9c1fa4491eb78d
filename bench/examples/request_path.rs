//! Where a large request's time goes, natively: for each body file (bench/agent_request.py writes
//! them), the median of N runs of each phase the exchange goes through.
//!
//!   python3 bench/agent_request.py --out /tmp/bodies
//!   cargo run --profile bench --example request_path -p bedrock-bridge-bench -- /tmp/bodies/*.json
//!
//! Phases: `parse` (the body into a serde_json Value: a floor for any JSON reading), `translate`
//! (the front door: parse, validate, build the Converse request and serialise it), `sha256` (the
//! payload hash alone) and `sign` (SigV4 headers over the translated body, hash included).
use bedrock_bridge::anthropic::MESSAGES;
use bedrock_bridge::chat::CHAT;
use bedrock_bridge::config::Config;
use bedrock_bridge::front::{FrontDoor, RequestContext};
use bedrock_bridge::signing;
use std::hint::black_box;
use std::time::{Duration, Instant, UNIX_EPOCH};

const CONFIG: &str = r#"{"region":"us-east-1","models":{"claude":"us.anthropic.claude-sonnet-4-20250514-v1:0"},
  "credentials":{"access_key_id":"AKIDEXAMPLE","secret_access_key":"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY","session_token":"T"}}"#;
const RUNS: usize = 30;

fn median(mut f: impl FnMut()) -> Duration {
    let mut xs: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    xs.sort();
    xs[RUNS / 2]
}

fn main() {
    let cfg = match Config::parse(CONFIG.as_bytes(), &|_| None) {
        Ok(c) => c,
        Err(e) => panic!("config: {e:?}"),
    };
    for file in std::env::args().skip(1) {
        let body = std::fs::read(&file).unwrap_or_else(|e| panic!("{file}: {e}"));
        let front: &dyn FrontDoor = if file.contains("messages") { &MESSAGES } else { &CHAT };
        let path = if file.contains("messages") {
            "/v1/messages"
        } else {
            "/v1/chat/completions"
        };
        let header = |h: &str| (h == "anthropic-version").then(|| "2023-06-01".to_string());
        let ctx = RequestContext {
            config: &cfg,
            id: "bench",
            created: 1,
            path,
            header: &header,
        };
        let out = front
            .translate(&body, &ctx)
            .unwrap_or_else(|e| panic!("{file}: {}", e.message));
        let headers = [("host", cfg.endpoint.as_str()), ("content-type", "application/json")];
        let req = signing::Request {
            method: "POST",
            host: &cfg.endpoint,
            path: &out.path,
            headers: &headers,
            body: &out.body,
            service: signing::SERVICE,
        };
        let now = UNIX_EPOCH + Duration::from_secs(1_764_000_000);
        let parse = median(|| {
            black_box(serde_json::from_slice::<serde_json::Value>(&body).ok());
        });
        let translate = median(|| {
            black_box(front.translate(&body, &ctx).ok());
        });
        let sha = median(|| {
            use sha2::Digest;
            black_box(sha2::Sha256::digest(&out.body));
        });
        let sign = median(|| {
            black_box(signing::auth_headers(&cfg.auth, &cfg.region, &req, now).ok());
        });
        println!(
            "{file}: {} B in, {} B out; parse {parse:?}, translate {translate:?}, sha256 {sha:?}, sign {sign:?}",
            body.len(),
            out.body.len()
        );
    }
}
