//! Metrics in Envoy's `/stats/prometheus`: OpenTelemetry's GenAI metrics as Envoy AI Gateway
//! names them, and this gateway's own `bedrock_*` counters.
//!
//! The GenAI metrics (<https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-metrics/>, the
//! names and attributes of envoyproxy/ai-gateway `internal/metrics/genai.go`):
//! - `gen_ai.client.token.usage`: histogram of tokens per request, by `gen_ai.token.type`
//!   (`input` = every input token, cached or not, as AI Gateway counts them; `output`;
//!   `cached_input` and `cache_creation_input`, the parts of `input` read from and written to
//!   the prompt cache).
//! - `gen_ai.server.request.duration`: every request, from its headers to its last byte.
//! - `gen_ai.server.time_to_first_token`: streams, from forwarding to Bedrock to the first
//!   output token.
//! - `gen_ai.server.time_per_output_token`: successful streams with more than one output token:
//!   (end − first token) / (output tokens − 1).
//!
//! Each carries `gen_ai.operation.name` (the front door: `chat`, `responses`, `messages`,
//! `embeddings`, `count_tokens`), `gen_ai.provider.name` (`aws.bedrock`),
//! `gen_ai.original.model` (the client's model name), `gen_ai.request.model` and
//! `gen_ai.response.model` (the Bedrock model id it maps to: Bedrock does not name the model in
//! its answer), `error.type` on failed requests, and the profile. Attribute dots become
//! underscores in Prometheus, as OpenTelemetry's Prometheus exporter writes them.
//!
//! **Units**: the proxy-wasm ABI records histograms as whole numbers, and Envoy's Prometheus
//! output prints bucket bounds as configured, so a duration recorded in seconds would lose every
//! fraction. Durations are recorded in milliseconds and named with that unit
//! (`gen_ai_server_request_duration_milliseconds`, the name OpenTelemetry's Prometheus exporter
//! gives the same instrument in `ms`), with AI Gateway's bucket bounds × 1000 in
//! `stats_config.histogram_bucket_settings` (envoy/envoy.yaml). Token counts need no unit.
//!
//! The proxy-wasm ABI has no labels: each metric's name carries its labels as `;key=value`
//! (`gen_ai_client_token_usage;gen_ai_token_type=input;...`), and the bootstrap's
//! `stats_config.stats_tags` (the regexes of [`STATS_TAGS`], shipped in `envoy/envoy.yaml`) turn
//! them into labels. Label values are bounded: models come from the configuration (any other
//! name is [`OTHER`]), error and token types are fixed lists. A metric is defined the first time
//! a request needs it, so the scrape shows only series that happened.
//!
//! Everything is recorded once per request, at its end: nothing here runs per response chunk.

use crate::config::Config;
use crate::error::ErrorType;
use crate::host::{Host, Level, MetricKind};
use crate::openai::BedrockUsage;
use std::cell::{Cell, RefCell};

/// Requests handled by a front door (every outcome), by `model` and `profile`.
pub(crate) const REQUESTS: &str = "bedrock_reasoning_requests_total";
/// Milliseconds from forwarding a streaming request to its end (histogram).
pub(crate) const STREAM_DURATION: &str = "bedrock_reasoning_stream_duration";
/// Requests that ended in an error (local, Bedrock HTTP or mid-stream), by `error_type`.
pub(crate) const ERRORS: &str = "bedrock_reasoning_errors_total";
/// Responses by `status_class` (2xx, 4xx, 5xx).
pub(crate) const RESPONSES: &str = "bedrock_responses_total";
/// Exact token counts by `gen_ai_token_type` (a counter: Envoy's histogram sums are
/// approximate, budgets and bills are not).
pub(crate) const TOKENS: &str = "bedrock_tokens_total";

/// `gen_ai.client.token.usage` (histogram, tokens).
pub(crate) const TOKEN_USAGE: &str = "gen_ai_client_token_usage";
/// `gen_ai.server.request.duration` (histogram, milliseconds).
pub(crate) const REQUEST_DURATION: &str = "gen_ai_server_request_duration_milliseconds";
/// `gen_ai.server.time_to_first_token` (histogram, milliseconds).
pub(crate) const TTFT: &str = "gen_ai_server_time_to_first_token_milliseconds";
/// `gen_ai.server.time_per_output_token` (histogram, milliseconds).
pub(crate) const TPOT: &str = "gen_ai_server_time_per_output_token_milliseconds";

