//! Token budgets (`"token_budget": {"tokens_per_minute": N}`): the tokens (input + output) of
//! finished requests, counted per profile in fixed windows across all workers of one Envoy
//! (proxy-wasm shared data, compare-and-swap). Once a window's budget is spent, new requests get
//! 429 until the window ends; requests already running finish and are counted.
//!
//! The accounting ([`Window`]) is host-free; [`admit`] and [`charge`] are its only host calls.

use crate::config::TokenBudget;
use crate::host::{Host, HostError, CAS_MISMATCH};

/// One window's count, as stored in shared data (16 bytes: start second, tokens; little-endian).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Window {
    pub start: u64,
    pub used: u64,
}

impl Window {
    pub(crate) fn decode(b: &[u8]) -> Option<Window> {
        let start = u64::from_le_bytes(b.get(0..8)?.try_into().ok()?);
        let used = u64::from_le_bytes(b.get(8..16)?.try_into().ok()?);
        Some(Window { start, used })
    }

    pub(crate) fn encode(&self) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&self.start.to_le_bytes());
        out[8..].copy_from_slice(&self.used.to_le_bytes());
        out
    }

    /// The window `now` (seconds) falls in.
    fn current(now: u64, b: &TokenBudget) -> u64 {
        now - now % b.window_seconds.max(1)
    }

    /// `Ok` when a request may start at `now`, else the seconds until the window ends.
    pub(crate) fn check(stored: Option<Window>, now: u64, b: &TokenBudget) -> Result<(), u64> {
        let start = Window::current(now, b);
        match stored {
            Some(w) if w.start == start && w.used >= b.tokens_per_minute => {
                Err((start + b.window_seconds.max(1)).saturating_sub(now).max(1))
            }
            _ => Ok(()),
        }
    }

    /// The stored window after a request that used `tokens` finished at `now`.
    pub(crate) fn add(stored: Option<Window>, now: u64, tokens: u64, b: &TokenBudget) -> Window {
        let start = Window::current(now, b);
        match stored {
            Some(w) if w.start == start => Window {
                start,
                used: w.used.saturating_add(tokens),
            },
            _ => Window { start, used: tokens },
        }
    }
}

/// The shared-data key of a profile's budget.
pub(crate) fn key(profile: &str) -> String {
    format!("bedrock-bridge.token_budget.{profile}")
}

/// May a request of `profile` start? `Err(retry_after_seconds)` once the budget is spent. A host
/// without shared data admits (the caller logs the error).
pub(crate) fn admit(host: &dyn Host, profile: &str, b: &TokenBudget, now: u64) -> Result<Result<(), u64>, HostError> {
    let (value, _) = host.shared_data(&key(profile))?;
    Ok(Window::check(value.as_deref().and_then(Window::decode), now, b))
}

/// Count `tokens` against `profile`'s budget: read, add, write back if nobody wrote meanwhile
/// (retried a few times on a lost race).
pub(crate) fn charge(host: &dyn Host, profile: &str, b: &TokenBudget, now: u64, tokens: u64) -> Result<(), HostError> {
    let k = key(profile);
    let mut last = HostError(CAS_MISMATCH);
    for _ in 0..16 {
        let (value, cas) = host.shared_data(&k)?;
        let w = Window::add(value.as_deref().and_then(Window::decode), now, tokens, b);
        match host.set_shared_data(&k, &w.encode(), cas) {
            Ok(()) => return Ok(()),
            Err(e) if e.0 == CAS_MISMATCH => last = e,
            Err(e) => return Err(e),
        }
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::{Host, HostResult, Map};
    use std::cell::{Cell, RefCell};
    use std::collections::HashMap;
    use std::time::SystemTime;

    const B: TokenBudget = TokenBudget {
        tokens_per_minute: 300,
        window_seconds: 60,
    };

    #[test]
    fn window_accounting() {
        assert_eq!(Window::check(None, 1000, &B), Ok(()));
        let w = Window::add(None, 1000, 200, &B);
        assert_eq!(w, Window { start: 960, used: 200 });
        assert_eq!(Window::check(Some(w), 1001, &B), Ok(()), "under budget");
        let w = Window::add(Some(w), 1010, 150, &B);
        assert_eq!(w.used, 350);
        assert_eq!(
            Window::check(Some(w), 1010, &B),
            Err(10),
            "spent: retry when the window ends"
        );
        assert_eq!(Window::check(Some(w), 1020, &B), Ok(()), "next window");
        assert_eq!(Window::add(Some(w), 1020, 5, &B), Window { start: 1020, used: 5 });
        assert_eq!(Window::decode(&w.encode()), Some(w));
        assert_eq!(Window::decode(b"short"), None);
        let max = Window {
            start: 0,
            used: u64::MAX,
        };
        assert_eq!(Window::add(Some(max), 59, 10, &B).used, u64::MAX);
    }

    /// Shared data with CAS; `races` set_shared_data calls lose to another worker first.
    #[derive(Default)]
    struct Shared {
        data: RefCell<HashMap<String, (Vec<u8>, u32)>>,
        races: Cell<u32>,
    }

    impl Host for Shared {
        fn header(&self, _: Map, _: &str) -> Option<String> {
            None
        }
        crate::host::no_stream_calls!();
        fn buffer(&self, _: crate::host::Buffer, _: usize, _: usize) -> HostResult<Vec<u8>> {
            Ok(vec![])
        }
        fn now(&self) -> SystemTime {
            SystemTime::UNIX_EPOCH
        }
        fn shared_data(&self, key: &str) -> HostResult<(Option<Vec<u8>>, u32)> {
            Ok(match self.data.borrow().get(key) {
                Some((v, cas)) => (Some(v.clone()), *cas),
                None => (None, 0),
            })
        }
        fn set_shared_data(&self, key: &str, value: &[u8], cas: u32) -> HostResult<()> {
            let mut d = self.data.borrow_mut();
            let entry = d.entry(key.to_string()).or_insert((Vec::new(), 0));
            if self.races.get() > 0 {
                // Another worker adds 7 tokens first.
                self.races.set(self.races.get() - 1);
                let w = Window::add(Window::decode(&entry.0), 0, 7, &B);
                *entry = (w.encode().to_vec(), entry.1 + 1);
            }
            if cas != 0 && cas != entry.1 {
                return Err(HostError(CAS_MISMATCH));
            }
            *entry = (value.to_vec(), entry.1 + 1);
            Ok(())
        }
    }

    #[test]
    fn charges_add_up_across_workers_and_close_the_budget() {
        let host = Shared::default();
        assert_eq!(admit(&host, "a", &B, 10), Ok(Ok(())));
        charge(&host, "a", &B, 10, 120).unwrap();
        host.races.set(2);
        charge(&host, "a", &B, 11, 120).unwrap();
        // 120 + 7 + 7 (lost races: the other worker's tokens are kept) + 120.
        let (v, _) = host.shared_data(&key("a")).unwrap();
        assert_eq!(Window::decode(&v.unwrap()).unwrap().used, 254);
        assert_eq!(admit(&host, "a", &B, 12), Ok(Ok(())));
        charge(&host, "a", &B, 12, 100).unwrap();
        assert_eq!(admit(&host, "a", &B, 12), Ok(Err(48)));
        assert_eq!(admit(&host, "b", &B, 12), Ok(Ok(())), "profiles have their own budget");
        assert_eq!(admit(&host, "a", &B, 60), Ok(Ok(())), "a new window");
    }
}
