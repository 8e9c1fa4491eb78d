//! The proxy-wasm shell: moves headers and bytes between Envoy and the core.
//!
//! One [`Root`] per plugin instance parses the configuration once; one [`Stream`] per HTTP
//! request holds only that request's state. Every host call goes through [`crate::host`], which
//! never panics; a failed host call ends the request with an OpenAI error or is logged.

use crate::config::{Api, Config, UnknownPaths};
use crate::error::{self, ApiError};
use crate::eventstream;
use crate::host::{self, Buffer, Map};
use crate::request::{self, ChatRequest};
use crate::response::{self, CompletionMeta};
use crate::signing;
use crate::stream::{ResponseStream, StreamOptions};
use log::{info, warn};
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType};
use std::rc::Rc;
// TEMP (drop at merge): the Responses API front door in the old shell.
use crate::bedrock::events::{EventSink, ResponseStream as FrontStream};
use crate::front::{FrontDoor, Reply, RequestContext};
use std::time::{SystemTime, UNIX_EPOCH};

#[cfg(target_arch = "wasm32")]
proxy_wasm::main! {{
    static LOGGER: host::HostLogger = host::HostLogger;
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(log::LevelFilter::Info);
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(Root::default()) });
}}

const USER_AGENT: &str = concat!("bedrock-bridge/", env!("CARGO_PKG_VERSION"));

/// Client request headers that may travel to Bedrock; all others are removed, so the client's
/// `authorization`, `x-api-key`, cookies and SDK headers never reach AWS. `x-forwarded-proto`
/// is Envoy's own: rewriting headers clears the route cache, and Envoy cannot match a route
/// again without it.
const FORWARDED_REQUEST_HEADERS: &[&str] = &[
    "x-forwarded-proto",
    "x-request-id",
    "traceparent",
    "tracestate",
    "b3",
    "x-amzn-trace-id",
];

/// Bedrock response headers that reach the client (besides pseudo-headers).
const FORWARDED_RESPONSE_HEADERS: &[&str] = &["date", "x-request-id"];

/// The configuration of one plugin instance, or why it was refused.
pub struct Root {
    config: Rc<Result<Config, String>>,
}

impl Default for Root {
    fn default() -> Self {
        Root {
            config: Rc::new(Err("the plugin configuration has not been loaded".to_string())),
        }
    }
}

impl Context for Root {}

impl RootContext for Root {
    fn on_configure(&mut self, _size: usize) -> bool {
        let bytes = host::get_buffer(Buffer::PluginConfiguration, 0, usize::MAX).unwrap_or_default();
        let parsed = Config::parse(&bytes, &|k| std::env::var(k).ok());
        match &parsed {
            Ok(c) => info!(
                "bedrock-bridge: configured: region {}, endpoint {}, {} model aliases, auth {}",
                c.region,
                c.endpoint,
                c.models.len(),
                match c.auth {
                    crate::config::Auth::SigV4 { .. } => "sigv4",
                    crate::config::Auth::Bearer(_) => "bearer",
                }
            ),
            Err(e) => log::error!("bedrock-bridge: {e}; every request will be answered 500"),
        }
        self.config = Rc::new(parsed.map_err(|e| e.to_string()));
        // Keep the plugin loaded either way: requests get a clear OpenAI error, not a crash.
        true
    }

    fn create_http_context(&self, context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Stream {
            config: Rc::clone(&self.config),
            context_id,
            state: State::Untouched,
            front: None,
            reply: None,
        }))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

/// What a request has become.
enum State {
    /// Not ours (passthrough) or already answered locally.
    Untouched,
    /// A chat completion whose body is being buffered.
    AwaitingBody,
    /// Sent to Bedrock; waiting for response headers.
    Sent(Sent),
    /// Streaming: each body chunk is translated as it arrives.
    Streaming(Box<ResponseStream>),
    /// TEMP (drop at merge): a front door's stream.
    FrontStreaming(Box<FrontStream<Box<dyn EventSink>>>),
    /// A JSON completion or an error: buffered, translated at the end.
    Buffering {
        sent: Sent,
        upstream_status: u16,
        error_type: Option<String>,
    },
    /// Envoy answered on its own while the request body was being buffered (for example 413
    /// past `per_connection_buffer_limit_bytes`): its body is replaced by this error.
    ReplacingLocalReply(ApiError),
}