/// `gen_ai.provider.name` for Amazon Bedrock (OpenTelemetry's well-known value).
pub(crate) const PROVIDER: &str = "aws.bedrock";
/// The label for a model name that is not in the configuration.
pub(crate) const OTHER: &str = "other";
/// `gen_ai.token.type` values, as Envoy AI Gateway writes them.
pub(crate) const TOKEN_TYPES: [&str; 4] = ["input", "output", "cached_input", "cache_creation_input"];

/// `stats_config.stats_tags` entries (tag name, regex) that turn the `;key=value` parts into
/// labels: the reference the shipped Envoy configurations are tested against.
#[cfg(test)]
const STATS_TAGS: [(&str, &str); 10] = [
    ("model", "(;model=([^;]*))"),
    ("profile", "(;profile=([^;]*))"),
    ("error_type", "(;error_type=([^;]*))"),
    ("status_class", "(;status_class=([^;]*))"),
    ("gen_ai_token_type", "(;gen_ai_token_type=([^;]*))"),
    ("gen_ai_operation_name", "(;gen_ai_operation_name=([^;]*))"),
    ("gen_ai_provider_name", "(;gen_ai_provider_name=([^;]*))"),
    ("gen_ai_original_model", "(;gen_ai_original_model=([^;]*))"),
    ("gen_ai_request_model", "(;gen_ai_request_model=([^;]*))"),
    ("gen_ai_response_model", "(;gen_ai_response_model=([^;]*))"),
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
pub(crate) fn name(base: &str, tags: &[(&str, &str)]) -> String {
    let mut n = base.to_string();
    for (k, v) in tags {
        n.push(';');
        n.push_str(k);
        n.push('=');
        n.push_str(&value(v));
    }
    n
}

/// Who a request was: its labels, bounded by the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Labels<'a> {
    pub(crate) profile: &'a str,
    /// `gen_ai.operation.name`: the front door.
    pub(crate) operation: &'a str,
    /// The client's model name when the configuration knows it, else [`OTHER`].
    pub(crate) model: &'a str,
    /// The Bedrock model id a configured name maps to, else [`OTHER`].
    pub(crate) model_id: &'a str,
}

impl<'a> Labels<'a> {
    pub(crate) fn new(cfg: &'a Config, operation: &'a str, model: Option<&'a str>) -> Labels<'a> {
        let known = model.and_then(|m| Some((m, cfg.models.get(m)?)));
        let (model, model_id) = match known {
            Some((name, target)) => (name, target.id.as_str()),
            None => (OTHER, OTHER),
        };
        Labels {
            profile: &cfg.profile,
            operation,
            model,
            model_id,
        }
    }
}

/// What one finished request contributes.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Outcome {
    /// The status the client got.
    pub(crate) status: u16,
    /// The error that ended the request (also for a 200 stream cut by an exception).
    pub(crate) error: Option<ErrorType>,
    pub(crate) usage: Option<BedrockUsage>,
    /// Milliseconds from forwarding to the first output token.
    pub(crate) ttft_ms: Option<u64>,
    /// For streams: milliseconds from forwarding to the end.
    pub(crate) stream_ms: Option<u64>,
    /// Milliseconds from the request headers to the end.
    pub(crate) duration_ms: Option<u64>,
}

impl Outcome {
    /// Milliseconds per output token after the first, for a successful stream with at least
    /// two output tokens (rounded; at least 0).
    pub(crate) fn time_per_output_token_ms(&self) -> Option<u64> {
        let out = self.usage?.output_tokens;
        if self.error.is_some() || !(200..300).contains(&self.status) || out < 2 {
            return None;
        }
        let after_first = self.stream_ms?.checked_sub(self.ttft_ms?)?;
        let n = out - 1;
        Some(after_first.saturating_add(n / 2) / n)
    }
}

