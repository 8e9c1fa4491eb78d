//! The host (Envoy) as the exchange sees it: the [`Host`] trait, its types, and the ABI's
//! header-map encoding. Host-free: the real implementation is [`crate::proxy::Proxy`] (the only
//! code besides `wasm.rs` that calls proxy-wasm); native tests implement `Host` with a fake.

use std::time::SystemTime;

/// A proxy-wasm status other than OK (1 NotFound, 2 BadArgument, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostError(pub u32);

pub type HostResult<T> = Result<T, HostError>;

/// ABI status codes (read by the proxy-wasm shell, which wasm32-unknown-unknown does not build).
pub(crate) const OK: u32 = 0;
pub(crate) const NOT_FOUND: u32 = 1;

/// `MapType` values of the ABI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Map {
    RequestHeaders = 0,
    ResponseHeaders = 2,
    /// The answer to a [`Host::dispatch_http_call`], in `on_http_call_response`.
    HttpCallResponseHeaders = 6,
}

/// `BufferType` values of the ABI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Buffer {
    RequestBody = 0,
    ResponseBody = 1,
    /// The answer to a [`Host::dispatch_http_call`], in `on_http_call_response`.
    HttpCallResponseBody = 4,
    PluginConfiguration = 7,
}

/// Log levels, as the ABI numbers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u32)]
pub enum Level {
    Info = 2,
    Warn = 3,
    Error = 4,
}

/// What the exchange and the glue need from the proxy. Reads take `&self`, changes `&mut self`.
pub trait Host {
    /// One header value; `None` when absent, not UTF-8, or when the host refuses.
    fn header(&self, map: Map, name: &str) -> Option<String>;
    /// The names of all headers of a map (lower-case, as Envoy keeps them).
    fn header_names(&self, map: Map) -> HostResult<Vec<String>>;
    /// Set (replace) a header.
    fn set_header(&mut self, map: Map, name: &str, value: &str) -> HostResult<()>;
    /// Remove a header (absent is fine).
    fn remove_header(&mut self, map: Map, name: &str) -> HostResult<()>;
    /// Bytes `[start, start + max)` of a buffer; empty when the buffer does not exist.
    fn buffer(&self, buffer: Buffer, start: usize, max: usize) -> HostResult<Vec<u8>>;
    /// Replace bytes `[start, start + size)` of a buffer with `value`.
    fn set_buffer(&mut self, buffer: Buffer, start: usize, size: usize, value: &[u8]) -> HostResult<()>;
    /// Answer the request locally.
    fn send_response(&mut self, status: u16, headers: &[(&str, &str)], body: &[u8]) -> HostResult<()>;
    /// The host's clock (never the OS clock); the epoch when the host has none.
    fn now(&self) -> SystemTime;
    /// Write one line to the proxy's log.
    fn log(&self, level: Level, message: &str);

    // Effects outside the request itself (stats, filter state, shared data) take `&self`: the
    // exchange decides and records them in the same call. Defaults: no such host (native tests
    // that do not care).

    /// A property of the stream (`["xds", "route_name"]`); `None` when absent or refused.
    fn property(&self, _path: &[&str]) -> Option<Vec<u8>> {
        None
    }
    /// Write filter state `wasm.<path>` (what access logs read with `%FILTER_STATE(...)%`).
    fn set_property(&self, _path: &str, _value: &[u8]) -> HostResult<()> {
        Err(HostError(NO_HOST))
    }
    /// Define a metric (once per plugin, at configure time); its id.
    fn define_metric(&self, _kind: MetricKind, _name: &str) -> HostResult<u32> {
        Err(HostError(NO_HOST))
    }
    /// Add to a counter.
    fn increment_metric(&self, _id: u32, _delta: i64) -> HostResult<()> {
        Err(HostError(NO_HOST))
    }
    /// Record one histogram value.
    fn record_metric(&self, _id: u32, _value: u64) -> HostResult<()> {
        Err(HostError(NO_HOST))
    }
    /// A shared-data value (shared by all workers of one Envoy) and its CAS token.
    fn shared_data(&self, _key: &str) -> HostResult<(Option<Vec<u8>>, u32)> {
        Err(HostError(NO_HOST))
    }
    /// Write a shared-data value if its CAS token is still `cas` (0: unconditionally);
    /// `Err(HostError(CAS_MISMATCH))` when another worker wrote first.
    fn set_shared_data(&self, _key: &str, _value: &[u8], _cas: u32) -> HostResult<()> {
        Err(HostError(NO_HOST))
    }
    /// Send a request of our own to the Envoy cluster `cluster` (from the root context); its
    /// answer arrives in `on_http_call_response` with the returned token.
    fn dispatch_http_call(
        &self,
        _cluster: &str,
        _headers: &[(&str, &str)],
        _body: &[u8],
        _timeout: std::time::Duration,
    ) -> HostResult<u32> {
        Err(HostError(NO_HOST))
    }
    /// Call the root context's `on_tick` every `period` (zero: never).
    fn set_tick_period(&self, _period: std::time::Duration) -> HostResult<()> {
        Err(HostError(NO_HOST))
    }
}

