//! The request path's byte-proportional JSON work (parsing the client's body, writing the
//! Converse body), compiled for speed while the rest of the module is built for size.
//!
//! The module ships at `opt-level = "z"` (Cargo.toml). Generic code is compiled in the crate that
//! instantiates it, so `serde_json::from_slice::<Value>` called from the filter was built at `z`
//! as well, and parsing a 300 KiB agent request was one of the module's largest costs. Called from
//! here, that instantiation lives in this crate, which the workspace builds at `opt-level = 3`:
//! Parsing: −0.4 to −0.65 ms per 300 KiB request in V8 (`bench/v8/request.js`) for +12 KB of
//! module; writing, through `erased_serde` so that serde_json's writer is instantiated here:
//! −0.2 to −0.34 ms for +28 KB. The whole filter crate at `opt-level = 2` would gain about as
//! much again but weigh 962 KB, over the 768 KiB budget.

use serde_json::Value;

/// `serde_json::from_slice::<Value>`, instantiated here.
#[inline(never)]
pub fn parse(body: &[u8]) -> Result<Value, serde_json::Error> {
    serde_json::from_slice(body)
}

/// `serde_json::to_vec`, with serde_json's writer (string escaping, numbers) instantiated here:
/// the caller's types reach it through `erased_serde`, so only their field-by-field glue is
/// compiled in the calling crate. `capacity`: the expected size, to write without regrowing.
#[inline(never)]
pub fn to_vec(value: &dyn erased_serde::Serialize, capacity: usize) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::with_capacity(capacity);
    erased_serde::serialize(value, &mut serde_json::Serializer::new(&mut out))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_like_serde_json() {
        let body = br#"{"a":[1,2.5,"x\n\u00e9"],"b":{"c":null,"d":true}}"#;
        assert_eq!(
            super::parse(body).unwrap(),
            serde_json::from_slice::<serde_json::Value>(body).unwrap()
        );
        assert!(super::parse(b"{\"a\":").is_err());
    }
}
