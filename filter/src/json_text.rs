//! Fast JSON string output for the large parts of the Bedrock request body (message text, tool
//! results, tool descriptions, tool inputs and schemas, base64 sources).
//!
//! serde_json escapes a string one byte at a time through `split_at`/`split_first`; built at
//! `opt-level = "z"` (the module's size profile) those are calls, not inlined code, and writing
//! the strings was the largest single native cost of translating a 300 KiB agent request (about
//! 29 instructions per byte; V8 inlines more of it). Here the escaping skips 8 bytes at a time
//! while none needs an escape, into one reused buffer, and the result goes out as a `RawValue`
//! (written verbatim). The bytes are the same as serde_json's: `\"`, `\\`, the short forms `\b \t \n \f \r`, other control characters as
//! `\u00XX` with lowercase hex, everything else (0x7F and non-ASCII included) as is (RFC 8259 §7).
//!
//! Use with `#[serde(serialize_with = "json_text::text")]` on a `String`, or wrap a `Value` in
//! [`Fast`].

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::Value;
use std::cell::RefCell;

/// Shorter strings go through serde_json's own writer: the raw value's check would cost more
/// than the escaping saves.
const SHORT: usize = 64;

/// The scratch buffer is kept between strings up to this capacity.
const KEEP: usize = 1 << 20;

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// Whether any of the 8 bytes in `x` is below 0x20, `"` or `\`. Exact: the classic
/// "has a byte less than n" / "has a zero byte" tests only err above a byte that matched.
fn needs_escape(x: u64) -> bool {
    let control = x.wrapping_sub(LO * 0x20) & !x;
    let q = x ^ (LO * u64::from(b'"'));
    let quote = q.wrapping_sub(LO) & !q;
    let b = x ^ (LO * u64::from(b'\\'));
    let backslash = b.wrapping_sub(LO) & !b;
    (control | quote | backslash) & HI != 0
}

/// Append the escape of one byte that needs one.
fn push_escape(out: &mut String, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    match b {
        b'"' => out.push_str("\\\""),
        b'\\' => out.push_str("\\\\"),
        0x08 => out.push_str("\\b"),
        b'\t' => out.push_str("\\t"),
        b'\n' => out.push_str("\\n"),
        0x0C => out.push_str("\\f"),
        b'\r' => out.push_str("\\r"),
        _ => {
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
}

/// Append the contents of `s` as a JSON string body (no quotes).
pub(crate) fn escape_into(out: &mut String, s: &str) {
    let mut rest = s.as_bytes();
    // `s[start..at]` is the run not yet copied; both are on char boundaries, since only ASCII
    // bytes end a run.
    let mut start = 0usize;
    let mut at = 0usize;
    loop {
        if let Some((chunk, tail)) = rest.split_first_chunk::<8>() {
            if !needs_escape(u64::from_le_bytes(*chunk)) {
                rest = tail;
                at += 8;
                continue;
            }
        }
        let Some((&b, tail)) = rest.split_first() else { break };
        rest = tail;
        at += 1;
        if b >= 0x20 && b != b'"' && b != b'\\' {
            continue;
        }
        out.push_str(s.get(start..at - 1).unwrap_or_default());
        push_escape(out, b);
        start = at;
    }
    out.push_str(s.get(start..).unwrap_or_default());
}

thread_local! {
    /// The escaped literal of the string being written, reused (one VM, one thread).
    static SCRATCH: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Serialise a string (for `serialize_with`).
pub(crate) fn text<S: Serializer>(s: &str, ser: S) -> Result<S::Ok, S::Error> {
    if s.len() < SHORT {
        return ser.serialize_str(s);
    }
    SCRATCH.with(|cell| {
        let Ok(mut json) = cell.try_borrow_mut() else {
            return ser.serialize_str(s);
        };
        json.clear();
        json.reserve(s.len().saturating_add(s.len() / 32).saturating_add(2));
        json.push('"');
        escape_into(&mut json, s);
        json.push('"');
        let out = match serde_json::from_str::<&RawValue>(&json) {
            Ok(raw) => raw.serialize(ser),
            // Not reached: `json` is always a valid JSON string.
            Err(_) => ser.serialize_str(s),
        };
        // Keep the buffer for the next string, unless one huge string made it huge.
        if json.capacity() > KEEP {
            *json = String::new();
        }
        out
    })
}

/// `Option<String>` for `serialize_with` (with `skip_serializing_if = "Option::is_none"`).
pub(crate) fn opt_text<S: Serializer>(s: &Option<String>, ser: S) -> Result<S::Ok, S::Error> {
    match s {
        Some(s) => text(s, ser),
        None => ser.serialize_none(),
    }
}

/// A JSON value serialised with [`text`] for its strings (keys stay on serde_json's path: they
/// are short).
pub(crate) struct Fast<'a>(pub &'a Value);

impl Serialize for Fast<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::String(s) => text(s, ser),
            Value::Array(xs) => {
                let mut seq = ser.serialize_seq(Some(xs.len()))?;
                for x in xs {
                    seq.serialize_element(&Fast(x))?;
                }
                seq.end()
            }
            Value::Object(m) => {
                let mut map = ser.serialize_map(Some(m.len()))?;
                for (k, v) in m {
                    map.serialize_entry(k, &Fast(v))?;
                }
                map.end()
            }
            other => other.serialize(ser),
        }
    }
}

/// A `Value` field for `serialize_with`.
pub(crate) fn value<S: Serializer>(v: &Value, ser: S) -> Result<S::Ok, S::Error> {
    Fast(v).serialize(ser)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[derive(Serialize)]
    struct T<'a> {
        #[serde(serialize_with = "value")]
        v: &'a Value,
    }

    fn ours(v: &Value) -> String {
        serde_json::to_string(&Fast(v)).unwrap()
    }

    #[test]
    fn every_byte_escaped_as_serde_json_does() {
        let all: String = (0u32..0x100).filter_map(char::from_u32).collect();
        let long = all.repeat(3);
        let v = json!({"a": [long, "short \" \\ \n", 1, 2.5, true, null], "long": "x".repeat(100)});
        assert_eq!(ours(&v), serde_json::to_string(&v).unwrap());
        assert_eq!(
            serde_json::to_string(&T { v: &v }).unwrap(),
            serde_json::to_string(&json!({ "v": v })).unwrap()
        );
    }

    #[test]
    fn escape_at_every_offset_of_the_8_byte_chunks() {
        for at in 0..80 {
            for c in ['"', '\\', '\n', '\u{1}', '\u{1f}', '\u{7f}', 'é', '😀'] {
                let mut s = "a".repeat(at);
                s.push(c);
                s.push_str(&"b".repeat(90 - at));
                let v = Value::String(s);
                assert_eq!(ours(&v), serde_json::to_string(&v).unwrap(), "{at} {c:?}");
            }
        }
    }

    #[test]
    fn the_value_is_the_same_through_to_value() {
        let v = json!({"t": "y".repeat(200), "n": [{"m": "\"".repeat(70)}]});
        assert_eq!(serde_json::to_value(Fast(&v)).unwrap(), v);
    }

    proptest! {
        #[test]
        fn same_bytes_as_serde_json(s in "(?s).{0,300}", pad in 0usize..70) {
            let v = Value::String(format!("{}{s}", " ".repeat(pad)));
            prop_assert_eq!(ours(&v), serde_json::to_string(&v).unwrap());
        }
    }
}