/// Proxy-wasm `MetricType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum MetricKind {
    Counter = 0,
    Histogram = 2,
}

/// Status of a failed compare-and-swap in `set_shared_data`.
pub(crate) const CAS_MISMATCH: u32 = 8;
pub(crate) const NO_HOST: u32 = 2;

/// Names from the ABI's serialised header map: `count: u32`, then `count` pairs of
/// `(name_len: u32, value_len: u32)`, then each name and value followed by a NUL byte
/// (little-endian). Malformed input yields the names read so far.
pub(crate) fn parse_pair_names(raw: &[u8]) -> Vec<String> {
    let u32_at = |i: usize| -> Option<usize> {
        let b = raw.get(i..i.checked_add(4)?)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    };
    let mut names = Vec::new();
    let Some(count) = u32_at(0) else { return names };
    let Some(mut data) = count.checked_mul(8).and_then(|n| n.checked_add(4)) else {
        return names;
    };
    for i in 0..count {
        let Some(len_at) = i.checked_mul(8).and_then(|n| n.checked_add(4)) else {
            break;
        };
        let (Some(name_len), Some(value_len)) = (u32_at(len_at), len_at.checked_add(4).and_then(u32_at)) else {
            break;
        };
        let Some(name) = data.checked_add(name_len).and_then(|end| raw.get(data..end)) else {
            break;
        };
        names.push(String::from_utf8_lossy(name).into_owned());
        let Some(next) = data
            .checked_add(name_len)
            .and_then(|n| n.checked_add(value_len))
            .and_then(|n| n.checked_add(2))
        else {
            break;
        };
        data = next;
    }
    names
}

/// The ABI's serialised header map for `headers` (the inverse of [`parse_pair_names`]).
pub(crate) fn serialize_headers(headers: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(headers.len() as u32).to_le_bytes());
    for (k, v) in headers {
        out.extend_from_slice(&(k.len() as u32).to_le_bytes());
        out.extend_from_slice(&(v.len() as u32).to_le_bytes());
    }
    for (k, v) in headers {
        out.extend_from_slice(k.as_bytes());
        out.push(0);
        out.extend_from_slice(v.as_bytes());
        out.push(0);
    }
    out
}

/// The request-stream calls of [`Host`] as no-ops, for the test hosts of code that runs in the
/// root context (the token budget, the health check), which never touches a request.
#[cfg(test)]
macro_rules! no_stream_calls {
    () => {
        fn header_names(&self, _: crate::host::Map) -> crate::host::HostResult<Vec<String>> {
            Ok(vec![])
        }
        fn set_header(&mut self, _: crate::host::Map, _: &str, _: &str) -> crate::host::HostResult<()> {
            Ok(())
        }
        fn remove_header(&mut self, _: crate::host::Map, _: &str) -> crate::host::HostResult<()> {
            Ok(())
        }
        fn set_buffer(&mut self, _: crate::host::Buffer, _: usize, _: usize, _: &[u8]) -> crate::host::HostResult<()> {
            Ok(())
        }
        fn send_response(&mut self, _: u16, _: &[(&str, &str)], _: &[u8]) -> crate::host::HostResult<()> {
            Ok(())
        }
        fn log(&self, _: crate::host::Level, _: &str) {}
    };
}
#[cfg(test)]
pub(crate) use no_stream_calls;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_map_round_trip_and_truncation() {
        let raw = serialize_headers(&[(":path", "/v1/chat/completions"), ("x-api-key", "k")]);
        assert_eq!(parse_pair_names(&raw), vec![":path", "x-api-key"]);
        for cut in 0..raw.len() {
            let names = parse_pair_names(&raw[..cut]);
            assert!(names.len() <= 2);
        }
        assert!(parse_pair_names(&[0xff, 0xff, 0xff, 0xff]).is_empty());
    }
}
