//! The gateway's HTTP policy, host-free: which paths are served and by which front door, which
//! headers travel, completion ids, `/v1/models`, and the errors for Envoy's own replies.

use crate::config::Config;
use crate::error::{self, ApiError, ErrorType};
use crate::front::FrontDoor;
use serde::Serialize;
use std::time::{SystemTime, UNIX_EPOCH};

/// One client-facing API and the path it is served at.
pub struct FrontRoute {
    /// The path after `/v1` (`/chat/completions`): served at `/v1{path}`, `{path}` and any
    /// `…/v1{path}` (a gateway prefix), always with `POST`.
    pub(crate) path: &'static str,
    /// What the API is called in error messages ("chat completions").
    pub(crate) what: &'static str,
    pub front: &'static dyn FrontDoor,
}

/// The routing table: a new API is one more entry.
pub(crate) static ROUTES: &[FrontRoute] = &[
    FrontRoute {
        path: "/chat/completions",
        what: "chat completions",
        front: &crate::chat::CHAT,
    },
    FrontRoute {
        path: "/responses",
        what: "responses",
        front: &crate::responses::RESPONSES,
    },
    FrontRoute {
        path: "/messages",
        what: "Anthropic messages",
        front: &crate::anthropic::MESSAGES,
    },
    FrontRoute {
        path: "/messages/count_tokens",
        what: "Anthropic token counts",
        front: &crate::anthropic::count_tokens::COUNT_TOKENS,
    },
    FrontRoute {
        path: "/embeddings",
        what: "embeddings",
        front: &crate::embeddings::EMBEDDINGS,
    },
];

/// Client request headers that may travel to Bedrock; all others are removed, so the client's
/// `authorization`, `x-api-key`, cookies and SDK headers never reach AWS. `x-forwarded-proto`
/// is Envoy's own: rewriting headers clears the route cache, and Envoy cannot match a route
/// again without it.
pub const FORWARDED_REQUEST_HEADERS: &[&str] = &[
    "x-forwarded-proto",
    "x-request-id",
    "traceparent",
    "tracestate",
    "b3",
    "x-amzn-trace-id",
];

/// Bedrock response headers that reach the client (besides pseudo-headers).
pub(crate) const FORWARDED_RESPONSE_HEADERS: &[&str] = &["date", "x-request-id"];

/// The same for a body passed through unchanged (Bedrock's OpenAI-compatible endpoint): its own
/// `content-type`, `content-length` and `cache-control` stay.
pub(crate) const PASSTHROUGH_RESPONSE_HEADERS: &[&str] = &[
    "date",
    "x-request-id",
    "content-type",
    "content-length",
    "cache-control",
    "retry-after",
];

/// The `user-agent` of requests to Bedrock.
pub(crate) const USER_AGENT: &str = concat!("bedrock-bridge/", env!("CARGO_PKG_VERSION"));

