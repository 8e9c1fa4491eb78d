//! The per-request exchange, host-free: request headers and body in, response headers and body
//! chunks in; what to do out ([`Step`]: header edits, a body replacement, a local reply,
//! continue or pause).
//!
//! Everything the proxy decides lives here: routing ([`policy::ROUTES`], path → front door),
//! header policy, completion ids, `/v1/models`, local replies, and which of Bedrock's answers
//! is streamed, translated whole, or passed through. The exchange reads the request and response
//! through [`Host`] (only `&self` calls: headers, buffers, time, log) and never changes them
//! itself: [`Exchange::on_request_headers`] and its siblings apply each [`Step`] through the same
//! trait (`apply.rs`), which is all the proxy-wasm shell calls. Native tests drive it with a fake
//! host.
//!
//! One [`Exchange`] per HTTP request; the configuration is shared ([`Shared`], parsed once).

mod apply;
pub mod policy;

pub(crate) use policy::{Route, FORWARDED_REQUEST_HEADERS, FORWARDED_RESPONSE_HEADERS, PASSTHROUGH_RESPONSE_HEADERS};

use crate::bedrock::events::{EventSink, ResponseStream};
use crate::budget;
use crate::config::{Auth, Config, UnknownPaths, DEFAULT_PROFILE};
use crate::error::{self, ApiError, ErrorType};
use crate::front::{FrontDoor, Outbound, Reply, RequestContext, Service};
use crate::host::{Buffer, Host, Level, Map};
use crate::meter::{Meter, Watch};
use crate::metrics::{Labels, Metrics, Outcome};
use crate::openai::BedrockUsage;
use crate::signing;
use policy::FrontRoute;
use std::borrow::Cow;
use std::fmt;
use std::rc::Rc;
use std::time::{SystemTime, UNIX_EPOCH};

/// The configuration of one plugin instance, or why it was refused (every request then gets a
/// 500 saying so).
pub type Shared = Rc<Result<Config, String>>;

/// Parse the plugin configuration (read from the host) once per root context, and log the outcome.
pub(crate) fn configure(host: &dyn Host, env: &dyn Fn(&str) -> Option<String>) -> Shared {
    let bytes = host
        .buffer(Buffer::PluginConfiguration, 0, usize::MAX)
        .unwrap_or_default();
    let parsed = Config::parse(&bytes, env).map_err(|e| e.to_string());
    match &parsed {
        Ok(c) => host.log(
            Level::Info,
            &format!(
                "bedrock-bridge: configured: region {}, endpoint {}, {} model aliases, {} profiles, auth {}",
                c.region,
                c.endpoint,
                c.models.len(),
                c.profiles.len(),
                match c.auth {
                    Auth::SigV4 { .. } => "sigv4",
                    Auth::Bearer(_) => "bearer",
                    Auth::EnvoySigner => "envoy aws_request_signing",
                }
            ),
        ),
        Err(e) => host.log(
            Level::Error,
            &format!("bedrock-bridge: {e}; every request will be answered 500"),
        ),
    }
    Rc::new(parsed)
}

/// Continue or pause the current direction (proxy-wasm's `Action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Continue,
    Pause,
}

/// One change to the headers of the current direction, applied in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Edit {
    /// Remove every header except pseudo-headers and these.
    Retain(&'static [&'static str]),
    Set(Cow<'static, str>, String),
    Remove(&'static str),
}

/// An answer sent by the proxy itself; the request goes no further.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LocalReply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) body: Vec<u8>,
}

/// What to do at one callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub(crate) action: Action,
    /// Header changes (request headers in request callbacks, response headers in response ones).
    pub(crate) edits: Vec<Edit>,
    /// Replace the body bytes this callback saw (the whole buffered body, or the chunk).
    pub(crate) body: Option<Vec<u8>>,
    /// Answer locally instead (edits and body are then ignored).
    pub(crate) reply: Option<LocalReply>,
}

impl Step {
    fn with(action: Action) -> Step {
        Step {
            action,
            edits: Vec::new(),
            body: None,
            reply: None,
        }
    }

    /// A JSON local reply.
    fn local(status: u16, body: Vec<u8>) -> Step {
        Step {
            reply: Some(LocalReply {
                status,
                headers: vec![("content-type", "application/json".to_string())],
                body,
            }),
            ..Step::with(Action::Pause)
        }
    }
}

