//! Raw bytes through `fastjson::parse`, the reader of every client request body, against
//! serde_json.
//!
//! Checks: no panic; whatever the reader takes (`Some`), serde_json reads to the same value
//! (everything else is left to serde_json by its callers, so accepting differently is the one
//! way it could be wrong).

#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    if let Some(v) = fastjson::parse(data) {
        assert_eq!(serde_json::from_slice::<Value>(data).ok(), Some(v), "{:?}", String::from_utf8_lossy(data));
    }
});
