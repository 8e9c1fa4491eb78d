//! A JSON reader into `serde_json::Value` for well-formed bodies; everything else is left to
//! serde_json (by the caller), so that what is accepted, the values and every error message are
//! serde_json's.
//!
//! Why: building the `Value` through serde's visitor costs about eight times scanning the same
//! bytes (a 300 KiB agent request natively: 857 µs against 108 µs validating alone). This reader
//! checks the whole body's UTF-8 once, finds the end of each string with [`next_escape`] (16 bytes
//! at a time with WebAssembly SIMD) and builds the tree directly. It gives up (`None`) on anything
//! it does not take on itself: bad syntax, control characters or lone surrogates in strings,
//! nesting deeper than [`MAX_DEPTH`], numbers other than short integers are read by serde_json.
//! A `None` costs a second parse by serde_json, which then answers (its value or its error):
//! well-formed agent requests never take it (tested).
//!
//! [`parse_keeping`] also keeps the objects found at one path (a front door's tool schemas) as
//! their text, checked exactly as if read but never built: a tool schema is opaque to the filter
//! and goes to Bedrock as the client wrote it ([`take_kept`]), and agent requests carry dozens.

use crate::scan::next_escape;
use serde::ser::{Serialize, SerializeStruct, Serializer};
use serde_json::{Map, Number, Value};

/// Deeper nesting is left to serde_json (which refuses beyond 128 levels).
const MAX_DEPTH: u32 = 100;
/// Integers of at most this many digits are read here (they cannot overflow a `u64`).
const MAX_FAST_DIGITS: usize = 18;

/// The value `body` holds, as `serde_json::from_slice::<Value>` reads it; `None`: ask serde_json.
pub fn parse(body: &[u8]) -> Option<Value> {
    parse_keeping(body, None)
}

/// One step of a path into a body: an object's key, or every element of an array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Key(&'static str),
    Each,
}

/// The key of the one-entry object that stands for a kept object (its text as a string).
pub const KEPT: &str = "\u{0}fastjson:kept";

/// [`parse`], keeping each object at path `keep` as `{KEPT: "<its text>"}`. Values there that are
/// not objects are read as usual.
pub fn parse_keeping(body: &[u8], keep: Option<&[Step]>) -> Option<Value> {
    Reader {
        text: std::str::from_utf8(body).ok()?,
        at: 0,
        build: true,
    }
    .document(keep)
}

/// The text of one JSON object, read by this reader: [`crate::write`] writes it as it is.
///
/// It serialises as serde_json's `RawValue` does (a struct named for it), which only
/// [`crate::write`] and a serde_json built with its `raw_value` feature understand: serde_json
/// without it (this module's) would write a one-key object instead, so a type holding a `Kept`
/// must be written by [`crate::to_vec`], or turned into a `Value` first ([`Kept::to_value`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept(Box<str>);

impl Kept {
    pub fn get(&self) -> &str {
        &self.0
    }

    /// The object as a `Value`.
    pub fn to_value(&self) -> Value {
        // Checked when it was kept, so read here (`Null` cannot happen).
        parse(self.0.as_bytes()).unwrap_or_default()
    }
}

/// serde_json's `RawValue` protocol (its `raw::TOKEN`).
pub(crate) const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

impl Serialize for Kept {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut raw = s.serialize_struct(RAW_VALUE_TOKEN, 1)?;
        raw.serialize_field(RAW_VALUE_TOKEN, &*self.0)?;
        raw.end()
    }
}

/// The text of a kept object, if `o` is one (`{KEPT: "{…}"}`, the text one JSON object this
/// reader reads); `o` is left empty then. Anything else stays as it is, an ordinary object: in
/// serde_json's reading of a body this reader left to it, a client may have written such an
/// object itself, and its text is taken only if it is one well-formed JSON object (what the
/// client could have sent in its place), never spliced in otherwise.
pub fn take_kept(o: &mut Map<String, Value>) -> Option<Kept> {
    let Some(Value::String(text)) = o.get(KEPT).filter(|_| o.len() == 1) else {
        return None;
    };
    let checked = Reader {
        text,
        at: 0,
        build: false,
    }
    .document(None);
    if !text.starts_with('{') || checked.is_none() {
        return None;
    }
    let Some(Value::String(text)) = o.remove(KEPT) else {
        return None;
    };
    Some(Kept(text.into_boxed_str()))
}