/// The GenAI token counts of a usage, in [`TOKEN_TYPES`] order.
pub(crate) fn token_counts(u: &BedrockUsage) -> [u64; 4] {
    let input = u
        .input_tokens
        .saturating_add(u.cache_read_input_tokens)
        .saturating_add(u.cache_write_input_tokens);
    [
        input,
        u.output_tokens,
        u.cache_read_input_tokens,
        u.cache_write_input_tokens,
    ]
}

/// The plugin's metrics, defined on first use (per worker: each has its own VM).
#[derive(Debug, Default)]
pub struct Metrics {
    /// (full name, id), sorted by name.
    ids: RefCell<Vec<(String, u32)>>,
    /// The host refused to define a metric: metrics are off (logged once).
    off: Cell<bool>,
}

impl Metrics {
    /// Record one finished request.
    pub(crate) fn record(&self, host: &dyn Host, l: &Labels<'_>, o: &Outcome) {
        use MetricKind::{Counter, Histogram};
        let own = [("model", l.model), ("profile", l.profile)];
        let gen_ai = [
            ("gen_ai_operation_name", l.operation),
            ("gen_ai_provider_name", PROVIDER),
            ("gen_ai_original_model", l.model),
            ("gen_ai_request_model", l.model_id),
            ("gen_ai_response_model", l.model_id),
            ("profile", l.profile),
        ];
        fn with<'t>(extra: (&'t str, &'t str), tags: &[(&'t str, &'t str)]) -> Vec<(&'t str, &'t str)> {
            let mut t = vec![extra];
            t.extend_from_slice(tags);
            t
        }
        self.add(host, Counter, &name(REQUESTS, &own), 1);
        if let Some(class) = status_class(o.status) {
            self.add(host, Counter, &name(RESPONSES, &with(("status_class", class), &own)), 1);
        }
        let error = o.error.map(ErrorType::as_str);
        if let Some(kind) = error {
            self.add(host, Counter, &name(ERRORS, &with(("error_type", kind), &own)), 1);
        }
        if let Some(u) = &o.usage {
            for (t, n) in TOKEN_TYPES.into_iter().zip(token_counts(u)) {
                let tag = ("gen_ai_token_type", t);
                if n > 0 {
                    self.add(host, Counter, &name(TOKENS, &with(tag, &own)), n);
                }
                // Zero counts too (AI Gateway records each type the answer reported); the cache
                // types only when the model reported a cache read or write.
                if n > 0 || t == "input" || t == "output" {
                    self.add(host, Histogram, &name(TOKEN_USAGE, &with(tag, &gen_ai)), n);
                }
            }
        }
        if let Some(ms) = o.duration_ms {
            let n = match error {
                Some(kind) => name(REQUEST_DURATION, &with(("error_type", kind), &gen_ai)),
                None => name(REQUEST_DURATION, &gen_ai),
            };
            self.add(host, Histogram, &n, ms);
        }
        if let (Some(ms), None) = (o.ttft_ms, error) {
            self.add(host, Histogram, &name(TTFT, &gen_ai), ms);
        }
        if let Some(ms) = o.time_per_output_token_ms() {
            self.add(host, Histogram, &name(TPOT, &gen_ai), ms);
        }
        if let Some(ms) = o.stream_ms {
            self.add(host, Histogram, &name(STREAM_DURATION, &own), ms);
        }
    }

    /// Add `n` to a counter, or record `n` in a histogram, defining it on first use.
    fn add(&self, host: &dyn Host, kind: MetricKind, full: &str, n: u64) {
        if self.off.get() {
            return;
        }
        let found = self.ids.borrow().binary_search_by(|(n, _)| n.as_str().cmp(full));
        let id = match found {
            Ok(i) => self.ids.borrow().get(i).map_or(0, |(_, id)| *id),
            Err(i) => match host.define_metric(kind, full) {
                Ok(id) => {
                    self.ids.borrow_mut().insert(i, (full.to_string(), id));
                    id
                }
                Err(e) => {
                    self.off.set(true);
                    let msg = format!("bedrock-bridge: metrics unavailable (define_metric status {})", e.0);
                    host.log(Level::Warn, &msg);
                    return;
                }
            },
        };
        // A failed metric call has nowhere useful to go; the request is unaffected.
        let _ = match kind {
            MetricKind::Histogram => host.record_metric(id, n),
            _ => host.increment_metric(id, i64::try_from(n).unwrap_or(i64::MAX)),
        };
    }
}