/// What a request path asks for.
pub enum Route {
    /// A front door (`POST` only).
    Front(&'static FrontRoute),
    /// `GET /v1/models`.
    Models,
    /// `GET /v1/models/{model}`, the name percent-decoded (empty when not UTF-8).
    Model(String),
    /// Anything else: refused or passed through, as `unknown_paths` says.
    Other,
}

/// Route a `:path` (query ignored, trailing slashes ignored).
pub fn route(path: &str) -> Route {
    let p = path.split('?').next().unwrap_or("").trim_end_matches('/');
    if let Some(r) = ROUTES.iter().find(|r| is_api_path(p, r.path)) {
        return Route::Front(r);
    }
    if is_api_path(p, "/models") {
        return Route::Models;
    }
    let name = p
        .strip_prefix("/models/")
        .or_else(|| p.find("/v1/models/").and_then(|i| p.get(i + "/v1/models/".len()..)));
    match name {
        Some(n) => Route::Model(percent_decode(n).unwrap_or_default()),
        None => Route::Other,
    }
}

/// `p` is `/v1{api}`, `{api}`, or ends in `/v1{api}`.
fn is_api_path(p: &str, api: &str) -> bool {
    p == api || p.strip_suffix(api).is_some_and(|prefix| prefix.ends_with("/v1"))
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let hex = b.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
            Some(v) if c == b'%' => {
                out.push(v);
                i += 3;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// The 404 for a path no route serves.
pub(crate) fn unknown_path(method: &str, path: &str) -> ApiError {
    let mut msg = format!(
        "{method} {} is not served here; this gateway serves",
        path.split('?').next().unwrap_or("")
    );
    for r in ROUTES {
        msg.push_str(" POST /v1");
        msg.push_str(r.path);
        msg.push(',');
    }
    msg.push_str(" GET /v1/models and GET /v1/models/{model}");
    ApiError::new(404, ErrorType::NotFound, msg).with_code("unknown_url")
}

/// A completion id (without its API's prefix): the client's `x-request-id` reduced to at most 64
/// ASCII letters and digits, or, without one, the time in nanoseconds and the context id in hex.
pub fn request_id(x_request_id: Option<&str>, now: SystemTime, context_id: u32) -> String {
    let rid: String = x_request_id
        .unwrap_or_default()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(64)
        .collect();
    if rid.is_empty() {
        let nanos = now.duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        format!("{nanos:x}{context_id:x}")
    } else {
        rid
    }
}

/// An OpenAI model object.
#[derive(Serialize)]
struct ModelObject<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    owned_by: &'static str,
}

fn model_object(id: &str) -> ModelObject<'_> {
    ModelObject {
        id,
        object: "model",
        created: 0,
        owned_by: "bedrock",
    }
}

#[derive(Serialize)]
struct ModelList<'a> {
    object: &'static str,
    data: Vec<ModelObject<'a>>,
}

/// `GET /v1/models`: the configured aliases.
pub(crate) fn models_list(cfg: &Config) -> Vec<u8> {
    let data = cfg.models.keys().map(|alias| model_object(alias)).collect();
    serde_json::to_vec(&ModelList { object: "list", data }).unwrap_or_default()
}

/// `GET /v1/models/{model}`, as OpenAI defines it: the model object, or 404 `model_not_found`.
///
/// The rule follows what chat completions accept. With `models` configured, exactly its aliases
/// exist (the list above). Without, every name is sent to Bedrock as a model id unchanged, so
/// every name a chat request could use exists: non-empty, at most 2048 bytes, no control
/// characters, no `.` or `..` path segment. (With aliases configured, other names still reach
/// Bedrock through chat; they are not listed, so they are not retrievable either.)
pub(crate) fn model(cfg: &Config, name: &str) -> Result<Vec<u8>, ApiError> {
    let exists = if cfg.models.is_empty() {
        !name.trim().is_empty()
            && name.len() <= 2048
            && !name.chars().any(char::is_control)
            && !name.split('/').any(|seg| seg == "." || seg == "..")
    } else {
        cfg.models.contains_key(name)
    };
    if !exists {
        let mut e = ApiError::new(
            404,
            ErrorType::InvalidRequest,
            "The model does not exist or is not served by this gateway (GET /v1/models lists them)",
        )
        .with_code("model_not_found");
        e.param = Some("model".to_string());
        return Err(e);
    }
    Ok(serde_json::to_vec(&model_object(name)).unwrap_or_default())
}

/// The error that replaces Envoy's own reply to a request whose body was being buffered (413
/// past `per_connection_buffer_limit_bytes`, a timeout, …), keeping Envoy's status.
pub(crate) fn envoy_reply_error(status: u16) -> ApiError {
    if status == 413 {
        return ApiError::new(
            413,
            ErrorType::InvalidRequest,
            "the request body is larger than the proxy's buffer limit (Envoy per_connection_buffer_limit_bytes)",
        )
        .with_code("request_too_large");
    }
    let (_, kind) = error::status_for_bedrock(status, None);
    ApiError::new(
        status,
        kind,
        format!("the proxy answered {status} before the request reached Bedrock"),
    )
}

/// The 413 for a body past `limits.max_request_bytes`.
pub(crate) fn request_too_large(max: usize) -> ApiError {
    ApiError::new(
        413,
        ErrorType::InvalidRequest,
        format!("the request body is larger than this gateway's limit of {max} bytes"),
    )
    .with_code("request_too_large")
}
