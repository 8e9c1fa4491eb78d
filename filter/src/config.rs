//! Plugin configuration: the JSON given as the wasm plugin's `configuration`, parsed once per
//! root context. Unknown fields are rejected so that a typo never silently changes behaviour.
//!
//! Credentials may come from the configuration or, when it has none, from the VM's environment
//! (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_BEARER_TOKEN_BEDROCK`,
//! exposed by Envoy's `vm_config.environment_variables.host_env_keys`). Secrets never appear in
//! `Debug` output.

use crate::bedrock::catalog::{self, Caps, Display};
use serde::Deserialize;
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
pub(crate) enum UnsupportedParams {
    /// Answer 400 naming the parameter.
    #[default]
    Reject,
    /// Drop the parameter and go on.
    Drop,
}

/// What to do with requests for paths the filter does not serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub(crate) enum UnknownPaths {
    /// Answer 404 with an OpenAI error: nothing unsigned ever reaches Bedrock.
    #[default]
    Reject,
    /// Leave the request untouched (for listeners that also carry other traffic).
    Passthrough,
}

/// Who signs the request to Bedrock (`"signing"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Signing {
    /// The filter signs (SigV4 with static keys) or sends a Bedrock API key.
    #[default]
    Filter,
    /// Envoy's `envoy.filters.http.aws_request_signing` filter, placed after this one, signs
    /// with its own credential chain (IRSA, Pod Identity, instance profile, ...).
    Envoy,
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
    /// `"signing": "envoy"`: the filter adds no credentials; Envoy's `aws_request_signing`
    /// filter after it signs the translated request.
    EnvoySigner,
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
            Auth::EnvoySigner => f.write_str("EnvoySigner"),
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
    /// Bedrock Mantle (`bedrock-mantle.{region}.api.aws`): Anthropic Messages at
    /// `/anthropic/v1/messages`, OpenAI chat completions and Responses under `/v1` or
    /// `/openai/v1`. Same-format requests pass through with only the model, path, host and
    /// authentication changed (signed as service `bedrock-mantle`).
    /// <https://docs.aws.amazon.com/bedrock/latest/userguide/bedrock-mantle.html>
    Mantle,
}

/// Where a client model name goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelTarget {
    /// Bedrock model id, inference profile id or ARN.
    pub id: String,
    pub api: Api,
    /// The capabilities configured for this alias (`base_model` and `capabilities`), when it
    /// names either; otherwise the catalog's entry for `id` applies.
    pub(crate) caps: Option<Caps>,
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
    /// The catalog model behind an ARN or application inference profile.
    base_model: Option<String>,
    capabilities: Option<RawCaps>,
}

/// Per-alias capability overrides (README "Model catalog"); each replaces the catalog's value.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawCaps {
    reasoning: Option<String>,
    efforts: Option<Vec<String>>,
    thinks_by_default: Option<bool>,
    can_disable_thinking: Option<bool>,
    display: Option<String>,
    max_output_tokens: Option<u32>,
    prompt_caching: Option<String>,
    strict_tools: Option<bool>,
    structured_output: Option<bool>,
    prefill: Option<bool>,
    fixed_sampling: Option<bool>,
}

