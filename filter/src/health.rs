//! The Bedrock health check, host-free: `GET /healthz/bedrock` (the path is configurable)
//! answered from cached results of a cheap signed call to Bedrock per profile and model, so
//! probes (Kubernetes readiness, Envoy's own health checks) cost nothing.
//!
//! The call is CountTokens (`POST /model/{id}/count-tokens` with a one-word Converse body): free
//! of charge ("Using the CountTokens API doesn't incur charges",
//! <https://docs.aws.amazon.com/bedrock/latest/userguide/count-tokens.html>), and it goes
//! through the same SigV4 / Bedrock API key authentication, IAM authorization
//! (`bedrock:CountTokens` on the model), region and endpoint as a chat request. CountTokens takes
//! a foundation model id: a cross-region inference profile id (`us.anthropic…`) is refused with
//! "The provided model doesn't support counting tokens" (seen reported at
//! <https://alchemy.run/providers/aws/bedrock/counttokens>), so the probe drops a geography
//! prefix (`us.`, `eu.`, `apac.`, `global.`, …) from the configured id.
//!
//! Each worker's root context ticks every second ([`TICK`]); one worker per interval wins a
//! lease in shared data ([`Prober::on_tick`]) and dispatches the calls to the configured Envoy
//! cluster; each answer is judged ([`judge`]) and stored in shared data under the probe's name,
//! where any worker's request for the health path reads it ([`report`]).

use crate::bedrock::converse::encode_path_segment;
use crate::config::Config;
use crate::exchange::policy::USER_AGENT;
use crate::host::{Buffer, Host, Level, Map, CAS_MISMATCH};
use crate::signing;
use serde::{Deserialize, Serialize};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How often each root context wakes up to see whether a probe round is due.
pub(crate) const TICK: Duration = Duration::from_secs(1);

/// `"health"`: where the endpoint is served and how Bedrock is probed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HealthConfig {
    /// The path answered with the health report (`GET` only; the query is ignored).
    #[serde(default = "default_path")]
    pub path: String,
    /// The Envoy cluster the probes are sent to (the one that carries Bedrock traffic).
    pub cluster: String,
    /// Seconds between probe rounds.
    #[serde(default = "default_interval")]
    pub interval_seconds: u64,
    /// How long one probe may take.
    #[serde(default = "default_timeout")]
    pub timeout_ms: u64,
    /// The model aliases to probe (in every profile that has them); default: every alias.
    #[serde(default)]
    pub models: Option<Vec<String>>,
}

fn default_path() -> String {
    "/healthz/bedrock".into()
}

fn default_interval() -> u64 {
    30
}

fn default_timeout() -> u64 {
    5000
}

impl HealthConfig {
    /// Parse and check `"health"` against the rest of the configuration (`cfg`, with profiles).
    pub(crate) fn parse(v: serde_json::Value, cfg: &Config) -> Result<HealthConfig, String> {
        let h: HealthConfig = serde_json::from_value(v).map_err(|e| format!("`health`: {e}"))?;
        if !h.path.starts_with('/') || h.path.len() > 256 || !h.path.bytes().all(|b| b.is_ascii_graphic()) {
            return Err("`health.path` must be an absolute path like /healthz/bedrock".into());
        }
        if h.cluster.trim().is_empty() {
            return Err("`health.cluster` must name the Envoy cluster that reaches Bedrock".into());
        }
        if !(1..=3600).contains(&h.interval_seconds) || !(100..=60_000).contains(&h.timeout_ms) {
            return Err("`health`: interval_seconds must be 1..=3600 and timeout_ms 100..=60000".into());
        }
        if let Some(unknown) = h
            .models
            .iter()
            .flatten()
            .find(|m| !cfg.all().any(|c| c.models.contains_key(m)))
        {
            return Err(format!(
                "`health.models`: {unknown:?} is not a model alias of any profile"
            ));
        }
        if probes(cfg, &h).is_empty() {
            return Err("`health` has nothing to probe: it needs model aliases in `models`".into());
        }
        Ok(h)
    }
}

/// One signed call per round: a profile's model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Probe {
    pub profile: String,
    pub alias: String,
    /// The id CountTokens is called with.
    pub model_id: String,
}

impl Probe {
    /// Its shared-data key (also how the report names it).
    fn key(&self) -> String {
        format!("bedrock_bridge.health.{}/{}", self.profile, self.alias)
    }
}

