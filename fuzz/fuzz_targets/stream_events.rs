//! Well-formed eventstream frames carrying ConverseStream events, exceptions and errors with
//! fuzzed names, headers and payloads (event-shaped JSON with odd values, arbitrary JSON, or raw
//! bytes), through the streaming pipeline in random chunkings.
//!
//! Checks: no panic; identical SSE for one chunk, the chosen cuts and (for small bodies) one byte
//! per chunk; the SSE is well-formed (`data: …\n\n` events, JSON objects of this stream or one
//! error event, exactly one `[DONE]`, last, the role on the first choice chunk only).

#![no_main]

use bedrock_bridge_fuzz::json::{known_or_any, Vocab};
use bedrock_bridge_fuzz::HeaderVal;
use bedrock_bridge_fuzz::{check_sse, cut_points, encode_frame, limits, replay, replay_bytewise, stream_options};
use libfuzzer_sys::arbitrary::{Arbitrary, Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Map, Number, Value};

const EVENTS: &[&str] = &[
    "messageStart",
    "contentBlockStart",
    "contentBlockDelta",
    "contentBlockStop",
    "messageStop",
    "metadata",
];

const EXCEPTIONS: &[&str] = &[
    "throttlingException",
    "modelStreamErrorException",
    "internalServerException",
    "validationException",
    "serviceUnavailableException",
    "modelTimeoutException",
    "accessDeniedException",
    "ThrottlingException",
    "",
];

const STOP_REASONS: &[&str] = &[
    "end_turn",
    "tool_use",
    "max_tokens",
    "stop_sequence",
    "guardrail_intervened",
    "content_filtered",
    "model_context_window_exceeded",
];

const KEYS: &[&str] = &[
    "contentBlockIndex",
    "delta",
    "start",
    "text",
    "reasoningContent",
    "signature",
    "redactedContent",
    "toolUse",
    "toolUseId",
    "name",
    "input",
    "stopReason",
    "usage",
    "inputTokens",
    "outputTokens",
    "totalTokens",
    "cacheReadInputTokens",
    "cacheWriteInputTokens",
    "metrics",
    "latencyMs",
    "role",
    "message",
    "originalStatusCode",
    "citation",
    "toolResult",
    "trace",
];

/// A name from `known`, or any string.
fn name(u: &mut Unstructured<'_>, known: &[&str]) -> Result<String> {
    known_or_any(u, known, 7, 8)
}

fn key(u: &mut Unstructured<'_>) -> Result<String> {
    name(u, KEYS)
}

/// A string: empty, short ASCII, or anything (escapes, non-ASCII, `json_response`).
fn text(u: &mut Unstructured<'_>) -> Result<String> {
    Ok(match u.int_in_range(0..=5)? {
        0 => String::new(),
        1 => "json_response".into(),
        2 => "{\"a\":".into(),
        3 => "\n\"\\\u{0}\u{2028}é😀".into(),
        _ => String::arbitrary(u)?,
    })
}

/// A number or something where a number belongs.
fn number(u: &mut Unstructured<'_>) -> Result<Value> {
    Ok(match u.int_in_range(0..=9)? {
        0..=3 => json!(u.int_in_range(0u32..=4)?),
        4 => json!(u32::arbitrary(u)?),
        5 => json!(u64::arbitrary(u)?),
        6 => json!(i64::arbitrary(u)?),
        7 => Number::from_f64(f64::arbitrary(u)?).map_or(Value::Null, Value::Number),
        8 => Value::Null,
        _ => Value::String(text(u)?),
    })
}

/// Arbitrary JSON values (`VOCAB.value`), favouring the keys ConverseStream uses.
const VOCAB: Vocab = Vocab {
    string: text,
    number,
    key,
    max_items: 4,
};

/// A string where one belongs, or sometimes any value.
fn string_or_value(u: &mut Unstructured<'_>) -> Result<Value> {
    if u.ratio(7, 8)? {
        Ok(Value::String(text(u)?))
    } else {
        VOCAB.value(u, 1)
    }
}

