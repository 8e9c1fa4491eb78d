//! Metrics in Envoy's `/stats/prometheus`, defined once per plugin at configure time.
//!
//! The proxy-wasm ABI has no labels: each (metric, profile, model, ...) is its own metric whose
//! name carries its tags as `;key=value` (for example
//! `bedrock_reasoning_requests_total;model=claude;profile=team-a`). The bootstrap's
//! `stats_config.stats_tags` (shipped in `envoy/envoy.yaml`) turn them into labels with the
//! regexes of [`STATS_TAGS`]. Label values are bounded: models come from the configuration, any
//! other name is counted as [`OTHER`]; error types and token types are fixed lists.
//!
//! Everything is recorded once per request, at its end (and the time to first token at the first
//! token): nothing here runs per response chunk.

use crate::config::Config;
use crate::error::ErrorType;
use crate::host::{Host, Level, MetricKind};
use crate::openai::BedrockUsage;

/// Requests handled by a front door (every outcome).
pub const REQUESTS: &str = "bedrock_reasoning_requests_total";
/// Milliseconds from forwarding a streaming request to its end (histogram).
pub const STREAM_DURATION: &str = "bedrock_reasoning_stream_duration";
/// Requests that ended in an error (local, Bedrock HTTP or mid-stream), by `error_type`.
pub const ERRORS: &str = "bedrock_reasoning_errors_total";
/// Tokens by `gen_ai_token_type` (OTel `gen_ai.client.token.usage`, as a counter).
pub const TOKENS: &str = "gen_ai_client_token_usage_total";
/// Milliseconds from forwarding to the first output token (OTel
/// `gen_ai.server.time_to_first_token`, in ms: Envoy's histogram buckets are milliseconds).
pub const TTFT: &str = "gen_ai_server_time_to_first_token";
/// Responses by `status_class` (2xx, 4xx, 5xx).
pub const RESPONSES: &str = "bedrock_responses_total";

/// The label for a model name that is not in the configuration.
pub const OTHER: &str = "other";
pub const TOKEN_TYPES: [&str; 4] = ["input", "output", "cache_read", "cache_write"];
pub const STATUS_CLASSES: [&str; 3] = ["2xx", "4xx", "5xx"];
pub const ERROR_TYPES: [ErrorType; 6] = [
    ErrorType::InvalidRequest,
    ErrorType::Authentication,
    ErrorType::Permission,
    ErrorType::NotFound,
    ErrorType::RateLimit,
    ErrorType::Server,
];

/// `stats_config.stats_tags` entries (tag name, regex) that turn the `;key=value` parts into
/// labels.
pub const STATS_TAGS: [(&str, &str); 5] = [
    ("model", "(;model=([^;]*))"),
    ("profile", "(;profile=([^;]*))"),
    ("error_type", "(;error_type=([^;]*))"),
    ("gen_ai_token_type", "(;gen_ai_token_type=([^;]*))"),
    ("status_class", "(;status_class=([^;]*))"),
];

/// A label value safe inside a metric name: `;`, `=` and anything unusual become `_`.
fn value(v: &str) -> String {
    v.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '/' | '@') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A metric's full name: `base`, then `;key=value` per tag.
pub fn name(base: &str, tags: &[(&str, &str)]) -> String {
    let mut n = base.to_string();
    for (k, v) in tags {
        n.push(';');
        n.push_str(k);
        n.push('=');
        n.push_str(&value(v));
    }
    n
}

/// The ids of one (profile, model)'s metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ids {
    pub requests: u32,
    pub stream_duration: u32,
    pub ttft: u32,
    pub tokens: [u32; 4],
    pub responses: [u32; 3],
    pub errors: [u32; 6],
}

/// Every metric of a plugin, by (profile, model label).
#[derive(Debug, Default)]
pub struct Metrics {
    /// (profile, model label, ids); a few entries, searched in order.
    ids: Vec<(String, String, Ids)>,
}

/// What one finished request contributes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// The status the client got.
    pub status: u16,
    /// The error that ended the request (also for a 200 stream cut by an exception).
    pub error: Option<ErrorType>,
    pub usage: Option<BedrockUsage>,
    pub ttft_ms: Option<u64>,
    /// For streams: milliseconds from forwarding to the end.
    pub stream_ms: Option<u64>,
}

impl Metrics {
    /// Define the metrics of every profile × (its models + [`OTHER`]). A host without metrics
    /// yields an empty set (logged once): requests are unaffected.
    pub fn define(host: &dyn Host, cfg: &Config) -> Metrics {
        let mut m = Metrics::default();
        for p in cfg.all() {
            let models = p.models.keys().map(String::as_str).chain(std::iter::once(OTHER));
            for model in models {
                match define_one(host, &p.profile, model) {
                    Ok(ids) => {
                        m.ids.push((p.profile.clone(), model.to_string(), ids));
                    }
                    Err(status) => {
                        host.log(
                            Level::Warn,
                            &format!("bedrock-bridge: metrics unavailable (define_metric status {status})"),
                        );
                        return Metrics::default();
                    }
                }
            }
        }
        m
    }

