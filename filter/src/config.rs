//! Plugin configuration: the JSON given as the wasm plugin's `configuration`, parsed once per
//! root context. Unknown fields are rejected so that a typo never silently changes behaviour.
//!
//! Credentials may come from the configuration or, when it has none, from the VM's environment
//! (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_BEARER_TOKEN_BEDROCK`,
//! exposed by Envoy's `vm_config.environment_variables.host_env_keys`). Secrets never appear in
//! `Debug` output.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;

/// Where reasoning ("thinking") text goes in OpenAI deltas and messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ReasoningField {
    /// `delta.reasoning` / `message.reasoning`.
    #[default]
    Reasoning,
    /// `delta.reasoning_content` / `message.reasoning_content` (DeepSeek / LiteLLM style).
    ReasoningContent,
    /// Both fields, same text.
    Both,
}

/// What to do with OpenAI parameters that Bedrock cannot honour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum UnsupportedParams {
    /// Answer 400 naming the parameter.
    #[default]
    Reject,
    /// Drop the parameter and go on.
    Drop,
}

/// What to do with requests for paths the filter does not serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum UnknownPaths {
    /// Answer 404 with an OpenAI error: nothing unsigned ever reaches Bedrock.
    #[default]
    Reject,
    /// Leave the request untouched (for listeners that also carry other traffic).
    Passthrough,
}

/// How requests are authenticated to Bedrock.
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    /// AWS Signature Version 4 with static (or session) credentials.
    SigV4 {
        access_key_id: String,
        secret_access_key: String,
        session_token: Option<String>,
    },
    /// A Bedrock API key, sent as `Authorization: Bearer …`.
    Bearer(String),
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::SigV4 { session_token, .. } => f
                .debug_struct("SigV4")
                .field("access_key_id", &"<redacted>")
                .field("secret_access_key", &"<redacted>")
                .field("session_token", &session_token.as_ref().map(|_| "<redacted>"))
                .finish(),
            Auth::Bearer(_) => f.write_str("Bearer(<redacted>)"),
        }
    }
}

/// Which Bedrock API serves a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Api {
    /// Converse / ConverseStream, translated by the filter.
    #[default]
    Converse,
    /// Bedrock's OpenAI-compatible `/openai/v1/chat/completions`: only the model name and the
    /// authentication are changed, request and response pass through.
    Openai,
}

/// Where a client model name goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelTarget {
    /// Bedrock model id, inference profile id or ARN.
    pub id: String,
    pub api: Api,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawModel {
    Id(String),
    Target(RawTarget),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    id: String,
    #[serde(default)]
    api: Api,
}

/// Size and count limits, each configurable under `limits`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest client request body, in bytes (413 beyond).
    pub max_request_bytes: usize,
    /// Largest eventstream message from Bedrock, in bytes (the stream ends with an error beyond).
    pub max_frame_bytes: usize,
    /// Most headers in one eventstream message.
    pub max_frame_headers: usize,
    /// Most entries in `messages`.
    pub max_messages: usize,
    /// Most entries in `tools`.
    pub max_tools: usize,
    /// Largest non-streaming response body from Bedrock, in bytes.
    pub max_response_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_request_bytes: 16 * 1024 * 1024,
            max_frame_bytes: 1024 * 1024,
            max_frame_headers: 32,
            max_messages: 2048,
            max_tools: 256,
            max_response_bytes: 16 * 1024 * 1024,
        }
    }
}

impl From<&Limits> for crate::eventstream::Limits {
    /// The eventstream decoder's limits for one response stream.
    fn from(l: &Limits) -> Self {
        crate::eventstream::Limits {
            max_message_len: l.max_frame_bytes,
            max_header_count: l.max_frame_headers,
        }
    }
}

/// Bedrock guardrail applied to every request (`guardrailConfig`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Guardrail {
    pub identifier: String,
    pub version: String,
    /// `enabled`, `disabled` or `enabled_full`.
    #[serde(default)]
    pub trace: Option<String>,
    /// For streams: `sync` or `async` (Bedrock's `streamProcessingMode`).
    #[serde(default)]
    pub stream_processing_mode: Option<String>,
}

