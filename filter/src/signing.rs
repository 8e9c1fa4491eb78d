//! Request authentication: AWS SigV4 (service `bedrock` unless the caller names another), or a
//! Bedrock API key.
//!
//! SigV4 is AWS's own `aws-sigv4` crate with its default `SigningSettings` (the settings botocore
//! and Bedrock agree with for `/model/{id}/converse-stream`: each path segment percent-encoded
//! again). The inputs are checked first as `http` request parts (method, URI, header names and
//! values), so that a malformed input is an error here and never reaches a panic inside the
//! library (a panic traps the whole VM).
//!
//! Host-independent: the caller passes the time (from the proxy-wasm host, never the OS clock).
//! The result is the list of headers to set; nothing here logs.

use crate::config::Auth;
use crate::error::{ApiError, ErrorType};
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The SigV4 service name of Bedrock Runtime.
pub const SERVICE: &str = "bedrock";

/// The SigV4 service name of Bedrock Mantle (`bedrock-mantle.{region}.api.aws`): its own IAM
/// service prefix (`bedrock-mantle:CreateInference`), so a scope of `bedrock` is refused.
/// <https://docs.aws.amazon.com/bedrock/latest/userguide/bedrock-mantle.html> ("Permissions"),
/// <https://docs.aws.amazon.com/service-authorization/latest/reference/list_bedrock-mantle.html>,
/// BerriAI/litellm#31475.
pub(crate) const MANTLE_SERVICE: &str = "bedrock-mantle";

/// The first second `aws-sigv4` cannot format (year 10000): its date conversion panics past it.
const END_OF_9999: u64 = 253_402_300_800;

/// Signing failed (only on malformed inputs such as a non-ASCII header value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignError(pub String);

impl fmt::Display for SignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "could not sign the Bedrock request: {}", self.0)
    }
}

/// The request to authenticate. `headers` are the headers that will be sent and should be
/// signed (at least `host` and `content-type`); `path` is the exact `:path`; `service` is the
/// SigV4 service name of the endpoint ([`SERVICE`] for Bedrock Runtime).
pub struct Request<'a> {
    pub method: &'a str,
    pub host: &'a str,
    pub path: &'a str,
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
    pub service: &'a str,
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
    let parts = checked_parts(req)?;
    let secs = time
        .duration_since(UNIX_EPOCH)
        .map_err(|_| SignError("the time is before 1970".into()))?
        .as_secs();
    if secs >= END_OF_9999 {
        return Err(SignError("the time is after 9999".into()));
    }
    let identity = aws_credential_types::Credentials::new(akid, secret, token.clone(), None, "bedrock-bridge").into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(req.service)
        .time(UNIX_EPOCH + Duration::from_secs(secs))
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| SignError(e.to_string()))?;
    let headers = parts
        .headers
        .iter()
        .filter_map(|(n, v)| Some((n.as_str(), v.to_str().ok()?)));
    let signable = SignableRequest::new(
        parts.method.as_str(),
        parts.uri.to_string(),
        headers,
        SignableBody::Bytes(req.body),
    )
    .map_err(|e| SignError(e.to_string()))?;
    let (instructions, _) = sign(signable, &params.into())
        .map_err(|e| SignError(e.to_string()))?
        .into_parts();
    Ok(instructions
        .headers()
        .map(|(n, v)| (n.to_ascii_lowercase(), v.to_string()))
        .collect())
}

/// The request as `http` parts: a valid method, an absolute `https` URI with a host, and header
/// names and values `http` accepts as visible ASCII, which is what `aws-sigv4` assumes.
fn checked_parts(req: &Request<'_>) -> Result<http::request::Parts, SignError> {
    if req.host.is_empty() || !req.host.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(SignError("the host is not a valid authority".into()));
    }
    if !req.path.bytes().all(|b| b.is_ascii_graphic()) || req.path.contains('#') {
        return Err(SignError("the path is not a valid URI path".into()));
    }
    let uri: http::Uri = format!("https://{}{}", req.host, req.path)
        .parse()
        .map_err(|_| SignError("the host and path are not a valid URI".into()))?;
    if uri.host().is_none_or(str::is_empty) {
        return Err(SignError("the host is not a valid authority".into()));
    }
    let mut builder = http::Request::builder().method(req.method).uri(uri);
    for (name, value) in req.headers {
        let value = http::HeaderValue::from_str(value)
            .ok()
            .filter(|v| v.to_str().is_ok())
            .ok_or_else(|| SignError(format!("invalid value for header `{}`", name.to_ascii_lowercase())))?;
        builder = builder.header(*name, value);
    }
    builder
        .body(())
        .map(|r| r.into_parts().0)
        .map_err(|e| SignError(format!("invalid request: {e}")))
}

