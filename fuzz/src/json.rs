//! Request- and event-shaped JSON from fuzzer bytes: the recursive part every generator shares,
//! with the leaves (strings, numbers, object keys) each target's vocabulary picks.
//!
//! The order in which bytes are read is the targets' own from before this module (the committed
//! corpus still reaches what it reached).

use bedrock_bridge::config::Config;
use libfuzzer_sys::arbitrary::{Arbitrary, Result, Unstructured};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::sync::OnceLock;

/// One of `known` (`num` times in `den`), or any string.
pub fn known_or_any(u: &mut Unstructured<'_>, known: &[&str], num: u8, den: u8) -> Result<String> {
    if u.ratio(num, den)? {
        Ok(u.choose(known)?.to_string())
    } else {
        String::arbitrary(u)
    }
}

/// A target's JSON vocabulary: how it makes the leaves of an arbitrary value.
pub struct Vocab {
    pub string: fn(&mut Unstructured<'_>) -> Result<String>,
    pub number: fn(&mut Unstructured<'_>) -> Result<Value>,
    pub key: fn(&mut Unstructured<'_>) -> Result<String>,
    /// The longest array (objects have up to 4 members).
    pub max_items: u32,
}

impl Vocab {
    /// Any JSON value nested at most `depth` deep (a scalar at depth 0).
    pub fn value(&self, u: &mut Unstructured<'_>, depth: u32) -> Result<Value> {
        let pick = if depth == 0 {
            u.int_in_range(0..=3)?
        } else {
            u.int_in_range(0..=5)?
        };
        Ok(match pick {
            0 => Value::Null,
            1 => Value::Bool(bool::arbitrary(u)?),
            2 => (self.number)(u)?,
            3 => Value::String((self.string)(u)?),
            4 => {
                let n = u.int_in_range(0..=self.max_items)?;
                Value::Array((0..n).map(|_| self.value(u, depth - 1)).collect::<Result<_>>()?)
            }
            _ => {
                let mut m = Map::new();
                for _ in 0..u.int_in_range(0..=4)? {
                    let k = (self.key)(u)?;
                    m.insert(k, self.value(u, depth - 1)?);
                }
                Value::Object(m)
            }
        })
    }
}

/// Up to five request parameters named from `names`, each valued by `param(u, name)`, added to
/// `r`.
pub fn add_params(
    u: &mut Unstructured<'_>,
    r: &mut Map<String, Value>,
    names: &[&str],
    param: fn(&mut Unstructured<'_>, &str) -> Result<Value>,
) -> Result<()> {
    for _ in 0..u.int_in_range(0..=5)? {
        let name = *u.choose(names)?;
        let v = param(u, name)?;
        r.insert(name.into(), v);
    }
    Ok(())
}

/// A request target's configurations, parsed once per process (each target is its own binary,
/// always passing the same texts; each must be valid).
pub fn configs(texts: &[&str]) -> &'static [Config] {
    static C: OnceLock<Vec<Config>> = OnceLock::new();
    C.get_or_init(|| {
        texts
            .iter()
            .map(|c| Config::parse(c.as_bytes(), &|_| None).expect("fuzz config"))
            .collect()
    })
}

/// A request target's input: byte 0 picks one of `configs` (bits 0-1, modulo their number) and
/// the mode (bit 2): the rest is the body itself, or drives `request`, a generator of
/// request-shaped JSON. `None` for an empty input or a generator out of bytes.
pub fn request_input<'a>(
    data: &'a [u8],
    configs: &'static [Config],
    request: fn(&mut Unstructured<'_>) -> Result<Value>,
) -> Option<(&'static Config, Cow<'a, [u8]>)> {
    let (&sel, rest) = data.split_first()?;
    let cfg = configs.get(usize::from(sel & 3) % configs.len())?;
    if sel & 4 == 0 {
        return Some((cfg, Cow::Borrowed(rest)));
    }
    let v = request(&mut Unstructured::new(rest)).ok()?;
    Some((cfg, Cow::Owned(serde_json::to_vec(&v).expect("serialisable"))))
}

/// An OpenAI-style error: a 4xx/5xx whose body is JSON with an `error.message` string.
pub fn check_openai_error(status: u16, body: &[u8]) {
    assert!((400..=599).contains(&status), "status {status}");
    let j: Value = serde_json::from_slice(body).expect("error JSON");
    assert!(j["error"]["message"].is_string());
}

/// A request path with no byte that could break a header or start a query or fragment.
pub fn check_path_bytes(path: &str) {
    assert!(
        path.bytes().all(|b| b.is_ascii_graphic() && b != b'?' && b != b'#'),
        "path {path:?}"
    );
}
