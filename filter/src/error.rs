//! OpenAI-style errors (`{"error":{"message","type","param","code"}}`) and the mapping of every
//! Bedrock error — HTTP errors with `x-amzn-ErrorType`, and exceptions inside an event stream —
//! to an OpenAI status, type and code.

use serde::Serialize;
use std::borrow::Cow;

/// OpenAI's error `type` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorType {
    InvalidRequest,
    Authentication,
    Permission,
    NotFound,
    RateLimit,
    Server,
}

impl ErrorType {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorType::InvalidRequest => "invalid_request_error",
            ErrorType::Authentication => "authentication_error",
            ErrorType::Permission => "permission_error",
            ErrorType::NotFound => "not_found_error",
            ErrorType::RateLimit => "rate_limit_error",
            ErrorType::Server => "server_error",
        }
    }
}

/// An error to send to the client, as HTTP status + OpenAI error object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub kind: ErrorType,
    pub message: String,
    pub code: Option<Cow<'static, str>>,
    pub param: Option<String>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    message: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    param: Option<&'a str>,
    code: Option<&'a str>,
}

impl ApiError {
    pub(crate) fn new(status: u16, kind: ErrorType, message: impl Into<String>) -> Self {
        ApiError {
            status,
            kind,
            message: message.into(),
            code: None,
            param: None,
        }
    }

    /// 400 `invalid_request_error` about one request parameter.
    pub(crate) fn invalid_param(param: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError {
            param: Some(param.into()),
            code: Some(Cow::Borrowed("invalid_value")),
            ..ApiError::new(400, ErrorType::InvalidRequest, message)
        }
    }

    /// 400 `invalid_request_error` about the request as a whole.
    pub(crate) fn invalid_request(message: impl Into<String>) -> Self {
        ApiError::new(400, ErrorType::InvalidRequest, message)
    }

    /// 500 for a filter that could not load its configuration.
    pub(crate) fn misconfigured(detail: &str) -> Self {
        ApiError::new(
            500,
            ErrorType::Server,
            format!("the gateway is misconfigured: {detail}"),
        )
        .with_code("gateway_misconfigured")
    }

    /// 502 for a response from Bedrock that the filter cannot read.
    pub(crate) fn bad_upstream(detail: impl std::fmt::Display) -> Self {
        ApiError::new(
            502,
            ErrorType::Server,
            format!("invalid response from Bedrock: {detail}"),
        )
        .with_code("bad_upstream_response")
    }

    pub(crate) fn with_code(mut self, code: impl Into<Cow<'static, str>>) -> Self {
        self.code = Some(code.into());
        self
    }

    /// The JSON body `{"error":{…}}`.
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.message.len() + 96);
        self.write_json(&mut out);
        out
    }

    /// Append the JSON body `{"error":{…}}` to `out`: the one place the OpenAI error shape is
    /// written (HTTP error bodies and the error events of a stream).
    pub(crate) fn write_json(&self, out: &mut Vec<u8>) {
        let body = Body {
            error: Inner {
                message: &self.message,
                kind: self.kind.as_str(),
                param: self.param.as_deref(),
                code: self.code.as_deref(),
            },
        };
        let start = out.len();
        if serde_json::to_writer(&mut *out, &body).is_err() {
            out.truncate(start);
            out.extend_from_slice(
                br#"{"error":{"message":"internal error","type":"server_error","param":null,"code":null}}"#,
            );
        }
    }
}

/// Status and type for a Bedrock error name (HTTP `x-amzn-ErrorType` or stream `:exception-type`),
/// compared case-insensitively and without the `Exception` suffix, so that
/// `ThrottlingException` and `throttlingException` agree.
fn classify(name: &str) -> Option<(u16, ErrorType)> {
    let lower = name.to_ascii_lowercase();
    let key = lower.strip_suffix("exception").unwrap_or(&lower);
    Some(match key {
        "validation" | "serialization" | "badrequest" => (400, ErrorType::InvalidRequest),
        "unrecognizedclient"
        | "invalidsignature"
        | "expiredtoken"
        | "incompletesignature"
        | "missingauthenticationtoken"
        | "invalidclienttokenid"
        | "unauthorized" => (401, ErrorType::Authentication),
        "accessdenied" => (403, ErrorType::Permission),
        "resourcenotfound" | "unknownoperation" => (404, ErrorType::NotFound),
        "conflict" => (409, ErrorType::InvalidRequest),
        "throttling" | "servicequotaexceeded" | "toomanyrequests" => (429, ErrorType::RateLimit),
        "internalserver" | "internalfailure" => (500, ErrorType::Server),
        "modelerror" | "modelstreamerror" => (502, ErrorType::Server),
        "serviceunavailable" | "modelnotready" => (503, ErrorType::Server),
        "modeltimeout" => (504, ErrorType::Server),
        _ => return None,
    })
}