/// A payload shaped like the named event, with fuzzed values; occasionally a member dropped.
fn event_json(u: &mut Unstructured<'_>, event: &str) -> Result<Value> {
    let mut v = match event {
        "messageStart" => json!({"role": string_or_value(u)?}),
        "contentBlockStart" => json!({
            "contentBlockIndex": number(u)?,
            "start": {"toolUse": {"toolUseId": string_or_value(u)?, "name": string_or_value(u)?}},
        }),
        "contentBlockDelta" => {
            let delta = match u.int_in_range(0..=5)? {
                0 => json!({"text": string_or_value(u)?}),
                1 => json!({"reasoningContent": {"text": string_or_value(u)?}}),
                2 => json!({"reasoningContent": {"signature": string_or_value(u)?}}),
                3 => json!({"reasoningContent": {"redactedContent": string_or_value(u)?}}),
                4 => json!({"toolUse": {"input": string_or_value(u)?}}),
                _ => {
                    let mut m = Map::new();
                    for _ in 0..u.int_in_range(0..=3)? {
                        m.insert(name(u, KEYS)?, VOCAB.value(u, 2)?);
                    }
                    Value::Object(m)
                }
            };
            json!({"contentBlockIndex": number(u)?, "delta": delta})
        }
        "contentBlockStop" => json!({"contentBlockIndex": number(u)?}),
        "messageStop" => {
            let reason = if u.ratio(7, 8)? {
                Value::String(u.choose(STOP_REASONS)?.to_string())
            } else {
                string_or_value(u)?
            };
            json!({"stopReason": reason})
        }
        "metadata" => json!({
            "usage": {
                "inputTokens": number(u)?,
                "outputTokens": number(u)?,
                "totalTokens": number(u)?,
                "cacheReadInputTokens": number(u)?,
                "cacheWriteInputTokens": number(u)?,
            },
            "metrics": {"latencyMs": number(u)?},
        }),
        _ => json!({"message": string_or_value(u)?, "originalStatusCode": number(u)?}),
    };
    if u.ratio(1, 8)? {
        strip_one(u, &mut v)?;
    }
    Ok(v)
}

/// Remove one member somewhere in `v`.
fn strip_one(u: &mut Unstructured<'_>, v: &mut Value) -> Result<()> {
    if let Value::Object(m) = v {
        if m.is_empty() {
            return Ok(());
        }
        let key = u.choose(&m.keys().cloned().collect::<Vec<_>>())?.clone();
        if u.ratio(1, 2)? {
            m.remove(&key);
        } else if let Some(inner) = m.get_mut(&key) {
            strip_one(u, inner)?;
        }
    }
    Ok(())
}

fn payload(u: &mut Unstructured<'_>, event: &str) -> Result<Vec<u8>> {
    Ok(match u.int_in_range(0..=9)? {
        0..=6 => event_json(u, event)?.to_string().into_bytes(),
        7 => VOCAB.value(u, 3)?.to_string().into_bytes(),
        _ => Vec::<u8>::arbitrary(u)?,
    })
}

fn header_value<'a>(u: &mut Unstructured<'a>) -> Result<HeaderVal<'a>> {
    Ok(match u.int_in_range(0..=8)? {
        0 => HeaderVal::Bool(bool::arbitrary(u)?),
        1 => HeaderVal::Byte(i8::arbitrary(u)?),
        2 => HeaderVal::Short(i16::arbitrary(u)?),
        3 => HeaderVal::Int(i32::arbitrary(u)?),
        4 => HeaderVal::Long(i64::arbitrary(u)?),
        5 => HeaderVal::Bytes(<&[u8]>::arbitrary(u)?),
        6 => HeaderVal::Str(<&str>::arbitrary(u)?),
        7 => HeaderVal::Timestamp(i64::arbitrary(u)?),
        _ => HeaderVal::Uuid(<[u8; 16]>::arbitrary(u)?),
    })
}