/// The validated configuration of one plugin instance (one tenant).
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub region: String,
    /// Host (and optional port) used as `:authority` and signed.
    pub endpoint: String,
    pub auth: Auth,
    /// Client model name → Bedrock model id, inference profile id or ARN, and its API.
    pub models: BTreeMap<String, ModelTarget>,
    pub reasoning_field: ReasoningField,
    pub unsupported_params: UnsupportedParams,
    pub unknown_paths: UnknownPaths,
    pub guardrail: Option<Guardrail>,
    pub limits: Limits,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawCredentials {
    access_key_id: Option<String>,
    secret_access_key: Option<String>,
    session_token: Option<String>,
    bearer_token: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    region: Option<String>,
    endpoint: Option<String>,
    credentials: Option<RawCredentials>,
    #[serde(default)]
    models: BTreeMap<String, RawModel>,
    #[serde(default)]
    reasoning_field: ReasoningField,
    #[serde(default)]
    unsupported_params: UnsupportedParams,
    #[serde(default)]
    unknown_paths: UnknownPaths,
    guardrail: Option<Guardrail>,
    #[serde(default)]
    limits: Limits,
}

/// Why a configuration was refused. The text names the field, never a secret value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid bedrock-bridge configuration: {}", self.0)
    }
}

impl std::error::Error for ConfigError {}

fn err<T>(msg: impl Into<String>) -> Result<T, ConfigError> {
    Err(ConfigError(msg.into()))
}

/// serde quotes a string found where something else was expected (`invalid type: string "…"`):
/// a secret put in the wrong place (`"credentials": "<token>"`) would reach Envoy's log and the
/// client's 500. Keep the message, drop every quoted string value.
fn redact_strings(msg: &str) -> String {
    const MARK: &str = "string \"";
    let mut out = String::with_capacity(msg.len());
    let mut rest = msg;
    while let Some(i) = rest.find(MARK) {
        out.push_str(&rest[..i]);
        out.push_str("a string");
        let quoted = &rest[i + MARK.len()..];
        // Skip to the closing quote; serde escapes quotes and backslashes inside.
        let mut escaped = false;
        let mut end = quoted.len();
        for (j, c) in quoted.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => {
                    end = j + 1;
                    break;
                }
                _ => {}
            }
        }
        rest = &quoted[end..];
    }
    out.push_str(rest);
    out
}

fn non_empty(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.trim().is_empty())
}

impl Config {
    /// Parse the plugin configuration. `bytes` may be empty (everything from the environment).
    /// `env` looks up an environment variable; pass `|k| std::env::var(k).ok()` in production.
    pub fn parse(bytes: &[u8], env: &dyn Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let raw: RawConfig = if bytes.iter().all(u8::is_ascii_whitespace) {
            RawConfig::default()
        } else {
            serde_json::from_slice(bytes).map_err(|e| ConfigError(redact_strings(&e.to_string())))?
        };
        let env = |k: &str| non_empty(env(k));

        let region = match non_empty(raw.region)
            .or_else(|| env("AWS_REGION"))
            .or_else(|| env("AWS_DEFAULT_REGION"))
        {
            Some(r) => r,
            None => return err("`region` is required (or AWS_REGION in the VM environment)"),
        };
        if !region.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return err("`region` must look like us-east-1");
        }

        let endpoint = match raw.endpoint {
            Some(e) => validate_endpoint(&e)?,
            None => format!("bedrock-runtime.{region}.amazonaws.com"),
        };

        let auth = match raw.credentials {
            Some(c) => auth_from_credentials(c)?,
            None => auth_from_env(&env)?,
        };

        let mut models = BTreeMap::new();
        for (alias, m) in raw.models {
            let target = match m {
                RawModel::Id(id) => ModelTarget { id, api: Api::Converse },
                RawModel::Target(t) => ModelTarget { id: t.id, api: t.api },
            };
            if alias.is_empty() || target.id.trim().is_empty() || target.id.chars().any(char::is_control) {
                return err(format!(
                    "`models`: alias {alias:?} needs a model id (a string, or {{\"id\": ..., \"api\": \"converse\" | \"openai\"}})"
                ));
            }
            models.insert(alias, target);
        }
        let l = raw.limits;
        if l.max_request_bytes == 0 || l.max_frame_bytes < 16 || l.max_messages == 0 || l.max_response_bytes == 0 {
            return err("`limits`: max_request_bytes, max_messages and max_response_bytes must be > 0 and max_frame_bytes >= 16");
        }
        if let Some(g) = &raw.guardrail {
            if g.identifier.trim().is_empty() || g.version.trim().is_empty() {
                return err("`guardrail` needs `identifier` and `version`");
            }
            if let Some(t) = &g.trace {
                if !matches!(t.as_str(), "enabled" | "disabled" | "enabled_full") {
                    return err("`guardrail.trace` must be enabled, disabled or enabled_full");
                }
            }
            if let Some(m) = &g.stream_processing_mode {
                if !matches!(m.as_str(), "sync" | "async") {
                    return err("`guardrail.stream_processing_mode` must be sync or async");
                }
            }
        }