/// What the response translation needs to know about the request.
struct Sent {
    id: String,
    created: u64,
    client_model: String,
    stream: bool,
    include_usage: bool,
    json_tool: Option<String>,
    api: Api,
}

/// Per-request context.
pub struct Stream {
    config: Rc<Result<Config, String>>,
    context_id: u32,
    state: State,
    /// TEMP (drop at merge): the front door serving this request, when not chat completions.
    front: Option<&'static dyn FrontDoor>,
    /// TEMP (drop at merge): its response side.
    reply: Option<Box<dyn Reply>>,
}

impl Context for Stream {}

enum Route {
    Responses,
    ChatCompletions,
    Models,
    Other,
}

fn route(path: &str) -> Route {
    let path = path.split('?').next().unwrap_or("").trim_end_matches('/');
    if path == "/v1/responses" || path.ends_with("/v1/responses") {
        Route::Responses
    } else if path == "/v1/chat/completions" || path == "/chat/completions" || path.ends_with("/v1/chat/completions") {
        Route::ChatCompletions
    } else if path == "/v1/models" || path == "/models" || path.ends_with("/v1/models") {
        Route::Models
    } else {
        Route::Other
    }
}

fn now() -> SystemTime {
    host::now().unwrap_or(UNIX_EPOCH)
}

impl Stream {
    fn config(&self) -> Result<Rc<Result<Config, String>>, ApiError> {
        match &*self.config {
            Ok(_) => Ok(Rc::clone(&self.config)),
            Err(e) => Err(ApiError::misconfigured(e)),
        }
    }

    /// Answer locally with an OpenAI error.
    fn reply_error(&mut self, e: &ApiError) -> Action {
        if e.status >= 500 {
            warn!("bedrock-bridge[{}]: {} {}", self.context_id, e.status, e.message);
        } else {
            info!("bedrock-bridge[{}]: {} {}", self.context_id, e.status, e.message);
        }
        self.reply(e.status, &e.to_json())
    }

    fn reply(&mut self, status: u16, body: &[u8]) -> Action {
        self.state = State::Untouched;
        if let Err(err) = host::send_response(status, &[("content-type", "application/json")], body) {
            warn!(
                "bedrock-bridge[{}]: could not send a local reply: status {}",
                self.context_id, err.0
            );
        }
        Action::Pause
    }

    fn models_list(&mut self, cfg: &Config) -> Action {
        let data: Vec<serde_json::Value> = cfg
            .models
            .keys()
            .map(|alias| serde_json::json!({"id": alias, "object": "model", "created": 0, "owned_by": "bedrock"}))
            .collect();
        let body = serde_json::to_vec(&serde_json::json!({"object": "list", "data": data})).unwrap_or_default();
        self.reply(200, &body)
    }

    fn completion_id(&self) -> String {
        let rid: String = host::header(Map::RequestHeaders, "x-request-id")
            .unwrap_or_default()
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(64)
            .collect();
        if rid.is_empty() {
            let nanos = now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
            format!("chatcmpl-{:x}{:x}", nanos, self.context_id)
        } else {
            format!("chatcmpl-{rid}")
        }
    }