/// With `"signing": "envoy"` the filter cannot see whether Envoy's signer is in the chain, nor
/// whether it has credentials (without any, Envoy's signer forwards the request unsigned). A
/// request that went out unsigned comes back from Bedrock as `MissingAuthenticationToken`: turn
/// that into a 500 naming the signer (the gateway is broken, not the client's key), and
/// say on every other authentication error that the credentials are Envoy's signer's. Errors of
/// the other modes are returned unchanged.
pub(crate) fn explain_rejection(auth: &Auth, e: ApiError) -> ApiError {
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
    use proptest::prelude::*;
    use std::time::Duration;

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
            service: SERVICE,
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

    /// The reference: `aws-sigv4` called directly on the raw inputs, with its default settings, to
    /// show that checking the inputs as `http` parts changes nothing for valid requests.
    fn reference(
        auth: &Auth,
        region: &str,
        req: &Request<'_>,
        time: SystemTime,
    ) -> Result<Vec<(String, String)>, String> {
        use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
        let Auth::SigV4 {
            access_key_id,
            secret_access_key,
            session_token,
        } = auth
        else {
            return Err("not sigv4".into());
        };
        let identity = aws_credential_types::Credentials::new(
            access_key_id.as_str(),
            secret_access_key.as_str(),
            session_token.clone(),
            None,
            "test",
        )
        .into();
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region(region)
            .name(req.service)
            .time(time)
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| e.to_string())?
            .into();
        let url = format!("https://{}{}", req.host, req.path);
        let signable = SignableRequest::new(
            req.method,
            url,
            req.headers.iter().copied(),
            SignableBody::Bytes(req.body),
        )
        .map_err(|e| e.to_string())?;
        let (instructions, _) = sign(signable, &params).map_err(|e| e.to_string())?.into_parts();
        Ok(instructions
            .headers()
            .map(|(n, v)| (n.to_ascii_lowercase(), v.to_string()))
            .collect())
    }

    fn header_strategy() -> impl Strategy<Value = Vec<(String, String)>> {
        let name = prop_oneof![
            Just("content-type".to_string()),
            Just("Accept".to_string()),
            Just("x-amz-date".to_string()),
            Just("user-agent".to_string()),
            Just("X-Amzn-Trace-Id".to_string()),
            Just("x-amzn-bedrock-trace".to_string()),
            Just("x-amz-security-token".to_string()),
            "[a-z][a-z0-9-]{0,12}",
        ];
        let value = prop_oneof![
            Just("application/json".to_string()),
            Just("  lots   of  spaces ".to_string()),
            Just("a\tb".to_string()),
            "[ -~]{0,24}",
        ];
        proptest::collection::vec((name, value), 0..5)
    }

    fn path_strategy() -> impl Strategy<Value = String> {
        let segment = prop_oneof![
            Just("model".to_string()),
            Just("converse".to_string()),
            Just("converse-stream".to_string()),
            Just("us.anthropic.claude-sonnet-4-20250514-v1%3A0".to_string()),
            Just("us.anthropic.claude-sonnet-4-20250514-v1:0".to_string()),
            Just("arn%3Aaws%3Abedrock%3Aus-west-2%3A123456789012%3Ainference-profile%2Fus.meta.llama3".to_string()),
            Just("arn:aws:bedrock:eu-west-1:123456789012:application-inference-profile/abc123".to_string()),
            Just(".".to_string()),
            Just("..".to_string()),
            Just(String::new()),
            "[A-Za-z0-9._~:@!$&'()*+,;=%-]{1,16}",
        ];
        (
            proptest::collection::vec(segment, 0..6),
            any::<bool>(),
            proptest::option::of("[a-zA-Z0-9=&%+._~-]{0,20}"),
        )
            .prop_map(|(segments, trailing, query)| {
                let mut path = format!("/{}", segments.join("/"));
                if trailing {
                    path.push('/');
                }
                if let Some(q) = query {
                    path.push('?');
                    path.push_str(&q);
                }
                path
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn sigv4_matches_aws_sigv4(
            path in path_strategy(),
            host in prop_oneof![
                Just("bedrock-runtime.us-east-1.amazonaws.com".to_string()),
                Just("bedrock-runtime.eu-central-1.amazonaws.com".to_string()),
                Just("127.0.0.1:8443".to_string()),
                Just("bedrock-runtime-fips.us-gov-west-1.amazonaws.com".to_string()),
            ],
            include_host in any::<bool>(),
            region in prop_oneof![Just("us-east-1"), Just("eu-central-1"), Just("ap-southeast-2"), Just("us-gov-west-1")],
            method in prop_oneof![Just("POST"), Just("GET")],
            extra in header_strategy(),
            body in proptest::collection::vec(any::<u8>(), 0..300),
            secs in 0u64..4_102_444_800,
            token in proptest::option::of("[A-Za-z0-9/+=]{1,60}"),
            akid in "AKIA[A-Z0-9]{16}",
            secret in "[A-Za-z0-9/+]{40}",
        ) {
            let auth = Auth::SigV4 {
                access_key_id: akid,
                secret_access_key: secret,
                session_token: token,
            };
            let mut headers: Vec<(&str, &str)> = Vec::new();
            if include_host {
                headers.push(("host", host.as_str()));
            }
            headers.extend(extra.iter().map(|(n, v)| (n.as_str(), v.as_str())));
            let req = Request { method, host: &host, path: &path, headers: &headers, body: &body, service: SERVICE };
            let time = UNIX_EPOCH + Duration::from_secs(secs);
            let want = reference(&auth, region, &req, time);
            prop_assert!(want.is_ok(), "the reference refused {path}: {want:?}");
            prop_assert_eq!(auth_headers(&auth, region, &req, time).ok(), want.ok());
        }
    }

    /// Known answers from botocore (`scripts/sigv4_vectors.py` prints them): AWS's SigV4 test
    /// suite `get-vanilla` / `post-vanilla` (service `service`), a Bedrock Runtime request with a
    /// session token and an encoded model id, and a Bedrock Mantle request (its own service name).
    #[test]
    fn sigv4_matches_botocore_vectors() {
        const JSON: &[(&str, &str)] = &[("content-type", "application/json")];
        const BODY: &[u8] = br#"{"messages":[]}"#;
        fn vector<'a>(
            method: &'a str,
            host: &'a str,
            path: &'a str,
            headers: &'a [(&'a str, &'a str)],
            body: &'a [u8],
            service: &'a str,
        ) -> Request<'a> {
            Request {
                method,
                host,
                path,
                headers,
                body,
                service,
            }
        }
        let cases = [
            (vector("GET", "example.amazonaws.com", "/", &[], b"", "service"), 1_440_938_160, None,
             "SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
            (vector("POST", "example.amazonaws.com", "/", &[], b"", "service"), 1_440_938_160, None,
             "SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),
            (vector("POST", "bedrock-runtime.us-east-1.amazonaws.com",
                 "/model/us.anthropic.claude-sonnet-4-20250514-v1%3A0/converse-stream", JSON, BODY, SERVICE),
             1_700_000_000, Some("TOKEN"),
             "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature=1b09d568f7f2a020652e23d9cd4b4c0ff6f65845081aebb8466f6a71e382ded7"),
            (vector("POST", "bedrock-mantle.us-east-1.api.aws", "/v1/chat/completions", JSON, BODY, "bedrock-mantle"),
             1_700_000_000, None,
             "SignedHeaders=content-type;host;x-amz-date, Signature=e56eb3c5b614fba108dfd15c817a19ce644f7d9f90a0558bd0b271305fa31caa"),
        ];
        for (r, secs, token, want) in cases {
            let service = r.service;
            let time = UNIX_EPOCH + Duration::from_secs(secs);
            let got = auth_headers(&sigv4(token), "us-east-1", &r, time).unwrap();
            let auth = got
                .iter()
                .find(|(n, _)| n == "authorization")
                .map(|(_, v)| v.as_str())
                .unwrap();
            assert!(auth.contains(&format!("/us-east-1/{service}/aws4_request, ")), "{auth}");
            assert!(auth.ends_with(want), "{service}: {auth}");
        }
    }

    #[test]
    fn dates_are_utc_and_out_of_range_times_are_errors() {
        let h = [("host", "h")];
        let at = |s: u64| {
            let a = auth_headers(
                &sigv4(None),
                "us-east-1",
                &req("/x", &h),
                UNIX_EPOCH + Duration::from_secs(s),
            )
            .unwrap();
            a.into_iter().find(|(n, _)| n == "x-amz-date").map(|(_, v)| v)
        };
        assert_eq!(at(0).as_deref(), Some("19700101T000000Z"));
        assert_eq!(at(951_782_400).as_deref(), Some("20000229T000000Z"));
        assert_eq!(at(1_709_251_199).as_deref(), Some("20240229T235959Z"));
        assert_eq!(at(END_OF_9999 - 1).as_deref(), Some("99991231T235959Z"));
        let sign_at = |t: SystemTime| auth_headers(&sigv4(None), "us-east-1", &req("/x", &h), t);
        assert!(sign_at(UNIX_EPOCH - Duration::from_secs(1)).is_err());
        assert!(sign_at(UNIX_EPOCH + Duration::from_secs(END_OF_9999)).is_err());
    }

    #[test]
    fn malformed_inputs_are_errors_not_panics() {
        let ok = [("host", "h")];
        let bad_value = [("x-a", "caf\u{e9}")];
        let bad_name = [("bad name", "v")];
        let bad = |method, host, path, headers| Request {
            method,
            host,
            path,
            headers,
            body: b"",
            service: SERVICE,
        };
        let cases = [
            bad("POST", "", "/", &ok[..]),
            bad("POST", "a b", "/", &ok),
            bad("POST", "h", "/a#b", &ok),
            bad("POST", "h", "/\u{e9}", &ok),
            bad("PO ST", "h", "/", &ok),
            bad("POST", "h", "/", &bad_value),
            bad("POST", "h", "/", &bad_name),
        ];
        for r in &cases {
            assert!(
                auth_headers(&sigv4(None), "us-east-1", r, UNIX_EPOCH).is_err(),
                "{} {:?}",
                r.host,
                r.path
            );
        }
        let r = req("/x", &ok);
        assert!(auth_headers(&sigv4(Some("bad\ntoken")), "us-east-1", &r, UNIX_EPOCH).is_err());
    }
}
