//! The exchange driven natively through a fake host: the proxy policy that only the e2e suite
//! covered before (routing, methods, header policy, ids, `/v1/models`, local replies, Bedrock
//! errors, response header cleaning, size limits, host failures).

// Also run under wasm-bindgen-test in V8 (scripts/test-wasm-bindgen.sh).
#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
use wasm_bindgen_test::wasm_bindgen_test as test;

use bedrock_bridge::config::Config;
use bedrock_bridge::exchange::policy::{self, Route};
use bedrock_bridge::exchange::{Action, Exchange, Shared};
use bedrock_bridge::host::{Buffer, Host, HostError, HostResult, Level, Map, MetricKind};
use bedrock_bridge::metrics::Metrics;
use serde_json::Value;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

// --- the fake host ---------------------------------------------------------------------------

type Headers = Vec<(String, String)>;

/// An Envoy stand-in: two header maps, the body the current callback sees, local replies, logs.
struct Fake {
    request: Headers,
    response: Headers,
    request_body: Vec<u8>,
    response_body: Vec<u8>,
    /// (status, headers, body) of a local reply.
    local: Option<(u16, Headers, Vec<u8>)>,
    time: SystemTime,
    logs: RefCell<Vec<(Level, String)>>,
    /// Host calls that fail, by name (`set_header`, `remove_header`, `header_names`, `buffer`,
    /// `set_buffer`, `send_response`).
    failing: Vec<&'static str>,
    /// The Envoy route's name (`xds.route_name`).
    route: String,
    /// Metrics by id: (name, value; histograms: count of records).
    metrics: RefCell<Vec<(String, i64)>>,
    /// Filter state written with `set_property`.
    props: RefCell<Vec<(String, String)>>,
    /// Shared data: key -> (value, cas).
    shared: RefCell<std::collections::HashMap<String, (Vec<u8>, u32)>>,
}

impl Fake {
    fn new(method: &str, path: &str, headers: &[(&str, &str)]) -> Fake {
        let mut request = vec![
            (":method".to_string(), method.to_string()),
            (":path".to_string(), path.to_string()),
            (":authority".to_string(), "gateway.local".to_string()),
        ];
        request.extend(headers.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        Fake {
            request,
            response: Vec::new(),
            request_body: Vec::new(),
            response_body: Vec::new(),
            local: None,
            time: UNIX_EPOCH + Duration::from_secs(1_750_000_000),
            logs: RefCell::new(Vec::new()),
            failing: Vec::new(),
            route: String::new(),
            metrics: RefCell::new(Vec::new()),
            props: RefCell::new(Vec::new()),
            shared: RefCell::new(Default::default()),
        }
    }

    fn map(&self, map: Map) -> &Headers {
        match map {
            Map::RequestHeaders => &self.request,
            Map::ResponseHeaders | Map::HttpCallResponseHeaders => &self.response,
        }
    }

    fn map_mut(&mut self, map: Map) -> &mut Headers {
        match map {
            Map::RequestHeaders => &mut self.request,
            Map::ResponseHeaders | Map::HttpCallResponseHeaders => &mut self.response,
        }
    }

    fn fails(&self, call: &str) -> HostResult<()> {
        if self.failing.contains(&call) {
            Err(HostError(2))
        } else {
            Ok(())
        }
    }

    fn get(&self, map: Map, name: &str) -> Option<&str> {
        self.map(map).iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn names(&self, map: Map) -> Vec<&str> {
        self.map(map).iter().map(|(k, _)| k.as_str()).collect()
    }

    fn logged(&self) -> String {
        self.logs.borrow().iter().map(|(_, m)| format!("{m}\n")).collect()
    }
}

impl Host for Fake {
    fn header(&self, map: Map, name: &str) -> Option<String> {
        self.get(map, name).map(str::to_string)
    }
    fn header_names(&self, map: Map) -> HostResult<Vec<String>> {
        self.fails("header_names")?;
        Ok(self.map(map).iter().map(|(k, _)| k.clone()).collect())
    }
    fn set_header(&mut self, map: Map, name: &str, value: &str) -> HostResult<()> {
        self.fails("set_header")?;
        let m = self.map_mut(map);
        m.retain(|(k, _)| k != name);
        m.push((name.to_string(), value.to_string()));
        Ok(())
    }
    fn remove_header(&mut self, map: Map, name: &str) -> HostResult<()> {
        self.fails("remove_header")?;
        self.map_mut(map).retain(|(k, _)| k != name);
        Ok(())
    }
    fn buffer(&self, buffer: Buffer, start: usize, max: usize) -> HostResult<Vec<u8>> {
        self.fails("buffer")?;
        let b = match buffer {
            Buffer::RequestBody => &self.request_body,
            Buffer::ResponseBody => &self.response_body,
            Buffer::PluginConfiguration | Buffer::HttpCallResponseBody => return Ok(Vec::new()),
        };
        Ok(b.iter().skip(start).take(max).copied().collect())
    }
    fn set_buffer(&mut self, buffer: Buffer, start: usize, size: usize, value: &[u8]) -> HostResult<()> {
        self.fails("set_buffer")?;
        let b = match buffer {
            Buffer::RequestBody => &mut self.request_body,
            Buffer::ResponseBody => &mut self.response_body,
            Buffer::PluginConfiguration | Buffer::HttpCallResponseBody => return Err(HostError(2)),
        };
        let end = start.saturating_add(size).min(b.len());
        b.splice(start.min(end)..end, value.iter().copied());
        Ok(())
    }
    fn send_response(&mut self, status: u16, headers: &[(&str, &str)], body: &[u8]) -> HostResult<()> {
        self.fails("send_response")?;
        let h = headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        self.local = Some((status, h, body.to_vec()));
        Ok(())
    }
    fn now(&self) -> SystemTime {
        self.time
    }
    fn log(&self, level: Level, message: &str) {
        self.logs.borrow_mut().push((level, message.to_string()));
    }
    fn property(&self, path: &[&str]) -> Option<Vec<u8>> {
        (path == ["xds", "route_name"]).then(|| self.route.clone().into_bytes())
    }
    fn set_property(&self, path: &str, value: &[u8]) -> HostResult<()> {
        let v = String::from_utf8_lossy(value).into_owned();
        self.props.borrow_mut().push((path.to_string(), v));
        Ok(())
    }
    fn define_metric(&self, _kind: MetricKind, name: &str) -> HostResult<u32> {
        let mut m = self.metrics.borrow_mut();
        m.push((name.to_string(), 0));
        Ok(m.len() as u32 - 1)
    }
    fn increment_metric(&self, id: u32, delta: i64) -> HostResult<()> {
        let mut m = self.metrics.borrow_mut();
        let e = m.get_mut(id as usize).ok_or(HostError(1))?;
        e.1 += delta;
        Ok(())
    }
    fn record_metric(&self, id: u32, _value: u64) -> HostResult<()> {
        self.increment_metric(id, 1)
    }
    fn shared_data(&self, key: &str) -> HostResult<(Option<Vec<u8>>, u32)> {
        Ok(match self.shared.borrow().get(key) {
            Some((v, cas)) => (Some(v.clone()), *cas),
            None => (None, 0),
        })
    }
    fn set_shared_data(&self, key: &str, value: &[u8], cas: u32) -> HostResult<()> {
        let mut d = self.shared.borrow_mut();
        let e = d.entry(key.to_string()).or_insert((Vec::new(), 0));
        if cas != 0 && cas != e.1 {
            return Err(HostError(8));
        }
        *e = (value.to_vec(), e.1 + 1);
        Ok(())
    }
}

// --- helpers ---------------------------------------------------------------------------------

const BEARER: &str = r#"{"region":"us-east-1","credentials":{"bearer_token":"bedrock-key-SECRET"}}"#;
const SIGV4: &str =
    r#"{"region":"eu-west-1","credentials":{"access_key_id":"AKIDEXAMPLE","secret_access_key":"SIGV4-SECRET"}}"#;

fn config(json: &str) -> Shared {
    Rc::new(Config::parse(json.as_bytes(), &|_| None).map_err(|e| e.to_string()))
}

fn with(extra: &str) -> Shared {
    config(&format!(
        r#"{{"region":"us-east-1","credentials":{{"bearer_token":"bedrock-key-SECRET"}},{extra}}}"#
    ))
}

/// One request through one exchange.
struct Run {
    host: Fake,
    ex: Exchange,
}

impl Run {
    fn new(cfg: &Shared, method: &str, path: &str, headers: &[(&str, &str)]) -> Run {
        Run {
            host: Fake::new(method, path, headers),
            ex: Exchange::new(Rc::clone(cfg), 7),
        }
    }

    fn headers(&mut self, end_of_stream: bool) -> Action {
        self.ex.on_request_headers(&mut self.host, end_of_stream)
    }

    /// Request headers, then the body in one piece (as Envoy buffers it).
    fn send(&mut self, body: &[u8]) -> Action {
        assert_eq!(self.headers(false), Action::Pause);
        self.host.request_body = body.to_vec();
        self.ex.on_request_body(&mut self.host, body.len(), true)
    }

    fn respond(&mut self, status: u16, headers: &[(&str, &str)], end_of_stream: bool) -> Action {
        self.host.response = vec![(":status".to_string(), status.to_string())];
        self.host
            .response
            .extend(headers.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        self.ex.on_response_headers(&mut self.host, end_of_stream)
    }

    /// One response body chunk; returns the action and what goes downstream.
    fn chunk(&mut self, bytes: &[u8], end_of_stream: bool) -> (Action, Vec<u8>) {
        self.host.response_body = bytes.to_vec();
        let a = self.ex.on_response_body(&mut self.host, bytes.len(), end_of_stream);
        (a, std::mem::take(&mut self.host.response_body))
    }

    /// The local reply: status and parsed JSON body; asserts its content-type.
    fn local(&self) -> (u16, Value) {
        let (status, headers, body) = self.host.local.clone().expect("a local reply");
        assert!(headers.contains(&("content-type".to_string(), "application/json".to_string())));
        (status, serde_json::from_slice(&body).expect("JSON local reply"))
    }

    fn req(&self, name: &str) -> Option<&str> {
        self.host.get(Map::RequestHeaders, name)
    }

    fn resp(&self, name: &str) -> Option<&str> {
        self.host.get(Map::ResponseHeaders, name)
    }
}

fn chat(stream: bool) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "model": "claude", "stream": stream, "messages": [{"role": "user", "content": "hi"}]
    }))
    .unwrap()
}