/// `v` with the objects kept at path `keep` read back into values, for a use of the whole tree
/// that is not a tool spec (a request passed on as it is, a response's echo of its tools).
pub fn read_back(v: &mut Value, keep: &[Step]) {
    match (keep, v) {
        ([], Value::Object(o)) => {
            if let Some(k) = take_kept(o) {
                *o = match k.to_value() {
                    Value::Object(read) => read,
                    _ => Map::new(),
                };
            }
        }
        ([Step::Key(k), rest @ ..], Value::Object(o)) => {
            if let Some(inner) = o.get_mut(*k) {
                read_back(inner, rest);
            }
        }
        ([Step::Each, rest @ ..], Value::Array(items)) => items.iter_mut().for_each(|i| read_back(i, rest)),
        _ => {}
    }
}

struct Reader<'a> {
    text: &'a str,
    at: usize,
    /// Off while a kept object is read: everything is checked, nothing is built.
    build: bool,
}

impl<'a> Reader<'a> {
    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes().get(self.at).copied()
    }

    fn skip_ws(&mut self) -> Option<u8> {
        while let Some(b) = self.peek() {
            if !matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
                return Some(b);
            }
            self.at += 1;
        }
        None
    }

    /// Consume `b` (after whitespace).
    fn eat(&mut self, b: u8) -> Option<()> {
        (self.skip_ws()? == b).then(|| self.at += 1)
    }

    fn document(mut self, keep: Option<&[Step]>) -> Option<Value> {
        let v = self.value(0, keep)?;
        match self.skip_ws() {
            None => Some(v),
            Some(_) => None,
        }
    }

    /// The value here. `keep`: the rest of the path to the objects kept as text (`Some([])`: here).
    fn value(&mut self, depth: u32, keep: Option<&[Step]>) -> Option<Value> {
        match self.skip_ws()? {
            b'"' => {
                self.at += 1;
                self.string().map(Value::String)
            }
            b'{' if keep == Some(&[]) && self.build => self.kept(depth),
            b'{' => self.object(depth.checked_add(1).filter(|&d| d <= MAX_DEPTH)?, keep),
            b'[' => self.array(depth.checked_add(1).filter(|&d| d <= MAX_DEPTH)?, keep),
            b't' => self.literal("true", Value::Bool(true)),
            b'f' => self.literal("false", Value::Bool(false)),
            b'n' => self.literal("null", Value::Null),
            _ => self.number(),
        }
    }

    fn literal(&mut self, word: &str, v: Value) -> Option<Value> {
        let end = self.at.checked_add(word.len())?;
        (self.bytes().get(self.at..end)? == word.as_bytes()).then(|| {
            self.at = end;
            v
        })
    }

    /// The object here, checked as it would be read, kept as its text.
    fn kept(&mut self, depth: u32) -> Option<Value> {
        let start = self.at;
        self.build = false;
        let read = self.value(depth, None);
        self.build = true;
        read?;
        let text = self.text.get(start..self.at)?.to_owned();
        let mut o = Map::new();
        o.insert(KEPT.to_string(), Value::String(text));
        Some(Value::Object(o))
    }

    /// After an element (or at the opening bracket, `first`): whether `close` ends the container
    /// here (consumed, as is a comma before the next element). `None`: neither.
    fn closes(&mut self, close: u8, first: bool) -> Option<bool> {
        let b = self.skip_ws()?;
        self.at += 1;
        match b {
            _ if b == close => Some(true),
            b',' if !first => Some(false),
            _ if first => {
                self.at -= 1;
                Some(false)
            }
            _ => None,
        }
    }

    fn object(&mut self, depth: u32, keep: Option<&[Step]>) -> Option<Value> {
        self.at += 1; // `{`
        let mut map = Map::new();
        let mut closed = self.closes(b'}', true)?;
        while !closed {
            self.eat(b'"')?;
            let key = self.string()?;
            self.eat(b':')?;
            let inner = match keep {
                Some([Step::Key(k), rest @ ..]) if *k == key => Some(rest),
                _ => None,
            };
            let v = self.value(depth, inner)?;
            if self.build {
                map.insert(key, v);
            }
            closed = self.closes(b'}', false)?;
        }
        Some(Value::Object(map))
    }

    fn array(&mut self, depth: u32, keep: Option<&[Step]>) -> Option<Value> {
        self.at += 1; // `[`
        let mut items = Vec::new();
        let inner = match keep {
            Some([Step::Each, rest @ ..]) => Some(rest),
            _ => None,
        };
        let mut closed = self.closes(b']', true)?;
        while !closed {
            let v = self.value(depth, inner)?;
            if self.build {
                items.push(v);
            }
            closed = self.closes(b']', false)?;
        }
        Some(Value::Array(items))
    }

    /// The string whose opening quote was just consumed.
    fn string(&mut self) -> Option<String> {
        let bytes = self.bytes();
        let end = next_escape(bytes, self.at)?;
        if *bytes.get(end)? == b'"' {
            // Quotes are ASCII, so both ends are character boundaries of the checked text.
            let run = self.text.get(self.at..end)?;
            self.at = end + 1;
            return Some(if self.build { run.to_owned() } else { String::new() });
        }
        let mut out = String::new();
        let mut stop = end;
        loop {
            let run = self.text.get(self.at..stop)?;
            if self.build {
                out.push_str(run);
            }
            match *bytes.get(stop)? {
                b'"' => {
                    self.at = stop + 1;
                    return Some(out);
                }
                b'\\' => {
                    self.at = stop + 1;
                    self.escape(&mut out)?;
                }
                _ => return None, // a control character
            }
            stop = next_escape(bytes, self.at)?;
        }
    }

    /// The escape after a `\`.
    fn escape(&mut self, out: &mut String) -> Option<()> {
        let b = self.peek()?;
        self.at += 1;
        let c = match b {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let hi = self.hex4()?;
                let c = match hi {
                    0xD800..=0xDBFF => {
                        self.literal("\\u", Value::Null)?;
                        let lo = self.hex4()?;
                        if !(0xDC00..=0xDFFF).contains(&lo) {
                            return None;
                        }
                        0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                    }
                    _ => hi,
                };
                char::from_u32(c)? // `None` for a lone low surrogate
            }
            _ => return None,
        };
        if self.build {
            out.push(c);
        }
        Some(())
    }

    fn hex4(&mut self) -> Option<u32> {
        let end = self.at.checked_add(4)?;
        let digits = self.bytes().get(self.at..end)?;
        let mut n = 0;
        for &d in digits {
            n = n * 16 + (d as char).to_digit(16)?;
        }
        self.at = end;
        Some(n)
    }

    /// A number: short integers here, the rest (fractions, exponents, long or negative-zero
    /// integers) by serde_json, so that every value is the one it reads.
    fn number(&mut self) -> Option<Value> {
        let bytes = self.bytes();
        let start = self.at;
        let negative = bytes.get(start) == Some(&b'-');
        let digits_from = start + usize::from(negative);
        let mut end = digits_end(bytes, digits_from);
        let digits = bytes.get(digits_from..end)?;
        let first = *digits.first()?;
        let integer = !matches!(bytes.get(end), Some(b'.' | b'e' | b'E'));
        if integer && (first != b'0' || digits.len() == 1) && digits.len() <= MAX_FAST_DIGITS {
            let n = digits.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
            self.at = end;
            return match (negative, n) {
                (false, n) => Some(Value::Number(n.into())),
                (true, 0) => self.delegate(start, end),
                // At most 18 digits: below i64::MAX.
                (true, n) => Some(Value::Number(Number::from(-(n as i64)))),
            };
        }
        // The rest of the number's grammar, then serde_json reads the token.
        if bytes.get(end) == Some(&b'.') {
            end = some_digits(bytes, end + 1)?;
        }
        if matches!(bytes.get(end), Some(b'e' | b'E')) {
            end += 1;
            if matches!(bytes.get(end), Some(b'+' | b'-')) {
                end += 1;
            }
            end = some_digits(bytes, end)?;
        }
        self.delegate(start, end)
    }

    /// serde_json's `Number` parser (what its `Value` reader calls) on the token `start..end`.
    fn delegate(&mut self, start: usize, end: usize) -> Option<Value> {
        let n = self.text.get(start..end)?.parse::<Number>().ok()?;
        self.at = end;
        Some(Value::Number(n))
    }
}