/// Geography prefixes of cross-region inference profile ids
/// (<https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-support.html>).
const GEO_PREFIXES: &[&str] = &["us.", "eu.", "apac.", "jp.", "au.", "ca.", "us-gov.", "global."];

/// The foundation model id behind a configured id (a cross-region profile's prefix dropped).
pub(crate) fn count_tokens_model(id: &str) -> &str {
    GEO_PREFIXES.iter().find_map(|p| id.strip_prefix(p)).unwrap_or(id)
}

/// Every (profile, alias) to probe, in a stable order.
pub(crate) fn probes(cfg: &Config, h: &HealthConfig) -> Vec<Probe> {
    let wanted = |alias: &str| h.models.as_ref().is_none_or(|m| m.iter().any(|w| w == alias));
    cfg.all()
        .flat_map(|c| {
            c.models.into_iter().filter(|(a, _)| wanted(a)).map(|(alias, t)| Probe {
                profile: c.profile.clone(),
                alias: alias.clone(),
                model_id: count_tokens_model(&t.id).to_string(),
            })
        })
        .collect()
}

/// A request to send: headers (pseudo-headers and signature included) and body.
pub(crate) type Call = (Vec<(String, String)>, Vec<u8>);

/// The CountTokens request of a probe.
pub(crate) fn request(cfg: &Config, probe: &Probe, now: SystemTime) -> Result<Call, String> {
    let body = br#"{"input":{"converse":{"messages":[{"role":"user","content":[{"text":"ping"}]}]}}}"#.to_vec();
    let path = format!("/model/{}/count-tokens", encode_path_segment(&probe.model_id));
    let signed = [("host", cfg.endpoint.as_str()), ("content-type", "application/json")];
    let req = signing::Request {
        method: "POST",
        host: &cfg.endpoint,
        path: &path,
        headers: &signed,
        body: &body,
        service: signing::SERVICE,
    };
    let auth = signing::auth_headers(&cfg.auth, &cfg.region, &req, now).map_err(|e| e.to_string())?;
    let mut headers: Vec<(String, String)> = [
        (":method", "POST"),
        (":path", path.as_str()),
        (":authority", cfg.endpoint.as_str()),
        ("content-type", "application/json"),
        ("accept", "application/json"),
        ("user-agent", USER_AGENT),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    headers.extend(auth);
    Ok((headers, body))
}

/// One probe's outcome, as stored in shared data and reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Outcome {
    pub healthy: bool,
    /// Bedrock's HTTP status (0: no answer).
    pub status: u16,
    /// Why, in words: Bedrock's error type and message, or what went wrong on the way.
    pub reason: String,
    /// When the answer came (seconds since the epoch).
    pub checked_at: u64,
}

/// Longest Bedrock message kept in a reason.
const MAX_REASON: usize = 300;

/// Judge Bedrock's answer to a probe: `status` None when there was none (timeout, connection
/// failure, no such cluster). Only a 2xx proves access.
pub(crate) fn judge(status: Option<u16>, error_type: Option<&str>, body: &[u8], now: u64) -> Outcome {
    let Some(status) = status else {
        return Outcome {
            healthy: false,
            status: 0,
            reason: "no answer from Bedrock (timeout, connection failure or reset)".into(),
            checked_at: now,
        };
    };
    if (200..300).contains(&status) {
        return Outcome {
            healthy: true,
            status,
            reason: "CountTokens answered: credentials, permission, region and endpoint work".into(),
            checked_at: now,
        };
    }
    #[derive(Deserialize)]
    struct Msg {
        #[serde(alias = "Message")]
        message: Option<String>,
    }
    let msg = serde_json::from_slice::<Msg>(body).ok().and_then(|m| m.message);
    let kind = error_type.map(|t| t.split(':').next().unwrap_or(t)).unwrap_or("error");
    let mut reason = format!("Bedrock answered {status} {kind}");
    if let Some(m) = msg {
        reason.push_str(": ");
        reason.extend(m.chars().filter(|c| !c.is_control()).take(MAX_REASON));
    }
    Outcome {
        healthy: false,
        status,
        reason,
        checked_at: now,
    }
}

fn epoch_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

const LEASE: &str = "bedrock_bridge.health.lease";

