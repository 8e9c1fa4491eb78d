//! [`Proxy`]: the [`Host`] trait over the proxy-wasm ABI, panic-free, and the `log` crate's
//! bridge to Envoy's log. With `wasm.rs`, the only code that talks to proxy-wasm.
//!
//! The proxy-wasm SDK's own hostcall wrappers `panic!` on any status they do not expect, and a
//! panic traps the VM and fails every stream on that Envoy worker. [`Proxy`] calls the same ABI
//! functions and returns every non-OK status as an error for the caller to handle. The SDK is
//! still used for what it does well: dispatching the `proxy_on_*` callbacks to our contexts.
//!
//! On targets other than wasm32 the ABI is absent: every call of [`Proxy`] fails with
//! [`HostError`], so the glue compiles (and is linted) natively.

use crate::host::{
    parse_pair_names, serialize_headers, Buffer, Host, HostError, HostResult, Level, Map, MetricKind, NOT_FOUND, OK,
};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[cfg(target_arch = "wasm32")]
#[allow(clashing_extern_declarations)]
mod abi {
    #[link(wasm_import_module = "env")]
    extern "C" {
        pub(super) fn proxy_log(level: u32, data: *const u8, size: usize) -> u32;
        pub(super) fn proxy_get_current_time_nanoseconds(ret: *mut u64) -> u32;
        pub(super) fn proxy_get_buffer_bytes(
            t: u32,
            start: usize,
            max: usize,
            ret_data: *mut *mut u8,
            ret_size: *mut usize,
        ) -> u32;
        pub(super) fn proxy_set_buffer_bytes(
            t: u32,
            start: usize,
            size: usize,
            data: *const u8,
            data_size: usize,
        ) -> u32;
        pub(super) fn proxy_get_header_map_pairs(t: u32, ret_data: *mut *mut u8, ret_size: *mut usize) -> u32;
        pub(super) fn proxy_get_header_map_value(
            t: u32,
            key: *const u8,
            key_size: usize,
            ret_data: *mut *mut u8,
            ret_size: *mut usize,
        ) -> u32;
        pub(super) fn proxy_replace_header_map_value(
            t: u32,
            key: *const u8,
            key_size: usize,
            val: *const u8,
            val_size: usize,
        ) -> u32;
        pub(super) fn proxy_remove_header_map_value(t: u32, key: *const u8, key_size: usize) -> u32;
        pub(super) fn proxy_get_property(
            path: *const u8,
            path_size: usize,
            ret_data: *mut *mut u8,
            ret_size: *mut usize,
        ) -> u32;
        pub(super) fn proxy_set_property(path: *const u8, path_size: usize, val: *const u8, val_size: usize) -> u32;
        pub(super) fn proxy_define_metric(kind: u32, name: *const u8, name_size: usize, ret_id: *mut u32) -> u32;
        pub(super) fn proxy_increment_metric(id: u32, offset: i64) -> u32;
        pub(super) fn proxy_record_metric(id: u32, value: u64) -> u32;
        pub(super) fn proxy_get_shared_data(
            key: *const u8,
            key_size: usize,
            ret_data: *mut *mut u8,
            ret_size: *mut usize,
            ret_cas: *mut u32,
        ) -> u32;
        pub(super) fn proxy_set_shared_data(
            key: *const u8,
            key_size: usize,
            val: *const u8,
            val_size: usize,
            cas: u32,
        ) -> u32;
        pub(super) fn proxy_set_tick_period_milliseconds(period: u32) -> u32;
        pub(super) fn proxy_send_local_response(
            status: u32,
            details: *const u8,
            details_size: usize,
            body: *const u8,
            body_size: usize,
            headers: *const u8,
            headers_size: usize,
            grpc_status: i32,
        ) -> u32;
    }
}