/// The end of the run of ASCII digits at `from`.
fn digits_end(bytes: &[u8], mut from: usize) -> usize {
    while bytes.get(from).is_some_and(u8::is_ascii_digit) {
        from += 1;
    }
    from
}

/// The end of a run of at least one ASCII digit at `from`.
fn some_digits(bytes: &[u8], from: usize) -> Option<usize> {
    let end = digits_end(bytes, from);
    (end > from).then_some(end)
}

#[cfg(test)]
mod tests {
    use super::parse;
    use crate::strategies::value;
    use proptest::prelude::*;
    use serde_json::{json, Value};

    fn serde(text: &str) -> Option<Value> {
        serde_json::from_str(text).ok()
    }

    /// Whatever this reader takes, serde_json reads to the same value.
    fn agrees(text: &str) -> Option<Value> {
        let fast = parse(text.as_bytes());
        if let Some(v) = &fast {
            assert_eq!(Some(v), serde(text).as_ref(), "{text:?}");
        }
        fast
    }

    #[test]
    fn reads_what_serde_json_reads() {
        for text in [
            r#"{"a":[1,-2,2.5,"x\n\u00e9",{},[],null,true,false],"b":{"c":null,"d":"\ud83d\ude00"}}"#,
            " \t\r\n[ 1 , { \"k\" : \"v\" } ] \n",
            r#""\"\\\/\b\f\n\r\t\u0041\u00ff\u20ac""#,
            r#"{"dup":1,"dup":2}"#,
            "18446744073709551615",
            "-9223372036854775808",
            "123456789012345678",
            "-123456789012345678",
            "1234567890123456789012",
            "-0",
            "0",
            "-0.0",
            "1e5",
            "1E+2",
            "2.5e-3",
            "0.1",
            "\"é😀\"",
            "{}",
        ] {
            assert!(agrees(text).is_some(), "{text}");
        }
    }

