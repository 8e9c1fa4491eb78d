//! Request authentication: AWS SigV4 (service `bedrock`), or a Bedrock API key.
//!
//! The SigV4 signer is a small implementation over `sha2` that produces exactly the headers of
//! `aws-sigv4` with its default `SigningSettings` (checked against it in the tests), without
//! its dependency tree (`http`, `aws-smithy-*`, `time`, `tracing`...), for the module size.
//!
//! Host-independent: the caller passes the time (from the proxy-wasm host, never the OS clock).
//! The result is the list of headers to set; nothing here logs.

use crate::config::Auth;
use crate::error::{ApiError, ErrorType};
use sha2::{Digest, Sha256};
use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// The SigV4 service name of Bedrock Runtime.
pub const SERVICE: &str = "bedrock";

/// The SigV4 service name of Bedrock Mantle (`bedrock-mantle.{region}.api.aws`): its own IAM
/// service prefix (`bedrock-mantle:CreateInference`), so a scope of `bedrock` is refused.
/// <https://docs.aws.amazon.com/bedrock/latest/userguide/bedrock-mantle.html> ("Permissions"),
/// <https://docs.aws.amazon.com/service-authorization/latest/reference/list_bedrock-mantle.html>,
/// BerriAI/litellm#31475.
pub const MANTLE_SERVICE: &str = "bedrock-mantle";

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
    auth_headers_for(auth, SERVICE, region, req, time)
}

/// [`auth_headers`] for the SigV4 service `service` ([`SERVICE`] or [`MANTLE_SERVICE`]).
pub fn auth_headers_for(
    auth: &Auth,
    service: &str,
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
    sign_v4(akid, secret, token.as_deref(), (region, service), req, time)
}

/// `authorization` and `x-amz-date` (and `x-amz-security-token`), in `aws-sigv4`'s order.
fn sign_v4(
    akid: &str,
    secret: &str,
    token: Option<&str>,
    (region, service): (&str, &str),
    req: &Request<'_>,
    time: SystemTime,
) -> Result<Vec<(String, String)>, SignError> {
    let (path, query) = match req.path.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (req.path, None),
    };
    if !req.host.bytes().all(|b| b.is_ascii_graphic()) || req.host.is_empty() {
        return Err(SignError("the host is not a valid authority".into()));
    }
    if !req.path.bytes().all(|b| b.is_ascii_graphic()) || req.path.contains('#') {
        return Err(SignError("the path is not a valid URI path".into()));
    }
    if !req.method.bytes().all(is_token_byte) || req.method.is_empty() {
        return Err(SignError("invalid method".into()));
    }
    let date_time = format_date_time(time)?;
    let date = date_time.get(..8).unwrap_or_default();

    // Canonical headers: lowercased names in first-seen order, values trimmed, repeats joined.
    let mut headers: Vec<(String, Vec<String>)> = Vec::with_capacity(req.headers.len() + 3);
    for (name, value) in req.headers {
        let name = name.to_ascii_lowercase();
        if name.is_empty() || !name.bytes().all(is_token_byte) {
            return Err(SignError("invalid header name".into()));
        }
        if !value.bytes().all(|b| b == b'\t' || (b' '..=b'~').contains(&b)) {
            return Err(SignError(format!("invalid value for header `{name}`")));
        }
        let value = trim_all(value);
        match headers.iter_mut().find(|(n, _)| *n == name) {
            Some((_, values)) => values.push(value),
            None => headers.push((name, vec![value])),
        }
    }
    if !headers.iter().any(|(n, _)| n == "host") {
        let host = req.host.strip_suffix(":443").unwrap_or(req.host);
        headers.push(("host".into(), vec![host.to_string()]));
    }
    set_header(&mut headers, "x-amz-date", &date_time);
    if let Some(token) = token {
        if !token.bytes().all(|b| b == b'\t' || (b' '..=b'~').contains(&b)) {
            return Err(SignError("invalid session token".into()));
        }
        set_header(&mut headers, "x-amz-security-token", token);
    }
    const EXCLUDED: [&str; 4] = ["authorization", "user-agent", "x-amzn-trace-id", "transfer-encoding"];
    let mut signed: Vec<&(String, Vec<String>)> = headers
        .iter()
        .filter(|(n, _)| !EXCLUDED.contains(&n.as_str()))
        .collect();
    signed.sort_by(|a, b| a.0.cmp(&b.0));
    let signed_names = signed.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(";");

    let mut creq = String::with_capacity(256 + req.path.len());
    creq.push_str(req.method);
    creq.push('\n');
    percent_encode(&normalize_path(path), true, &mut creq);
    creq.push('\n');
    creq.push_str(&canonical_query(query.unwrap_or_default()));
    creq.push('\n');
    for (name, values) in &signed {
        creq.push_str(name);
        creq.push(':');
        creq.push_str(&values.join(","));
        creq.push('\n');
    }
    creq.push('\n');
    creq.push_str(&signed_names);
    creq.push('\n');
    creq.push_str(&hex(&Sha256::digest(req.body)));

    let scope = format!("{date}/{region}/{service}/aws4_request");
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{date_time}\n{scope}\n{}",
        hex(&Sha256::digest(creq.as_bytes()))
    );
    let mut key = hmac_sha256(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    for part in [region, service, "aws4_request"] {
        key = hmac_sha256(&key, part.as_bytes());
    }
    let signature = hex(&hmac_sha256(&key, string_to_sign.as_bytes()));

    let mut out = vec![
        ("x-amz-date".to_string(), date_time),
        (
            "authorization".to_string(),
            format!("AWS4-HMAC-SHA256 Credential={akid}/{scope}, SignedHeaders={signed_names}, Signature={signature}"),
        ),
    ];
    if let Some(token) = token {
        out.push(("x-amz-security-token".to_string(), token.to_string()));
    }
    Ok(out)
}

