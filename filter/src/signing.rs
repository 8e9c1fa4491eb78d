//! Request authentication: AWS SigV4 (service `bedrock`) via `aws-sigv4`, or a Bedrock API key.
//!
//! Host-independent: the caller passes the time (from the proxy-wasm host, never the OS clock).
//! The result is the list of headers to set; nothing here logs.

use crate::config::Auth;
use crate::error::{ApiError, ErrorType};
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use std::fmt;
use std::time::SystemTime;

/// The SigV4 service name of Bedrock Runtime.
pub const SERVICE: &str = "bedrock";

/// Signing failed (only on malformed inputs such as a non-ASCII header value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignError(pub String);

impl fmt::Display for SignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "could not sign the Bedrock request: {}", self.0)
    }
}

/// The request to authenticate. `headers` are the headers that will be sent and should be
/// signed (at least `host` and `content-type`); `path` is the exact `:path`.
pub struct Request<'a> {
    pub method: &'a str,
    pub host: &'a str,
    pub path: &'a str,
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
}

/// Headers to add: `authorization`, and for SigV4 `x-amz-date` and `x-amz-security-token`.
/// None for [`Auth::EnvoySigner`]: Envoy's `aws_request_signing` filter signs after this one
/// (the shell has already removed the client's `authorization` and `x-api-key`).
pub fn auth_headers(
    auth: &Auth,
    region: &str,
    req: &Request<'_>,
    time: SystemTime,
) -> Result<Vec<(String, String)>, SignError> {
    let (akid, secret, token) = match auth {
        Auth::Bearer(token) => return Ok(vec![("authorization".to_string(), format!("Bearer {token}"))]),
        Auth::EnvoySigner => return Ok(Vec::new()),
        Auth::SigV4 {
            access_key_id,
            secret_access_key,
            session_token,
        } => (access_key_id, secret_access_key, session_token),
    };
    let identity =
        aws_credential_types::Credentials::new(akid.as_str(), secret.as_str(), token.clone(), None, "bedrock-bridge")
            .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(SERVICE)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| SignError(e.to_string()))?
        .into();
    let url = format!("https://{}{}", req.host, req.path);
    let signable = SignableRequest::new(
        req.method,
        url,
        req.headers.iter().copied(),
        SignableBody::Bytes(req.body),
    )
    .map_err(|e| SignError(e.to_string()))?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|e| SignError(e.to_string()))?
        .into_parts();
    Ok(instructions
        .headers()
        .map(|(name, value)| (name.to_ascii_lowercase(), value.to_string()))
        .collect())
}