        Ok(Config {
            region,
            endpoint,
            auth,
            models,
            reasoning_field: raw.reasoning_field,
            unsupported_params: raw.unsupported_params,
            unknown_paths: raw.unknown_paths,
            guardrail: raw.guardrail,
            limits: l,
        })
    }

    /// The Bedrock model id and API for a client's model name (aliases mapped; other names
    /// pass through unchanged, to Converse).
    pub fn resolve_model<'a>(&'a self, name: &'a str) -> (&'a str, Api) {
        match self.models.get(name) {
            Some(t) => (&t.id, t.api),
            None => (name, Api::Converse),
        }
    }
}

fn validate_endpoint(e: &str) -> Result<String, ConfigError> {
    let host = e.strip_prefix("https://").unwrap_or(e).trim_end_matches('/');
    let ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
    if !ok {
        return err(
            "`endpoint` must be a host name with an optional port, like bedrock-runtime.us-east-1.amazonaws.com",
        );
    }
    Ok(host.to_ascii_lowercase())
}

fn auth_from_credentials(c: RawCredentials) -> Result<Auth, ConfigError> {
    let bearer = non_empty(c.bearer_token);
    let akid = non_empty(c.access_key_id);
    let secret = non_empty(c.secret_access_key);
    let token = non_empty(c.session_token);
    match (bearer, akid, secret) {
        (Some(b), None, None) if token.is_none() => Ok(Auth::Bearer(b)),
        (None, Some(a), Some(s)) => Ok(Auth::SigV4 {
            access_key_id: a,
            secret_access_key: s,
            session_token: token,
        }),
        (Some(_), _, _) => err("`credentials`: give either `bearer_token` or access keys, not both"),
        _ => err("`credentials` needs `access_key_id` and `secret_access_key` (and optional `session_token`), or `bearer_token`"),
    }
}