    /// How many (profile, model) sets are defined.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The label a client's model name is counted under in `cfg`'s profile.
    pub fn model_label<'a>(cfg: &Config, model: Option<&'a str>) -> &'a str {
        match model {
            Some(m) if cfg.models.contains_key(m) => m,
            _ => OTHER,
        }
    }

    /// Record one finished request.
    pub fn record(&self, host: &dyn Host, profile: &str, model: &str, o: &Outcome) {
        let find = |label: &str| {
            self.ids
                .iter()
                .find(|(p, m, _)| p == profile && m == label)
                .map(|(_, _, ids)| ids)
        };
        let Some(ids) = find(model).or_else(|| find(OTHER)) else {
            return;
        };
        // A failed metric call has nowhere useful to go; the request is unaffected.
        let _ = host.increment_metric(ids.requests, 1);
        let class = match o.status {
            200..=299 => Some(0),
            400..=499 => Some(1),
            500..=599 => Some(2),
            _ => None,
        };
        if let Some(i) = class.and_then(|c| ids.responses.get(c)) {
            let _ = host.increment_metric(*i, 1);
        }
        if let Some(kind) = o.error {
            if let Some(i) = ERROR_TYPES
                .iter()
                .position(|k| *k == kind)
                .and_then(|p| ids.errors.get(p))
            {
                let _ = host.increment_metric(*i, 1);
            }
        }
        if let Some(u) = o.usage {
            let counts = [
                u.input_tokens,
                u.output_tokens,
                u.cache_read_input_tokens,
                u.cache_write_input_tokens,
            ];
            for (id, n) in ids.tokens.iter().zip(counts) {
                if n > 0 {
                    let _ = host.increment_metric(*id, i64::try_from(n).unwrap_or(i64::MAX));
                }
            }
        }
        if let Some(ms) = o.ttft_ms {
            let _ = host.record_metric(ids.ttft, ms);
        }
        if let Some(ms) = o.stream_ms {
            let _ = host.record_metric(ids.stream_duration, ms);
        }
    }
}

fn define_one(host: &dyn Host, profile: &str, model: &str) -> Result<Ids, u32> {
    let tags = [("model", model), ("profile", profile)];
    let def = |kind, base: &str, extra: Option<(&str, &str)>| {
        let mut t: Vec<(&str, &str)> = extra.into_iter().collect();
        t.extend_from_slice(&tags);
        host.define_metric(kind, &name(base, &t)).map_err(|e| e.0)
    };
    let mut ids = Ids {
        requests: def(MetricKind::Counter, REQUESTS, None)?,
        stream_duration: def(MetricKind::Histogram, STREAM_DURATION, None)?,
        ttft: def(MetricKind::Histogram, TTFT, None)?,
        ..Ids::default()
    };
    for (id, t) in ids.tokens.iter_mut().zip(TOKEN_TYPES) {
        *id = def(MetricKind::Counter, TOKENS, Some(("gen_ai_token_type", t)))?;
    }
    for (id, c) in ids.responses.iter_mut().zip(STATUS_CLASSES) {
        *id = def(MetricKind::Counter, RESPONSES, Some(("status_class", c)))?;
    }
    for (id, k) in ids.errors.iter_mut().zip(ERROR_TYPES) {
        *id = def(MetricKind::Counter, ERRORS, Some(("error_type", k.as_str())))?;
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_tags_that_the_regexes_strip_to_a_clean_name() {
        let n = name(REQUESTS, &[("model", "us.claude;v=1:0"), ("profile", "team-a")]);
        assert_eq!(
            n,
            "bedrock_reasoning_requests_total;model=us.claude_v_1:0;profile=team-a"
        );
        // What Envoy does with each regex: drop group 1, keep group 2 as the value.
        let mut rest = n.clone();
        let mut labels = Vec::new();
        for (tag, re) in STATS_TAGS {
            assert_eq!(re, format!("(;{tag}=([^;]*))"), "each regex matches its own tag");
            let key = format!(";{tag}=");
            if let Some(i) = rest.find(&key) {
                let end = rest[i + 1..].find(';').map_or(rest.len(), |j| i + 1 + j);
                labels.push((tag, rest[i + key.len()..end].to_string()));
                rest.replace_range(i..end, "");
            }
        }
        assert_eq!(rest, REQUESTS);
        assert_eq!(
            labels,
            vec![
                ("model", "us.claude_v_1:0".to_string()),
                ("profile", "team-a".to_string())
            ]
        );
    }
}
