//! Raw bytes through `fastjson::parse`, the reader of every client request body, against
//! serde_json; and through `fastjson::read::parse_keeping` (tool schemas kept as their text, as
//! the Messages door reads its bodies), each kept object read back.
//!
//! Checks: no panic; whatever the reader takes (`Some`), serde_json reads to the same value
//! (everything else is left to serde_json by its callers, so accepting differently is the one
//! way it could be wrong); with objects kept, the same value once they are read back.

#![no_main]

use fastjson::read::{parse_keeping, take_kept, Step};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

const SCHEMAS: &[Step] = &[Step::Key("tools"), Step::Each, Step::Key("input_schema")];

/// `v` with the objects kept at `SCHEMAS` read back.
fn read_back(v: &mut Value) {
    let Some(tools) = v.get_mut("tools").and_then(Value::as_array_mut) else {
        return;
    };
    for t in tools {
        if let Some(s) = t.get_mut("input_schema") {
            let kept = s.as_object_mut().and_then(take_kept);
            if let Some(k) = kept {
                *s = k.to_value();
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let serde = serde_json::from_slice::<Value>(data).ok();
    if let Some(v) = fastjson::parse(data) {
        assert_eq!(serde.as_ref(), Some(&v), "{:?}", String::from_utf8_lossy(data));
    }
    if let Some(mut v) = parse_keeping(data, Some(SCHEMAS)) {
        read_back(&mut v);
        assert_eq!(serde, Some(v), "kept: {:?}", String::from_utf8_lossy(data));
    }
});