/// The capabilities of an alias: the catalog's entry for `base_model` (which must be known) or
/// for `id`, with the overrides applied.
fn alias_caps(id: &str, base: Option<&str>, raw: Option<RawCaps>) -> Result<Option<Caps>, String> {
    if base.is_none() && raw.is_none() {
        return Ok(None);
    }
    let mut c = match base {
        Some(b) => {
            catalog::known(b)
                .ok_or_else(|| {
                    format!("base_model {b:?} is not a model the catalog knows (see the README's model table)")
                })?
                .caps
        }
        None => catalog::lookup(id),
    };
    let Some(r) = raw else { return Ok(Some(c)) };
    if let Some(v) = r.reasoning {
        c.reasoning = catalog::Reasoning::parse(&v).ok_or(
            "capabilities.reasoning must be none, budget, adaptive, adaptive_only, effort_field, nova_config or implicit",
        )?;
    }
    if let Some(v) = r.efforts {
        let levels: Option<Vec<_>> = v.iter().map(|l| catalog::Level::parse(l)).collect();
        c.efforts =
            catalog::Levels::of(&levels.ok_or("capabilities.efforts: each must be low, medium, high, xhigh or max")?);
    }
    if let Some(v) = r.display {
        c.display = match v.as_str() {
            "none" => None,
            d => Some(catalog::Display::parse(d).ok_or("capabilities.display must be summarized, omitted or none")?),
        };
    }
    if let Some(v) = r.prompt_caching {
        c.caching = match v.as_str() {
            "none" => catalog::Caching::None,
            "no_tools" => catalog::Caching::NoTools,
            "full" => catalog::Caching::Full,
            _ => return Err("capabilities.prompt_caching must be none, no_tools or full".into()),
        };
    }
    if r.max_output_tokens == Some(0) {
        return Err("capabilities.max_output_tokens must be > 0".into());
    }
    c.max_output = r.max_output_tokens.unwrap_or(c.max_output);
    c.thinks_by_default = r.thinks_by_default.unwrap_or(c.thinks_by_default);
    if let Some(d) = r.can_disable_thinking {
        c.disable = if d { catalog::Disable::Yes } else { catalog::Disable::No };
    }
    c.strict_tools = r.strict_tools.unwrap_or(c.strict_tools);
    c.native_structured_output = r.structured_output.unwrap_or(c.native_structured_output);
    c.prefill = r.prefill.unwrap_or(c.prefill);
    if let Some(f) = r.fixed_sampling {
        c.sampling = if f {
            catalog::Sampling::Fixed
        } else {
            catalog::Sampling::Free
        };
    }
    if c.reasoning.is_claude_thinking() && c.min_budget == 0 {
        c.min_budget = 1024;
    }
    Ok(Some(c))
}

/// Size and count limits, each configurable under `limits`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest client request body, in bytes (413 beyond).
    pub(crate) max_request_bytes: usize,
    /// Largest eventstream message from Bedrock, in bytes (the stream ends with an error beyond).
    pub(crate) max_frame_bytes: usize,
    /// Most headers in one eventstream message.
    pub(crate) max_frame_headers: usize,
    /// Most entries in `messages`.
    pub max_messages: usize,
    /// Most entries in `tools`.
    pub(crate) max_tools: usize,
    /// Largest non-streaming response body from Bedrock, in bytes.
    pub(crate) max_response_bytes: usize,
    /// Largest reasoning block text a stream holds to send it whole in `thinking_blocks` at the
    /// block's end; a longer block streams its text but is not sent back as a replayable block.
    pub(crate) max_thinking_bytes: usize,
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
            max_thinking_bytes: 256 * 1024,
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
pub(crate) struct Guardrail {
    pub(crate) identifier: String,
    pub(crate) version: String,
    /// `enabled`, `disabled` or `enabled_full`.
    #[serde(default)]
    pub(crate) trace: Option<String>,
    /// For streams: `sync` or `async` (Bedrock's `streamProcessingMode`).
    #[serde(default)]
    pub(crate) stream_processing_mode: Option<String>,
}

/// `"token_budget"`: tokens (input + output of finished requests) one Envoy lets a profile spend
/// per window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TokenBudget {
    pub(crate) tokens_per_minute: u64,
    /// The window's length (default 60 s; shorter windows are for tests). The budget per window
    /// is `tokens_per_minute`, whatever the window.
    #[serde(default = "sixty")]
    pub(crate) window_seconds: u64,
}

fn sixty() -> u64 {
    60
}

/// The name the top-level configuration goes by (metrics, access logs, budgets).
pub(crate) const DEFAULT_PROFILE: &str = "default";

/// The validated configuration of one plugin instance (one tenant).
/// A small map from names to `V`, sorted by name: the configuration's aliases and profiles.
/// (A `Vec` rather than a `BTreeMap`: the module carries one B-tree per value type, ~5 KB each.)
#[derive(Debug, Clone, PartialEq)]
pub struct Keyed<V>(Vec<(String, V)>);

