//! Anthropic's error shape: `{"type":"error","error":{"type","message"}}`, for HTTP error bodies
//! and for the `error` event of a stream.

use crate::error::{ApiError, ErrorType};
use serde::Serialize;

#[derive(Serialize)]
struct Body<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    message: &'a str,
}

/// Anthropic's error `type` for an error (its HTTP status decides, as in Anthropic's API:
/// 400 invalid_request_error, 401 authentication_error, 403 permission_error, 404
/// not_found_error, 413 request_too_large, 429 rate_limit_error, 503/529 overloaded_error,
/// 504 timeout_error, other 5xx api_error).
pub(crate) fn error_type(e: &ApiError) -> &'static str {
    match e.status {
        401 => "authentication_error",
        402 => "billing_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        503 | 529 => "overloaded_error",
        504 => "timeout_error",
        400..=499 => "invalid_request_error",
        _ => match e.kind {
            ErrorType::RateLimit => "rate_limit_error",
            _ => "api_error",
        },
    }
}

/// The JSON error body. Bedrock's error code (when known) is kept at the end of the message.
pub fn body(e: &ApiError) -> Vec<u8> {
    let message = match (&e.code, e.status >= 500 || e.kind != ErrorType::InvalidRequest) {
        (Some(code), true) if !e.message.contains(code.as_ref()) => format!("{} ({code})", e.message),
        _ => e.message.clone(),
    };
    let b = Body {
        kind: "error",
        error: Inner {
            kind: error_type(e),
            message: &message,
        },
    };
    serde_json::to_vec(&b)
        .unwrap_or_else(|_| br#"{"type":"error","error":{"type":"api_error","message":"internal error"}}"#.to_vec())
}

/// The `error` event of an Anthropic stream.
pub(crate) fn event(e: &ApiError, out: &mut Vec<u8>) {
    out.extend_from_slice(b"event: error\ndata: ");
    out.extend_from_slice(&body(e));
    out.extend_from_slice(b"\n\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn shape_and_types() {
        let cases = [
            (ApiError::invalid_request("bad"), 400, "invalid_request_error"),
            (
                ApiError::new(401, ErrorType::Authentication, "x"),
                401,
                "authentication_error",
            ),
            (ApiError::new(403, ErrorType::Permission, "x"), 403, "permission_error"),
            (ApiError::new(404, ErrorType::NotFound, "x"), 404, "not_found_error"),
            (
                ApiError::new(413, ErrorType::InvalidRequest, "x"),
                413,
                "request_too_large",
            ),
            (ApiError::new(429, ErrorType::RateLimit, "x"), 429, "rate_limit_error"),
            (ApiError::new(503, ErrorType::Server, "x"), 503, "overloaded_error"),
            (ApiError::new(504, ErrorType::Server, "x"), 504, "timeout_error"),
            (ApiError::bad_upstream("x"), 502, "api_error"),
            (ApiError::new(500, ErrorType::Server, "x"), 500, "api_error"),
        ];
        for (e, status, kind) in cases {
            assert_eq!(e.status, status);
            let v: Value = serde_json::from_slice(&body(&e)).unwrap();
            assert_eq!(v["type"], "error");
            assert_eq!(v["error"]["type"], kind, "{status}");
            assert!(v["error"]["message"].as_str().unwrap().contains(&e.message));
        }
    }

    #[test]
    fn stream_event_is_one_sse_event() {
        let mut out = Vec::new();
        event(
            &ApiError::new(429, ErrorType::RateLimit, "slow down").with_code("ThrottlingException"),
            &mut out,
        );
        let s = String::from_utf8(out).unwrap();
        assert!(s.starts_with("event: error\ndata: {"));
        assert!(s.ends_with("}\n\n"));
        assert!(s.contains("slow down (ThrottlingException)"));
    }
}