fn status_class(status: u16) -> Option<&'static str> {
    match status {
        200..=299 => Some("2xx"),
        400..=499 => Some("4xx"),
        500..=599 => Some("5xx"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What Envoy does with each regex: drop group 1, keep group 2 as the value.
    fn envoy_tags(n: &str) -> (String, Vec<(&'static str, String)>) {
        let mut rest = n.to_string();
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
        (rest, labels)
    }

    #[test]
    fn names_carry_tags_that_the_regexes_strip_to_a_clean_name() {
        let n = name(REQUESTS, &[("model", "us.claude;v=1:0"), ("profile", "team-a")]);
        assert_eq!(
            n,
            "bedrock_reasoning_requests_total;model=us.claude_v_1:0;profile=team-a"
        );
        let (rest, labels) = envoy_tags(&n);
        assert_eq!(rest, REQUESTS);
        assert_eq!(
            labels,
            vec![
                ("model", "us.claude_v_1:0".to_string()),
                ("profile", "team-a".to_string())
            ]
        );
        let n = name(
            TOKEN_USAGE,
            &[
                ("gen_ai_token_type", "input"),
                ("gen_ai_operation_name", "chat"),
                ("gen_ai_provider_name", PROVIDER),
                ("gen_ai_request_model", "us.anthropic.claude-x-v1:0"),
            ],
        );
        let (rest, labels) = envoy_tags(&n);
        assert_eq!(rest, TOKEN_USAGE);
        assert_eq!(labels.len(), 4);
    }

    #[test]
    fn the_shipped_envoy_configs_carry_every_stats_tag() {
        for (file, text) in [
            ("envoy/envoy.yaml", include_str!("../../envoy/envoy.yaml")),
            (
                "envoy/envoy-gateway/bedrock-bridge.yaml",
                include_str!("../../envoy/envoy-gateway/bedrock-bridge.yaml"),
            ),
        ] {
            for (tag, re) in STATS_TAGS {
                let line = format!("{{tag_name: {tag}, regex: \"{re}\"}}");
                assert!(text.contains(&line), "{file} lacks {line}");
            }
            for base in [
                TOKEN_USAGE,
                "gen_ai_server_request_duration",
                "gen_ai_server_time_to_first_token",
            ] {
                assert!(
                    text.contains(&format!("match: {{contains: \"{base}\"}}")),
                    "{file}: buckets of {base}"
                );
            }
        }
    }

    #[test]
    fn tokens_are_counted_as_ai_gateway_counts_them() {
        let u = BedrockUsage {
            input_tokens: 11,
            output_tokens: 7,
            total_tokens: Some(23),
            cache_read_input_tokens: 3,
            cache_write_input_tokens: 2,
        };
        assert_eq!(token_counts(&u), [16, 7, 3, 2]);
    }

    #[test]
    fn time_per_output_token_needs_a_successful_stream_of_two_tokens() {
        let usage = |n| {
            Some(BedrockUsage {
                output_tokens: n,
                ..BedrockUsage::default()
            })
        };
        let o = Outcome {
            status: 200,
            usage: usage(11),
            ttft_ms: Some(300),
            stream_ms: Some(504),
            ..Outcome::default()
        };
        assert_eq!(o.time_per_output_token_ms(), Some(20), "204 ms / 10 tokens, rounded");
        for bad in [
            Outcome {
                usage: usage(1),
                ..o.clone()
            },
            Outcome {
                error: Some(ErrorType::Server),
                ..o.clone()
            },
            Outcome {
                stream_ms: None,
                ..o.clone()
            },
            Outcome {
                ttft_ms: Some(600),
                ..o.clone()
            },
        ] {
            assert_eq!(bad.time_per_output_token_ms(), None, "{bad:?}");
        }
    }
}