    /// Rewrite the buffered request into a signed Bedrock request.
    fn forward(&mut self, cfg: &Config, req: ChatRequest, original_size: usize) -> Result<(), ApiError> {
        let fail = |what: &str, e: host::HostError| {
            ApiError::new(
                500,
                error::ErrorType::Server,
                format!("the gateway could not {what} (host status {})", e.0),
            )
        };
        let id = self.completion_id();
        let names = host::header_names(Map::RequestHeaders).map_err(|e| fail("read the request headers", e))?;
        for name in names
            .iter()
            .filter(|n| !n.starts_with(':') && !FORWARDED_REQUEST_HEADERS.contains(&n.as_str()))
        {
            host::remove_header(Map::RequestHeaders, name).map_err(|e| fail("remove a request header", e))?;
        }
        let accept = if req.stream {
            "application/vnd.amazon.eventstream"
        } else {
            "application/json"
        };
        let length = req.body.len().to_string();
        let set = [
            (":method", "POST"),
            (":path", req.path.as_str()),
            (":authority", cfg.endpoint.as_str()),
            ("content-type", "application/json"),
            ("accept", accept),
            ("content-length", length.as_str()),
            ("user-agent", USER_AGENT),
        ];
        for (k, v) in set {
            host::set_header(Map::RequestHeaders, k, v).map_err(|e| fail("set a request header", e))?;
        }
        let signed = [("host", cfg.endpoint.as_str()), ("content-type", "application/json")];
        let auth = signing::auth_headers(
            &cfg.auth,
            &cfg.region,
            &signing::Request {
                method: "POST",
                host: &cfg.endpoint,
                path: &req.path,
                headers: &signed,
                body: &req.body,
            },
            now(),
        )
        .map_err(|e| ApiError::new(500, error::ErrorType::Server, e.to_string()))?;
        for (k, v) in &auth {
            host::set_header(Map::RequestHeaders, k, v).map_err(|e| fail("set the signature", e))?;
        }
        host::set_buffer(Buffer::RequestBody, 0, original_size, &req.body)
            .map_err(|e| fail("replace the request body", e))?;
        info!(
            "bedrock-bridge[{}]: {} -> {} ({})",
            self.context_id,
            req.client_model,
            req.path,
            if req.stream { "stream" } else { "json" }
        );
        let created = now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        self.state = State::Sent(Sent {
            id,
            created,
            client_model: req.client_model,
            stream: req.stream,
            include_usage: req.include_usage,
            json_tool: req.json_tool,
            api: req.api,
        });
        Ok(())
    }

    /// Keep only the response headers that fit an OpenAI response (and, for a body passed
    /// through unchanged, its own `content-type` and `content-length`).
    fn clean_response_headers(&self, passthrough: bool) {
        let aws_id = host::header(Map::ResponseHeaders, "x-amzn-requestid");
        let keep = |n: &str| {
            n.starts_with(':')
                || FORWARDED_RESPONSE_HEADERS.contains(&n)
                || (passthrough && matches!(n, "content-type" | "content-length" | "cache-control"))
        };
        if let Ok(names) = host::header_names(Map::ResponseHeaders) {
            for name in names.iter().filter(|n| !keep(n)) {
                let _ = host::remove_header(Map::ResponseHeaders, name);
            }
        }
        if let Some(rid) = aws_id {
            let _ = host::set_header(Map::ResponseHeaders, "x-request-id", &rid);
        }
    }

    fn finish_buffered(
        &mut self,
        sent: &Sent,
        upstream_status: u16,
        error_type: Option<&str>,
        body: &[u8],
    ) -> (u16, Vec<u8>) {
        let cfg = match &*self.config {
            Ok(c) => c,
            Err(e) => return (500, ApiError::misconfigured(e).to_json()),
        };
        if upstream_status == 200 {
            let meta = CompletionMeta {
                id: &sent.id,
                created: sent.created,
                model: &sent.client_model,
                reasoning_field: cfg.reasoning_field,
                json_tool: sent.json_tool.as_deref(),
            };
            let translated = match &self.reply {
                Some(reply) => reply.translate_json(body),
                None => response::translate(body, &meta),
            };
            match translated {
                Ok(b) => (200, b),
                Err(e) => {
                    warn!("bedrock-bridge[{}]: {}", self.context_id, e.message);
                    (e.status, e.to_json())
                }
            }
        } else {
            let e = error::from_bedrock_http(upstream_status, error_type, body);
            info!(
                "bedrock-bridge[{}]: Bedrock error {} -> {}: {}",
                self.context_id, upstream_status, e.status, e.message
            );
            (e.status, e.to_json())
        }
    }
}