/// The OpenAI error object, checked for shape; returns (type, code, message).
fn openai_error(v: &Value) -> (String, String, String) {
    let e = &v["error"];
    assert!(e["message"].is_string() && e.get("param").is_some(), "{v}");
    let s = |k: &str| e[k].as_str().unwrap_or_default().to_string();
    (s("type"), s("code"), s("message"))
}

/// Recordings embedded in the test binary: these tests also run without a filesystem
/// (wasm-bindgen-test in V8).
fn recording(name: &str) -> Vec<u8> {
    const CONVERSE: &[u8] = include_bytes!(
        "../../tests/fixtures/bedrock-recordings/converse/dd-trace-py__claude3_sonnet_text_and_tool_use.body.json"
    );
    const STREAM: &[u8] =
        include_bytes!("../../tests/fixtures/bedrock-recordings/converse-stream/kong__tool_use_three_chunks.bin");
    match name {
        "converse/dd-trace-py__claude3_sonnet_text_and_tool_use.body.json" => CONVERSE.to_vec(),
        "converse-stream/kong__tool_use_three_chunks.bin" => STREAM.to_vec(),
        other => panic!("{other} is not embedded: add it to recording()"),
    }
}

const EVENTSTREAM: &str = "application/vnd.amazon.eventstream";

// --- routing and methods ---------------------------------------------------------------------

#[test]
fn routes() {
    for p in [
        "/v1/chat/completions",
        "/chat/completions",
        "/v1/chat/completions/",
        "/v1/chat/completions?x=1",
        "/openai/v1/chat/completions",
    ] {
        assert!(
            matches!(policy::route(p), Route::Front(r) if r.front.name() == "chat"),
            "{p}"
        );
    }
    for p in ["/v1/models", "/models", "/v1/models/", "/gw/v1/models?limit=3"] {
        assert!(matches!(policy::route(p), Route::Models), "{p}");
    }
    for (p, name) in [
        ("/v1/models/claude", "claude"),
        ("/models/claude", "claude"),
        ("/gw/v1/models/a%3Ab?x", "a:b"),
        (
            "/v1/models/arn:aws:bedrock:us-east-1:1:inference-profile/us.x",
            "arn:aws:bedrock:us-east-1:1:inference-profile/us.x",
        ),
        ("/v1/models/%ff", ""),
        ("/v1/models/100%", "100%"),
    ] {
        assert!(matches!(policy::route(p), Route::Model(ref n) if n == name), "{p}");
    }
    for p in [
        "/",
        "/v1",
        "/v1/chat",
        "/v2/chat/completions",
        "/v1//chat/completions",
        "/xv1/chat/completions",
        "/v1/chat/completionsX",
        "/v1/chat/completions/extra",
        "/V1/CHAT/COMPLETIONS",
        "/model/x/converse",
        "/v1/completions",
    ] {
        assert!(matches!(policy::route(p), Route::Other), "{p}");
    }
}

#[test]
fn wrong_methods_are_405_and_never_forwarded() {
    let cfg = config(BEARER);
    for m in ["GET", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"] {
        let mut r = Run::new(&cfg, m, "/v1/chat/completions", &[]);
        assert_eq!(r.headers(false), Action::Pause);
        let (status, v) = r.local();
        assert_eq!(status, 405, "{m}");
        assert_eq!(openai_error(&v).0, "invalid_request_error");
        // Nothing more happens to this request.
        r.host.request_body = chat(false);
        assert_eq!(r.ex.on_request_body(&mut r.host, 10, true), Action::Continue);
        assert_eq!(r.req(":path"), Some("/v1/chat/completions"));
    }
    for m in ["POST", "PUT", "DELETE", "HEAD"] {
        let mut r = Run::new(&cfg, m, "/v1/models", &[]);
        r.headers(m == "HEAD");
        assert_eq!(r.local().0, 405, "{m}");
    }
}

#[test]
fn a_post_without_body_is_400() {
    let mut r = Run::new(&config(BEARER), "POST", "/v1/chat/completions", &[]);
    assert_eq!(r.headers(true), Action::Pause);
    let (status, v) = r.local();
    assert_eq!(status, 400);
    assert!(openai_error(&v).2.contains("no body"));
}