fn classify_status(status: u16) -> (u16, ErrorType) {
    match status {
        400 | 413 | 422 => (400, ErrorType::InvalidRequest),
        401 => (401, ErrorType::Authentication),
        403 => (403, ErrorType::Permission),
        404 => (404, ErrorType::NotFound),
        408 => (504, ErrorType::Server),
        429 => (429, ErrorType::RateLimit),
        500..=599 => (status, ErrorType::Server),
        _ => (502, ErrorType::Server),
    }
}

/// The error name from an `x-amzn-ErrorType` value such as
/// `ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/`.
pub fn error_name(header: &str) -> &str {
    header.split(':').next().unwrap_or("").trim()
}

/// The OpenAI status and type a Bedrock HTTP error becomes, known from the response headers alone
/// (so the status can be set before the body arrives).
pub fn status_for_bedrock(status: u16, error_type_header: Option<&str>) -> (u16, ErrorType) {
    error_type_header
        .map(error_name)
        .and_then(classify)
        .unwrap_or_else(|| classify_status(status))
}

/// Build the client error for a Bedrock HTTP error response.
pub fn from_bedrock_http(aws_status: u16, error_type_header: Option<&str>, body: &[u8]) -> ApiError {
    let parsed = parse_error_body(body);
    let name = error_type_header
        .map(error_name)
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .or(parsed.type_name);
    let (status, kind) = name
        .as_deref()
        .and_then(classify)
        .unwrap_or_else(|| classify_status(aws_status));
    let message = parsed
        .message
        .unwrap_or_else(|| format!("Bedrock returned HTTP {aws_status} without an error message"));
    with_name(ApiError::new(status, kind, message), name.as_deref())
}

/// Build the client error for an exception frame inside a Bedrock event stream
/// (`:message-type exception` with `:exception-type`, or `:message-type error` with
/// `:error-code` / `:error-message`).
pub fn from_bedrock_stream(name: &str, payload: &[u8], message_header: Option<&str>) -> ApiError {
    let parsed = parse_error_body(payload);
    let (status, kind) = classify(name).unwrap_or((502, ErrorType::Server));
    let message = parsed
        .message
        .or_else(|| message_header.map(str::to_string))
        .unwrap_or_else(|| format!("Bedrock stream failed with {name}"));
    with_name(ApiError::new(status, kind, message), Some(name))
}

fn with_name(mut e: ApiError, name: Option<&str>) -> ApiError {
    let lower = e.message.to_ascii_lowercase();
    let code = if e.status == 400
        && (lower.contains("too long") || lower.contains("context length") || lower.contains("too many input tokens"))
    {
        Some(Cow::Borrowed("context_length_exceeded"))
    } else {
        name.filter(|n| !n.is_empty()).map(|n| {
            // Normalise stream names (`throttlingException`) to the HTTP form.
            // Exception names are ASCII; an ASCII-only upper-casing keeps the Unicode case tables
            // (about 12 KB) out of the module.
            let mut s = n.to_string();
            if let Some(first) = s.get_mut(..1) {
                first.make_ascii_uppercase();
            }
            Cow::Owned(s)
        })
    };
    e.code = code;
    e
}

#[derive(Default)]
struct ParsedErrorBody {
    message: Option<String>,
    type_name: Option<String>,
}