/// Whether this worker runs the round due at `now`: the lease (the last round's start) is
/// older than `interval` and this worker moved it first.
pub(crate) fn take_lease(host: &dyn Host, interval: u64, now: u64) -> bool {
    let Ok((value, cas)) = host.shared_data(LEASE) else {
        return false;
    };
    let last = value
        .and_then(|v| std::str::from_utf8(&v).ok().and_then(|s| s.parse::<u64>().ok()))
        .unwrap_or(0);
    if now < last.saturating_add(interval) {
        return false;
    }
    match host.set_shared_data(LEASE, now.to_string().as_bytes(), cas) {
        Ok(()) => true,
        Err(e) if e.0 == CAS_MISMATCH => false,
        Err(_) => false,
    }
}

fn store(host: &dyn Host, probe: &Probe, outcome: &Outcome) {
    let value = serde_json::to_vec(outcome).unwrap_or_default();
    if let Err(e) = host.set_shared_data(&probe.key(), &value, 0) {
        host.log(
            Level::Warn,
            &format!("bedrock-bridge: health result not stored (host status {})", e.0),
        );
    }
}

/// The root context's side: probes, and the calls in flight.
#[derive(Debug, Default)]
pub(crate) struct Prober {
    probes: Vec<Probe>,
    /// (token, index into `probes`).
    pending: Vec<(u32, usize)>,
}

impl Prober {
    /// A prober for `cfg`, its timer started; `None` without `"health"`.
    pub(crate) fn start(host: &dyn Host, cfg: &Config) -> Option<Prober> {
        let h = cfg.health.as_ref()?;
        if let Err(e) = host.set_tick_period(TICK) {
            host.log(
                Level::Error,
                &format!("bedrock-bridge: no timer for the health check (host status {})", e.0),
            );
            return None;
        }
        Some(Prober {
            probes: probes(cfg, h),
            pending: Vec::new(),
        })
    }

    /// A tick: when this worker wins the round, sign and send every probe.
    pub(crate) fn on_tick(&mut self, host: &dyn Host, cfg: &Config) {
        let Some(h) = &cfg.health else { return };
        let now = host.now();
        if !take_lease(host, h.interval_seconds, epoch_secs(now)) {
            return;
        }
        self.pending.clear();
        for (i, probe) in self.probes.iter().enumerate() {
            let sent = request(cfg.for_route(&probe.profile), probe, now).and_then(|(headers, body)| {
                let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                let timeout = Duration::from_millis(h.timeout_ms);
                host.dispatch_http_call(&h.cluster, &headers, &body, timeout)
                    .map_err(|e| {
                        format!(
                            "the call could not be sent to cluster {:?} (host status {})",
                            h.cluster, e.0
                        )
                    })
            });
            match sent {
                Ok(token) => self.pending.push((token, i)),
                Err(reason) => {
                    let outcome = Outcome {
                        healthy: false,
                        status: 0,
                        reason,
                        checked_at: epoch_secs(now),
                    };
                    store(host, probe, &outcome);
                }
            }
        }
    }

    /// The answer to the call `token` (headers and body readable through `host`).
    pub(crate) fn on_response(&mut self, host: &dyn Host, token: u32, body_size: usize) {
        let Some(at) = self.pending.iter().position(|(t, _)| *t == token) else {
            return;
        };
        let (_, i) = self.pending.swap_remove(at);
        let Some(probe) = self.probes.get(i) else { return };
        let header = |n: &str| host.header(Map::HttpCallResponseHeaders, n);
        let status = header(":status").and_then(|s| s.parse::<u16>().ok());
        let body = host
            .buffer(Buffer::HttpCallResponseBody, 0, body_size.min(64 * 1024))
            .unwrap_or_default();
        let outcome = judge(
            status,
            header("x-amzn-errortype").as_deref(),
            &body,
            epoch_secs(host.now()),
        );
        if !outcome.healthy {
            let msg = format!(
                "bedrock-bridge: health probe {}/{} unhealthy: {}",
                probe.profile, probe.alias, outcome.reason
            );
            host.log(Level::Warn, &msg);
        }
        store(host, probe, &outcome);
    }
}

#[derive(Serialize)]
struct Entry<'a> {
    profile: &'a str,
    model: &'a str,
    model_id: &'a str,
    region: &'a str,
    healthy: bool,
    status: u16,
    reason: String,
    checked_at: u64,
}