impl<V> Default for Keyed<V> {
    fn default() -> Self {
        Keyed(Vec::new())
    }
}

impl<V> Keyed<V> {
    fn position(&self, key: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    /// Insert or replace.
    pub(crate) fn insert(&mut self, key: String, value: V) {
        match self.position(&key) {
            Ok(i) => {
                if let Some(slot) = self.0.get_mut(i) {
                    slot.1 = value;
                }
            }
            Err(i) => self.0.insert(i, (key, value)),
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<&V> {
        self.position(key).ok().and_then(|i| self.0.get(i)).map(|(_, v)| v)
    }

    pub(crate) fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_ok()
    }

    /// The names, in order.
    pub(crate) fn keys(&self) -> impl Iterator<Item = &String> {
        self.0.iter().map(|(k, _)| k)
    }

    pub(crate) fn values(&self) -> impl Iterator<Item = &V> {
        self.0.iter().map(|(_, v)| v)
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// `(name, value)` pairs, in order.
impl<'a, V> IntoIterator for &'a Keyed<V> {
    type Item = (&'a String, &'a V);
    type IntoIter = std::iter::Map<std::slice::Iter<'a, (String, V)>, fn(&'a (String, V)) -> (&'a String, &'a V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Which profile this is ([`DEFAULT_PROFILE`] for the top level).
    pub(crate) profile: String,
    /// Only the `models` aliases may be used (others: 404 `model_not_found`).
    pub(crate) strict_models: bool,
    pub(crate) token_budget: Option<TokenBudget>,
    /// `"profiles"`: each a full configuration (the top level overridden by the profile's
    /// fields), chosen by the Envoy route's name. Empty inside a profile.
    pub(crate) profiles: Keyed<Config>,
    pub region: String,
    /// Host (and optional port) used as `:authority` and signed.
    pub endpoint: String,
    /// The same for `api: mantle` models (default `bedrock-mantle.{region}.api.aws`).
    pub(crate) mantle_endpoint: String,
    pub auth: Auth,
    /// Client model name → Bedrock model id, inference profile id or ARN, and its API.
    pub models: Keyed<ModelTarget>,
    pub(crate) reasoning_field: ReasoningField,
    /// How Claude's thinking comes back when the client does not say (`"reasoning_display"`:
    /// `"summarized"`, the default, or `"omitted"`); an Anthropic client's own display wins.
    pub(crate) reasoning_display: Display,
    pub(crate) unsupported_params: UnsupportedParams,
    pub(crate) unknown_paths: UnknownPaths,
    pub(crate) guardrail: Option<Guardrail>,
    pub limits: Limits,
    /// `"health"` (top level only): the Bedrock health check ([`crate::health`]).
    pub(crate) health: Option<crate::health::HealthConfig>,
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
    mantle_endpoint: Option<String>,
    credentials: Option<RawCredentials>,
    #[serde(default)]
    signing: Signing,
    #[serde(default)]
    models: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    reasoning_field: ReasoningField,
    reasoning_display: Option<String>,
    #[serde(default)]
    unsupported_params: UnsupportedParams,
    #[serde(default)]
    unknown_paths: UnknownPaths,
    guardrail: Option<Guardrail>,
    #[serde(default)]
    limits: Limits,
    #[serde(default)]
    strict_models: bool,
    token_budget: Option<TokenBudget>,
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

/// `guardrail`: an identifier and a version, and Bedrock's values for `trace` and
/// `streamProcessingMode`.
fn check_guardrail(g: &Guardrail) -> Result<(), ConfigError> {
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
    Ok(())
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
        type Object = serde_json::Map<String, serde_json::Value>;
        let bad = |e: serde_json::Error| ConfigError(redact_strings(&e.to_string()));
        let mut top: Object = if bytes.iter().all(u8::is_ascii_whitespace) {
            Object::new()
        } else {
            serde_json::from_slice(bytes).map_err(bad)?
        };
        let profiles: Object = match top.remove("profiles") {
            Some(serde_json::Value::Object(p)) => p,
            Some(_) => return err("`profiles`: invalid type: expected a map of profile name to configuration"),
            None => Object::new(),
        };
        // Top level only: one health check covers every profile (a profile naming it is refused
        // as an unknown field).
        let health = top.remove("health");
        let raw = serde_json::from_value(serde_json::Value::Object(top.clone())).map_err(bad)?;
        let mut config = Config::from_raw(raw, DEFAULT_PROFILE, env)?;
        for (name, fields) in profiles {
            let valid = !name.is_empty()
                && name.len() <= 64
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
            if !valid || name == DEFAULT_PROFILE {
                return err(format!(
                    "`profiles`: {name:?} is not a usable profile name (the Envoy route's name: letters, digits, - _ . up to 64; not {DEFAULT_PROFILE:?})"
                ));
            }
            let serde_json::Value::Object(fields) = fields else {
                return err(format!(
                    "`profiles.{name}`: invalid type: expected a map (a configuration)"
                ));
            };
            if fields.contains_key("profiles") {
                return err(format!("`profiles.{name}`: profiles do not nest"));
            }
            let mut merged = top.clone();
            merged.extend(fields);
            let in_profile = |e: ConfigError| ConfigError(format!("`profiles.{name}`: {}", e.0));
            let raw = serde_json::from_value(serde_json::Value::Object(merged)).map_err(|e| in_profile(bad(e)))?;
            let profile = Config::from_raw(raw, &name, env).map_err(in_profile)?;
            config.profiles.insert(name, profile);
        }
        if let Some(h) = health {
            config.health = Some(crate::health::HealthConfig::parse(h, &config).map_err(ConfigError)?);
        }
        Ok(config)
    }

    /// The configuration for a request whose Envoy route is named `route` (the profile of that
    /// name, or the top level).
    pub(crate) fn for_route(&self, route: &str) -> &Config {
        self.profiles.get(route).unwrap_or(self)
    }

    /// This configuration and every profile.
    pub(crate) fn all(&self) -> impl Iterator<Item = &Config> {
        std::iter::once(self).chain(self.profiles.values())
    }

    fn from_raw(raw: RawConfig, profile: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
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
        // https://docs.aws.amazon.com/bedrock/latest/userguide/bedrock-mantle.html ("Supported
        // Regions and Endpoints"): bedrock-mantle.{region}.api.aws.
        let mantle_endpoint = match raw.mantle_endpoint {
            Some(e) => validate_endpoint(&e)?,
            None => format!("bedrock-mantle.{region}.api.aws"),
        };

        let auth = match (raw.signing, raw.credentials) {
            (Signing::Envoy, creds) => envoy_signer(creds, raw.unknown_paths, &env)?,
            (Signing::Filter, Some(c)) => auth_from_credentials(c)?,
            (Signing::Filter, None) => auth_from_env(&env)?,
        };

        let mut models = Keyed::default();
        for (alias, m) in raw.models {
            let m: RawModel = serde_json::from_value(m)
                .map_err(|e| ConfigError(format!("`models`: alias {alias:?}: {}", redact_strings(&e.to_string()))))?;
            let target = match m {
                RawModel::Id(id) => ModelTarget {
                    id,
                    api: Api::Converse,
                    caps: None,
                },
                RawModel::Target(t) => {
                    let caps = alias_caps(&t.id, t.base_model.as_deref(), t.capabilities)
                        .map_err(|e| ConfigError(format!("`models`: alias {alias:?}: {e}")))?;
                    ModelTarget {
                        id: t.id,
                        api: t.api,
                        caps,
                    }
                }
            };
            if alias.is_empty() || target.id.trim().is_empty() || target.id.chars().any(char::is_control) {
                return err(format!(
                    "`models`: alias {alias:?} needs a model id (a string, or {{\"id\": ..., \"api\": \"converse\" | \"openai\" | \"mantle\"}})"
                ));
            }
            if target.api == Api::Mantle {
                mantle_model_id(&alias, &target.id)?;
            }
            models.insert(alias, target);
        }
        let l = raw.limits;
        if l.max_request_bytes == 0 || l.max_frame_bytes < 16 || l.max_messages == 0 || l.max_response_bytes == 0 {
            return err("`limits`: max_request_bytes, max_messages and max_response_bytes must be > 0 and max_frame_bytes >= 16");
        }
        if let Some(g) = &raw.guardrail {
            check_guardrail(g)?;
        }

        if let Some(b) = &raw.token_budget {
            if b.tokens_per_minute == 0 || !(1..=3600).contains(&b.window_seconds) {
                return err("`token_budget`: tokens_per_minute must be > 0 and window_seconds 1..=3600");
            }
        }
        let reasoning_display = match raw.reasoning_display.as_deref() {
            None => Display::Summarized,
            Some(d) => Display::parse(d)
                .ok_or_else(|| ConfigError("`reasoning_display` must be summarized or omitted".into()))?,
        };
        if raw.strict_models && models.is_empty() {
            return err("`strict_models` needs `models` (the only names clients may use)");
        }

        Ok(Config {
            profile: profile.to_string(),
            strict_models: raw.strict_models,
            token_budget: raw.token_budget,
            profiles: Keyed::default(),
            region,
            endpoint,
            mantle_endpoint,
            auth,
            models,
            reasoning_field: raw.reasoning_field,
            reasoning_display,
            unsupported_params: raw.unsupported_params,
            unknown_paths: raw.unknown_paths,
            guardrail: raw.guardrail,
            limits: l,
            health: None,
        })
    }

    /// What the model `model_id` (a resolved Bedrock id) accepts: the capabilities configured
    /// for an alias that targets it (`base_model` / `capabilities`), else the catalog's.
    pub(crate) fn caps_for(&self, model_id: &str) -> Caps {
        self.models
            .values()
            .find_map(|t| t.caps.filter(|_| t.id == model_id))
            .unwrap_or_else(|| catalog::lookup(model_id))
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

/// Mantle's model ids are foundation model names: no cross-region prefix (`global.`, `us.`...),
/// no version suffix (`-v1:0`), no ARN (for example `anthropic.claude-opus-4-8`,
/// `openai.gpt-oss-120b`). <https://docs.getbifrost.ai/providers/supported-providers/bedrock-mantle>
/// ("Model IDs"); AWS lists them with `GET /v1/models` on the Mantle endpoint
/// (<https://docs.aws.amazon.com/bedrock/latest/userguide/bedrock-mantle.html>, "Models API").
fn mantle_model_id(alias: &str, id: &str) -> Result<(), ConfigError> {
    const PREFIXES: [&str; 6] = ["global.", "us.", "eu.", "apac.", "us-gov.", "jp."];
    let why = if id.starts_with("arn:") {
        Some("an ARN")
    } else if PREFIXES.iter().any(|p| id.starts_with(p)) {
        Some("a cross-region inference profile id")
    } else if id.contains(':') {
        Some("a versioned Converse model id")
    } else if id.contains('/') || id.chars().any(char::is_whitespace) {
        Some("not a model name")
    } else {
        None
    };
    match why {
        Some(why) => err(format!(
            "`models`: alias {alias:?}: {id:?} is {why}; Bedrock Mantle takes model names without region prefix or version suffix (its model list: GET /v1/models on Mantle)"
        )),
        None => Ok(()),
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

/// `"signing": "envoy"`: Envoy's signer signs whatever reaches it with the gateway's identity, so
/// refuse every combination in which something other than a request this filter translated, or a
/// credential of the filter's own, could reach it.
fn envoy_signer(
    creds: Option<RawCredentials>,
    unknown_paths: UnknownPaths,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Auth, ConfigError> {
    if let Some(c) = creds {
        if non_empty(c.bearer_token).is_some() {
            return err("`signing: envoy` cannot send a Bedrock API key (`credentials.bearer_token`): Envoy's signer would replace it with SigV4. Use `signing: filter` for an API key");
        }
        return err("`signing: envoy` takes its credentials from Envoy's aws_request_signing filter: remove `credentials` (or use `signing: filter`)");
    }
    if env("AWS_BEARER_TOKEN_BEDROCK").is_some() {
        return err("`signing: envoy` with AWS_BEARER_TOKEN_BEDROCK in the VM environment: Envoy's signer would replace the API key with SigV4. Remove the variable from host_env_keys or use `signing: filter`");
    }
    if unknown_paths == UnknownPaths::Passthrough {
        return err("`signing: envoy` with `unknown_paths: passthrough` would let Envoy's signer sign requests this filter did not translate (for example a client calling /model/{id}/invoke): use `unknown_paths: reject`");
    }
    Ok(Auth::EnvoySigner)
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
    fn mantle_models_and_endpoint() {
        let c = parse(
            r#"{"region":"eu-west-1","credentials":{"bearer_token":"x"},
                "models":{"opus":{"id":"anthropic.claude-opus-4-8","api":"mantle"}},
                "profiles":{"t":{"mantle_endpoint":"https://127.0.0.1:9000/","models":{"g":{"id":"openai.gpt-oss-120b","api":"mantle"}}}}}"#,
        )
        .unwrap();
        assert_eq!(c.mantle_endpoint, "bedrock-mantle.eu-west-1.api.aws");
        assert_eq!(c.resolve_model("opus"), ("anthropic.claude-opus-4-8", Api::Mantle));
        let t = c.for_route("t");
        assert_eq!(t.mantle_endpoint, "127.0.0.1:9000");
        assert_eq!(t.resolve_model("g"), ("openai.gpt-oss-120b", Api::Mantle));
        for bad in [
            "global.anthropic.claude-opus-4-8",
            "us.anthropic.claude-opus-4-8",
            "anthropic.claude-opus-4-8-v1:0",
            "arn:aws:bedrock:us-east-1::foundation-model/x",
            "a/b",
        ] {
            let cfg = format!(
                r#"{{"region":"us-east-1","credentials":{{"bearer_token":"x"}},"models":{{"m":{{"id":"{bad}","api":"mantle"}}}}}}"#
            );
            let e = parse(&cfg).unwrap_err().0;
            assert!(e.contains("Mantle") && e.contains("\"m\""), "{bad}: {e}");
        }
        assert!(parse(r#"{"region":"us-east-1","credentials":{"bearer_token":"x"},"mantle_endpoint":"a b"}"#).is_err());
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
    fn envoy_signing_needs_no_credentials_and_refuses_risky_combinations() {
        let c = parse(r#"{"region":"us-east-1","signing":"envoy"}"#).unwrap();
        assert_eq!(c.auth, Auth::EnvoySigner);
        assert_eq!(format!("{:?}", c.auth), "EnvoySigner");
        // Static keys in the environment are Envoy's signer's business, not the filter's.
        let keys = |k: &str| (k == "AWS_ACCESS_KEY_ID" || k == "AWS_SECRET_ACCESS_KEY").then(|| "x".to_string());
        let c = Config::parse(br#"{"region":"us-east-1","signing":"envoy"}"#, &keys).unwrap();
        assert_eq!(c.auth, Auth::EnvoySigner);
        // The default is the filter signing.
        let c = parse(r#"{"region":"us-east-1","signing":"filter","credentials":{"bearer_token":"x"}}"#).unwrap();
        assert_eq!(c.auth, Auth::Bearer("x".into()));

        let e = parse(r#"{"region":"us-east-1","signing":"envoy","unknown_paths":"passthrough"}"#).unwrap_err();
        assert!(e.0.contains("unknown_paths"), "{e}");
        let e = parse(r#"{"region":"us-east-1","signing":"envoy","credentials":{"bearer_token":"SECRETTOKEN"}}"#)
            .unwrap_err();
        assert!(e.0.contains("API key") && !e.0.contains("SECRETTOKEN"), "{e}");
        let e = parse(
            r#"{"region":"us-east-1","signing":"envoy","credentials":{"access_key_id":"a","secret_access_key":"s"}}"#,
        )
        .unwrap_err();
        assert!(e.0.contains("remove `credentials`"), "{e}");
        let bearer = |k: &str| (k == "AWS_BEARER_TOKEN_BEDROCK").then(|| "secret-value-xyz".to_string());
        let e = Config::parse(br#"{"region":"us-east-1","signing":"envoy"}"#, &bearer).unwrap_err();
        assert!(
            e.0.contains("AWS_BEARER_TOKEN_BEDROCK") && !e.0.contains("secret-value"),
            "{e}"
        );
        let e = parse(r#"{"region":"us-east-1","signing":"aws"}"#).unwrap_err();
        assert!(e.0.contains("signing") || e.0.contains("variant"), "{e}");
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

    const TWO: &str = r#"{"region":"us-east-1","credentials":{"access_key_id":"AK","secret_access_key":"SK"},
        "models":{"claude":"anthropic.claude-x"},
        "token_budget":{"tokens_per_minute":1000},
        "profiles":{
          "team-a":{"region":"eu-west-1","credentials":{"access_key_id":"AKA","secret_access_key":"SKA"},
                    "models":{"nova":"amazon.nova-lite-v1:0"},"strict_models":true,"reasoning_field":"both"},
          "team-b":{"token_budget":{"tokens_per_minute":300,"window_seconds":5},"limits":{"max_messages":3}}}}"#;

    #[test]
    fn profiles_override_the_top_level_and_are_chosen_by_route_name() {
        let c = parse(TWO).unwrap();
        assert_eq!(c.profile, DEFAULT_PROFILE);
        assert_eq!(c.profiles.len(), 2);
        let a = c.for_route("team-a");
        assert_eq!(a.profile, "team-a");
        assert_eq!(a.region, "eu-west-1");
        assert_eq!(a.endpoint, "bedrock-runtime.eu-west-1.amazonaws.com");
        assert!(matches!(&a.auth, Auth::SigV4 { access_key_id, .. } if access_key_id == "AKA"));
        assert!(a.strict_models);
        assert_eq!(a.models.keys().collect::<Vec<_>>(), vec!["nova"]);
        assert_eq!(a.reasoning_field, ReasoningField::Both);
        assert_eq!(a.token_budget.map(|b| b.tokens_per_minute), Some(1000), "inherited");
        assert!(a.profiles.is_empty());
        let b = c.for_route("team-b");
        assert_eq!(b.region, "us-east-1");
        assert!(matches!(&b.auth, Auth::SigV4 { access_key_id, .. } if access_key_id == "AK"));
        assert_eq!(b.models.keys().collect::<Vec<_>>(), vec!["claude"]);
        assert_eq!(
            b.token_budget,
            Some(TokenBudget {
                tokens_per_minute: 300,
                window_seconds: 5
            })
        );
        assert_eq!(b.limits.max_messages, 3);
        assert!(!b.strict_models);
        // An unnamed route or another name: the top level.
        assert_eq!(c.for_route("").profile, DEFAULT_PROFILE);
        assert_eq!(c.for_route("team-c").profile, DEFAULT_PROFILE);
        assert_eq!(c.all().count(), 3);
    }

    #[test]
    fn bad_profiles_are_refused_at_load() {
        let base = r#""region":"us-east-1","credentials":{"bearer_token":"x"}"#;
        let cases = [
            (r#""profiles":{"a":{"regoin":"x"}}"#, "regoin"),
            (r#""profiles":{"a":{"limits":{"max_frames":1}}}"#, "max_frames"),
            (r#""profiles":{"a":{"profiles":{}}}"#, "nest"),
            (r#""profiles":{"default":{}}"#, "profile name"),
            (r#""profiles":{"a b":{}}"#, "profile name"),
            (r#""profiles":{"a":{"strict_models":true}}"#, "strict_models"),
            (r#""profiles":{"a":{"region":"bad region"}}"#, "region"),
            (
                r#""profiles":{"a":{"token_budget":{"tokens_per_minute":0}}}"#,
                "token_budget",
            ),
            (
                r#""profiles":{"a":{"token_budget":{"tokens_per_hour":5}}}"#,
                "tokens_per_hour",
            ),
            (r#""profiles":{"a":"my-secret-value"}"#, "profiles"),
            (r#""profiles":[]"#, "profiles"),
        ];
        for (extra, needle) in cases {
            let e = parse(&format!("{{{base},{extra}}}")).unwrap_err();
            assert!(e.0.contains(needle), "{extra}: {e}");
            assert!(!e.0.contains("my-secret-value"), "{e}");
        }
        let e = parse(&format!(r#"{{{base},"profiles":{{"a":{{"regoin":"x"}}}}}}"#)).unwrap_err();
        assert!(e.0.starts_with("`profiles.a`"), "{e}");
    }

    #[test]
    fn aliases_name_their_base_model_and_override_capabilities() {
        let c = parse(
            r#"{"region":"us-east-1","credentials":{"bearer_token":"x"},"reasoning_display":"omitted","models":{
                "opus":{"id":"arn:aws:bedrock:us-east-1:1:application-inference-profile/abc","base_model":"anthropic.claude-opus-4-8"},
                "next":{"id":"anthropic.claude-nova-9","capabilities":{"reasoning":"adaptive","efforts":["low","high"],"prefill":false}},
                "plain":"us.anthropic.claude-opus-4-6-v1"}}"#,
        )
        .unwrap();
        assert_eq!(c.reasoning_display, Display::Omitted);
        let opus = c.caps_for("arn:aws:bedrock:us-east-1:1:application-inference-profile/abc");
        assert_eq!(opus, catalog::lookup("anthropic.claude-opus-4-8"));
        let next = c.caps_for("anthropic.claude-nova-9");
        assert_eq!(next.reasoning, catalog::Reasoning::Adaptive);
        assert!(next.efforts.contains(catalog::Level::High) && !next.efforts.contains(catalog::Level::Medium));
        assert!(!next.prefill);
        assert_eq!(
            c.caps_for("us.anthropic.claude-opus-4-6-v1"),
            catalog::lookup("anthropic.claude-opus-4-6-v1")
        );
        assert_eq!(
            c.caps_for("arn:aws:bedrock:us-east-1:1:application-inference-profile/zzz"),
            catalog::UNKNOWN
        );
        for bad in [
            r#"{"id":"arn:x","base_model":"anthropic.claude-unknown"}"#,
            r#"{"id":"arn:x","capabilities":{"reasoning":"sometimes"}}"#,
            r#"{"id":"arn:x","capabilities":{"efforts":["huge"]}}"#,
            r#"{"id":"arn:x","capabilities":{"max_output_tokens":0}}"#,
            r#"{"id":"arn:x","capabilities":{"colour":"blue"}}"#,
        ] {
            let cfg =
                format!(r#"{{"region":"us-east-1","credentials":{{"bearer_token":"x"}},"models":{{"a":{bad}}}}}"#);
            let e = parse(&cfg).unwrap_err().0;
            assert!(e.contains("alias \"a\""), "{bad}: {e}");
        }
        assert!(
            parse(r#"{"region":"us-east-1","credentials":{"bearer_token":"x"},"reasoning_display":"loud"}"#).is_err()
        );
        // Per profile too.
        let p = parse(
            r#"{"region":"us-east-1","credentials":{"bearer_token":"x"},"profiles":{"t":{"reasoning_display":"omitted",
                "models":{"o":{"id":"arn:y","base_model":"anthropic.claude-opus-4-7"}}}}}"#,
        )
        .unwrap();
        assert_eq!(p.reasoning_display, Display::Summarized);
        let t = p.for_route("t");
        assert_eq!(t.reasoning_display, Display::Omitted);
        assert_eq!(t.caps_for("arn:y").reasoning, catalog::Reasoning::AdaptiveOnly);
    }
}