impl Stream {
    /// Envoy replied before the request was forwarded: give the client an OpenAI error instead
    /// of Envoy's plain-text body, keeping Envoy's status.
    fn replace_local_reply(&mut self, end_of_stream: bool) -> Action {
        let status = host::header(Map::ResponseHeaders, ":status")
            .and_then(|s| s.parse::<u16>().ok())
            .unwrap_or(500);
        let e = if status == 413 {
            ApiError::new(
                413,
                error::ErrorType::InvalidRequest,
                "the request body is larger than the proxy's buffer limit (Envoy per_connection_buffer_limit_bytes)",
            )
            .with_code("request_too_large")
        } else {
            let (_, kind) = error::status_for_bedrock(status, None);
            ApiError::new(
                status,
                kind,
                format!("the proxy answered {status} before the request reached Bedrock"),
            )
        };
        info!("bedrock-bridge[{}]: {} {}", self.context_id, e.status, e.message);
        if end_of_stream {
            return Action::Continue;
        }
        let _ = host::set_header(Map::ResponseHeaders, "content-type", "application/json");
        let _ = host::remove_header(Map::ResponseHeaders, "content-length");
        self.state = State::ReplacingLocalReply(e);
        Action::Continue
    }
}

impl HttpContext for Stream {
    fn on_http_request_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        let path = host::header(Map::RequestHeaders, ":path").unwrap_or_default();
        let method = host::header(Map::RequestHeaders, ":method").unwrap_or_default();
        let rc = match self.config() {
            Ok(rc) => rc,
            Err(e) => return self.reply_error(&e),
        };
        let Ok(cfg) = &*rc else { return Action::Continue };
        match route(&path) {
            Route::Responses if method != "POST" || end_of_stream => self.reply_error(&ApiError::new(
                405,
                error::ErrorType::InvalidRequest,
                "responses are created with POST and a JSON body (this gateway stores none to GET)",
            )),
            Route::Responses => {
                self.front = Some(&crate::responses::RESPONSES);
                self.state = State::AwaitingBody;
                Action::Pause
            }
            Route::ChatCompletions if method != "POST" => {
                self.reply_error(&ApiError::new(405, error::ErrorType::InvalidRequest, "chat completions must be requested with POST"))
            }
            Route::ChatCompletions if end_of_stream => {
                self.reply_error(&ApiError::invalid_request("the request has no body; send a JSON chat completion request"))
            }
            Route::ChatCompletions => {
                self.state = State::AwaitingBody;
                Action::Pause
            }
            Route::Models if method == "GET" => self.models_list(cfg),
            Route::Models => self.reply_error(&ApiError::new(405, error::ErrorType::InvalidRequest, "models must be listed with GET")),
            Route::Other if cfg.unknown_paths == UnknownPaths::Passthrough => Action::Continue,
            Route::Other => self.reply_error(
                &ApiError::new(
                    404,
                    error::ErrorType::NotFound,
                    format!("{method} {} is not served here; this gateway serves POST /v1/chat/completions and GET /v1/models", path.split('?').next().unwrap_or("")),
                )
                .with_code("unknown_url"),
            ),
        }
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        if !matches!(self.state, State::AwaitingBody) {
            return Action::Continue;
        }
        let rc = match self.config() {
            Ok(rc) => rc,
            Err(e) => return self.reply_error(&e),
        };
        let Ok(cfg) = &*rc else { return Action::Continue };
        if body_size > cfg.limits.max_request_bytes {
            return self.reply_error(
                &ApiError::new(
                    413,
                    error::ErrorType::InvalidRequest,
                    format!(
                        "the request body is larger than this gateway's limit of {} bytes",
                        cfg.limits.max_request_bytes
                    ),
                )
                .with_code("request_too_large"),
            );
        }
        if !end_of_stream {
            return Action::Pause;
        }
        let body = match host::get_buffer(Buffer::RequestBody, 0, body_size) {
            Ok(b) => b,
            Err(e) => {
                return self.reply_error(&ApiError::new(
                    500,
                    error::ErrorType::Server,
                    format!("the gateway could not read the request body (host status {})", e.0),
                ))
            }
        };
        let req = if let Some(front) = self.front {
            let id = self.completion_id();
            let id = id.trim_start_matches("chatcmpl-").to_string();
            let created = now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
            let header = |k: &str| host::header(Map::RequestHeaders, k);
            let ctx = RequestContext {
                config: cfg,
                id: &id,
                created,
                path: "/v1/responses",
                header: &header,
            };
            match front.translate(&body, &ctx) {
                Ok(o) => {
                    self.reply = Some(o.reply);
                    ChatRequest {
                        client_model: o.client_model,
                        model_id: o.model_id,
                        stream: o.stream,
                        include_usage: false,
                        path: o.path,
                        body: o.body,
                        json_tool: None,
                        api: Api::Converse,
                    }
                }
                Err(e) => return self.reply_error(&e),
            }
        } else {
            match request::translate(&body, cfg) {
                Ok(r) => r,
                Err(e) => return self.reply_error(&e),
            }
        };
        match self.forward(cfg, req, body_size) {
            Ok(()) => Action::Continue,
            Err(e) => self.reply_error(&e),
        }
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        let sent = match std::mem::replace(&mut self.state, State::Untouched) {
            State::Sent(s) => s,
            State::AwaitingBody => return self.replace_local_reply(end_of_stream),
            other => {
                self.state = other;
                return Action::Continue;
            }
        };
        let upstream_status = host::header(Map::ResponseHeaders, ":status")
            .and_then(|s| s.parse::<u16>().ok())
            .unwrap_or(502);
        let error_type = host::header(Map::ResponseHeaders, "x-amzn-errortype");
        let content_type = host::header(Map::ResponseHeaders, "content-type").unwrap_or_default();
        self.clean_response_headers(sent.api == Api::Openai);
        if sent.api == Api::Openai {
            // Bedrock's OpenAI-compatible endpoint already speaks OpenAI.
            return Action::Continue;
        }