    #[test]
    fn leaves_to_serde_json_what_it_does_not_take() {
        for text in [
            "",
            " ",
            "{",
            "[1,]",
            "{\"a\":1,}",
            "01",
            "-",
            "1.",
            ".5",
            "1e",
            "1e400",
            "+1",
            "tru",
            "nul",
            "[1 2]",
            "{\"a\" 1}",
            "{1:2}",
            "\"a",
            "\"\\x\"",
            "\"\\u12\"",
            "\"\\ud800\"",
            "\"\\udc00\"",
            "\"\\ud800\\u0041\"",
            "\"a\u{1}b\"",
            "\"tab\there\"",
            "1 2",
            "\u{feff}{}",
            "NaN",
        ] {
            assert_eq!(agrees(text), None, "{text}");
        }
        assert_eq!(parse(b"\"\xff\""), None);
        assert_eq!(parse(b"[\"\xc3\"]"), None);
    }

    #[test]
    fn nesting_beyond_its_depth_is_left_to_serde_json() {
        let nest = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(agrees(&nest(super::MAX_DEPTH as usize)).is_some());
        assert_eq!(parse(nest(super::MAX_DEPTH as usize + 1).as_bytes()), None);
        assert!(serde(&nest(super::MAX_DEPTH as usize + 1)).is_some());
        assert_eq!(parse(nest(100_000).as_bytes()), None);
    }

    #[test]
    fn a_string_with_escapes_at_every_scan_offset() {
        for at in 0..40 {
            let s = format!("{}\\n{}\\\"{}", "x".repeat(at), "é".repeat(at % 5), "y".repeat(at % 17));
            let text = format!("\"{s}\"");
            assert!(agrees(&text).is_some(), "{text}");
            let raw = format!("\"{}\u{1f}\"", "x".repeat(at));
            assert_eq!(agrees(&raw), None);
        }
    }

    use super::{parse_keeping, take_kept, Step, KEPT};

    const TOOLS: &[Step] = &[Step::Key("tools"), Step::Each, Step::Key("schema")];

    /// `v` with every kept object read back.
    fn expand(v: &mut Value) {
        match v {
            Value::Object(o) => match take_kept(o) {
                Some(k) => *v = k.to_value(),
                None => o.values_mut().for_each(expand),
            },
            Value::Array(a) => a.iter_mut().for_each(expand),
            _ => {}
        }
    }