#[test]
fn unknown_paths_rejected_or_passed_through() {
    let mut r = Run::new(
        &config(BEARER),
        "POST",
        "/v1/completions?x=1",
        &[("authorization", "Bearer sk-client")],
    );
    assert_eq!(r.headers(false), Action::Pause);
    let (status, v) = r.local();
    let (kind, code, msg) = openai_error(&v);
    assert_eq!(
        (status, kind.as_str(), code.as_str()),
        (404, "not_found_error", "unknown_url")
    );
    assert!(
        msg.contains("POST /v1/completions ") && msg.contains("POST /v1/chat/completions"),
        "{msg}"
    );

    let cfg = with(r#""unknown_paths":"passthrough""#);
    for (m, p) in [
        ("POST", "/v1/completions"),
        ("POST", "/v1/models/claude"),
        ("GET", "/healthz"),
    ] {
        let mut r = Run::new(&cfg, m, p, &[("authorization", "Bearer sk-client")]);
        let before = r.host.request.clone();
        assert_eq!(r.headers(false), Action::Continue, "{p}");
        assert!(r.host.local.is_none());
        assert_eq!(r.host.request, before, "passthrough leaves the request alone");
        assert_eq!(r.ex.on_request_body(&mut r.host, 0, true), Action::Continue);
        assert_eq!(
            r.respond(200, &[("content-type", "text/plain"), ("x-upstream", "1")], false),
            Action::Continue
        );
        assert_eq!(
            r.resp("x-upstream"),
            Some("1"),
            "responses to other paths are not touched"
        );
    }
}

#[test]
fn misconfigured_answers_500_everywhere() {
    let cfg = config(r#"{"region":"us-east-1","bogus":1}"#);
    for (m, p) in [
        ("POST", "/v1/chat/completions"),
        ("GET", "/v1/models"),
        ("GET", "/anything"),
    ] {
        let mut r = Run::new(&cfg, m, p, &[]);
        r.headers(false);
        let (status, v) = r.local();
        assert_eq!(status, 500);
        assert_eq!(openai_error(&v).1, "gateway_misconfigured");
    }
}

// --- models ----------------------------------------------------------------------------------

#[test]
fn models_list_and_get() {
    let cfg = with(
        r#""models":{"claude":"us.anthropic.claude-sonnet-4-20250514-v1:0","oss":{"id":"openai.gpt-oss-20b-1:0","api":"openai"}}"#,
    );
    let mut r = Run::new(&cfg, "GET", "/v1/models", &[]);
    r.headers(true);
    let (status, v) = r.local();
    assert_eq!(status, 200);
    assert_eq!(v["object"], "list");
    let ids: Vec<&str> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["claude", "oss"]);

    let mut r = Run::new(&cfg, "GET", "/v1/models/oss", &[]);
    r.headers(true);
    let (status, v) = r.local();
    assert_eq!(status, 200);
    assert_eq!(
        v,
        serde_json::json!({"id": "oss", "object": "model", "created": 0, "owned_by": "bedrock"})
    );

    for name in ["gpt-4o", "us.anthropic.claude-sonnet-4-20250514-v1:0", "CLAUDE"] {
        let mut r = Run::new(&cfg, "GET", &format!("/v1/models/{name}"), &[]);
        r.headers(true);
        let (status, v) = r.local();
        assert_eq!(status, 404, "{name}");
        assert_eq!(openai_error(&v).1, "model_not_found");
        assert_eq!(v["error"]["param"], "model");
    }
    // Not GET: not a route (e2e: POST /v1/models/claude is a 404 unknown_url).
    let mut r = Run::new(&cfg, "POST", "/v1/models/claude", &[]);
    r.headers(false);
    assert_eq!(openai_error(&r.local().1).1, "unknown_url");

    // Without aliases every name a chat request could use exists.
    let cfg = config(BEARER);
    let mut r = Run::new(&cfg, "GET", "/v1/models", &[]);
    r.headers(true);
    assert_eq!(r.local().1["data"], serde_json::json!([]));
    for (path, id) in [
        (
            "/v1/models/anthropic.claude-3-haiku-20240307-v1:0",
            "anthropic.claude-3-haiku-20240307-v1:0",
        ),
        (
            "/v1/models/arn%3Aaws%3Abedrock%3Aus-east-1%3A1%3Aapplication-inference-profile%2Fab",
            "arn:aws:bedrock:us-east-1:1:application-inference-profile/ab",
        ),
    ] {
        let mut r = Run::new(&cfg, "GET", path, &[]);
        r.headers(true);
        let (status, v) = r.local();
        assert_eq!((status, v["id"].as_str()), (200, Some(id)));
    }
    for path in [
        "/v1/models/%2e%2e",
        "/v1/models/.",
        "/v1/models/a%0Ab",
        "/v1/models/%20",
        "/v1/models/%ff",
    ] {
        let mut r = Run::new(&cfg, "GET", path, &[]);
        r.headers(true);
        assert_eq!(r.local().0, 404, "{path}");
    }
}

// --- request side ----------------------------------------------------------------------------

const CLIENT_HEADERS: &[(&str, &str)] = &[
    ("authorization", "Bearer sk-client-SECRET"),
    ("x-api-key", "client-key-SECRET"),
    ("cookie", "session=client-SECRET"),
    ("openai-organization", "org-1"),
    ("x-stainless-lang", "python"),
    ("content-type", "application/json"),
    ("content-length", "999"),
    ("x-forwarded-proto", "https"),
    ("x-request-id", "req-42/../ab c"),
    ("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
    ("tracestate", "vendor=1"),
    ("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1"),
    ("x-amzn-trace-id", "Root=1-5759e988-bd862e3fe1be46a994272793"),
];

#[test]
fn forwarded_request_with_bearer_key() {
    let body = chat(true);
    let mut r = Run::new(&config(BEARER), "POST", "/v1/chat/completions", CLIENT_HEADERS);
    assert_eq!(r.send(&body), Action::Continue);
    assert!(r.host.local.is_none());
    // Only the forwarded client headers survive, with the ones the filter sets.
    let mut names = r.host.names(Map::RequestHeaders);
    names.sort_unstable();
    assert_eq!(
        names,
        [
            ":authority",
            ":method",
            ":path",
            "accept",
            "authorization",
            "b3",
            "content-length",
            "content-type",
            "traceparent",
            "tracestate",
            "user-agent",
            "x-amzn-trace-id",
            "x-forwarded-proto",
            "x-request-id"
        ]
    );
    for (k, v) in CLIENT_HEADERS
        .iter()
        .filter(|(k, _)| policy::FORWARDED_REQUEST_HEADERS.contains(k))
    {
        assert_eq!(r.req(k), Some(*v), "{k} kept unchanged");
    }
    assert_eq!(r.req("authorization"), Some("Bearer bedrock-key-SECRET"));
    assert_eq!(r.req(":authority"), Some("bedrock-runtime.us-east-1.amazonaws.com"));
    assert_eq!(r.req(":path"), Some("/model/claude/converse-stream"));
    assert_eq!(r.req(":method"), Some("POST"));
    assert_eq!(r.req("accept"), Some(EVENTSTREAM));
    assert!(r.req("user-agent").unwrap().starts_with("bedrock-bridge/"));
    // The body is the Converse request, and content-length says its size.
    let sent: Value = serde_json::from_slice(&r.host.request_body).unwrap();
    assert_eq!(sent["messages"][0]["content"][0]["text"], "hi");
    assert_eq!(
        r.req("content-length"),
        Some(r.host.request_body.len().to_string().as_str())
    );
    // Secrets never reach the log.
    let log = r.host.logged();
    assert!(
        log.contains("claude -> /model/claude/converse-stream (stream)"),
        "{log}"
    );
    assert!(!log.contains("SECRET"), "{log}");
}

#[test]
fn forwarded_request_with_sigv4() {
    let mut r = Run::new(&config(SIGV4), "POST", "/v1/chat/completions", CLIENT_HEADERS);
    assert_eq!(r.send(&chat(false)), Action::Continue);
    assert_eq!(r.req(":path"), Some("/model/claude/converse"));
    assert_eq!(r.req("accept"), Some("application/json"));
    let auth = r.req("authorization").unwrap();
    assert!(
        auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250615/eu-west-1/bedrock/aws4_request"),
        "{auth}"
    );
    assert_eq!(r.req("x-amz-date"), Some("20250615T150640Z"));
    for gone in ["x-api-key", "cookie", "openai-organization", "x-stainless-lang"] {
        assert_eq!(r.req(gone), None, "{gone}");
    }
    assert!(!r.host.logged().contains("SECRET"));
}

#[test]
fn a_translation_error_is_answered_locally_and_not_forwarded() {
    let mut r = Run::new(&config(BEARER), "POST", "/v1/chat/completions", CLIENT_HEADERS);
    assert_eq!(
        r.send(br#"{"model":"claude","messages":[],"temperature":"hot"}"#),
        Action::Pause
    );
    let (status, v) = r.local();
    assert_eq!((status, openai_error(&v).0.as_str()), (400, "invalid_request_error"));
    assert_eq!(
        r.req("authorization"),
        Some("Bearer sk-client-SECRET"),
        "request untouched"
    );
    assert_eq!(r.req(":path"), Some("/v1/chat/completions"));
}

#[test]
fn gateway_request_limit_is_413() {
    let cfg = with(r#""limits":{"max_request_bytes":100}"#);
    // Past the limit while still buffering: answered at once.
    let mut r = Run::new(&cfg, "POST", "/v1/chat/completions", &[]);
    assert_eq!(r.headers(false), Action::Pause);
    assert_eq!(r.ex.on_request_body(&mut r.host, 60, false), Action::Pause);
    assert!(r.host.local.is_none());
    assert_eq!(r.ex.on_request_body(&mut r.host, 101, false), Action::Pause);
    let (status, v) = r.local();
    let (_, code, msg) = openai_error(&v);
    assert_eq!((status, code.as_str()), (413, "request_too_large"));
    assert!(msg.contains("100 bytes"), "{msg}");
    // Exactly at the limit is fine (then refused for its content, not its size).
    let mut r = Run::new(&cfg, "POST", "/v1/chat/completions", &[]);
    r.send(&[b' '; 100]);
    assert_eq!(r.local().0, 400);
}

#[test]
fn envoys_own_413_gets_an_openai_body() {
    let mut r = Run::new(&config(BEARER), "POST", "/v1/chat/completions", &[]);
    assert_eq!(r.headers(false), Action::Pause);
    // Envoy's buffer limit: it replies itself, before the body reached the filter.
    let a = r.respond(413, &[("content-type", "text/plain"), ("content-length", "17")], false);
    assert_eq!(a, Action::Continue);
    assert_eq!(r.resp("content-type"), Some("application/json"));
    assert_eq!(r.resp("content-length"), None);
    assert_eq!(r.resp(":status"), Some("413"));
    assert_eq!(r.chunk(b"Payload Too", false), (Action::Pause, b"Payload Too".to_vec()));
    let (a, body) = r.chunk(b"Payload Too Large", true);
    assert_eq!(a, Action::Continue);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(openai_error(&v).1, "request_too_large");
    // Another status keeps its status, with the matching type.
    let mut r = Run::new(&config(BEARER), "POST", "/v1/chat/completions", &[]);
    r.headers(false);
    r.respond(503, &[("content-type", "text/plain")], false);
    let (_, body) = r.chunk(b"upstream connect error", true);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(openai_error(&v).0, "server_error");
    // A body-less reply has nothing to rewrite.
    let mut r = Run::new(&config(BEARER), "POST", "/v1/chat/completions", &[]);
    r.headers(false);
    assert_eq!(
        r.respond(413, &[("content-type", "text/plain")], true),
        Action::Continue
    );
    assert_eq!(r.resp("content-type"), Some("text/plain"));
    // Envoy's own 429 (a rate limiter after this filter) gets a retry-after when it has none.
    for (given, expected) in [(None, "1"), (Some("30"), "30")] {
        let mut r = Run::new(&config(BEARER), "POST", "/v1/chat/completions", &[]);
        r.headers(false);
        let mut h = vec![("content-type", "text/plain")];
        h.extend(given.map(|v| ("retry-after", v)));
        r.respond(429, &h, false);
        assert_eq!(r.resp("retry-after"), Some(expected));
        let (_, body) = r.chunk(b"local_rate_limited", true);
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(openai_error(&v).0, "rate_limit_error");
    }
}

// --- completion ids --------------------------------------------------------------------------

#[test]
fn completion_ids_come_from_x_request_id() {
    let t = UNIX_EPOCH + Duration::from_nanos(0x1234);
    assert_eq!(policy::request_id(Some("req-42/../ab c"), t, 7), "req42abc");
    assert_eq!(policy::request_id(Some(&"x".repeat(100)), t, 7), "x".repeat(64));
    assert_eq!(policy::request_id(Some("é-/"), t, 0x1f), "12341f");
    assert_eq!(policy::request_id(None, t, 0x1f), "12341f");

    let body = recording("converse/dd-trace-py__claude3_sonnet_text_and_tool_use.body.json");
    let mut r = Run::new(
        &config(BEARER),
        "POST",
        "/v1/chat/completions",
        &[("x-request-id", "<script>ab-12")],
    );
    r.send(&chat(false));
    assert_eq!(
        r.respond(200, &[("content-type", "application/json")], false),
        Action::Pause
    );
    let (_, out) = r.chunk(&body, true);
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["id"], "chatcmpl-scriptab12");
    assert_eq!(v["created"], 1_750_000_000);
    assert_eq!(v["model"], "claude");
}

// --- response side ---------------------------------------------------------------------------

#[test]
fn a_stream_is_translated_chunk_by_chunk_with_clean_headers() {
    let bytes = recording("converse-stream/kong__tool_use_three_chunks.bin");
    let mut r = Run::new(
        &config(BEARER),
        "POST",
        "/v1/chat/completions",
        &[("x-request-id", "abc")],
    );
    r.send(&chat(true));
    let a = r.respond(
        200,
        &[
            ("content-type", EVENTSTREAM),
            ("content-length", "4096"),
            ("date", "Sun, 29 Nov 2026 20:00:00 GMT"),
            ("x-amzn-requestid", "aws-req-1"),
            ("x-amzn-bedrock-invocation-latency", "12"),
            ("set-cookie", "aws=1"),
        ],
        false,
    );
    assert_eq!(a, Action::Continue, "stream headers are not held");
    let mut names = r.host.names(Map::ResponseHeaders);
    names.sort_unstable();
    assert_eq!(
        names,
        [":status", "cache-control", "content-type", "date", "x-request-id"]
    );
    assert_eq!(r.resp("content-type"), Some("text/event-stream; charset=utf-8"));
    assert_eq!(r.resp("cache-control"), Some("no-cache"));
    assert_eq!(r.resp("x-request-id"), Some("aws-req-1"));
    let mut sse = Vec::new();
    for piece in bytes.chunks(50) {
        let (a, out) = r.chunk(piece, false);
        assert_eq!(a, Action::Continue);
        sse.extend(out);
    }
    sse.extend(r.chunk(b"", true).1);
    let text = String::from_utf8(sse).unwrap();
    assert!(text.starts_with("data: {\"id\":\"chatcmpl-abc\""), "{text}");
    assert!(text.contains("\"tool_calls\"") && text.contains("\"finish_reason\":\"tool_calls\""));
    assert!(text.ends_with("data: [DONE]\n\n"));
}

#[test]
fn a_cut_stream_ends_with_an_error_event() {
    let bytes = recording("converse-stream/kong__tool_use_three_chunks.bin");
    let mut r = Run::new(&config(BEARER), "POST", "/v1/chat/completions", &[]);
    r.send(&chat(true));
    r.respond(200, &[("content-type", EVENTSTREAM)], false);
    let (_, a) = r.chunk(&bytes[..bytes.len() / 2], false);
    let (_, b) = r.chunk(b"", true);
    assert!(!a.is_empty());
    let tail = String::from_utf8(b).unwrap();
    assert!(
        tail.contains("\"error\"") && tail.ends_with("data: [DONE]\n\n"),
        "{tail}"
    );
}

#[test]
fn a_streaming_200_without_eventstream_is_502() {
    for eos in [false, true] {
        let mut r = Run::new(&config(BEARER), "POST", "/v1/chat/completions", &[]);
        r.send(&chat(true));
        let a = r.respond(
            200,
            &[("content-type", "application/json"), ("content-length", "2")],
            eos,
        );
        let (status, v) = if eos {
            r.local()
        } else {
            assert_eq!(a, Action::Pause);
            let (a, body) = r.chunk(b"{}", true);
            assert_eq!(a, Action::Continue);
            assert_eq!(r.resp("content-length"), None);
            let status = r.resp(":status").unwrap().parse().unwrap();
            (status, serde_json::from_slice(&body).unwrap())
        };
        let (kind, code, msg) = openai_error(&v);
        assert_eq!(
            (status, kind.as_str(), code.as_str()),
            (502, "server_error", "bad_upstream_response")
        );
        assert!(msg.contains("without an event stream"), "{msg}");
    }
}

#[test]
fn a_json_completion_is_translated_whole() {
    let body = recording("converse/dd-trace-py__claude3_sonnet_text_and_tool_use.body.json");
    let mut r = Run::new(&config(BEARER), "POST", "/v1/chat/completions", &[]);
    r.send(&chat(false));
    let a = r.respond(
        200,
        &[
            ("content-type", "application/json"),
            ("content-length", "400"),
            ("x-amzn-requestid", "r-9"),
        ],
        false,
    );
    assert_eq!(a, Action::Pause, "held until the body decides the status");
    let (a, first) = r.chunk(&body[..100], false);
    assert_eq!((a, first.len()), (Action::Pause, 100), "buffered, untouched");
    let (a, out) = r.chunk(&body, true);
    assert_eq!(a, Action::Continue);
    assert_eq!(r.resp(":status"), Some("200"));
    assert_eq!(r.resp("content-type"), Some("application/json"));
    assert_eq!(r.resp("content-length"), None);
    assert_eq!(r.resp("x-request-id"), Some("r-9"));
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(v["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(v["usage"]["total_tokens"], 346);
}

#[test]
fn bedrock_http_errors_become_openai_errors() {
    // (Bedrock status, x-amzn-errortype, body, client status, type, message part)
    type Case<'a> = (u16, Option<&'a str>, &'a [u8], u16, &'a str, &'a str);
    let cases: &[Case] = &[
        (
            429,
            Some("ThrottlingException:http://internal"),
            br#"{"message":"slow down"}"#,
            429,
            "rate_limit_error",
            "slow down",
        ),
        (
            400,
            Some("ValidationException"),
            br#"{"message":"bad input"}"#,
            400,
            "invalid_request_error",
            "bad input",
        ),
        (403, None, br#"{"Message":"denied"}"#, 403, "permission_error", "denied"),
        (
            404,
            Some("ResourceNotFoundException"),
            b"{}",
            404,
            "not_found_error",
            "without an error message",
        ),
        (500, None, b"<html>", 500, "server_error", "<html>"),
        (418, None, b"", 502, "server_error", "HTTP 418"),
    ];
    for &(aws, kind_header, body, status, kind, msg) in cases {
        for stream in [false, true] {
            let mut r = Run::new(&config(BEARER), "POST", "/v1/chat/completions", &[]);
            r.send(&chat(stream));
            let mut h = vec![("content-type", "application/json"), ("x-amzn-requestid", "r-1")];
            h.extend(kind_header.map(|k| ("x-amzn-errortype", k)));
            assert_eq!(r.respond(aws, &h, false), Action::Pause);
            let (a, out) = r.chunk(body, true);
            assert_eq!(a, Action::Continue);
            assert_eq!(
                r.resp(":status"),
                Some(status.to_string().as_str()),
                "{aws} {kind_header:?}"
            );
            assert_eq!(r.resp("x-amzn-errortype"), None);
            assert_eq!(r.resp("x-request-id"), Some("r-1"));
            let v: Value = serde_json::from_slice(&out).unwrap();
            let (k, _, m) = openai_error(&v);
            assert_eq!(k, kind, "{aws}");
            assert!(m.contains(msg), "{m}");
        }
    }
    // An error without a body is answered at once.
    let mut r = Run::new(&config(BEARER), "POST", "/v1/chat/completions", &[]);
    r.send(&chat(true));
    assert_eq!(
        r.respond(503, &[("x-amzn-errortype", "ServiceUnavailableException")], true),
        Action::Pause
    );
    let (status, v) = r.local();
    assert_eq!((status, openai_error(&v).0.as_str()), (503, "server_error"));
    // A 429 without a body still says when to retry: Bedrock's hint, else the default.
    for (hint, expected) in [(Some("7"), "7"), (None, "1"), (Some("5\t"), "1")] {
        let mut r = Run::new(&config(BEARER), "POST", "/v1/chat/completions", &[]);
        r.send(&chat(false));
        let mut h = vec![("x-amzn-errortype", "ThrottlingException")];
        h.extend(hint.map(|v| ("retry-after", v)));
        assert_eq!(r.respond(429, &h, true), Action::Pause);
        let (status, headers, _) = r.host.local.clone().expect("a local reply");
        assert_eq!(status, 429);
        assert!(
            headers.contains(&("retry-after".to_string(), expected.to_string())),
            "{hint:?}: {headers:?}"
        );
    }
}

#[test]
fn a_retry_as_upstream_filter_is_translated_again_from_the_kept_path() {
    // Envoy replays the headers the previous try rewrote, with the client's body.
    let mut r = Run::new(
        &config(BEARER),
        "POST",
        "/model/us.anthropic.claude-sonnet-4-20250514-v1%3A0/converse",
        &[
            ("x-bedrock-bridge-path", "/v1/chat/completions"),
            ("authorization", "Bearer old"),
        ],
    );
    r.send(&chat(false));
    assert!(r.host.local.is_none());
    let path = r.req(":path").unwrap_or_default().to_string();
    assert!(path.starts_with("/model/") && path.ends_with("/converse"), "{path}");
    assert_eq!(r.req("authorization"), Some("Bearer bedrock-key-SECRET"));
    // The same after a rewrite to Bedrock Mantle's Messages API.
    let mut r = Run::new(
        &config(BEARER),
        "POST",
        "/anthropic/v1/messages",
        &[("x-bedrock-bridge-path", "/v1/chat/completions")],
    );
    r.send(&chat(false));
    assert!(r.host.local.is_none());
    assert!(r.req(":path").unwrap_or_default().starts_with("/model/"));
    // Without the kept path, a Bedrock path is not a front door.
    let mut r = Run::new(&config(BEARER), "POST", "/model/x/converse", &[]);
    r.headers(false);
    assert_eq!(r.host.local.clone().expect("a local reply").0, 404);
}

#[test]
fn envoys_global_rate_limit_429_is_the_gateways_own_error_with_its_reset() {
    // Envoy's ratelimit filter after this one refuses a translated request.
    for (path, body, reset, expected) in [
        ("/v1/chat/completions", chat(true), Some("42"), "42"),
        ("/v1/chat/completions", chat(false), None, "1"),
    ] {
        let mut r = Run::new(&config(BEARER), "POST", path, &[]);
        r.send(&body);
        // The tenant is filter state before the request leaves (the rate limit's descriptor).
        assert_eq!(prop(&r, "bedrock_profile").as_deref(), Some("default"));
        let mut h = vec![("x-envoy-ratelimited", "true")];
        h.extend(reset.map(|v| ("x-ratelimit-reset", v)));
        assert_eq!(r.respond(429, &h, true), Action::Pause);
        let (status, headers, _) = r.host.local.clone().expect("a local reply");
        assert_eq!(status, 429);
        assert!(
            headers.contains(&("retry-after".to_string(), expected.to_string())),
            "{headers:?}"
        );
        let (_, v) = r.local();
        let (kind, code, msg) = openai_error(&v);
        assert_eq!(
            (kind.as_str(), code.as_str()),
            ("rate_limit_error", "rate_limit_exceeded")
        );
        assert!(
            msg.contains("global rate limit") && msg.contains(&format!("retry after {expected} s")),
            "{msg}"
        );
    }
}

#[test]
fn max_response_bytes_is_enforced_while_buffering() {
    let cfg = with(r#""limits":{"max_response_bytes":1000}"#);
    let mut r = Run::new(&cfg, "POST", "/v1/chat/completions", &[]);
    r.send(&chat(false));
    r.respond(200, &[("content-type", "application/json")], false);
    assert_eq!(r.chunk(&[b' '; 1000], false).0, Action::Pause);
    assert!(r.host.local.is_none());
    assert_eq!(r.chunk(&[b' '; 1001], false).0, Action::Pause);
    let (status, v) = r.local();
    let (_, code, msg) = openai_error(&v);
    assert_eq!((status, code.as_str()), (502, "bad_upstream_response"));
    assert!(msg.contains("1000 bytes"));
    assert!(r.host.logged().contains("502"));
}

#[test]
fn openai_compatible_models_pass_through() {
    let cfg = with(r#""models":{"oss":{"id":"openai.gpt-oss-20b-1:0","api":"openai"}}"#);
    let body = br#"{"model":"oss","stream":true,"messages":[{"role":"user","content":"hi"}]}"#;
    let mut r = Run::new(&cfg, "POST", "/v1/chat/completions", CLIENT_HEADERS);
    assert_eq!(r.send(body), Action::Continue);
    assert_eq!(r.req(":path"), Some("/openai/v1/chat/completions"));
    assert_eq!(r.req("x-api-key"), None);
    let sent: Value = serde_json::from_slice(&r.host.request_body).unwrap();
    assert_eq!(sent["model"], "openai.gpt-oss-20b-1:0");
    let a = r.respond(
        200,
        &[
            ("content-type", "text/event-stream"),
            ("content-length", "40"),
            ("cache-control", "no-store"),
            ("x-amzn-requestid", "r-2"),
            ("x-amzn-bedrock-x", "1"),
        ],
        false,
    );
    assert_eq!(a, Action::Continue);
    let mut names = r.host.names(Map::ResponseHeaders);
    names.sort_unstable();
    assert_eq!(
        names,
        [
            ":status",
            "cache-control",
            "content-length",
            "content-type",
            "x-request-id"
        ]
    );
    assert_eq!(r.resp("cache-control"), Some("no-store"));
    let sse = b"data: {\"choices\":[]}\n\ndata: [DONE]\n\n";
    assert_eq!(
        r.chunk(sse, true),
        (Action::Continue, sse.to_vec()),
        "passed through unchanged"
    );
}

// --- host failures ---------------------------------------------------------------------------

#[test]
fn a_failed_host_call_before_forwarding_is_a_500() {
    for call in ["set_header", "header_names", "remove_header", "set_buffer", "buffer"] {
        let mut r = Run::new(&config(BEARER), "POST", "/v1/chat/completions", CLIENT_HEADERS);
        r.host.failing.push(call);
        assert_eq!(r.send(&chat(false)), Action::Pause, "{call}");
        let (status, v) = r.local();
        assert_eq!(status, 500, "{call}");
        assert!(openai_error(&v).2.contains("host status 2"), "{call}");
        // The request is finished: the response is not touched.
        assert_eq!(
            r.respond(200, &[("content-type", "application/json")], false),
            Action::Continue
        );
    }
}

#[test]
fn a_failed_host_call_after_forwarding_is_logged() {
    let bytes = recording("converse-stream/kong__tool_use_three_chunks.bin");
    let mut r = Run::new(&config(BEARER), "POST", "/v1/chat/completions", &[]);
    r.send(&chat(true));
    r.host.failing.push("set_buffer");
    assert_eq!(
        r.respond(200, &[("content-type", EVENTSTREAM)], false),
        Action::Continue
    );
    assert_eq!(r.chunk(&bytes, true).0, Action::Continue);
    let logs = r.host.logs.borrow();
    assert!(
        logs.iter()
            .any(|(l, m)| *l == Level::Warn && m.contains("replace the body")),
        "{logs:?}"
    );
    drop(logs);
    // A local reply that cannot be sent is logged too.
    let mut r = Run::new(&config(BEARER), "GET", "/v1/chat/completions", &[]);
    r.host.failing.push("send_response");
    assert_eq!(r.headers(true), Action::Pause);
    assert!(r.host.logged().contains("could not send a local reply"));
}

#[test]
fn errors_are_logged_by_severity() {
    let mut r = Run::new(&config(BEARER), "GET", "/v1/chat/completions", &[]);
    r.headers(true);
    let cfg = config(r#"{"region":"us-east-1","bogus":1}"#);
    let mut bad = Run::new(&cfg, "GET", "/v1/models", &[]);
    bad.headers(true);
    let level = |r: &Run| r.host.logs.borrow().last().map(|(l, m)| (*l, m.clone())).unwrap();
    let (l, m) = level(&r);
    assert_eq!(l, Level::Info);
    assert!(m.starts_with("bedrock-bridge[7]: 405 "), "{m}");
    assert_eq!(level(&bad).0, Level::Warn);
}

// --- profiles, metrics, usage, budgets -----------------------------------------------------------

const TENANTS: &str = r#"{"region":"us-east-1","credentials":{"bearer_token":"top-key"},"models":{"claude":"anthropic.claude-x"},
  "profiles":{
    "team-a":{"region":"eu-west-1","credentials":{"bearer_token":"team-a-key"},"models":{"nova":"amazon.nova-x"},"strict_models":true},
    "team-c":{"token_budget":{"tokens_per_minute":300,"window_seconds":60}}}}"#;

/// A request on the route `route`, with metrics defined on a fresh fake (their ids start at 0 on
/// every fake, so each run defines them again).
fn tenant_run(cfg: &Shared, route: &str, path: &str, body: Option<Vec<u8>>) -> Run {
    let mut host = Fake::new("POST", path, &[]);
    host.route = route.to_string();
    let metrics = Rc::new(Metrics::default());
    let ex = Exchange::new(Rc::clone(cfg), 9).with_metrics(metrics);
    let mut run = Run { host, ex };
    if let Some(b) = body {
        run.send(&b);
    }
    run
}

fn chat_for(model: &str, stream: bool) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "model": model, "stream": stream, "messages": [{"role": "user", "content": "hi"}]
    }))
    .unwrap()
}

/// A metric's value (0 when never defined: metrics are defined on first use).
fn metric(run: &Run, name: &str) -> i64 {
    let m = run.host.metrics.borrow();
    let found: Vec<_> = m.iter().filter(|(n, _)| n == name).collect();
    assert!(
        found.len() <= 1,
        "{name} defined once: {:?}",
        m.iter().map(|x| &x.0).collect::<Vec<_>>()
    );
    found.first().map_or(0, |f| f.1)
}

fn prop(run: &Run, key: &str) -> Option<String> {
    run.host
        .props
        .borrow()
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
}

#[test]
fn the_route_name_chooses_the_profile() {
    let cfg = config(TENANTS);
    let r = tenant_run(&cfg, "team-a", "/v1/chat/completions", Some(chat_for("nova", false)));
    assert_eq!(r.ex.scope(), "team-a");
    assert_eq!(r.req("authorization"), Some("Bearer team-a-key"));
    assert_eq!(r.req(":authority"), Some("bedrock-runtime.eu-west-1.amazonaws.com"));
    assert_eq!(r.req(":path"), Some("/model/amazon.nova-x/converse"));
    // Any other route name (or none): the top level.
    for route in ["", "team-b", "Team-A"] {
        let r = tenant_run(&cfg, route, "/v1/chat/completions", Some(chat_for("claude", false)));
        assert_eq!(r.ex.scope(), "default");
        assert_eq!(r.req("authorization"), Some("Bearer top-key"));
    }
    // /v1/models lists the profile's models.
    let mut r = tenant_run(&cfg, "team-a", "/v1/models", None);
    r.host.request[0].1 = "GET".into();
    r.headers(true);
    let (status, body) = r.local();
    assert_eq!((status, body["data"][0]["id"].as_str()), (200, Some("nova")));
    assert_eq!(body["data"].as_array().map(Vec::len), Some(1));
}

#[test]
fn a_strict_profile_refuses_foreign_models_before_bedrock_and_counts_them_as_other() {
    let cfg = config(TENANTS);
    let r = tenant_run(&cfg, "team-a", "/v1/chat/completions", Some(chat_for("claude", false)));
    let (status, body) = r.local();
    assert_eq!(status, 404);
    let (kind, code, _) = openai_error(&body);
    assert_eq!(
        (kind.as_str(), code.as_str()),
        ("invalid_request_error", "model_not_found")
    );
    assert_eq!(r.req("authorization"), None, "nothing was signed or sent");
    assert_eq!(
        metric(&r, "bedrock_reasoning_requests_total;model=other;profile=team-a"),
        1
    );
    assert_eq!(
        metric(
            &r,
            "bedrock_reasoning_errors_total;error_type=invalid_request_error;model=other;profile=team-a"
        ),
        1
    );
    assert_eq!(
        metric(
            &r,
            "bedrock_responses_total;status_class=4xx;model=other;profile=team-a"
        ),
        1
    );
    assert_eq!(prop(&r, "bedrock_model").as_deref(), Some("claude"));
    assert_eq!(prop(&r, "bedrock_profile").as_deref(), Some("team-a"));
}

#[test]
fn a_stream_the_client_left_after_its_end_is_a_200_and_one_cut_short_a_499() {
    let cfg = config(TENANTS);
    let bytes = recording("converse-stream/kong__tool_use_three_chunks.bin");
    let m = "model=claude;profile=default";
    // The whole stream arrived and went out, but the client closed before Envoy saw the end of
    // Bedrock's body: Envoy calls on_log without a last chunk.
    let mut r = tenant_run(&cfg, "", "/v1/chat/completions", Some(chat_for("claude", true)));
    r.respond(200, &[("content-type", EVENTSTREAM)], false);
    let (_, out) = r.chunk(&bytes, false);
    assert!(out.ends_with(b"data: [DONE]\n\n"));
    r.ex.on_log(&r.host);
    assert_eq!(metric(&r, &format!("bedrock_responses_total;status_class=2xx;{m}")), 1);
    assert_eq!(metric(&r, &format!("bedrock_responses_total;status_class=4xx;{m}")), 0);
    // Cut in the middle: a 499.
    let mut r = tenant_run(&cfg, "", "/v1/chat/completions", Some(chat_for("claude", true)));
    r.respond(200, &[("content-type", EVENTSTREAM)], false);
    r.chunk(&bytes[..bytes.len() / 2], false);
    r.ex.on_log(&r.host);
    assert_eq!(metric(&r, &format!("bedrock_responses_total;status_class=2xx;{m}")), 0);
    assert_eq!(metric(&r, &format!("bedrock_responses_total;status_class=4xx;{m}")), 1);
}

#[test]
fn a_stream_is_ended_by_the_chunk_that_completes_its_output_not_by_the_end_of_the_body() {
    use bedrock_bridge_testkit::frame::{event, exception_frame};
    use serde_json::json;
    let cfg = config(TENANTS);
    let m = "model=claude;profile=default";
    // As an upstream filter, Envoy may write the access log before `on_log`: the usage must be in
    // filter state by the time the client can have read the last byte and closed.
    let whole = recording("converse-stream/kong__tool_use_three_chunks.bin");
    let cut_by_throttle = [
        event("messageStart", json!({"role": "assistant"})),
        event(
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"text": "Partial "}}),
        ),
        exception_frame("throttlingException", br#"{"message":"Too many tokens"}"#),
    ]
    .concat();
    // Each door's last event for a whole stream and for one cut by an exception.
    let doors = [
        (
            "/v1/chat/completions",
            chat_for("claude", true),
            ["data: [DONE]", "data: [DONE]"],
        ),
        (
            "/v1/responses",
            br#"{"model":"claude","input":"hi","stream":true}"#.to_vec(),
            ["response.completed", "response.failed"],
        ),
        (
            "/v1/messages",
            br#"{"model":"claude","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"hi"}]}"#.to_vec(),
            ["message_stop", "event: error"],
        ),
    ];
    for (path, body, last) in &doors {
        // Both are 200s: the throttled stream's error went out as an event after its first bytes.
        for (bytes, total, last) in [(&whole, "522", last[0]), (&cut_by_throttle, "0", last[1])] {
            let mut r = tenant_run(&cfg, "", path, Some(body.clone()));
            r.respond(200, &[("content-type", EVENTSTREAM)], false);
            let (_, out) = r.chunk(bytes, false);
            let out = String::from_utf8_lossy(&out);
            assert!(out.contains(last), "{path}: {out}");
            let n = |r: &Run| metric(r, &format!("bedrock_responses_total;status_class=2xx;{m}"));
            assert_eq!(n(&r), 1, "{path}: recorded with the completing chunk");
            assert_eq!(prop(&r, "bedrock_total_tokens").as_deref(), Some(total), "{path}");
            // The end of Bedrock's body and `on_log` add nothing, and nothing more reaches the client.
            let (_, rest) = r.chunk(b"", true);
            assert!(rest.is_empty(), "{path}: {}", String::from_utf8_lossy(&rest));
            r.ex.on_log(&r.host);
            assert_eq!(n(&r), 1, "{path}");
            assert_eq!(metric(&r, &format!("bedrock_reasoning_requests_total;{m}")), 1);
        }
    }
}

#[test]
fn a_passed_through_stream_the_client_left_after_its_end_is_a_200_and_one_cut_short_a_499() {
    let openai = with(r#""models":{"oss":{"id":"openai.gpt-oss-20b-1:0","api":"openai"}}"#);
    let chat_sse: &[u8] = b"data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\ndata: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2}}\n\ndata: [DONE]\n\n";
    let messages_sse: &[u8] = b"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":2}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
    let cases = [
        (openai, "/v1/chat/completions", "oss", chat_for("oss", true), chat_sse),
        (
            config(MANTLE),
            "/v1/chat/completions",
            "oss",
            chat_for("oss", true),
            chat_sse,
        ),
        (
            config(MANTLE),
            "/v1/messages",
            "opus",
            br#"{"model":"opus","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"hi"}]}"#.to_vec(),
            messages_sse,
        ),
    ];
    for (cfg, path, model, body, sse) in cases {
        let m = format!("model={model};profile=default");
        // (2xx count, 4xx count, input tokens, output tokens) once Envoy logs the request.
        let logged_after = |bytes: &[u8]| {
            let mut r = tenant_run(&cfg, "", path, Some(body.clone()));
            r.respond(200, &[("content-type", "text/event-stream")], false);
            r.chunk(bytes, false);
            r.ex.on_log(&r.host);
            let n = |class: &str| metric(&r, &format!("bedrock_responses_total;status_class={class};{m}"));
            let tokens = |kind: &str| prop(&r, &format!("bedrock_{kind}_tokens"));
            (n("2xx"), n("4xx"), tokens("input"), tokens("output"))
        };
        let usage = (Some("5".to_string()), Some("2".to_string()));
        // Every event went out; the client closed before Envoy saw the end of the upstream body.
        assert_eq!(
            logged_after(sse),
            (1, 0, usage.0.clone(), usage.1.clone()),
            "{path} {model}"
        );
        // Cut before the last event: a 499, with the usage seen so far.
        let cut = &sse[..sse.len() - 8];
        assert_eq!(logged_after(cut), (0, 1, usage.0, usage.1), "{path} {model}");
    }
}

#[test]
fn a_finished_request_records_metrics_usage_and_filter_state_once() {
    let cfg = config(TENANTS);
    let mut r = tenant_run(&cfg, "", "/v1/chat/completions", Some(chat_for("claude", false)));
    let answer = br#"{"output":{"message":{"role":"assistant","content":[{"text":"hi"}]}},"stopReason":"end_turn",
        "usage":{"inputTokens":11,"outputTokens":7,"totalTokens":23,"cacheReadInputTokens":3,"cacheWriteInputTokens":2}}"#;
    r.respond(200, &[("content-type", "application/json")], false);
    r.chunk(answer, true);
    let m = "model=claude;profile=default";
    assert_eq!(metric(&r, &format!("bedrock_reasoning_requests_total;{m}")), 1);
    assert_eq!(metric(&r, &format!("bedrock_responses_total;status_class=2xx;{m}")), 1);
    // AI Gateway's token types: `input` counts cached input too.
    let g = "gen_ai_operation_name=chat;gen_ai_provider_name=aws.bedrock;gen_ai_original_model=claude;\
             gen_ai_request_model=anthropic.claude-x;gen_ai_response_model=anthropic.claude-x;profile=default";
    for (t, n) in [
        ("input", 16),
        ("output", 7),
        ("cached_input", 3),
        ("cache_creation_input", 2),
    ] {
        assert_eq!(
            metric(&r, &format!("bedrock_tokens_total;gen_ai_token_type={t};{m}")),
            n
        );
        let h = format!("gen_ai_client_token_usage;gen_ai_token_type={t};{g}");
        assert_eq!(metric(&r, &h), 1, "one record in {h}");
    }
    assert_eq!(
        metric(&r, &format!("gen_ai_server_request_duration_milliseconds;{g}")),
        1
    );
    assert_eq!(
        metric(&r, &format!("gen_ai_server_time_to_first_token_milliseconds;{g}")),
        0
    );
    assert_eq!(
        metric(&r, &format!("bedrock_reasoning_stream_duration;{m}")),
        0,
        "not a stream"
    );
    for (k, v) in [
        ("bedrock_input_tokens", "11"),
        ("bedrock_output_tokens", "7"),
        ("bedrock_cached_tokens", "3"),
        ("bedrock_cache_write_tokens", "2"),
        ("bedrock_total_tokens", "18"),
    ] {
        assert_eq!(prop(&r, k).as_deref(), Some(v), "{k}");
    }
    // Later callbacks record nothing more.
    r.chunk(b"", true);
    assert_eq!(metric(&r, &format!("bedrock_reasoning_requests_total;{m}")), 1);
}

#[test]
fn a_spent_budget_answers_429_with_retry_after_until_the_window_ends() {
    let cfg = config(TENANTS);
    let answer = br#"{"output":{"message":{"role":"assistant","content":[{"text":"hi"}]}},"stopReason":"end_turn",
        "usage":{"inputTokens":100,"outputTokens":50,"totalTokens":150}}"#;
    let mut shared = Default::default();
    let mut time = UNIX_EPOCH + Duration::from_secs(1_750_000_000); // 40 s into a minute
    let go = |shared: &mut std::collections::HashMap<String, (Vec<u8>, u32)>, at: SystemTime| {
        let mut host = Fake::new("POST", "/v1/chat/completions", &[]);
        host.route = "team-c".into();
        host.time = at;
        host.shared = RefCell::new(std::mem::take(shared));
        let mut r = Run {
            host,
            ex: Exchange::new(Rc::clone(&cfg), 3),
        };
        let a = r.headers(false);
        if a == Action::Pause && r.host.local.is_none() {
            r.host.request_body = chat_for("claude", false);
            let n = r.host.request_body.len();
            r.ex.on_request_body(&mut r.host, n, true);
            r.respond(200, &[("content-type", "application/json")], false);
            r.chunk(answer, true);
        }
        *shared = r.host.shared.take();
        r.host.local.clone()
    };
    assert_eq!(go(&mut shared, time), None);
    assert_eq!(go(&mut shared, time), None, "150 of 300: admitted");
    let (status, headers, body) = go(&mut shared, time).expect("refused");
    assert_eq!(status, 429);
    assert!(
        headers.contains(&("retry-after".to_string(), "20".to_string())),
        "{headers:?}"
    );
    let (kind, code, _) = openai_error(&serde_json::from_slice(&body).unwrap());
    assert_eq!(
        (kind.as_str(), code.as_str()),
        ("rate_limit_error", "rate_limit_exceeded")
    );
    time += Duration::from_secs(20);
    assert_eq!(go(&mut shared, time), None, "a new window");
}