#[cfg(not(target_arch = "wasm32"))]
#[allow(clippy::too_many_arguments, clippy::missing_safety_doc)]
mod abi {
    //! No host outside wasm: every call fails with BadArgument.
    const NO_HOST: u32 = 2;
    pub(super) unsafe fn proxy_log(_: u32, _: *const u8, _: usize) -> u32 {
        NO_HOST
    }
    pub(super) unsafe fn proxy_get_current_time_nanoseconds(_: *mut u64) -> u32 {
        NO_HOST
    }
    pub(super) unsafe fn proxy_get_buffer_bytes(_: u32, _: usize, _: usize, _: *mut *mut u8, _: *mut usize) -> u32 {
        NO_HOST
    }
    pub(super) unsafe fn proxy_set_buffer_bytes(_: u32, _: usize, _: usize, _: *const u8, _: usize) -> u32 {
        NO_HOST
    }
    pub(super) unsafe fn proxy_get_header_map_pairs(_: u32, _: *mut *mut u8, _: *mut usize) -> u32 {
        NO_HOST
    }
    pub(super) unsafe fn proxy_get_header_map_value(
        _: u32,
        _: *const u8,
        _: usize,
        _: *mut *mut u8,
        _: *mut usize,
    ) -> u32 {
        NO_HOST
    }
    pub(super) unsafe fn proxy_replace_header_map_value(_: u32, _: *const u8, _: usize, _: *const u8, _: usize) -> u32 {
        NO_HOST
    }
    pub(super) unsafe fn proxy_remove_header_map_value(_: u32, _: *const u8, _: usize) -> u32 {
        NO_HOST
    }
    pub(super) unsafe fn proxy_get_property(_: *const u8, _: usize, _: *mut *mut u8, _: *mut usize) -> u32 {
        NO_HOST
    }
    pub(super) unsafe fn proxy_set_property(_: *const u8, _: usize, _: *const u8, _: usize) -> u32 {
        NO_HOST
    }
    pub(super) unsafe fn proxy_define_metric(_: u32, _: *const u8, _: usize, _: *mut u32) -> u32 {
        NO_HOST
    }
    pub(super) unsafe fn proxy_increment_metric(_: u32, _: i64) -> u32 {
        NO_HOST
    }
    pub(super) unsafe fn proxy_record_metric(_: u32, _: u64) -> u32 {
        NO_HOST
    }
    pub(super) unsafe fn proxy_get_shared_data(
        _: *const u8,
        _: usize,
        _: *mut *mut u8,
        _: *mut usize,
        _: *mut u32,
    ) -> u32 {
        NO_HOST
    }
    pub(super) unsafe fn proxy_set_shared_data(_: *const u8, _: usize, _: *const u8, _: usize, _: u32) -> u32 {
        NO_HOST
    }
    pub(super) unsafe fn proxy_set_tick_period_milliseconds(_: u32) -> u32 {
        NO_HOST
    }
    pub(super) unsafe fn proxy_send_local_response(
        _: u32,
        _: *const u8,
        _: usize,
        _: *const u8,
        _: usize,
        _: *const u8,
        _: usize,
        _: i32,
    ) -> u32 {
        NO_HOST
    }
}

/// The real host: proxy-wasm ABI calls, every status checked.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Proxy;

impl Host for Proxy {
    fn header(&self, map: Map, name: &str) -> Option<String> {
        let mut data: *mut u8 = std::ptr::null_mut();
        let mut size: usize = 0;
        // SAFETY: out-pointers are valid; on OK the host hands over an allocation of `size` bytes.
        match unsafe { abi::proxy_get_header_map_value(map as u32, name.as_ptr(), name.len(), &mut data, &mut size) } {
            OK => String::from_utf8(unsafe { take(data, size) }).ok(),
            _ => None,
        }
    }

    fn header_names(&self, map: Map) -> HostResult<Vec<String>> {
        let mut data: *mut u8 = std::ptr::null_mut();
        let mut size: usize = 0;
        // SAFETY: as in `header`.
        let raw = match unsafe { abi::proxy_get_header_map_pairs(map as u32, &mut data, &mut size) } {
            OK => unsafe { take(data, size) },
            NOT_FOUND => return Ok(Vec::new()),
            s => return Err(HostError(s)),
        };
        Ok(parse_pair_names(&raw))
    }

    fn set_header(&mut self, map: Map, name: &str, value: &str) -> HostResult<()> {
        // SAFETY: pointers and lengths describe live slices.
        status(unsafe {
            abi::proxy_replace_header_map_value(map as u32, name.as_ptr(), name.len(), value.as_ptr(), value.len())
        })
    }

    fn remove_header(&mut self, map: Map, name: &str) -> HostResult<()> {
        // SAFETY: pointer and length describe a live slice.
        match unsafe { abi::proxy_remove_header_map_value(map as u32, name.as_ptr(), name.len()) } {
            NOT_FOUND => Ok(()),
            s => status(s),
        }
    }

    fn buffer(&self, buffer: Buffer, start: usize, max: usize) -> HostResult<Vec<u8>> {
        let mut data: *mut u8 = std::ptr::null_mut();
        let mut size: usize = 0;
        // SAFETY: as in `header`.
        match unsafe { abi::proxy_get_buffer_bytes(buffer as u32, start, max, &mut data, &mut size) } {
            OK => Ok(unsafe { take(data, size) }),
            NOT_FOUND => Ok(Vec::new()),
            s => Err(HostError(s)),
        }
    }

    fn set_buffer(&mut self, buffer: Buffer, start: usize, size: usize, value: &[u8]) -> HostResult<()> {
        // SAFETY: pointer and length describe a live slice.
        status(unsafe { abi::proxy_set_buffer_bytes(buffer as u32, start, size, value.as_ptr(), value.len()) })
    }

    fn send_response(&mut self, code: u16, headers: &[(&str, &str)], body: &[u8]) -> HostResult<()> {
        let h = serialize_headers(headers);
        let details = b"bedrock_bridge";
        // SAFETY: pointers and lengths describe live slices.
        status(unsafe {
            abi::proxy_send_local_response(
                u32::from(code),
                details.as_ptr(),
                details.len(),
                body.as_ptr(),
                body.len(),
                h.as_ptr(),
                h.len(),
                -1,
            )
        })
    }