fn parse_error_body(body: &[u8]) -> ParsedErrorBody {
    const MAX_RAW: usize = 1024;
    if let Ok(serde_json::Value::Object(m)) = serde_json::from_slice::<serde_json::Value>(body) {
        let text = |k: &str| m.get(k).and_then(|v| v.as_str()).map(str::to_string);
        return ParsedErrorBody {
            message: text("message")
                .or_else(|| text("Message"))
                .or_else(|| text("originalMessage"))
                // Already OpenAI-shaped: Envoy's own reply under the shipped local_reply_config.
                .or_else(|| {
                    m.get("error")
                        .and_then(|e| e.get("message"))
                        .and_then(|v| v.as_str())
                        .map(str::to_string)
                }),
            type_name: text("__type").map(|t| t.rsplit('#').next().unwrap_or(&t).to_string()),
        };
    }
    let raw = String::from_utf8_lossy(body.get(..MAX_RAW).unwrap_or(body));
    let raw = raw.trim();
    ParsedErrorBody {
        message: (!raw.is_empty()).then(|| raw.to_string()),
        type_name: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(e: &ApiError) -> serde_json::Value {
        serde_json::from_slice(&e.to_json()).unwrap()
    }

    #[test]
    fn openai_shaped_error_bodies_keep_their_message() {
        let body = br#"{"error":{"message":"upstream request timeout","type":"server_error","param":null,"code":"upstream_error"}}"#;
        let e = from_bedrock_http(504, None, body);
        assert_eq!((e.status, e.message.as_str()), (504, "upstream request timeout"));
    }

    #[test]
    fn error_body_shape() {
        let e = ApiError::invalid_param("messages", "`messages` must be a non-empty array");
        let v = json(&e);
        assert_eq!(v["error"]["type"], "invalid_request_error");
        assert_eq!(v["error"]["param"], "messages");
        assert_eq!(v["error"]["message"], "`messages` must be a non-empty array");
        assert!(v["error"].as_object().unwrap().contains_key("code"));
    }

    #[test]
    fn every_documented_bedrock_error_maps() {
        let cases = [
            ("ValidationException", 400, 400, "invalid_request_error"),
            ("UnrecognizedClientException", 403, 401, "authentication_error"),
            ("InvalidSignatureException", 403, 401, "authentication_error"),
            ("ExpiredTokenException", 403, 401, "authentication_error"),
            ("AccessDeniedException", 403, 403, "permission_error"),
            ("ResourceNotFoundException", 404, 404, "not_found_error"),
            ("ThrottlingException", 429, 429, "rate_limit_error"),
            ("ServiceQuotaExceededException", 400, 429, "rate_limit_error"),
            ("ModelTimeoutException", 408, 504, "server_error"),
            ("ModelNotReadyException", 429, 503, "server_error"),
            ("ServiceUnavailableException", 503, 503, "server_error"),
            ("InternalServerException", 500, 500, "server_error"),
            ("ModelErrorException", 424, 502, "server_error"),
        ];
        for (name, aws_status, status, kind) in cases {
            let header = format!("{name}:http://internal.amazon.com/coral/com.amazon.bedrock/");
            let e = from_bedrock_http(aws_status, Some(&header), br#"{"message":"boom"}"#);
            assert_eq!((e.status, e.kind.as_str()), (status, kind), "{name}");
            assert_eq!(e.message, "boom");
            assert_eq!(e.code.as_deref(), Some(name));
            assert_eq!(status_for_bedrock(aws_status, Some(&header)).0, status, "{name}");
        }
    }

    #[test]
    fn stream_exception_names_are_lower_camel() {
        let e = from_bedrock_stream("throttlingException", br#"{"message":"slow down"}"#, None);
        assert_eq!((e.status, e.kind), (429, ErrorType::RateLimit));
        assert_eq!(e.code.as_deref(), Some("ThrottlingException"));
        let e = from_bedrock_stream(
            "modelStreamErrorException",
            br#"{"message":"m","originalStatusCode":400,"originalMessage":"o"}"#,
            None,
        );
        assert_eq!((e.status, e.message.as_str()), (502, "m"));
        let e = from_bedrock_stream("SomethingNew", b"", Some("header message"));
        assert_eq!((e.status, e.message.as_str()), (502, "header message"));
    }

    #[test]
    fn falls_back_to_status_and_raw_body() {
        let e = from_bedrock_http(503, None, b"upstream connect error");
        assert_eq!((e.status, e.kind), (503, ErrorType::Server));
        assert_eq!(e.message, "upstream connect error");
        let e = from_bedrock_http(
            400,
            None,
            br#"{"__type":"com.amazon#ValidationException","message":"Input is too long for requested model."}"#,
        );
        assert_eq!(e.code.as_deref(), Some("context_length_exceeded"));
        let e = from_bedrock_http(418, None, b"");
        assert_eq!(e.status, 502);
        assert!(e.message.contains("418"));
    }
}