#[derive(Serialize)]
struct Report<'a> {
    status: &'static str,
    checks: Vec<Entry<'a>>,
}

/// The health report: 200 when every probe's last answer (no older than two intervals plus
/// the timeout) proved access, else 503; the body names each profile and model and why.
pub(crate) fn report(host: &dyn Host, cfg: &Config) -> (u16, Vec<u8>) {
    let Some(h) = &cfg.health else {
        return (404, Vec::new());
    };
    let now = epoch_secs(host.now());
    let stale_after = h
        .interval_seconds
        .saturating_mul(2)
        .saturating_add(h.timeout_ms / 1000 + 2);
    let list = probes(cfg, h);
    let checks: Vec<Entry<'_>> = list
        .iter()
        .map(|p| {
            let stored = host.shared_data(&p.key()).ok().and_then(|(v, _)| v);
            let o = stored.and_then(|v| serde_json::from_slice::<Outcome>(&v).ok());
            let o = match o {
                Some(o) if now.saturating_sub(o.checked_at) > stale_after => Outcome {
                    healthy: false,
                    reason: format!(
                        "stale: the last probe answered {} s ago",
                        now.saturating_sub(o.checked_at)
                    ),
                    ..o
                },
                Some(o) => o,
                None => Outcome {
                    healthy: false,
                    status: 0,
                    reason: "not probed yet".into(),
                    checked_at: 0,
                },
            };
            let c = cfg.for_route(&p.profile);
            Entry {
                profile: &p.profile,
                model: &p.alias,
                model_id: &p.model_id,
                region: &c.region,
                healthy: o.healthy,
                status: o.status,
                reason: o.reason,
                checked_at: o.checked_at,
            }
        })
        .collect();
    let healthy = checks.iter().all(|c| c.healthy);
    let report = Report {
        status: if healthy { "healthy" } else { "unhealthy" },
        checks,
    };
    let body = serde_json::to_vec(&report).unwrap_or_default();
    (if healthy { 200 } else { 503 }, body)
}