        if upstream_status == 200 && sent.stream && content_type.contains("eventstream") && self.reply.is_some() {
            let _ = host::set_header(Map::ResponseHeaders, "content-type", "text/event-stream; charset=utf-8");
            let _ = host::set_header(Map::ResponseHeaders, "cache-control", "no-cache");
            let limits = match &*self.config {
                Ok(c) => eventstream::Limits {
                    max_message_len: c.limits.max_frame_bytes,
                    max_header_count: c.limits.max_frame_headers,
                },
                Err(_) => eventstream::Limits::default(),
            };
            if let Some(reply) = self.reply.take() {
                self.state = State::FrontStreaming(Box::new(FrontStream::new(reply.into_sink(), limits)));
            }
            return Action::Continue;
        }
        if upstream_status == 200 && sent.stream && content_type.contains("eventstream") {
            let _ = host::set_header(Map::ResponseHeaders, "content-type", "text/event-stream; charset=utf-8");
            let _ = host::set_header(Map::ResponseHeaders, "cache-control", "no-cache");
            let (reasoning_field, limits) = match &*self.config {
                Ok(c) => (
                    c.reasoning_field,
                    eventstream::Limits {
                        max_message_len: c.limits.max_frame_bytes,
                        max_header_count: c.limits.max_frame_headers,
                    },
                ),
                Err(_) => (Default::default(), eventstream::Limits::default()),
            };
            let opts = StreamOptions {
                id: sent.id,
                created: sent.created,
                model: sent.client_model,
                reasoning_field,
                include_usage: sent.include_usage,
                json_tool: sent.json_tool,
            };
            self.state = State::Streaming(Box::new(ResponseStream::new(&opts, limits)));
            return Action::Continue;
        }
        if end_of_stream {
            // No body to rewrite: answer with the translated error (or empty completion) now.
            let (status, body) = self.finish_buffered(&sent, upstream_status, error_type.as_deref(), b"");
            return self.reply(status, &body);
        }
        // Hold the headers until the whole body is here: its translation decides the status.
        let upstream_status = if upstream_status == 200 && sent.stream {
            0
        } else {
            upstream_status
        };
        self.state = State::Buffering {
            sent,
            upstream_status,
            error_type,
        };
        Action::Pause
    }

    fn on_http_response_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        match &mut self.state {
            State::FrontStreaming(rs) => {
                let chunk = host::get_buffer(Buffer::ResponseBody, 0, body_size).unwrap_or_default();
                let mut out = Vec::with_capacity(chunk.len().saturating_mul(2));
                rs.on_body(&chunk, end_of_stream, &mut out);
                if let Err(e) = host::set_buffer(Buffer::ResponseBody, 0, body_size, &out) {
                    warn!(
                        "bedrock-bridge[{}]: could not replace a response chunk (host status {})",
                        self.context_id, e.0
                    );
                }
                Action::Continue
            }
            State::Streaming(rs) => {
                let chunk = match host::get_buffer(Buffer::ResponseBody, 0, body_size) {
                    Ok(c) => c,
                    Err(e) => {
                        warn!(
                            "bedrock-bridge[{}]: could not read a response chunk (host status {})",
                            self.context_id, e.0
                        );
                        Vec::new()
                    }
                };
                let mut out = Vec::with_capacity(chunk.len().saturating_mul(2));
                rs.on_body(&chunk, end_of_stream, &mut out);
                if let Err(e) = host::set_buffer(Buffer::ResponseBody, 0, body_size, &out) {
                    warn!(
                        "bedrock-bridge[{}]: could not replace a response chunk (host status {})",
                        self.context_id, e.0
                    );
                }
                Action::Continue
            }
            State::ReplacingLocalReply(_) if !end_of_stream => Action::Pause,
            State::ReplacingLocalReply(e) => {
                let body = e.to_json();
                self.state = State::Untouched;
                if let Err(e) = host::set_buffer(Buffer::ResponseBody, 0, body_size, &body) {
                    warn!(
                        "bedrock-bridge[{}]: could not replace the response body (host status {})",
                        self.context_id, e.0
                    );
                }
                Action::Continue
            }
            State::Buffering { .. } if !end_of_stream => {
                let max = match &*self.config {
                    Ok(c) => c.limits.max_response_bytes,
                    Err(_) => 0,
                };
                if body_size > max {
                    let e = ApiError::bad_upstream(format_args!(
                        "the response is larger than this gateway's limit of {max} bytes"
                    ));
                    return self.reply_error(&e);
                }
                Action::Pause
            }
            State::Buffering { .. } => {
                let State::Buffering {
                    sent,
                    upstream_status,
                    error_type,
                } = std::mem::replace(&mut self.state, State::Untouched)
                else {
                    return Action::Continue;
                };
                let body = host::get_buffer(Buffer::ResponseBody, 0, body_size).unwrap_or_default();
                let (status, out) = if upstream_status == 0 {
                    // A 200 that should have been an event stream but is not.
                    let e = ApiError::bad_upstream("Bedrock answered a streaming request without an event stream");
                    (e.status, e.to_json())
                } else {
                    self.finish_buffered(&sent, upstream_status, error_type.as_deref(), &body)
                };
                let _ = host::set_header(Map::ResponseHeaders, ":status", &status.to_string());
                let _ = host::set_header(Map::ResponseHeaders, "content-type", "application/json");
                let _ = host::remove_header(Map::ResponseHeaders, "content-length");
                if let Err(e) = host::set_buffer(Buffer::ResponseBody, 0, body_size, &out) {
                    warn!(
                        "bedrock-bridge[{}]: could not replace the response body (host status {})",
                        self.context_id, e.0
                    );
                }
                Action::Continue
            }
            _ => Action::Continue,
        }
    }
}