    fn now(&self) -> SystemTime {
        let mut nanos: u64 = 0;
        // SAFETY: the host writes one u64 to a valid pointer.
        match unsafe { abi::proxy_get_current_time_nanoseconds(&mut nanos) } {
            OK => UNIX_EPOCH + Duration::from_nanos(nanos),
            _ => UNIX_EPOCH,
        }
    }

    fn log(&self, level: Level, message: &str) {
        // SAFETY: pointer and length describe a live string. A failed log has nowhere to go.
        let _ = unsafe { abi::proxy_log(level as u32, message.as_ptr(), message.len()) };
    }

    fn property(&self, path: &[&str]) -> Option<Vec<u8>> {
        let p = path.join("\0");
        let mut data: *mut u8 = std::ptr::null_mut();
        let mut size: usize = 0;
        // SAFETY: as in `header`.
        match unsafe { abi::proxy_get_property(p.as_ptr(), p.len(), &mut data, &mut size) } {
            OK => Some(unsafe { take(data, size) }),
            _ => None,
        }
    }

    fn set_property(&self, path: &str, value: &[u8]) -> HostResult<()> {
        // SAFETY: pointers and lengths describe live slices.
        status(unsafe { abi::proxy_set_property(path.as_ptr(), path.len(), value.as_ptr(), value.len()) })
    }

    fn define_metric(&self, kind: MetricKind, name: &str) -> HostResult<u32> {
        let mut id: u32 = 0;
        // SAFETY: pointer and length describe a live string; the host writes one u32.
        status(unsafe { abi::proxy_define_metric(kind as u32, name.as_ptr(), name.len(), &mut id) })?;
        Ok(id)
    }

    fn increment_metric(&self, id: u32, delta: i64) -> HostResult<()> {
        // SAFETY: no pointers.
        status(unsafe { abi::proxy_increment_metric(id, delta) })
    }

    fn record_metric(&self, id: u32, value: u64) -> HostResult<()> {
        // SAFETY: no pointers.
        status(unsafe { abi::proxy_record_metric(id, value) })
    }

    fn shared_data(&self, key: &str) -> HostResult<(Option<Vec<u8>>, u32)> {
        let mut data: *mut u8 = std::ptr::null_mut();
        let mut size: usize = 0;
        let mut cas: u32 = 0;
        // SAFETY: as in `header`, plus one u32.
        match unsafe { abi::proxy_get_shared_data(key.as_ptr(), key.len(), &mut data, &mut size, &mut cas) } {
            OK => Ok((Some(unsafe { take(data, size) }), cas)),
            NOT_FOUND => Ok((None, 0)),
            s => Err(HostError(s)),
        }
    }

    fn set_shared_data(&self, key: &str, value: &[u8], cas: u32) -> HostResult<()> {
        // SAFETY: pointers and lengths describe live slices.
        status(unsafe { abi::proxy_set_shared_data(key.as_ptr(), key.len(), value.as_ptr(), value.len(), cas) })
    }

    fn dispatch_http_call(
        &self,
        cluster: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        timeout: Duration,
    ) -> HostResult<u32> {
        // The SDK's call, not the raw ABI: it registers the token so that its dispatcher routes
        // `on_http_call_response` back to this context (an unknown token panics there). It
        // panics only on a status other than OK, BadArgument and InternalFailure, which Envoy's
        // `proxy_http_call` does not return.
        #[cfg(target_arch = "wasm32")]
        {
            proxy_wasm::hostcalls::dispatch_http_call(cluster, headers.to_vec(), Some(body), Vec::new(), timeout)
                .map_err(|s| HostError(s as u32))
        }
        #[cfg(not(target_arch = "wasm32"))]
        {
            let _ = (cluster, headers, body, timeout);
            Err(HostError(2))
        }
    }

    fn set_tick_period(&self, period: Duration) -> HostResult<()> {
        let ms = u32::try_from(period.as_millis()).unwrap_or(u32::MAX);
        // SAFETY: no pointers.
        status(unsafe { abi::proxy_set_tick_period_milliseconds(ms) })
    }
}

fn status(s: u32) -> HostResult<()> {
    match s {
        OK => Ok(()),
        s => Err(HostError(s)),
    }
}

/// Take ownership of memory the host allocated through our `proxy_on_memory_allocate`
/// (the SDK's allocator, a `Vec<u8>` of exactly `size` capacity).
///
/// # Safety
/// `data` must be null or come from the host with `size` bytes, as the ABI guarantees.
unsafe fn take(data: *mut u8, size: usize) -> Vec<u8> {
    if data.is_null() {
        Vec::new()
    } else {
        Vec::from_raw_parts(data, size, size)
    }
}

/// The `log` crate's records (front doors log a few decisions with `log::info!`) go to Envoy's
/// log through the same host call as [`Host::log`]. Installed by the module's entry point, which
/// exists on wasm32 only.
#[cfg(target_arch = "wasm32")]
pub(crate) struct LogBridge;

#[cfg(target_arch = "wasm32")]
impl log::Log for LogBridge {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        let level = match record.level() {
            log::Level::Error => Level::Error,
            log::Level::Warn => Level::Warn,
            _ => Level::Info,
        };
        Proxy.log(level, &record.args().to_string());
    }
    fn flush(&self) {}
}