// --- Bedrock Mantle ----------------------------------------------------------------------------

const MANTLE: &str = r#"{"region":"us-east-1","credentials":{"access_key_id":"AKID","secret_access_key":"SK"},
    "models":{"opus":{"id":"anthropic.claude-opus-4-8","api":"mantle"},"oss":{"id":"openai.gpt-oss-120b","api":"mantle"}}}"#;

#[test]
fn a_mantle_messages_stream_is_relayed_signed_as_bedrock_mantle_and_metered() {
    let cfg = config(MANTLE);
    let body = br#"{"model":"opus","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"hi"}]}"#;
    let mut r = tenant_run(&cfg, "", "/v1/messages", None);
    r.host
        .request
        .push(("anthropic-beta".into(), "interleaved-thinking-2025-05-14".into()));
    assert_eq!(r.send(body), Action::Continue);
    assert_eq!(r.req(":path"), Some("/anthropic/v1/messages"));
    assert_eq!(r.req(":authority"), Some("bedrock-mantle.us-east-1.api.aws"));
    assert_eq!(r.req("accept"), Some("text/event-stream"));
    assert_eq!(r.req("anthropic-version"), Some("2023-06-01"));
    assert_eq!(r.req("anthropic-beta"), Some("interleaved-thinking-2025-05-14"));
    let auth = r.req("authorization").unwrap().to_string();
    assert!(auth.contains("/us-east-1/bedrock-mantle/aws4_request"), "{auth}");
    assert!(
        auth.contains("anthropic-beta;anthropic-version"),
        "the Anthropic headers are signed: {auth}"
    );
    let sent: Value = serde_json::from_slice(&r.host.request_body).unwrap();
    assert_eq!(sent["model"], "anthropic.claude-opus-4-8");
    assert_eq!(sent["max_tokens"], 50);
    r.respond(200, &[("content-type", "text/event-stream")], false);
    let sse = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":12,\"output_tokens\":1}}}\n\n\
        event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n\
        event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":6}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
    let (first, second) = sse.as_bytes().split_at(40);
    let (_, a) = r.chunk(first, false);
    let (_, b) = r.chunk(second, true);
    assert_eq!([a, b].concat(), sse.as_bytes(), "relayed unchanged");
    let m = "model=opus;profile=default";
    assert_eq!(
        metric(&r, &format!("bedrock_tokens_total;gen_ai_token_type=input;{m}")),
        12
    );
    assert_eq!(
        metric(&r, &format!("bedrock_tokens_total;gen_ai_token_type=output;{m}")),
        6
    );
    assert_eq!(prop(&r, "bedrock_total_tokens").as_deref(), Some("18"));
}