/// One frame: its headers (usually Bedrock's three) and payload.
fn frame(u: &mut Unstructured<'_>) -> Result<Vec<u8>> {
    let mut headers: Vec<(Vec<u8>, HeaderValOwned)> = Vec::new();
    let kind = u.int_in_range(0..=15)?;
    let event = match kind {
        // An exception, as ConverseStream sends them.
        0 | 1 => {
            let ex = name(u, EXCEPTIONS)?;
            headers.push((b":message-type".to_vec(), HeaderValOwned::Str("exception".into())));
            headers.push((b":exception-type".to_vec(), HeaderValOwned::Str(ex.clone())));
            ex
        }
        // An unmodeled error.
        2 => {
            let code = name(u, EXCEPTIONS)?;
            headers.push((b":message-type".to_vec(), HeaderValOwned::Str("error".into())));
            headers.push((b":error-code".to_vec(), HeaderValOwned::Str(code.clone())));
            if u.ratio(1, 2)? {
                headers.push((b":error-message".to_vec(), HeaderValOwned::Str(text(u)?)));
            }
            code
        }
        // A message type that is not a string, or missing, or unknown.
        3 => {
            match u.int_in_range(0..=2)? {
                0 => headers.push((b":message-type".to_vec(), HeaderValOwned::Bytes(b"event".to_vec()))),
                1 => headers.push((b":message-type".to_vec(), HeaderValOwned::Str(String::arbitrary(u)?))),
                _ => {}
            }
            let ev = name(u, EVENTS)?;
            headers.push((b":event-type".to_vec(), HeaderValOwned::Str(ev.clone())));
            ev
        }
        // An event whose type header is missing or bytes-typed.
        4 => {
            headers.push((b":message-type".to_vec(), HeaderValOwned::Str("event".into())));
            let ev = name(u, EVENTS)?;
            if u.ratio(1, 2)? {
                headers.push((b":event-type".to_vec(), HeaderValOwned::Bytes(ev.clone().into_bytes())));
            }
            ev
        }
        // A normal event.
        _ => {
            let ev = name(u, EVENTS)?;
            headers.push((b":event-type".to_vec(), HeaderValOwned::Str(ev.clone())));
            headers.push((
                b":content-type".to_vec(),
                HeaderValOwned::Str("application/json".into()),
            ));
            headers.push((b":message-type".to_vec(), HeaderValOwned::Str("event".into())));
            ev
        }
    };
    // Extra headers, sometimes a duplicate of a pseudo-header, in a shuffled order.
    for _ in 0..u.int_in_range(0..=2)? {
        let n: Vec<u8> = if u.ratio(1, 2)? {
            u.choose(&[
                &b":message-type"[..],
                b":event-type",
                b":exception-type",
                b":content-type",
            ])?
            .to_vec()
        } else {
            Vec::<u8>::arbitrary(u)?
        };
        let v = HeaderValOwned::from(header_value(u)?);
        headers.push((n, v));
    }
    if headers.len() > 1 && u.ratio(1, 8)? {
        let i = u.choose_index(headers.len())?;
        let j = u.choose_index(headers.len())?;
        headers.swap(i, j);
    }
    let payload = payload(u, &event)?;
    let borrowed: Vec<(&[u8], HeaderVal<'_>)> = headers.iter().map(|(n, v)| (n.as_slice(), v.borrow())).collect();
    Ok(encode_frame(&borrowed, &payload))
}

/// An owned [`HeaderVal`].
enum HeaderValOwned {
    Str(String),
    Bytes(Vec<u8>),
    Other(HeaderVal<'static>),
}

impl From<HeaderVal<'_>> for HeaderValOwned {
    fn from(v: HeaderVal<'_>) -> Self {
        match v {
            HeaderVal::Str(s) => HeaderValOwned::Str(s.to_string()),
            HeaderVal::Bytes(b) => HeaderValOwned::Bytes(b.to_vec()),
            HeaderVal::Bool(b) => HeaderValOwned::Other(HeaderVal::Bool(b)),
            HeaderVal::Byte(b) => HeaderValOwned::Other(HeaderVal::Byte(b)),
            HeaderVal::Short(s) => HeaderValOwned::Other(HeaderVal::Short(s)),
            HeaderVal::Int(i) => HeaderValOwned::Other(HeaderVal::Int(i)),
            HeaderVal::Long(l) => HeaderValOwned::Other(HeaderVal::Long(l)),
            HeaderVal::Timestamp(t) => HeaderValOwned::Other(HeaderVal::Timestamp(t)),
            HeaderVal::Uuid(x) => HeaderValOwned::Other(HeaderVal::Uuid(x)),
        }
    }
}

impl HeaderValOwned {
    fn borrow(&self) -> HeaderVal<'_> {
        match self {
            HeaderValOwned::Str(s) => HeaderVal::Str(s),
            HeaderValOwned::Bytes(b) => HeaderVal::Bytes(b),
            HeaderValOwned::Other(v) => *v,
        }
    }
}

#[derive(Debug)]
struct Input {
    flags: u8,
    body: Vec<u8>,
    cuts: Vec<usize>,
    bytewise: bool,
}

impl<'a> Arbitrary<'a> for Input {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let flags = u8::arbitrary(u)?;
        let bytewise = bool::arbitrary(u)?;
        let mut body = Vec::new();
        for _ in 0..u.int_in_range(0..=24)? {
            body.extend(frame(u)?);
            // Now and then garbage between frames.
            if u.ratio(1, 64)? {
                body.extend(Vec::<u8>::arbitrary(u)?);
            }
        }
        let raw: Vec<u16> = Vec::arbitrary(u)?;
        let cuts = cut_points(body.len(), raw.into_iter().take(32).map(usize::from));
        Ok(Input {
            flags,
            body,
            cuts,
            bytewise,
        })
    }
}

fuzz_target!(|input: Input| {
    // Default limits mostly: small ones only for one flags value in eight.
    let flags = if input.flags & 0x70 == 0x70 {
        input.flags
    } else {
        input.flags & !0x10
    };
    let opts = stream_options(flags);
    let limits = limits(flags);
    let whole = replay(&opts, limits, &input.body, &[]);
    check_sse(&whole, &opts);
    let split = replay(&opts, limits, &input.body, &input.cuts);
    assert!(split == whole, "SSE depends on chunking: cuts {:?}", input.cuts);
    if input.bytewise && input.body.len() <= 4096 {
        assert!(
            replay_bytewise(&opts, limits, &input.body) == whole,
            "SSE differs byte by byte"
        );
    }
});