fn auth_from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<Auth, ConfigError> {
    if let (Some(a), Some(s)) = (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
        return Ok(Auth::SigV4 {
            access_key_id: a,
            secret_access_key: s,
            session_token: env("AWS_SESSION_TOKEN"),
        });
    }
    if let Some(b) = env("AWS_BEARER_TOKEN_BEDROCK") {
        return Ok(Auth::Bearer(b));
    }
    err("no `credentials` in the configuration and none in the VM environment (AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY, or AWS_BEARER_TOKEN_BEDROCK via vm_config.environment_variables.host_env_keys)")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn parse(s: &str) -> Result<Config, ConfigError> {
        Config::parse(s.as_bytes(), &no_env)
    }

    #[test]
    fn misplaced_secrets_never_reach_the_error() {
        for cfg in [
            r#"{"region":"us-east-1","credentials":"my-very-secret-bearer-token"}"#,
            r#"{"region":"us-east-1","credentials":{"bearer_token":{"x":"my-very-secret-bearer-token"}}}"#,
            r#"{"region":"us-east-1","models":"my-very-secret-bearer-token"}"#,
            r#"{"region":"us-east-1","credentials":"my-very-\"secret\\-bearer-token"}"#,
            r#"{"region":"us-east-1","limits":{"max_request_bytes":"my-very-secret-bearer-token"}}"#,
        ] {
            let e = parse(cfg).unwrap_err().to_string();
            assert!(!e.contains("secret"), "{e}");
            assert!(e.contains("a string"), "{e}");
        }
        assert_eq!(
            redact_strings(r#"invalid type: string "a\"b", expected x at line 1 column 9"#),
            "invalid type: a string, expected x at line 1 column 9"
        );
    }

    #[test]
    fn full_sigv4_config() {
        let c = parse(
            r#"{"region":"eu-west-1","credentials":{"access_key_id":"AK","secret_access_key":"SK","session_token":"T"},
                "models":{"claude":"us.anthropic.claude-sonnet-4-20250514-v1:0"},"reasoning_field":"both"}"#,
        )
        .unwrap();
        assert_eq!(c.endpoint, "bedrock-runtime.eu-west-1.amazonaws.com");
        assert_eq!(c.reasoning_field, ReasoningField::Both);
        assert_eq!(
            c.resolve_model("claude"),
            ("us.anthropic.claude-sonnet-4-20250514-v1:0", Api::Converse)
        );
        assert_eq!(c.resolve_model("other"), ("other", Api::Converse));
        assert!(matches!(
            c.auth,
            Auth::SigV4 {
                session_token: Some(_),
                ..
            }
        ));
    }

    #[test]
    fn models_may_name_their_api() {
        let c = parse(
            r#"{"region":"us-east-1","credentials":{"bearer_token":"x"},
                "models":{"oss":{"id":"openai.gpt-oss-20b-1:0","api":"openai"},"nova":{"id":"amazon.nova-lite-v1:0"}}}"#,
        )
        .unwrap();
        assert_eq!(c.resolve_model("oss"), ("openai.gpt-oss-20b-1:0", Api::Openai));
        assert_eq!(c.resolve_model("nova"), ("amazon.nova-lite-v1:0", Api::Converse));
        assert!(parse(
            r#"{"region":"us-east-1","credentials":{"bearer_token":"x"},"models":{"a":{"id":"x","api":"grpc"}}}"#
        )
        .is_err());
        assert!(parse(
            r#"{"region":"us-east-1","credentials":{"bearer_token":"x"},"models":{"a":{"id":"x","apj":"openai"}}}"#
        )
        .is_err());
        assert!(parse(r#"{"region":"us-east-1","credentials":{"bearer_token":"x"},"models":{"a":""}}"#).is_err());
    }

    #[test]
    fn unknown_fields_are_rejected_by_name() {
        let e = parse(r#"{"region":"us-east-1","credentials":{"bearer_token":"x"},"regoin":"x"}"#).unwrap_err();
        assert!(e.0.contains("regoin"), "{e}");
        let e = parse(r#"{"region":"us-east-1","credentials":{"bearer_token":"x","extra":1}}"#).unwrap_err();
        assert!(e.0.contains("extra"), "{e}");
        let e = parse(r#"{"region":"us-east-1","credentials":{"bearer_token":"x"},"limits":{"max_frames":1}}"#)
            .unwrap_err();
        assert!(e.0.contains("max_frames"), "{e}");
    }

    #[test]
    fn bad_values_are_rejected() {
        assert!(
            parse(r#"{"credentials":{"bearer_token":"x"}}"#).is_err(),
            "region missing"
        );
        assert!(parse(r#"{"region":"us east","credentials":{"bearer_token":"x"}}"#).is_err());
        assert!(parse(r#"{"region":"us-east-1","credentials":{"access_key_id":"a"}}"#).is_err());
        assert!(parse(
            r#"{"region":"us-east-1","credentials":{"bearer_token":"b","access_key_id":"a","secret_access_key":"s"}}"#
        )
        .is_err());
        assert!(
            parse(r#"{"region":"us-east-1","credentials":{"bearer_token":"x"},"endpoint":"evil.com/path"}"#).is_err()
        );
        assert!(parse(r#"{"region":"us-east-1","credentials":{"bearer_token":"x"},"endpoint":"a\r\nb"}"#).is_err());
        assert!(
            parse(r#"{"region":"us-east-1","credentials":{"bearer_token":"x"},"reasoning_field":"thinking"}"#).is_err()
        );
        assert!(parse(r#"{"region":"us-east-1"}"#).is_err(), "no credentials anywhere");
        assert!(parse("not json").is_err());
    }

    #[test]
    fn endpoint_keeps_port_and_strips_scheme() {
        let c = parse(
            r#"{"region":"us-east-1","credentials":{"bearer_token":"x"},"endpoint":"https://Bedrock.example:8443/"}"#,
        )
        .unwrap();
        assert_eq!(c.endpoint, "bedrock.example:8443");
    }

    #[test]
    fn environment_supplies_region_and_credentials() {
        let env = |k: &str| match k {
            "AWS_REGION" => Some("ap-south-1".to_string()),
            "AWS_ACCESS_KEY_ID" => Some("AK".to_string()),
            "AWS_SECRET_ACCESS_KEY" => Some("SK".to_string()),
            _ => None,
        };
        let c = Config::parse(b"", &env).unwrap();
        assert_eq!(c.region, "ap-south-1");
        assert!(matches!(
            c.auth,
            Auth::SigV4 {
                session_token: None,
                ..
            }
        ));
        let bearer = |k: &str| (k == "AWS_BEARER_TOKEN_BEDROCK").then(|| "tok".to_string());
        let c = Config::parse(br#"{"region":"us-west-2"}"#, &bearer).unwrap();
        assert_eq!(c.auth, Auth::Bearer("tok".into()));
    }

    #[test]
    fn debug_never_shows_secrets() {
        let c = parse(
            r#"{"region":"us-east-1","credentials":{"access_key_id":"AKIDSECRETLOOKING","secret_access_key":"SUPERSECRET","session_token":"TOKENVALUE"}}"#,
        )
        .unwrap();
        let s = format!("{c:?}");
        for secret in ["AKIDSECRETLOOKING", "SUPERSECRET", "TOKENVALUE"] {
            assert!(!s.contains(secret), "{s}");
        }
        let c = parse(r#"{"region":"us-east-1","credentials":{"bearer_token":"BEARERVALUE"}}"#).unwrap();
        assert!(!format!("{c:?}").contains("BEARERVALUE"));
    }
}