    #[test]
    fn objects_at_the_path_are_kept_as_their_text() {
        let schema = "{ \"b\" : [1, 2.50, {\"c\": \"\\u00e9\\n\"}], \"a\": null }";
        let text = format!(
            r#"{{"tools": [{{"schema": {schema}, "other": {{"x": 1}}}}, {{"schema": "not an object"}}, {{"schema": {{}}}}],
                "schema": {{"top": true}}, "more": [{{"schema": {{"y": 2}}}}]}}"#
        );
        let v = parse_keeping(text.as_bytes(), Some(TOOLS)).unwrap();
        assert_eq!(v["tools"][0]["schema"], json!({ KEPT: schema }));
        assert_eq!(v["tools"][0]["other"], json!({"x": 1}));
        assert_eq!(v["tools"][1]["schema"], json!("not an object"));
        assert_eq!(v["tools"][2]["schema"], json!({ KEPT: "{}" }));
        assert_eq!(v["schema"], json!({"top": true}));
        assert_eq!(v["more"][0]["schema"], json!({"y": 2}));
        let mut v = v;
        expand(&mut v);
        assert_eq!(Some(v), serde(&text));
    }

    #[test]
    fn a_kept_object_is_checked_as_if_it_were_read() {
        for bad in [
            "{\"a\": 01}",
            "{\"a\": \"\\ud800\"}",
            "{\"a\": \"\u{1}\"}",
            "{\"a\": 1e400}",
            "{\"a\" 1}",
            "{\"a\": [}",
        ] {
            let text = format!(r#"{{"tools": [{{"schema": {bad}}}]}}"#);
            assert_eq!(parse_keeping(text.as_bytes(), Some(TOOLS)), None, "{bad}");
        }
        let deep = format!(
            "{{\"tools\": [{{\"schema\": {{\"a\": {}{}}}}}]}}",
            "[".repeat(99),
            "]".repeat(99)
        );
        assert_eq!(parse_keeping(deep.as_bytes(), Some(TOOLS)), None);
        assert!(serde(&deep).is_some());
    }

    #[test]
    fn only_a_marker_holding_one_json_object_is_taken() {
        let take = |v: Value| {
            let mut o = v.as_object().cloned().unwrap();
            (take_kept(&mut o).map(|k| k.get().to_string()), o)
        };
        assert_eq!(take(json!({ KEPT: "{\"a\":1}" })).0.as_deref(), Some("{\"a\":1}"));
        for left in [
            json!({ KEPT: "{\"a\":" }),
            json!({ KEPT: "[1]" }),
            json!({ KEPT: "{} {}" }),
            json!({ KEPT: " {}" }),
            json!({ KEPT: 1 }),
            json!({ KEPT: "{}", "b": 1 }),
            json!({"a": 1}),
        ] {
            let (taken, rest) = take(left.clone());
            assert_eq!((taken, Value::Object(rest)), (None, left));
        }
    }

    #[test]
    fn kept_objects_are_read_back_in_place() {
        let text = r#"{"tools": [{"schema": {"b": 1, "a": [true]}}, {"schema": 2}, {"x": 3}], "schema": {"c": 4}}"#;
        let mut v = parse_keeping(text.as_bytes(), Some(TOOLS)).unwrap();
        assert_ne!(Some(&v), serde(text).as_ref());
        super::read_back(&mut v, TOOLS);
        assert_eq!(Some(v), serde(text));
    }

    #[test]
    fn a_kept_object_is_written_as_it_is() {
        #[derive(serde::Serialize)]
        struct S {
            a: super::Kept,
            b: u8,
        }
        let v = parse_keeping(br#"{"tools": [{"schema": { "z" : [ 1 ] }}]}"#, Some(TOOLS)).unwrap();
        let mut o = v["tools"][0]["schema"].as_object().cloned().unwrap();
        let a = take_kept(&mut o).unwrap();
        assert_eq!(
            String::from_utf8(crate::to_vec(&S { a, b: 1 }, 0).unwrap()).unwrap(),
            r#"{"a":{ "z" : [ 1 ] },"b":1}"#
        );
    }

    proptest! {
        #[test]
        fn every_written_value_is_read_here_as_serde_json_reads_it(v in value()) {
            let compact = serde_json::to_string(&v).unwrap();
            let pretty = serde_json::to_string_pretty(&v).unwrap();
            // serde_json's own reading (not `v`: without `float_roundtrip` it may round a float
            // differently from how it was written).
            prop_assert!(agrees(&compact).is_some());
            prop_assert!(agrees(&pretty).is_some());
        }

        #[test]
        fn kept_objects_read_back_to_what_serde_json_reads(v in value(), pretty in any::<bool>()) {
            let doc = json!({"tools": [{"schema": v.clone()}, {"schema": {"k": v}}]});
            let text = if pretty { serde_json::to_string_pretty(&doc) } else { serde_json::to_string(&doc) }.unwrap();
            let mut kept = parse_keeping(text.as_bytes(), Some(TOOLS));
            prop_assert!(kept.is_some());
            if let Some(k) = kept.as_mut() {
                expand(k);
            }
            prop_assert_eq!(kept, serde(&text));
        }

        #[test]
        fn damaged_text_is_read_as_serde_json_reads_it_or_left_to_it(
            v in value(), at in any::<prop::sample::Index>(), byte in any::<u8>(), cut in any::<bool>()
        ) {
            let mut bytes = serde_json::to_vec(&v).unwrap();
            let i = at.index(bytes.len());
            if cut { bytes.truncate(i) } else { bytes[i] = byte }
            if let Some(fast) = parse(&bytes) {
                prop_assert_eq!(Some(fast), serde_json::from_slice::<Value>(&bytes).ok());
            }
        }
    }
}