/// What Bedrock's response headers said, for a response buffered whole.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Upstream {
    /// 200 JSON to a non-streaming request: translated by the front door.
    Json,
    /// 200 to a streaming request, but not an eventstream: a 502.
    NotAnEventStream,
    /// A Bedrock HTTP error: mapped by [`error::from_bedrock_http`].
    Error {
        status: u16,
        error_type: Option<String>,
        /// Bedrock's `retry-after` hint, if any (sent on with a 429).
        retry_after: Option<String>,
    },
    /// Envoy's global rate limit filter (after this one) refused the request
    /// (`x-envoy-ratelimited`): the gateway's own limit, not Bedrock's.
    GatewayLimited {
        /// `x-ratelimit-reset` (seconds), when the RLS said.
        retry_after: Option<String>,
    },
    /// That filter could not reach its rate limit service and fails closed
    /// (`failure_mode_deny`; Envoy's response code details `rate_limiter_error`).
    GatewayLimitUnavailable,
}

/// What a request has become.
enum State {
    /// Not ours (passed through), answered locally, or finished.
    Done,
    /// A front door's request whose body is being buffered.
    AwaitingBody(&'static FrontRoute),
    /// Sent to Bedrock; waiting for the response headers.
    Sent { reply: Box<dyn Reply>, stream: bool },
    /// A 200 eventstream: each body chunk is translated as it arrives.
    Streaming(Box<ResponseStream<Box<dyn EventSink>>>),
    /// A 200 answer already in the client's format: each body chunk goes on unchanged, read by
    /// the reply's [`Watch`] into the meter.
    Passing(Box<dyn Watch>, Meter),
    /// A JSON answer or an error: buffered, translated at the end (its status depends on it).
    Buffering { reply: Box<dyn Reply>, upstream: Upstream },
    /// Envoy answered on its own while the request body was being buffered (for example 413
    /// past `per_connection_buffer_limit_bytes`): its body is replaced by this one.
    ReplacingLocalReply(Vec<u8>),
}

/// What a front-door request reports when it ends (metrics, access log, token budget).
#[derive(Debug, Default)]
struct Tally {
    /// A front-door request not yet reported.
    active: bool,
    /// The front door's name (`gen_ai.operation.name`).
    operation: &'static str,
    /// The client's model name, once the body is parsed.
    model: Option<String>,
    /// When the request headers came.
    started_at: Option<SystemTime>,
    /// When the request was forwarded to Bedrock.
    sent_at: Option<SystemTime>,
    stream: bool,
    ttft_ms: Option<u64>,
}

/// The configuration of `profile` (the top level when there is no such profile).
fn selected<'a>(config: &'a Shared, profile: &str) -> Option<&'a Config> {
    config.as_ref().as_ref().ok().map(|c| c.for_route(profile))
}

