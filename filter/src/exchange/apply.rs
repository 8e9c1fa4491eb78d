//! Applying a [`Step`] through the [`Host`]: what the proxy-wasm shell calls at each callback.
//!
//! Before the request is forwarded, a failed host call ends the request with a 500 (the client
//! can still be answered); afterwards it is logged and the rest of the step still applied.

use super::{Action, Edit, Exchange, Step};
use crate::host::{Buffer, Host, HostError, Level, Map};

impl Exchange {
    /// `on_http_request_headers`.
    pub fn on_request_headers(&mut self, host: &mut dyn Host, end_of_stream: bool) -> Action {
        let step = self.request_headers(&*host, end_of_stream);
        self.apply(host, Map::RequestHeaders, 0, step)
    }

    /// `on_http_request_body`.
    pub fn on_request_body(&mut self, host: &mut dyn Host, body_size: usize, end_of_stream: bool) -> Action {
        let step = self.request_body(&*host, body_size, end_of_stream);
        self.apply(host, Map::RequestHeaders, body_size, step)
    }

    /// `on_http_response_headers`.
    pub fn on_response_headers(&mut self, host: &mut dyn Host, end_of_stream: bool) -> Action {
        let step = self.response_headers(&*host, end_of_stream);
        self.apply(host, Map::ResponseHeaders, 0, step)
    }

    /// `on_http_response_body`.
    pub fn on_response_body(&mut self, host: &mut dyn Host, body_size: usize, end_of_stream: bool) -> Action {
        let step = self.response_body(&*host, body_size, end_of_stream);
        self.apply(host, Map::ResponseHeaders, body_size, step)
    }

    /// Carry out `step` on the headers of `map` and the body of the same direction, whose
    /// current size is `body_size`.
    pub fn apply(&mut self, host: &mut dyn Host, map: Map, body_size: usize, step: Step) -> Action {
        if let Some(r) = step.reply {
            let headers: Vec<(&str, &str)> = r.headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            if let Err(e) = host.send_response(r.status, &headers, &r.body) {
                let msg = format_args!("could not send a local reply: status {}", e.0);
                self.log(&*host, Level::Warn, msg);
            }
            return Action::Pause;
        }
        let request = map == Map::RequestHeaders;
        let mut first_failure = None;
        for edit in &step.edits {
            if let Err(f) = apply_edit(host, map, edit) {
                first_failure.get_or_insert(f);
                if request {
                    break;
                }
            }
        }
        if let Some(body) = step.body {
            let buffer = if request {
                Buffer::RequestBody
            } else {
                Buffer::ResponseBody
            };
            if first_failure.is_none() || !request {
                if let Err(e) = host.set_buffer(buffer, 0, body_size, &body) {
                    first_failure.get_or_insert(("replace the body", e));
                }
            }
            spare::keep(body);
        }
        match first_failure {
            Some((what, e)) if request => {
                let step = self.host_failed(&*host, what, e.0);
                self.apply(host, map, body_size, step)
            }
            Some((what, e)) => {
                let msg = format_args!("could not {what} (host status {})", e.0);
                self.log(&*host, Level::Warn, msg);
                step.action
            }
            None => step.action,
        }
    }
}

fn apply_edit(host: &mut dyn Host, map: Map, edit: &Edit) -> Result<(), (&'static str, HostError)> {
    match edit {
        Edit::Retain(keep) => {
            let names = host.header_names(map).map_err(|e| ("read the headers", e))?;
            for name in names
                .iter()
                .filter(|n| !n.starts_with(':') && !keep.contains(&n.as_str()))
            {
                host.remove_header(map, name).map_err(|e| ("remove a header", e))?;
            }
            Ok(())
        }
        Edit::Set(k, v) => host.set_header(map, k, v).map_err(|e| ("set a header", e)),
        Edit::Remove(k) => host.remove_header(map, k).map_err(|e| ("remove a header", e)),
    }
}

/// The output buffer of a body chunk, reused from one callback to the next (any stream of this
/// VM): a streamed response writes each chunk's SSE into it instead of allocating and freeing a
/// buffer per chunk. Callbacks never overlap within a VM, so one buffer serves every stream; it
/// is kept only up to [`spare::MAX_KEPT`] bytes of capacity.
pub(super) mod spare {
    use std::cell::Cell;

    /// Larger buffers (a big chunk's, a buffered body's) are freed, not kept.
    pub(crate) const MAX_KEPT: usize = 64 * 1024;

    thread_local! {
        static SPARE: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
    }

    /// An empty buffer with room for `capacity` bytes.
    pub(crate) fn take(capacity: usize) -> Vec<u8> {
        let mut v = SPARE.take();
        v.clear();
        v.reserve(capacity);
        v
    }

    /// Hand a buffer back once its bytes have been copied out.
    pub(crate) fn keep(v: Vec<u8>) {
        if v.capacity() <= MAX_KEPT && v.capacity() > 0 {
            SPARE.set(v);
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn a_kept_buffer_comes_back_empty_and_a_large_one_is_dropped() {
            let mut v = take(10);
            v.extend_from_slice(b"chunk");
            let ptr = v.as_ptr();
            keep(v);
            let again = take(4);
            assert!(again.is_empty());
            assert_eq!(again.as_ptr(), ptr, "the same allocation is reused");
            keep(Vec::with_capacity(MAX_KEPT + 1));
            assert!(take(0).capacity() <= MAX_KEPT);
        }
    }
}