/// With `"signing": "envoy"` the filter cannot see whether Envoy's signer is in the chain, nor
/// whether it has credentials (without any, Envoy's signer forwards the request unsigned). A
/// request that went out unsigned comes back from Bedrock as `MissingAuthenticationToken`: turn
/// that into a 500 naming the signer (the gateway is broken, not the client's key), and
/// say on every other authentication error that the credentials are Envoy's signer's. Errors of
/// the other modes are returned unchanged.
pub fn explain_rejection(auth: &Auth, e: ApiError) -> ApiError {
    if *auth != Auth::EnvoySigner || e.kind != ErrorType::Authentication {
        return e;
    }
    if e.code.as_deref() == Some("MissingAuthenticationTokenException") {
        return ApiError::misconfigured(
            "Bedrock received the request unsigned. With \"signing\": \"envoy\", Envoy's \
             envoy.filters.http.aws_request_signing filter must come after bedrock-bridge in the HTTP \
             filter chain and have credentials (it forwards requests unsigned when its credential \
             chain found none; see Envoy's aws log)",
        );
    }
    let message = format!(
        "{} (this gateway signs with Envoy's aws_request_signing filter: check its credentials, region and service name `bedrock`)",
        e.message
    );
    ApiError { message, ..e }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn sigv4(token: Option<&str>) -> Auth {
        Auth::SigV4 {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: token.map(str::to_string),
        }
    }

    fn req<'a>(path: &'a str, headers: &'a [(&'a str, &'a str)]) -> Request<'a> {
        Request {
            method: "POST",
            host: "bedrock-runtime.us-east-1.amazonaws.com",
            path,
            headers,
            body: br#"{"messages":[]}"#,
        }
    }

    #[test]
    fn sigv4_headers_are_deterministic_for_a_time() {
        let t = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let h = [
            ("host", "bedrock-runtime.us-east-1.amazonaws.com"),
            ("content-type", "application/json"),
        ];
        let r = req("/model/us.anthropic.claude-sonnet-4-20250514-v1%3A0/converse", &h);
        let a = auth_headers(&sigv4(Some("TOKEN")), "us-east-1", &r, t).unwrap();
        let b = auth_headers(&sigv4(Some("TOKEN")), "us-east-1", &r, t).unwrap();
        assert_eq!(a, b);
        let get = |k: &str| a.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("x-amz-date"), Some("20231114T221320Z"));
        assert_eq!(get("x-amz-security-token"), Some("TOKEN"));
        let auth = get("authorization").unwrap();
        assert!(
            auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20231114/us-east-1/bedrock/aws4_request"),
            "{auth}"
        );
        assert!(
            auth.contains("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token"),
            "{auth}"
        );
        // A different path or body gives a different signature.
        let other = auth_headers(&sigv4(Some("TOKEN")), "us-east-1", &req("/model/x/converse", &h), t).unwrap();
        assert_ne!(other, a);
    }

    #[test]
    fn envoy_signer_adds_nothing() {
        let h = [("host", "h")];
        let a = auth_headers(&Auth::EnvoySigner, "us-east-1", &req("/x", &h), UNIX_EPOCH).unwrap();
        assert!(a.is_empty());
    }

    #[test]
    fn missing_envoy_signer_is_named() {
        let missing = crate::error::from_bedrock_http(
            403,
            Some("MissingAuthenticationTokenException:http://internal.amazon.com/coral/com.amazon.bedrock/"),
            br#"{"message":"Missing Authentication Token"}"#,
        );
        assert_eq!(missing.status, 401);
        let e = explain_rejection(&Auth::EnvoySigner, missing.clone());
        assert_eq!(e.status, 500);
        assert_eq!(e.code.as_deref(), Some("gateway_misconfigured"));
        assert!(e.message.contains("aws_request_signing"), "{}", e.message);
        // Other modes keep Bedrock's error as it is.
        assert_eq!(explain_rejection(&sigv4(None), missing.clone()), missing);
        assert_eq!(explain_rejection(&Auth::Bearer("b".into()), missing.clone()), missing);
        // A signature Bedrock refused: still the client-facing 401, with a hint.
        let bad =
            crate::error::from_bedrock_http(403, Some("UnrecognizedClientException"), br#"{"message":"bad token"}"#);
        let e = explain_rejection(&Auth::EnvoySigner, bad);
        assert_eq!((e.status, e.kind), (401, ErrorType::Authentication));
        assert!(
            e.message.starts_with("bad token (") && e.message.contains("aws_request_signing"),
            "{}",
            e.message
        );
        // Not an authentication error: unchanged.
        let throttled = crate::error::from_bedrock_http(429, Some("ThrottlingException"), b"{}");
        assert_eq!(explain_rejection(&Auth::EnvoySigner, throttled.clone()), throttled);
    }

    #[test]
    fn bearer_is_a_plain_header() {
        let h = [("host", "h")];
        let a = auth_headers(
            &Auth::Bearer("bedrock-api-key-abc".into()),
            "us-east-1",
            &req("/x", &h),
            UNIX_EPOCH,
        )
        .unwrap();
        assert_eq!(
            a,
            vec![("authorization".to_string(), "Bearer bedrock-api-key-abc".to_string())]
        );
    }
}