#[test]
fn a_mantle_chat_stream_drops_the_usage_chunk_the_client_did_not_ask_for() {
    let cfg = config(MANTLE);
    let mut r = tenant_run(&cfg, "", "/v1/chat/completions", Some(chat_for("oss", true)));
    assert_eq!(r.req(":path"), Some("/v1/chat/completions"));
    let sent: Value = serde_json::from_slice(&r.host.request_body).unwrap();
    assert_eq!(sent["stream_options"]["include_usage"], true);
    r.respond(200, &[("content-type", "text/event-stream")], false);
    let (_, out) = r.chunk(
        b"data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\ndata: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2}}\n\ndata: [DONE]\n\n",
        true,
    );
    assert_eq!(
        out,
        b"data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\ndata: [DONE]\n\n"
    );
    assert_eq!(prop(&r, "bedrock_input_tokens").as_deref(), Some("5"));
    assert_eq!(prop(&r, "bedrock_output_tokens").as_deref(), Some("2"));
}

#[test]
fn a_mantle_json_answer_passes_whole_with_its_usage_and_errors_keep_their_shape() {
    let cfg = config(MANTLE);
    let mut r = tenant_run(
        &cfg,
        "",
        "/v1/responses",
        Some(br#"{"model":"oss","input":"hi"}"#.to_vec()),
    );
    assert_eq!(r.req(":path"), Some("/v1/responses"));
    r.respond(200, &[("content-type", "application/json")], false);
    let answer = br#"{"object":"response","output":[],"usage":{"input_tokens":4,"output_tokens":3}}"#;
    let (_, out) = r.chunk(answer, true);
    assert_eq!(out, answer.to_vec());
    assert_eq!(prop(&r, "bedrock_total_tokens").as_deref(), Some("7"));

    let body = br#"{"model":"opus","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}"#;
    let mut r = tenant_run(&cfg, "", "/v1/messages", Some(body.to_vec()));
    r.respond(
        429,
        &[("content-type", "application/json"), ("retry-after", "3")],
        false,
    );
    assert_eq!(r.resp("retry-after"), Some("3"));
    let err = br#"{"type":"error","error":{"type":"rate_limit_error","message":"slow"}}"#;
    assert_eq!(r.chunk(err, true).1, err.to_vec(), "Mantle's error passes as it is");
}

#[test]
fn every_streaming_front_door_reports_usage_ttft_and_budget_tokens() {
    let cfg = config(TENANTS);
    let bytes = recording("converse-stream/kong__tool_use_three_chunks.bin");
    let bodies = [
        ("/v1/chat/completions", "chat", chat_for("claude", true)),
        (
            "/v1/responses",
            "responses",
            br#"{"model":"claude","input":"hi","stream":true}"#.to_vec(),
        ),
        (
            "/v1/messages",
            "messages",
            br#"{"model":"claude","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"hi"}]}"#.to_vec(),
        ),
    ];
    for (path, operation, body) in bodies {
        let mut r = tenant_run(&cfg, "", path, Some(body.clone()));
        r.respond(200, &[("content-type", EVENTSTREAM)], false);
        let (half, rest) = bytes.split_at(bytes.len() / 2);
        r.chunk(half, false);
        r.chunk(rest, true);
        assert_eq!(prop(&r, "bedrock_operation").as_deref(), Some(operation));
        assert_eq!(prop(&r, "bedrock_input_tokens").as_deref(), Some("478"), "{path}");
        assert_eq!(prop(&r, "bedrock_output_tokens").as_deref(), Some("44"), "{path}");
        assert!(prop(&r, "bedrock_ttft_ms").is_some(), "{path}: time to first token");
        let m = "model=claude;profile=default";
        assert_eq!(
            metric(&r, &format!("bedrock_tokens_total;gen_ai_token_type=output;{m}")),
            44
        );
        assert_eq!(
            metric(
                &r,
                &format!("bedrock_reasoning_errors_total;error_type=server_error;{m}")
            ),
            0
        );
        // The same stream cut short is an error of every door alike.
        let mut r = tenant_run(&cfg, "", path, Some(body));
        r.respond(200, &[("content-type", EVENTSTREAM)], false);
        r.chunk(half, true);
        let errors = format!("bedrock_reasoning_errors_total;error_type=server_error;{m}");
        assert_eq!(metric(&r, &errors), 1, "{path}");
    }
}