/// RFC 7230 `tchar`.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn set_header(headers: &mut Vec<(String, Vec<String>)>, name: &str, value: &str) {
    match headers.iter_mut().find(|(n, _)| n == name) {
        Some((_, values)) => *values = vec![value.to_string()],
        None => headers.push((name.to_string(), vec![value.to_string()])),
    }
}

/// Leading and trailing spaces removed, runs of spaces collapsed to one (as `aws-sigv4`).
fn trim_all(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.trim_matches(' ').chars() {
        if !(c == ' ' && out.ends_with(' ')) {
            out.push(c);
        }
    }
    out
}

/// RFC 3986 5.2.4 dot-segment removal, empty segments dropped (as `aws-sigv4`).
fn normalize_path(path: &str) -> String {
    if path.is_empty() {
        return "/".into();
    }
    let path = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    };
    if !(path.contains('.') || path.contains("//")) {
        return path;
    }
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut out = String::with_capacity(path.len());
    for s in &segments {
        out.push('/');
        out.push_str(s);
    }
    if out.is_empty() || (["/", "/.", "/./", "/..", "/../"].iter().any(|e| path.ends_with(e)) && !out.ends_with('/')) {
        out.push('/');
    }
    out
}

/// Percent-encodes everything but RFC 3986 unreserved characters (and `/` if `keep_slash`).
fn percent_encode(s: &str, keep_slash: bool, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || (keep_slash && b == b'/') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
}

/// `application/x-www-form-urlencoded` decoding of one query component (`+` is a space).
fn form_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex_at = |j: usize| bytes.get(j).and_then(|c| char::from(*c).to_digit(16));
        match b {
            b'+' => out.push(b' '),
            b'%' => match (hex_at(i + 1), hex_at(i + 2)) {
                (Some(h), Some(l)) => {
                    out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The query parameters decoded, re-encoded, sorted and joined (as `aws-sigv4`).
fn canonical_query(query: &str) -> String {
    let mut params: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let (mut ek, mut ev) = (String::new(), String::new());
            percent_encode(&form_decode(k), false, &mut ek);
            percent_encode(&form_decode(v), false, &mut ev);
            (ek, ev)
        })
        .collect();
    params.sort();
    params
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
    }
    out
}

/// HMAC-SHA256 (RFC 2104).
fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    inner.update(data);
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// `YYYYMMDDTHHMMSSZ` (UTC) of `time`.
fn format_date_time(time: SystemTime) -> Result<String, SignError> {
    let secs = time
        .duration_since(UNIX_EPOCH)
        .map_err(|_| SignError("the time is before 1970".into()))?
        .as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's civil_from_days, for days >= 0.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    if year > 9999 {
        return Err(SignError("the time is after 9999".into()));
    }
    Ok(format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    ))
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

    /// The reference: `aws-sigv4` with its default settings (the signer this module replaced).
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
            .name(SERVICE)
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
            let req = Request { method, host: &host, path: &path, headers: &headers, body: &body };
            let time = UNIX_EPOCH + Duration::from_secs(secs);
            let want = reference(&auth, region, &req, time);
            prop_assert!(want.is_ok(), "the reference refused {path}: {want:?}");
            prop_assert_eq!(auth_headers(&auth, region, &req, time).ok(), want.ok());
        }
    }

    #[test]
    fn utc_formatting_matches_known_dates() {
        let at = |s: u64| format_date_time(UNIX_EPOCH + Duration::from_secs(s)).unwrap();
        assert_eq!(at(0), "19700101T000000Z");
        assert_eq!(at(951_782_400), "20000229T000000Z");
        assert_eq!(at(1_709_251_199), "20240229T235959Z");
        assert_eq!(at(4_102_444_799), "20991231T235959Z");
        assert!(format_date_time(UNIX_EPOCH - Duration::from_secs(1)).is_err());
    }

    #[test]
    fn hmac_matches_rfc_4231() {
        // Test case 2 and test case 6 (a key longer than the block).
        assert_eq!(
            hex(&hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hex(&hmac_sha256(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }
}
