//! The request path's byte-proportional JSON work (reading the client's body, writing the
//! Converse body), compiled for speed while the rest of the module is built for size.
//!
//! The module ships at `opt-level = "z"` (Cargo.toml); this crate is built at `opt-level = 3`.
//! Generic code is compiled in the crate that instantiates it, so both halves are instantiated
//! here: the reader ([`read`]) builds the `serde_json::Value` tree itself (serde_json's own reader
//! called from the filter was built at `z`, and reading a 300 KiB agent request was one of the
//! module's largest costs), and the caller's types reach the writer ([`write`]) through
//! `erased_serde`. Both find the ends of plain string runs 16 bytes at a time (`scan`). The whole
//! filter crate at `opt-level = 2` would weigh 962 KB, over the 768 KiB budget.

use serde_json::Value;

pub mod read;
mod scan;
pub mod write;

/// The value `body` holds, exactly as `serde_json::from_slice::<Value>` reads it, or `None`
/// when this reader leaves `body` to serde_json ([`read`] says when): the caller then calls
/// serde_json, which gives the value or the error. The fallback is the caller's so that
/// serde_json's reader is compiled once, in the calling crate, not a second time here.
#[inline(never)]
pub fn parse(body: &[u8]) -> Option<Value> {
    read::parse(body)
}

/// What `serde_json::to_vec` writes, by [`write::Writer`] instantiated here: the caller's types
/// reach it through `erased_serde`, so only their field-by-field glue is compiled in the calling
/// crate. `capacity`: the expected size, to write without regrowing.
#[inline(never)]
pub fn to_vec(value: &dyn erased_serde::Serialize, capacity: usize) -> Result<Vec<u8>, write::Error> {
    let mut out = Vec::with_capacity(capacity);
    erased_serde::serialize(value, &mut write::Writer::new(&mut out))?;
    Ok(out)
}

#[cfg(test)]
mod tests {

    use crate::strategies::value;
    use proptest::prelude::*;
    use serde::Serialize;
    use serde_json::json;
    use std::collections::BTreeMap;

    fn same_as_serde_json<T: Serialize>(v: &T) {
        assert_eq!(
            String::from_utf8(super::to_vec(v, 0).unwrap()).unwrap(),
            serde_json::to_string(v).unwrap()
        );
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    enum Shape {
        Unit,
        Newtype(String),
        Tuple(u8, i64),
        Struct {
            #[serde(skip_serializing_if = "Option::is_none")]
            a: Option<f64>,
            b_c: Vec<bool>,
        },
    }

    #[derive(Serialize)]
    struct Mixed<'a> {
        shapes: Vec<Shape>,
        unit: (),
        none: Option<u32>,
        chars: [char; 3],
        bytes: &'a [u8],
        floats: [f64; 6],
        small: [f32; 2],
        ints: (i8, i16, i32, i64, i128, u128),
        int_keys: BTreeMap<i32, &'a str>,
        bool_keys: BTreeMap<bool, u8>,
        tuple_struct: Pair,
    }

    #[derive(Serialize)]
    struct Pair(u8, &'static str);

    #[test]
    fn writes_what_serde_json_writes() {
        same_as_serde_json(&Mixed {
            shapes: vec![
                Shape::Unit,
                Shape::Newtype("n\"e\\w\u{1}".into()),
                Shape::Tuple(7, -9),
                Shape::Struct {
                    a: Some(0.1),
                    b_c: vec![true, false],
                },
                Shape::Struct { a: None, b_c: vec![] },
            ],
            unit: (),
            none: None,
            chars: ['"', '\n', 'é'],
            bytes: &[0, 255],
            floats: [0.0, -1.5, 1e20, 1e-7, f64::NAN, f64::INFINITY],
            small: [0.3, f32::NEG_INFINITY],
            ints: (i8::MIN, i16::MAX, -1, i64::MIN, i128::MAX, u128::MAX),
            int_keys: BTreeMap::from([(-3, "x"), (12, "y")]),
            bool_keys: BTreeMap::from([(true, 1)]),
            tuple_struct: Pair(1, "\u{7f}\u{1f}"),
        });
        same_as_serde_json(&json!({"a": [1, 2.5, "x\n\u{e9}", {}, [], null], "b": {"c": null, "d": true}}));
    }

    #[test]
    fn a_map_key_that_is_no_string_is_an_error() {
        assert!(super::to_vec(&BTreeMap::from([((1, 2), 3)]), 0).is_err());
        assert!(super::to_vec(&BTreeMap::from([(vec![1], 3)]), 0).is_err());
    }

    #[test]
    fn every_escape_at_every_offset() {
        // Each byte that needs escaping, at each position of the 16- and 8-byte scans.
        for b in (0u8..0x20).chain([b'"', b'\\', 0x7f, b'a']) {
            for at in 0..40 {
                let mut s = "x".repeat(at);
                s.push(b as char);
                s.push_str(&"é".repeat(at % 5));
                same_as_serde_json(&s);
            }
        }
    }

    proptest! {
        #[test]
        fn strings_are_escaped_as_serde_json_escapes_them(s in "(?s).{0,80}", ascii in "[\\x00-\\x7f]{0,80}") {
            same_as_serde_json(&s);
            same_as_serde_json(&ascii);
        }

        #[test]
        fn values_are_written_as_serde_json_writes_them(v in value()) {
            same_as_serde_json(&v);
        }
    }
}

/// Arbitrary JSON values for the reader's and the writer's property tests.
#[cfg(test)]
pub(crate) mod strategies {
    use proptest::prelude::*;
    use serde_json::{json, Value};

    pub(crate) fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            Just(json!(-0.0)),
            "(?s).{0,40}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map("(?s).{0,8}", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }
}