/// Whether a request is for the health endpoint of `cfg`.
pub(crate) fn is_health_request(cfg: &Config, path: &str) -> bool {
    cfg.health
        .as_ref()
        .is_some_and(|h| path.split('?').next() == Some(h.path.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::{HostError, HostResult};
    use serde_json::Value;
    use std::cell::{Cell, RefCell};
    use std::collections::HashMap;

    const CFG: &str = r#"{"region":"us-east-1","credentials":{"access_key_id":"AK","secret_access_key":"SK"},
        "models":{"claude":"us.anthropic.claude-sonnet-4-20250514-v1:0","nova":"amazon.nova-lite-v1:0"},
        "profiles":{"eu":{"region":"eu-west-1","models":{"claude":"eu.anthropic.claude-sonnet-4-20250514-v1:0"}}},
        "health":{"cluster":"bedrock","interval_seconds":10HEALTH}}"#;

    fn config(extra: &str) -> Result<Config, String> {
        let text = CFG.replace("HEALTH", extra);
        Config::parse(text.as_bytes(), &|_| None).map_err(|e| e.0)
    }

    #[test]
    fn config_defaults_and_refusals() {
        let c = config("").unwrap();
        let h = c.health.as_ref().unwrap();
        assert_eq!(
            (h.path.as_str(), h.timeout_ms, h.models.as_ref()),
            ("/healthz/bedrock", 5000, None)
        );
        assert!(c.profiles.get("eu").unwrap().health.is_none(), "top level only");
        for (extra, needle) in [
            (r#","path":"healthz""#, "health.path"),
            (r#","interval_seconds":0"#, "interval_seconds"),
            (r#","timeout_ms":5"#, "timeout_ms"),
            (r#","models":["gpt"]"#, "\"gpt\""),
            (r#","colour":1"#, "colour"),
        ] {
            let e = config(extra).unwrap_err();
            assert!(e.contains(needle), "{extra}: {e}");
        }
        let e = Config::parse(
            br#"{"region":"us-east-1","credentials":{"bearer_token":"t"},"health":{"cluster":"b"}}"#,
            &|_| None,
        )
        .unwrap_err();
        assert!(e.0.contains("nothing to probe"), "{e}");
        let e = Config::parse(
            br#"{"region":"us-east-1","credentials":{"bearer_token":"t"},"models":{"a":"b"},"profiles":{"p":{"health":{"cluster":"b"}}}}"#,
            &|_| None,
        )
        .unwrap_err();
        assert!(e.0.contains("profiles.p") && e.0.contains("health"), "{e}");
    }

    #[test]
    fn probes_cover_profiles_with_foundation_model_ids() {
        let c = config("").unwrap();
        let p = probes(&c, c.health.as_ref().unwrap());
        let got: Vec<(&str, &str, &str)> = p
            .iter()
            .map(|p| (p.profile.as_str(), p.alias.as_str(), p.model_id.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("default", "claude", "anthropic.claude-sonnet-4-20250514-v1:0"),
                ("default", "nova", "amazon.nova-lite-v1:0"),
                ("eu", "claude", "anthropic.claude-sonnet-4-20250514-v1:0"),
            ]
        );
        let c = config(r#","models":["claude"]"#).unwrap();
        assert_eq!(probes(&c, c.health.as_ref().unwrap()).len(), 2);
        assert_eq!(count_tokens_model("global.anthropic.x"), "anthropic.x");
        assert_eq!(
            count_tokens_model("arn:aws:bedrock:us-east-1::foundation-model/a"),
            "arn:aws:bedrock:us-east-1::foundation-model/a"
        );
    }

    #[test]
    fn the_request_is_signed_for_the_profile_region() {
        let c = config("").unwrap();
        let eu = c.for_route("eu");
        let probe = probes(&c, c.health.as_ref().unwrap()).pop().unwrap();
        let (headers, body) = request(eu, &probe, UNIX_EPOCH + Duration::from_secs(1_700_000_000)).unwrap();
        let h: HashMap<&str, &str> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(
            h[":path"],
            "/model/anthropic.claude-sonnet-4-20250514-v1%3A0/count-tokens"
        );
        assert_eq!(h[":authority"], "bedrock-runtime.eu-west-1.amazonaws.com");
        assert!(
            h["authorization"].contains("/20231114/eu-west-1/bedrock/aws4_request"),
            "{}",
            h["authorization"]
        );
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["input"]["converse"]["messages"][0]["content"][0]["text"], "ping");
    }

    #[test]
    fn judging_answers() {
        assert!(judge(Some(200), None, br#"{"inputTokens":3}"#, 5).healthy);
        let o = judge(
            Some(403),
            Some("UnrecognizedClientException:http://internal.amazon.com/coral/"),
            b"{\"message\":\"The security token included in the request is invalid.\\n\"}",
            5,
        );
        assert!(!o.healthy);
        assert_eq!(
            o.reason,
            "Bedrock answered 403 UnrecognizedClientException: The security token included in the request is invalid."
        );
        let o = judge(Some(429), None, b"not json", 5);
        assert_eq!((o.healthy, o.reason.as_str()), (false, "Bedrock answered 429 error"));
        let o = judge(None, None, b"", 5);
        assert_eq!((o.healthy, o.status), (false, 0));
        let long = format!("{{\"message\":\"{}\"}}", "x".repeat(5000));
        assert!(judge(Some(400), None, long.as_bytes(), 5).reason.len() < 400);
    }

    /// Shared data, a settable clock, dispatched calls and the answer being delivered.
    #[derive(Default)]
    struct Fake {
        data: RefCell<HashMap<String, Vec<u8>>>,
        clock: Cell<u64>,
        /// The cluster of each dispatched call.
        calls: RefCell<Vec<String>>,
        refuse_calls: Cell<bool>,
        answer: RefCell<(Option<String>, Option<String>, Vec<u8>)>,
    }

    impl Host for Fake {
        fn header(&self, map: Map, name: &str) -> Option<String> {
            let a = self.answer.borrow();
            match (map, name) {
                (Map::HttpCallResponseHeaders, ":status") => a.0.clone(),
                (Map::HttpCallResponseHeaders, "x-amzn-errortype") => a.1.clone(),
                _ => None,
            }
        }
        crate::host::no_stream_calls!();
        fn buffer(&self, b: Buffer, _: usize, _: usize) -> HostResult<Vec<u8>> {
            assert_eq!(b, Buffer::HttpCallResponseBody);
            Ok(self.answer.borrow().2.clone())
        }
        fn now(&self) -> SystemTime {
            UNIX_EPOCH + Duration::from_secs(self.clock.get())
        }
        fn shared_data(&self, key: &str) -> HostResult<(Option<Vec<u8>>, u32)> {
            let v = self.data.borrow().get(key).cloned();
            let cas = v.as_ref().map_or(0, |v| v.len() as u32 + 1);
            Ok((v, cas))
        }
        fn set_shared_data(&self, key: &str, value: &[u8], cas: u32) -> HostResult<()> {
            let (_, now) = self.shared_data(key)?;
            if cas != 0 && cas != now {
                return Err(HostError(CAS_MISMATCH));
            }
            self.data.borrow_mut().insert(key.to_string(), value.to_vec());
            Ok(())
        }
        fn dispatch_http_call(
            &self,
            cluster: &str,
            headers: &[(&str, &str)],
            _: &[u8],
            _: Duration,
        ) -> HostResult<u32> {
            if self.refuse_calls.get() {
                return Err(HostError(2));
            }
            assert!(headers.iter().any(|(k, _)| *k == "authorization"), "signed");
            self.calls.borrow_mut().push(cluster.to_string());
            Ok(self.calls.borrow().len() as u32)
        }
        fn set_tick_period(&self, period: Duration) -> HostResult<()> {
            assert_eq!(period, TICK);
            Ok(())
        }
    }

    fn answer_all(p: &mut Prober, host: &Fake, status: &str, kind: Option<&str>, body: &[u8]) {
        *host.answer.borrow_mut() = (Some(status.into()), kind.map(String::from), body.to_vec());
        let tokens: Vec<u32> = p.pending.iter().map(|(t, _)| *t).collect();
        for t in tokens {
            p.on_response(host, t, body.len());
        }
    }

    fn checks(host: &Fake, c: &Config) -> (u16, Value) {
        let (status, body) = report(host, c);
        (status, serde_json::from_slice(&body).unwrap())
    }

    #[test]
    fn rounds_refusal_recovery_and_staleness() {
        let c = config(r#","models":["claude"]"#).unwrap();
        let host = Fake::default();
        host.clock.set(1_000);
        let mut p = Prober::start(&host, &c).unwrap();
        let (status, v) = checks(&host, &c);
        assert_eq!(
            (status, v["checks"][0]["reason"].as_str()),
            (503, Some("not probed yet"))
        );

        p.on_tick(&host, &c);
        assert_eq!(host.calls.borrow().len(), 2, "one call per profile's model");
        assert!(host.calls.borrow().iter().all(|cluster| cluster == "bedrock"));
        p.on_tick(&host, &c);
        assert_eq!(
            host.calls.borrow().len(),
            2,
            "the round is not due again within the interval"
        );
        answer_all(
            &mut p,
            &host,
            "403",
            Some("UnrecognizedClientException"),
            br#"{"message":"bad token"}"#,
        );
        let (status, v) = checks(&host, &c);
        assert_eq!(status, 503);
        assert_eq!(v["status"], "unhealthy");
        assert_eq!(v["checks"][1]["profile"], "eu");
        assert_eq!(v["checks"][1]["region"], "eu-west-1");
        assert_eq!(
            v["checks"][1]["reason"],
            "Bedrock answered 403 UnrecognizedClientException: bad token"
        );

        host.clock.set(1_010);
        p.on_tick(&host, &c);
        assert_eq!(host.calls.borrow().len(), 4);
        answer_all(&mut p, &host, "200", None, br#"{"inputTokens":7}"#);
        let (status, v) = checks(&host, &c);
        assert_eq!((status, v["status"].as_str()), (200, Some("healthy")));

        host.clock.set(1_040);
        let (status, v) = checks(&host, &c);
        assert_eq!(status, 503);
        assert!(v["checks"][0]["reason"].as_str().unwrap().starts_with("stale"), "{v}");

        host.refuse_calls.set(true);
        p.on_tick(&host, &c);
        let (status, v) = checks(&host, &c);
        assert_eq!(status, 503);
        assert!(
            v["checks"][0]["reason"]
                .as_str()
                .unwrap()
                .contains("cluster \"bedrock\""),
            "{v}"
        );
        assert!(is_health_request(&c, "/healthz/bedrock?x=1") && !is_health_request(&c, "/healthz"));
    }
}