fn millis_since(now: SystemTime, then: Option<SystemTime>) -> Option<u64> {
    let d = now.duration_since(then?).ok()?;
    Some(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Longest client model name written to the access log's filter state.
const MAX_LOGGED_MODEL: usize = 256;

/// One HTTP request's exchange with Bedrock.
pub struct Exchange {
    config: Shared,
    metrics: Rc<Metrics>,
    /// The profile chosen by the Envoy route's name ([`DEFAULT_PROFILE`] for the top level).
    profile: String,
    context_id: u32,
    state: State,
    tally: Tally,
}

impl Exchange {
    pub fn new(config: Shared, context_id: u32) -> Exchange {
        Exchange {
            config,
            metrics: Rc::default(),
            profile: DEFAULT_PROFILE.to_string(),
            context_id,
            state: State::Done,
            tally: Tally::default(),
        }
    }

    /// Record metrics in `metrics` (defined once per plugin by [`Metrics::define`]).
    pub fn with_metrics(mut self, metrics: Rc<Metrics>) -> Exchange {
        self.metrics = metrics;
        self
    }

    /// The request's tenant scope: the name of its profile ([`DEFAULT_PROFILE`] for the top
    /// level). Chosen by the Envoy route, never by anything the client sends; valid from
    /// `on_http_request_headers` on. Use it to keep per-tenant state (caches, budgets) apart.
    pub fn scope(&self) -> &str {
        &self.profile
    }

    /// Envoy is done with the stream (`on_log`, also after a client disconnect or a reset): a
    /// request that did not reach its normal end is reported now. A stream whose output was
    /// complete (the client may close after `[DONE]`, before Bedrock's body formally ends),
    /// translated or passed through, counts as the 200 it was, with the error it carried;
    /// anything else is a 499 with whatever usage was seen (its tokens still count against the
    /// budget).
    pub fn on_log(&mut self, host: &dyn Host) {
        if !self.tally.active {
            return;
        }
        let (status, error, usage) = match &self.state {
            State::Streaming(rs) => {
                let m = rs.meter();
                if rs.is_terminated() {
                    (200, m.error_type(), m.usage())
                } else {
                    (499, None, m.usage())
                }
            }
            State::Passing(w, m) if w.is_complete() => (200, m.error_type(), m.usage()),
            State::Passing(_, m) => (499, None, m.usage()),
            _ => (499, None, None),
        };
        self.end(host, status, error, usage);
    }

    /// The request is over: record its metrics, write its usage to filter state for the access
    /// log, and count its tokens against the profile's budget. Runs once per front-door request.
    fn end(&mut self, host: &dyn Host, status: u16, error: Option<ErrorType>, usage: Option<BedrockUsage>) {
        if !std::mem::take(&mut self.tally.active) {
            return;
        }
        let Some(cfg) = selected(&self.config, &self.profile) else {
            return;
        };
        let now = host.now();
        let t = &self.tally;
        let outcome = Outcome {
            status,
            error,
            usage,
            ttft_ms: t.ttft_ms,
            stream_ms: if t.stream { millis_since(now, t.sent_at) } else { None },
            duration_ms: millis_since(now, t.started_at),
        };
        let labels = Labels::new(cfg, t.operation, t.model.as_deref());
        self.metrics.record(host, &labels, &outcome);

        let u = usage.unwrap_or_default();
        let model = t.model.as_deref().unwrap_or("");
        let model = model.get(..MAX_LOGGED_MODEL).unwrap_or(model);
        let n = |v: u64| v.to_string().into_bytes();
        let mut props: Vec<(&str, Vec<u8>)> = vec![
            ("bedrock_model", model.as_bytes().to_vec()),
            ("bedrock_profile", cfg.profile.as_bytes().to_vec()),
            ("bedrock_operation", t.operation.as_bytes().to_vec()),
            ("bedrock_input_tokens", n(u.input_tokens)),
            ("bedrock_output_tokens", n(u.output_tokens)),
            ("bedrock_cached_tokens", n(u.cache_read_input_tokens)),
            ("bedrock_cache_write_tokens", n(u.cache_write_input_tokens)),
            (
                "bedrock_total_tokens",
                n(u.input_tokens.saturating_add(u.output_tokens)),
            ),
        ];
        if let Some(ms) = t.ttft_ms {
            props.push(("bedrock_ttft_ms", n(ms)));
        }
        for (k, v) in &props {
            if let Err(e) = host.set_property(k, v) {
                self.log(
                    host,
                    Level::Info,
                    format_args!("no filter state for the access log (host status {})", e.0),
                );
                break;
            }
        }
        if let (Some(b), Some(u)) = (&cfg.token_budget, usage) {
            let tokens = u.input_tokens.saturating_add(u.output_tokens);
            let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
            if let Err(e) = budget::charge(host, &cfg.profile, b, secs, tokens) {
                let msg = format_args!(
                    "could not count {tokens} tokens against the budget (host status {})",
                    e.0
                );
                self.log(host, Level::Warn, msg);
            }
        }
    }

    fn log(&self, host: &dyn Host, level: Level, msg: fmt::Arguments<'_>) {
        host.log(level, &format!("bedrock-bridge[{}]: {msg}", self.context_id));
    }

    /// Answer with `e`, whose body (`body`, in the shape of the API asked) is already written.
    fn fail(&mut self, host: &dyn Host, e: &ApiError, body: Vec<u8>) -> Step {
        let level = if e.status >= 500 { Level::Warn } else { Level::Info };
        self.log(host, level, format_args!("{} {}", e.status, e.message));
        self.state = State::Done;
        self.end(host, e.status, Some(e.kind), None);
        Step::local(e.status, body)
    }

    /// A host call failed while the request could still be answered: a 500.
    fn host_failed(&mut self, host: &dyn Host, what: &str, status: u32) -> Step {
        let e = ApiError::new(
            500,
            ErrorType::Server,
            format!("the gateway could not {what} (host status {status})"),
        );
        let body = match &self.state {
            State::AwaitingBody(r) => r.front.error_body(&e),
            State::Sent { reply, .. } => reply.error_body(&e),
            _ => e.to_json(),
        };
        self.fail(host, &e, body)
    }

    /// Request headers: route the request.
    pub(crate) fn request_headers(&mut self, host: &dyn Host, end_of_stream: bool) -> Step {
        let rc = Rc::clone(&self.config);
        let cfg = match &*rc {
            Ok(c) => c,
            Err(e) => {
                let e = ApiError::misconfigured(e);
                return self.fail(host, &e, e.to_json());
            }
        };
        if let Some(step) = self.health(host, cfg) {
            return step;
        }
        // The profile is the Envoy route's name, read before the path is rewritten (which
        // makes Envoy match a route again).
        let cfg = if cfg.profiles.is_empty() {
            cfg
        } else {
            // As an upstream filter (failover between regions, envoy/failover.yaml), the
            // endpoint Envoy chose names the profile in its metadata; else the route does.
            let name = host
                .property(&UPSTREAM_PROFILE)
                .filter(|p| !p.is_empty())
                .or_else(|| host.property(&["xds", "route_name"]))
                .unwrap_or_default();
            cfg.for_route(std::str::from_utf8(&name).unwrap_or(""))
        };
        self.profile.clone_from(&cfg.profile);
        let path = client_path(host);
        let method = host.header(Map::RequestHeaders, ":method").unwrap_or_default();
        let refuse = |this: &mut Self, e: ApiError, front: Option<&dyn FrontDoor>| {
            let body = front.map_or_else(|| e.to_json(), |f| f.error_body(&e));
            this.fail(host, &e, body)
        };
        let route = policy::route(&path);
        self.tally.active = matches!(route, Route::Front(_));
        if let Route::Front(r) = &route {
            self.tally.operation = r.front.name();
            self.tally.started_at = Some(host.now());
            // The tenant, for Envoy filters after this one (the global rate limit's descriptor);
            // written again with the usage at the end. A failure is logged there.
            let _ = host.set_property("bedrock_profile", cfg.profile.as_bytes());
        }
        match route {
            Route::Front(r) if method != "POST" => {
                let msg = format!("{} must be requested with POST", r.what);
                refuse(self, ApiError::new(405, ErrorType::InvalidRequest, msg), Some(r.front))
            }
            Route::Front(r) if end_of_stream => {
                let msg = format!("the request has no body; send a JSON {} request", r.what);
                refuse(self, ApiError::invalid_request(msg), Some(r.front))
            }
            Route::Front(r) => {
                if let Some(b) = &cfg.token_budget {
                    let secs = host.now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
                    match budget::admit(host, &cfg.profile, b, secs) {
                        Ok(Ok(())) => {}
                        Ok(Err(retry_after)) => {
                            let e = ApiError::new(
                                429,
                                ErrorType::RateLimit,
                                format!(
                                    "the token budget of this gateway ({} tokens per {} s) is spent; retry after {retry_after} s",
                                    b.tokens_per_minute, b.window_seconds
                                ),
                            )
                            .with_code("rate_limit_exceeded");
                            let mut step = refuse(self, e, Some(r.front));
                            if let Some(reply) = step.reply.as_mut() {
                                reply.headers.push(("retry-after", retry_after.to_string()));
                            }
                            return step;
                        }
                        Err(e) => {
                            let msg = format_args!("token budget unavailable, request admitted (host status {})", e.0);
                            self.log(host, Level::Warn, msg);
                        }
                    }
                }
                self.state = State::AwaitingBody(r);
                Step::with(Action::Pause)
            }
            Route::Models if method == "GET" => Step::local(200, policy::models_list(cfg)),
            Route::Models => {
                let e = ApiError::new(405, ErrorType::InvalidRequest, "models must be listed with GET");
                refuse(self, e, None)
            }
            Route::Model(name) if method == "GET" => match policy::model(cfg, &name) {
                Ok(body) => Step::local(200, body),
                Err(e) => refuse(self, e, None),
            },
            Route::Model(_) | Route::Other if cfg.unknown_paths == UnknownPaths::Passthrough => {
                Step::with(Action::Continue)
            }
            Route::Model(_) | Route::Other => refuse(self, policy::unknown_path(&method, &path), None),
        }
    }

    /// The health endpoint (`"health"`): its cached report, or `None` for any other path.
    fn health(&mut self, host: &dyn Host, cfg: &Config) -> Option<Step> {
        let path = host.header(Map::RequestHeaders, ":path").unwrap_or_default();
        if !crate::health::is_health_request(cfg, &path) {
            return None;
        }
        if host.header(Map::RequestHeaders, ":method").as_deref() != Some("GET") {
            let e = ApiError::new(405, ErrorType::InvalidRequest, "the health check is read with GET");
            return Some(self.fail(host, &e, e.to_json()));
        }
        let (status, body) = crate::health::report(host, cfg);
        let mut step = Step::local(status, body);
        if let Some(r) = step.reply.as_mut() {
            r.headers.push(("cache-control", "no-store".into()));
        }
        Some(step)
    }

    /// Request body: buffer it, then translate, sign and forward it.
    pub(crate) fn request_body(&mut self, host: &dyn Host, body_size: usize, end_of_stream: bool) -> Step {
        let State::AwaitingBody(route) = self.state else {
            return Step::with(Action::Continue);
        };
        let rc = Rc::clone(&self.config);
        let Some(cfg) = selected(&rc, &self.profile) else {
            return Step::with(Action::Continue);
        };
        let front = route.front;
        if body_size > cfg.limits.max_request_bytes {
            let e = policy::request_too_large(cfg.limits.max_request_bytes);
            return self.fail(host, &e, front.error_body(&e));
        }
        if !end_of_stream {
            return Step::with(Action::Pause);
        }
        let body = match host.buffer(Buffer::RequestBody, 0, body_size) {
            Ok(b) => b,
            Err(e) => return self.host_failed(host, "read the request body", e.0),
        };
        let now = host.now();
        let header = |name: &str| host.header(Map::RequestHeaders, name);
        let id = policy::request_id(header("x-request-id").as_deref(), now, self.context_id);
        let path = client_path(host);
        let ctx = RequestContext {
            config: cfg,
            id: &id,
            created: now.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
            path: &path,
            header: &header,
        };
        match front.translate(&body, &ctx) {
            Ok(out) => {
                self.tally.model = Some(out.client_model.clone());
                if cfg.strict_models && !cfg.models.contains_key(&out.client_model) {
                    let mut e = ApiError::new(
                        404,
                        ErrorType::InvalidRequest,
                        format!(
                            "The model `{}` is not served to this client (GET /v1/models lists the models it may use)",
                            out.client_model.chars().take(MAX_LOGGED_MODEL).collect::<String>()
                        ),
                    )
                    .with_code("model_not_found");
                    e.param = Some("model".to_string());
                    return self.fail(host, &e, out.reply.error_body(&e));
                }
                self.forward(host, cfg, out, now)
            }
            Err(e) => self.fail(host, &e, front.error_body(&e)),
        }
    }

    /// Rewrite the buffered request into a signed Bedrock request.
    fn forward(&mut self, host: &dyn Host, cfg: &Config, out: Outbound, now: SystemTime) -> Step {
        for note in &out.notes {
            self.log(host, Level::Info, format_args!("request repaired: {note}"));
        }
        let (endpoint, service) = match out.service {
            Service::Runtime => (&cfg.endpoint, signing::SERVICE),
            Service::Mantle => (&cfg.mantle_endpoint, signing::MANTLE_SERVICE),
        };
        let mut signed = vec![("host", endpoint.as_str()), ("content-type", "application/json")];
        signed.extend(out.headers.iter().map(|(k, v)| (*k, v.as_str())));
        let request = signing::Request {
            method: "POST",
            host: endpoint,
            path: &out.path,
            headers: &signed,
            body: &out.body,
            service,
        };
        let auth = match signing::auth_headers(&cfg.auth, &cfg.region, &request, now) {
            Ok(a) => a,
            Err(e) => {
                let e = ApiError::new(500, ErrorType::Server, e.to_string());
                return self.fail(host, &e, out.reply.error_body(&e));
            }
        };
        let accept = match (out.stream, out.service) {
            (true, Service::Runtime) => "application/vnd.amazon.eventstream",
            (true, Service::Mantle) => "text/event-stream",
            (false, _) => "application/json",
        };
        let set = |k: &'static str, v: &str| Edit::Set(Cow::Borrowed(k), v.to_string());
        let mut edits = vec![
            Edit::Retain(FORWARDED_REQUEST_HEADERS),
            set(":method", "POST"),
            set(":path", &out.path),
            set(":authority", endpoint),
            set("content-type", "application/json"),
            set("accept", accept),
            set("content-length", &out.body.len().to_string()),
            set("user-agent", policy::USER_AGENT),
        ];
        edits.extend(out.headers.iter().map(|(k, v)| set(k, v)));
        edits.extend(auth.into_iter().map(|(k, v)| Edit::Set(Cow::Owned(k), v)));
        if host.property(&["xds", "upstream_host_metadata"]).is_some() {
            // An upstream filter: a retry replays these headers (the body is the client's again),
            // so keep what the next try needs to translate it anew.
            edits.push(set(RETRY_PATH_HEADER, &client_path(host)));
            if let Some(beta) = host.header(Map::RequestHeaders, "anthropic-beta") {
                edits.push(set("anthropic-beta", &beta));
            }
        }
        let mode = if out.stream { "stream" } else { "json" };
        let host_note = if out.service == Service::Mantle {
            endpoint.as_str()
        } else {
            ""
        };
        self.log(
            host,
            Level::Info,
            format_args!("{} -> {}{} ({mode})", out.client_model, host_note, out.path),
        );
        self.tally.sent_at = Some(now);
        self.tally.stream = out.stream;
        self.state = State::Sent {
            reply: out.reply,
            stream: out.stream,
        };
        Step {
            edits,
            body: Some(out.body),
            ..Step::with(Action::Continue)
        }
    }

    /// Response headers: choose streaming, buffering or passthrough, and clean the headers.
    pub(crate) fn response_headers(&mut self, host: &dyn Host, end_of_stream: bool) -> Step {
        let (mut reply, stream) = match std::mem::replace(&mut self.state, State::Done) {
            State::Sent { reply, stream } => (reply, stream),
            State::AwaitingBody(r) => return self.replace_local_reply(host, r.front, end_of_stream),
            other => {
                self.state = other;
                return Step::with(Action::Continue);
            }
        };
        let header = |name: &str| host.header(Map::ResponseHeaders, name);
        let status = header(":status").and_then(|s| s.parse::<u16>().ok()).unwrap_or(502);
        reply.on_response_headers(&header);
        let content_type = header("content-type").unwrap_or_default();
        let watch = reply.passthrough(&content_type);
        let keep = if watch.is_some() {
            PASSTHROUGH_RESPONSE_HEADERS
        } else {
            FORWARDED_RESPONSE_HEADERS
        };
        let mut edits = vec![Edit::Retain(keep)];
        if let Some(rid) = header("x-amzn-requestid") {
            edits.push(Edit::Set(Cow::Borrowed("x-request-id"), rid));
        }
        let mut step = Step::with(Action::Continue);
        if let Some(watch) = watch {
            // Already in the client's API: passed on unchanged, metered on the way.
            step.edits = edits;
            if status >= 400 || end_of_stream {
                let error = (status >= 400).then(|| error::status_for_bedrock(status, None).1);
                self.end(host, status, error, None);
            } else {
                self.state = State::Passing(watch, Meter::default());
            }
            return step;
        }
        let eventstream = content_type.contains("eventstream");
        let anthropic_sse = reply.anthropic_sse() && content_type.starts_with("text/event-stream");
        let upstream = match status {
            200 if stream && (eventstream || anthropic_sse) => {
                edits.push(Edit::Set(
                    Cow::Borrowed("content-type"),
                    reply.stream_content_type().into(),
                ));
                edits.push(Edit::Set(Cow::Borrowed("cache-control"), "no-cache".into()));
                let limits = match selected(&self.config, &self.profile) {
                    Some(c) => (&c.limits).into(),
                    None => Default::default(),
                };
                let rs = if anthropic_sse {
                    ResponseStream::anthropic_sse(reply.into_sink())
                } else {
                    ResponseStream::new(reply.into_sink(), limits)
                };
                self.state = State::Streaming(Box::new(rs));
                step.edits = edits;
                return step;
            }
            200 if stream => Upstream::NotAnEventStream,
            200 => Upstream::Json,
            429 if header("x-envoy-ratelimited").is_some() => Upstream::GatewayLimited {
                retry_after: header("x-ratelimit-reset"),
            },
            500 if host.property(&["response", "code_details"]).as_deref() == Some(&b"rate_limiter_error"[..]) => {
                Upstream::GatewayLimitUnavailable
            }
            _ => Upstream::Error {
                status,
                error_type: header("x-amzn-errortype"),
                retry_after: header("retry-after"),
            },
        };
        if end_of_stream {
            // No body to rewrite: answer with the translated error (or empty completion) now.
            let (status, body) = self.finish_buffered(host, &*reply, &upstream, b"");
            let mut step = Step::local(status, body);
            if let (429, Some(r)) = (status, step.reply.as_mut()) {
                r.headers.push(("retry-after", retry_after(&upstream)));
            }
            return step;
        }
        // Hold the headers until the whole body is here: its translation decides the status.
        self.state = State::Buffering { reply, upstream };
        step.edits = edits;
        step.action = Action::Pause;
        step
    }

    /// Envoy replied before the request was forwarded: give the client an API error instead of
    /// Envoy's plain-text body, keeping Envoy's status.
    fn replace_local_reply(&mut self, host: &dyn Host, front: &dyn FrontDoor, end_of_stream: bool) -> Step {
        let status = host
            .header(Map::ResponseHeaders, ":status")
            .and_then(|s| s.parse::<u16>().ok())
            .unwrap_or(500);
        let e = policy::envoy_reply_error(status);
        self.log(host, Level::Info, format_args!("{} {}", e.status, e.message));
        self.end(host, e.status, Some(e.kind), None);
        let mut step = Step::with(Action::Continue);
        if status == 429 && host.header(Map::ResponseHeaders, "retry-after").is_none() {
            // Envoy's own rate limiters do not say when to come back; clients wait for this.
            step.edits
                .push(Edit::Set(Cow::Borrowed("retry-after"), DEFAULT_RETRY_AFTER.into()));
        }
        if !end_of_stream {
            step.edits.extend([
                Edit::Set(Cow::Borrowed("content-type"), "application/json".into()),
                Edit::Remove("content-length"),
            ]);
            self.state = State::ReplacingLocalReply(front.error_body(&e));
        }
        step
    }

    /// Response body: translate a stream chunk, or buffer and translate the whole body.
    pub(crate) fn response_body(&mut self, host: &dyn Host, body_size: usize, end_of_stream: bool) -> Step {
        let mut step = Step::with(Action::Continue);
        match &mut self.state {
            State::Streaming(rs) => {
                let chunk = host.buffer(Buffer::ResponseBody, 0, body_size).unwrap_or_else(|e| {
                    let what = format_args!("could not read a response chunk (host status {})", e.0);
                    host.log(Level::Warn, &format!("bedrock-bridge[{}]: {what}", self.context_id));
                    Vec::new()
                });
                let mut out = apply::spare::take(chunk.len().saturating_mul(2));
                rs.on_body(&chunk, end_of_stream, &mut out);
                step.body = Some(out);
                self.metered(host, end_of_stream);
            }
            State::Passing(watch, meter) => {
                if let Ok(chunk) = host.buffer(Buffer::ResponseBody, 0, body_size) {
                    step.body = watch.relay(&chunk, end_of_stream, meter);
                } else if end_of_stream {
                    step.body = watch.relay(b"", true, meter);
                }
                self.metered(host, end_of_stream);
            }
            State::ReplacingLocalReply(_) if !end_of_stream => step.action = Action::Pause,
            State::ReplacingLocalReply(body) => {
                step.body = Some(std::mem::take(body));
                self.state = State::Done;
            }
            State::Buffering { reply, .. } if !end_of_stream => {
                let max = selected(&self.config, &self.profile).map_or(0, |c| c.limits.max_response_bytes);
                if body_size > max {
                    let e = ApiError::bad_upstream(format_args!(
                        "the response is larger than this gateway's limit of {max} bytes"
                    ));
                    let body = reply.error_body(&e);
                    return self.fail(host, &e, body);
                }
                step.action = Action::Pause;
            }
            State::Buffering { .. } => {
                let State::Buffering { reply, upstream } = std::mem::replace(&mut self.state, State::Done) else {
                    return step;
                };
                let body = host.buffer(Buffer::ResponseBody, 0, body_size).unwrap_or_else(|e| {
                    let msg = format_args!("could not read the response body (host status {})", e.0);
                    self.log(host, Level::Warn, msg);
                    Vec::new()
                });
                let (status, out) = self.finish_buffered(host, &*reply, &upstream, &body);
                step.edits = vec![
                    Edit::Set(Cow::Borrowed(":status"), status.to_string()),
                    Edit::Set(Cow::Borrowed("content-type"), "application/json".into()),
                    Edit::Remove("content-length"),
                ];
                if status == 429 {
                    step.edits
                        .push(Edit::Set(Cow::Borrowed("retry-after"), retry_after(&upstream)));
                }
                step.body = Some(out);
            }
            State::Done | State::AwaitingBody(_) | State::Sent { .. } => {}
        }
        step
    }

    /// After a streamed chunk: note the time to first token (one flag test per chunk, one clock
    /// read per request), and end the request when its output is complete or its body ends.
    ///
    /// The output can be complete (`[DONE]`, `message_stop`, `response.completed`, or the error
    /// event a mid-stream exception becomes) before Envoy hands over the end of Bedrock's body,
    /// and a client that has read it may close first. The request is therefore ended with the
    /// chunk that completes the output, so its usage is in filter state before the client can
    /// see the last byte: `on_log` comes too late for the access log when the filter runs as an
    /// upstream filter (envoy/failover.yaml).
    fn metered(&mut self, host: &dyn Host, end_of_stream: bool) {
        let (meter, complete) = match &self.state {
            State::Streaming(rs) => (rs.meter(), rs.is_terminated()),
            State::Passing(w, m) => (m, w.is_complete()),
            _ => return,
        };
        if self.tally.ttft_ms.is_none() && meter.has_first_token() {
            self.tally.ttft_ms = millis_since(host.now(), self.tally.sent_at);
        }
        if end_of_stream || complete {
            let (error, usage) = (meter.error_type(), meter.usage());
            if end_of_stream {
                self.state = State::Done;
            }
            // Once per request: a later chunk or `on_log` does not count it again.
            self.end(host, 200, error, usage);
        }
    }

    /// The status and body for a response buffered whole (the request ends here).
    fn finish_buffered(
        &mut self,
        host: &dyn Host,
        reply: &dyn Reply,
        upstream: &Upstream,
        body: &[u8],
    ) -> (u16, Vec<u8>) {
        let e = match upstream {
            Upstream::Json => match reply.translate_json(body) {
                Ok(answer) => {
                    self.end(host, 200, None, answer.usage);
                    return (200, answer.body);
                }
                Err(e) => {
                    self.log(host, Level::Warn, format_args!("{}", e.message));
                    e
                }
            },
            Upstream::GatewayLimited { retry_after } => ApiError::new(
                429,
                ErrorType::RateLimit,
                format!(
                    "this tenant's token limit across the gateway's replicas is spent (Envoy's global rate limit); retry after {} s",
                    retry_after.as_deref().filter(|v| valid_retry_after(v)).unwrap_or(DEFAULT_RETRY_AFTER)
                ),
            )
            .with_code("rate_limit_exceeded"),
            Upstream::GatewayLimitUnavailable => ApiError::new(
                500,
                ErrorType::Server,
                "the gateway's rate limit service is unavailable and the gateway refuses requests until it is back (failure_mode_deny)",
            ),
            Upstream::NotAnEventStream => {
                ApiError::bad_upstream("Bedrock answered a streaming request without an event stream")
            }
            Upstream::Error { status, error_type, .. } => {
                let e = error::from_bedrock_http(*status, error_type.as_deref(), body);
                let e = match selected(&self.config, &self.profile) {
                    Some(c) => signing::explain_rejection(&c.auth, e),
                    None => e,
                };
                let msg = format_args!("Bedrock error {status} -> {}: {}", e.status, e.message);
                self.log(host, Level::Info, msg);
                e
            }
        };
        self.end(host, e.status, Some(e.kind), None);
        (e.status, reply.error_body(&e))
    }
}

/// As an upstream filter, the client's path, kept on the rewritten request for Envoy's retries:
/// each try runs the filter again on the headers the previous try rewrote.
pub(crate) const RETRY_PATH_HEADER: &str = "x-bedrock-bridge-path";

/// The path the client asked for: `:path`, or on a retry of a request this filter rewrote as an
/// upstream filter (its `:path` is Bedrock's or Bedrock Mantle's), the path it kept in
/// [`RETRY_PATH_HEADER`].
fn client_path(host: &dyn Host) -> String {
    let path = host.header(Map::RequestHeaders, ":path").unwrap_or_default();
    if path.starts_with("/model/") || path.starts_with("/openai/") || path.starts_with("/anthropic/") {
        if let Some(original) = host.header(Map::RequestHeaders, RETRY_PATH_HEADER) {
            return original;
        }
    }
    path
}

/// The profile named by the chosen endpoint's metadata (`filter_metadata.bedrock_bridge.profile`
/// of its `LbEndpoint`), when the filter runs as an upstream filter.
const UPSTREAM_PROFILE: [&str; 5] = [
    "xds",
    "upstream_host_metadata",
    "filter_metadata",
    "bedrock_bridge",
    "profile",
];

/// `retry-after` on a 429 when Bedrock gave no hint, in seconds.
pub(crate) const DEFAULT_RETRY_AFTER: &str = "1";

/// The `retry-after` of a 429: Bedrock's hint when it gave a usable one, else the default.
fn retry_after(upstream: &Upstream) -> String {
    match upstream {
        Upstream::Error {
            retry_after: Some(h), ..
        }
        | Upstream::GatewayLimited { retry_after: Some(h) }
            if valid_retry_after(h) =>
        {
            h.clone()
        }
        _ => DEFAULT_RETRY_AFTER.into(),
    }
}

/// A `retry-after` value worth passing on: delay-seconds (or an HTTP date), printable ASCII.
fn valid_retry_after(v: &str) -> bool {
    !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| (0x20..0x7f).contains(&b))
}
