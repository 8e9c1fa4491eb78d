//! Incremental, panic-free decoder for `application/vnd.amazon.eventstream`.
//!
//! Wire layout of one message (integers big-endian):
//!
//! ```text
//! | total_length u32 | headers_length u32 | prelude_crc u32 | headers … | payload … | message_crc u32 |
//! ```
//!
//! `prelude_crc` is the CRC-32 of the first 8 bytes, `message_crc` of everything before it. A header
//! is `name_len u8, name, type u8, value`, the value's size given by its type.
//!
//! [`Decoder::feed`] takes body chunks of any size. Complete messages inside a chunk are decoded
//! in place; only the unfinished tail of a chunk is copied, and the prelude of a buffered message
//! is validated (checksum and lengths against [`Limits`]) before anything is reserved for the
//! rest. So the decoder holds at most one partial message, never more than the limit.

use std::fmt;

/// Bytes of `total_length` + `headers_length` + `prelude_crc`.
pub const PRELUDE_LEN: usize = 12;
/// Bytes of a CRC-32.
pub const CRC_LEN: usize = 4;
/// The smallest message: a prelude and the message CRC, no headers, no payload.
pub const MIN_MESSAGE_LEN: usize = PRELUDE_LEN + CRC_LEN;
/// The protocol's own ceilings (AWS): 16 MiB messages, 128 KiB of headers.
pub const PROTOCOL_MAX_MESSAGE_LEN: usize = 16 * 1024 * 1024;
pub const PROTOCOL_MAX_HEADERS_LEN: usize = 128 * 1024;
/// A partial-message buffer that grew beyond this is released after the message completes.
const KEEP_CAPACITY: usize = 64 * 1024;

const TYPE_BOOL_TRUE: u8 = 0;
const TYPE_BOOL_FALSE: u8 = 1;
const TYPE_BYTE: u8 = 2;
const TYPE_SHORT: u8 = 3;
const TYPE_INT: u8 = 4;
const TYPE_LONG: u8 = 5;
const TYPE_BYTES: u8 = 6;
const TYPE_STRING: u8 = 7;
const TYPE_TIMESTAMP: u8 = 8;
const TYPE_UUID: u8 = 9;

/// Decoder limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted `total_length`.
    pub max_message_len: usize,
    /// Most headers in one message.
    pub max_header_count: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_len: PROTOCOL_MAX_MESSAGE_LEN,
            max_header_count: 128,
        }
    }
}

/// Why bytes are not a valid message. One variant per failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// `total_length` below the 16-byte minimum.
    MessageTooShort {
        total_length: u32,
    },
    /// `total_length` above the configured limit.
    MessageTooLong {
        total_length: u32,
        max: usize,
    },
    /// `headers_length` does not fit in the message, or exceeds the protocol's 128 KiB.
    HeadersTooLong {
        headers_length: u32,
        total_length: u32,
    },
    PreludeChecksumMismatch {
        expected: u32,
        computed: u32,
    },
    MessageChecksumMismatch {
        expected: u32,
        computed: u32,
    },
    /// A header name of length 0.
    HeaderNameEmpty,
    /// A header runs past the end of the header section.
    HeaderTruncated,
    /// An unknown header value type.
    InvalidHeaderType(u8),
    /// A header name or string value that is not UTF-8.
    InvalidUtf8,
    TooManyHeaders {
        max: usize,
    },
    /// [`decode_message`] was given more or fewer bytes than `total_length`.
    LengthMismatch {
        total_length: u32,
        given: usize,
    },
    /// The stream ended inside a message.
    Truncated {
        buffered: usize,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::MessageTooShort { total_length } => {
                write!(
                    f,
                    "eventstream message length {total_length} is below the 16-byte minimum"
                )
            }
            DecodeError::MessageTooLong { total_length, max } => {
                write!(
                    f,
                    "eventstream message of {total_length} bytes exceeds the limit of {max} bytes"
                )
            }
            DecodeError::HeadersTooLong {
                headers_length,
                total_length,
            } => write!(
                f,
                "eventstream headers length {headers_length} does not fit a message of {total_length} bytes"
            ),
            DecodeError::PreludeChecksumMismatch { expected, computed } => write!(
                f,
                "eventstream prelude checksum mismatch (expected {expected:#010x}, computed {computed:#010x})"
            ),
            DecodeError::MessageChecksumMismatch { expected, computed } => write!(
                f,
                "eventstream message checksum mismatch (expected {expected:#010x}, computed {computed:#010x})"
            ),
            DecodeError::HeaderNameEmpty => f.write_str("eventstream header with an empty name"),
            DecodeError::HeaderTruncated => f.write_str("eventstream header runs past the header section"),
            DecodeError::InvalidHeaderType(t) => write!(f, "eventstream header value type {t} is unknown"),
            DecodeError::InvalidUtf8 => f.write_str("eventstream header name or string is not UTF-8"),
            DecodeError::TooManyHeaders { max } => write!(f, "eventstream message has more than {max} headers"),
            DecodeError::LengthMismatch { total_length, given } => {
                write!(
                    f,
                    "eventstream message declares {total_length} bytes but {given} were given"
                )
            }
            DecodeError::Truncated { buffered } => {
                write!(
                    f,
                    "the event stream ended inside a message ({buffered} bytes of it received)"
                )
            }
        }
    }
}

impl std::error::Error for DecodeError {}

/// A header value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderValue<'a> {
    Bool(bool),
    Byte(i8),
    Short(i16),
    Int(i32),
    Long(i64),
    Bytes(&'a [u8]),
    String(&'a str),
    /// Milliseconds since the Unix epoch.
    Timestamp(i64),
    Uuid([u8; 16]),
}

/// A validated message borrowing from the decoder's input.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    headers: &'a [u8],
    pub payload: &'a [u8],
}

impl<'a> Message<'a> {
    /// The headers in wire order. The header bytes were validated at decode time.
    pub fn headers(&self) -> impl Iterator<Item = (&'a str, HeaderValue<'a>)> {
        let mut rest = self.headers;
        std::iter::from_fn(move || match read_header(rest) {
            Ok(Some((name, value, next))) => {
                rest = next;
                Some((name, value))
            }
            _ => None,
        })
    }

    /// The first header called `name`.
    pub fn header(&self, name: &str) -> Option<HeaderValue<'a>> {
        self.headers().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// The first header called `name`, if it is a string.
    pub fn header_str(&self, name: &str) -> Option<&'a str> {
        match self.header(name) {
            Some(HeaderValue::String(s)) => Some(s),
            _ => None,
        }
    }
}

fn be_u32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

fn take(b: &[u8], n: usize) -> Result<(&[u8], &[u8]), DecodeError> {
    if n > b.len() {
        return Err(DecodeError::HeaderTruncated);
    }
    Ok(b.split_at(n))
}

fn array<const N: usize>(b: &[u8]) -> Result<([u8; N], &[u8]), DecodeError> {
    let (head, rest) = take(b, N)?;
    let mut a = [0u8; N];
    a.copy_from_slice(head);
    Ok((a, rest))
}

/// One decoded header and the bytes after it.
type HeaderAndRest<'a> = (&'a str, HeaderValue<'a>, &'a [u8]);

/// Read one header from `b`; `Ok(None)` at the end of the section.
fn read_header(b: &[u8]) -> Result<Option<HeaderAndRest<'_>>, DecodeError> {
    let Some((&name_len, rest)) = b.split_first() else {
        return Ok(None);
    };
    if name_len == 0 {
        return Err(DecodeError::HeaderNameEmpty);
    }
    let (name, rest) = take(rest, usize::from(name_len))?;
    let name = std::str::from_utf8(name).map_err(|_| DecodeError::InvalidUtf8)?;
    let (&kind, rest) = rest.split_first().ok_or(DecodeError::HeaderTruncated)?;
    let (value, rest) = match kind {
        TYPE_BOOL_TRUE => (HeaderValue::Bool(true), rest),
        TYPE_BOOL_FALSE => (HeaderValue::Bool(false), rest),
        TYPE_BYTE => {
            let (a, r) = array::<1>(rest)?;
            (HeaderValue::Byte(i8::from_be_bytes(a)), r)
        }
        TYPE_SHORT => {
            let (a, r) = array::<2>(rest)?;
            (HeaderValue::Short(i16::from_be_bytes(a)), r)
        }
        TYPE_INT => {
            let (a, r) = array::<4>(rest)?;
            (HeaderValue::Int(i32::from_be_bytes(a)), r)
        }
        TYPE_LONG => {
            let (a, r) = array::<8>(rest)?;
            (HeaderValue::Long(i64::from_be_bytes(a)), r)
        }
        TYPE_TIMESTAMP => {
            let (a, r) = array::<8>(rest)?;
            (HeaderValue::Timestamp(i64::from_be_bytes(a)), r)
        }
        TYPE_UUID => {
            let (a, r) = array::<16>(rest)?;
            (HeaderValue::Uuid(a), r)
        }
        TYPE_BYTES | TYPE_STRING => {
            let (len, r) = array::<2>(rest)?;
            let (v, r) = take(r, usize::from(u16::from_be_bytes(len)))?;
            if kind == TYPE_BYTES {
                (HeaderValue::Bytes(v), r)
            } else {
                (
                    HeaderValue::String(std::str::from_utf8(v).map_err(|_| DecodeError::InvalidUtf8)?),
                    r,
                )
            }
        }
        other => return Err(DecodeError::InvalidHeaderType(other)),
    };
    Ok(Some((name, value, rest)))
}

/// Validate a prelude (at least [`PRELUDE_LEN`] bytes); returns `(total_length, headers_length)`.
fn check_prelude(p: &[u8], limits: &Limits) -> Result<(usize, usize), DecodeError> {
    let (Some(total), Some(headers), Some(expected)) = (be_u32(p, 0), be_u32(p, 4), be_u32(p, 8)) else {
        return Err(DecodeError::Truncated { buffered: p.len() });
    };
    let computed = crc32fast::hash(p.get(..8).unwrap_or_default());
    if computed != expected {
        return Err(DecodeError::PreludeChecksumMismatch { expected, computed });
    }
    let total_len = total as usize;
    if total_len < MIN_MESSAGE_LEN {
        return Err(DecodeError::MessageTooShort { total_length: total });
    }
    if total_len > limits.max_message_len.min(PROTOCOL_MAX_MESSAGE_LEN) {
        return Err(DecodeError::MessageTooLong {
            total_length: total,
            max: limits.max_message_len.min(PROTOCOL_MAX_MESSAGE_LEN),
        });
    }
    let headers_len = headers as usize;
    let room = total_len.saturating_sub(MIN_MESSAGE_LEN);
    if headers_len > room || headers_len > PROTOCOL_MAX_HEADERS_LEN {
        return Err(DecodeError::HeadersTooLong {
            headers_length: headers,
            total_length: total,
        });
    }
    Ok((total_len, headers_len))
}

/// Decode exactly one complete message occupying all of `bytes`.
pub fn decode_message<'a>(bytes: &'a [u8], limits: &Limits) -> Result<Message<'a>, DecodeError> {
    if bytes.len() < PRELUDE_LEN {
        return Err(DecodeError::Truncated { buffered: bytes.len() });
    }
    let (total, headers_len) = check_prelude(bytes, limits)?;
    if total != bytes.len() {
        return Err(DecodeError::LengthMismatch {
            total_length: u32::try_from(total).unwrap_or(u32::MAX),
            given: bytes.len(),
        });
    }
    let crc_at = total.checked_sub(CRC_LEN).ok_or(DecodeError::HeaderTruncated)?;
    let expected = be_u32(bytes, crc_at).ok_or(DecodeError::Truncated { buffered: bytes.len() })?;
    let computed = crc32fast::hash(bytes.get(..crc_at).unwrap_or_default());
    if computed != expected {
        return Err(DecodeError::MessageChecksumMismatch { expected, computed });
    }
    let headers_end = PRELUDE_LEN
        .checked_add(headers_len)
        .ok_or(DecodeError::HeaderTruncated)?;
    let headers = bytes
        .get(PRELUDE_LEN..headers_end)
        .ok_or(DecodeError::HeaderTruncated)?;
    let payload = bytes.get(headers_end..crc_at).ok_or(DecodeError::HeaderTruncated)?;
    let mut rest = headers;
    let mut count = 0usize;
    while let Some((_, _, next)) = read_header(rest)? {
        count += 1;
        if count > limits.max_header_count {
            return Err(DecodeError::TooManyHeaders {
                max: limits.max_header_count,
            });
        }
        rest = next;
    }
    Ok(Message { headers, payload })
}

/// Incremental decoder: feed chunks of any size, get each complete message in order.
#[derive(Debug)]
pub struct Decoder {
    limits: Limits,
    /// The unfinished message (prelude first), empty between messages.
    partial: Vec<u8>,
    /// Once set, every call fails with it.
    poisoned: Option<DecodeError>,
}

impl Decoder {
    pub fn new(limits: Limits) -> Self {
        Decoder {
            limits,
            partial: Vec::new(),
            poisoned: None,
        }
    }

    /// Bytes of the unfinished message held between chunks.
    pub fn buffered_len(&self) -> usize {
        self.partial.len()
    }

    /// Decode the messages `chunk` completes, calling `on_message` for each. After an error
    /// the decoder is poisoned: later calls return the same error and emit nothing.
    pub fn feed(&mut self, chunk: &[u8], mut on_message: impl FnMut(Message<'_>)) -> Result<(), DecodeError> {
        if let Some(e) = &self.poisoned {
            return Err(e.clone());
        }
        let result = self.feed_inner(chunk, &mut on_message);
        if let Err(e) = &result {
            self.poisoned = Some(e.clone());
            self.partial = Vec::new();
        }
        result
    }

    fn feed_inner(&mut self, mut chunk: &[u8], on_message: &mut impl FnMut(Message<'_>)) -> Result<(), DecodeError> {
        // First finish the buffered message, copying only the bytes it still needs.
        if !self.partial.is_empty() {
            if self.partial.len() < PRELUDE_LEN {
                let need = PRELUDE_LEN - self.partial.len();
                let n = need.min(chunk.len());
                self.partial.extend_from_slice(chunk.get(..n).unwrap_or_default());
                chunk = chunk.get(n..).unwrap_or_default();
                if self.partial.len() < PRELUDE_LEN {
                    return Ok(());
                }
            }
            let (total, _) = check_prelude(&self.partial, &self.limits)?;
            let need = total.saturating_sub(self.partial.len());
            let n = need.min(chunk.len());
            self.partial.reserve_exact(need);
            self.partial.extend_from_slice(chunk.get(..n).unwrap_or_default());
            chunk = chunk.get(n..).unwrap_or_default();
            if self.partial.len() < total {
                return Ok(());
            }
            on_message(decode_message(&self.partial, &self.limits)?);
            self.partial.clear();
            if self.partial.capacity() > KEEP_CAPACITY {
                self.partial = Vec::new();
            }
        }
        // Then decode whole messages in place.
        while chunk.len() >= PRELUDE_LEN {
            let (total, _) = check_prelude(chunk, &self.limits)?;
            let Some(message) = chunk.get(..total) else { break };
            on_message(decode_message(message, &self.limits)?);
            chunk = chunk.get(total..).unwrap_or_default();
        }
        // Keep the unfinished tail; its prelude is checked as soon as it is complete.
        if !chunk.is_empty() {
            if chunk.len() >= PRELUDE_LEN {
                let (total, _) = check_prelude(chunk, &self.limits)?;
                self.partial.reserve_exact(total);
            }
            self.partial.extend_from_slice(chunk);
        }
        Ok(())
    }

    /// Call at the end of the stream: fails if a partial message is still buffered.
    pub fn finish(&mut self) -> Result<(), DecodeError> {
        if let Some(e) = &self.poisoned {
            return Err(e.clone());
        }
        if self.partial.is_empty() {
            Ok(())
        } else {
            let e = DecodeError::Truncated {
                buffered: self.partial.len(),
            };
            self.poisoned = Some(e.clone());
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Encode a message (test helper).
    pub fn encode(headers: &[(&str, HeaderValue<'_>)], payload: &[u8]) -> Vec<u8> {
        let mut h = Vec::new();
        for (name, v) in headers {
            h.push(name.len() as u8);
            h.extend_from_slice(name.as_bytes());
            match v {
                HeaderValue::Bool(true) => h.push(TYPE_BOOL_TRUE),
                HeaderValue::Bool(false) => h.push(TYPE_BOOL_FALSE),
                HeaderValue::Byte(x) => {
                    h.push(TYPE_BYTE);
                    h.extend_from_slice(&x.to_be_bytes())
                }
                HeaderValue::Short(x) => {
                    h.push(TYPE_SHORT);
                    h.extend_from_slice(&x.to_be_bytes())
                }
                HeaderValue::Int(x) => {
                    h.push(TYPE_INT);
                    h.extend_from_slice(&x.to_be_bytes())
                }
                HeaderValue::Long(x) => {
                    h.push(TYPE_LONG);
                    h.extend_from_slice(&x.to_be_bytes())
                }
                HeaderValue::Timestamp(x) => {
                    h.push(TYPE_TIMESTAMP);
                    h.extend_from_slice(&x.to_be_bytes())
                }
                HeaderValue::Uuid(x) => {
                    h.push(TYPE_UUID);
                    h.extend_from_slice(x)
                }
                HeaderValue::Bytes(x) => {
                    h.push(TYPE_BYTES);
                    h.extend_from_slice(&(x.len() as u16).to_be_bytes());
                    h.extend_from_slice(x)
                }
                HeaderValue::String(x) => {
                    h.push(TYPE_STRING);
                    h.extend_from_slice(&(x.len() as u16).to_be_bytes());
                    h.extend_from_slice(x.as_bytes())
                }
            }
        }
        let total = (MIN_MESSAGE_LEN + h.len() + payload.len()) as u32;
        let mut m = Vec::new();
        m.extend_from_slice(&total.to_be_bytes());
        m.extend_from_slice(&(h.len() as u32).to_be_bytes());
        let crc = crc32fast::hash(&m);
        m.extend_from_slice(&crc.to_be_bytes());
        m.extend_from_slice(&h);
        m.extend_from_slice(payload);
        let crc = crc32fast::hash(&m);
        m.extend_from_slice(&crc.to_be_bytes());
        m
    }

    type Owned = (Vec<(String, String)>, Vec<u8>);

    fn collect(d: &mut Decoder, chunks: &[&[u8]]) -> (Vec<Owned>, Result<(), DecodeError>) {
        let mut got = Vec::new();
        for c in chunks {
            let r = d.feed(c, |m| {
                got.push((
                    m.headers().map(|(n, v)| (n.to_string(), format!("{v:?}"))).collect(),
                    m.payload.to_vec(),
                ))
            });
            if r.is_err() {
                return (got, r);
            }
        }
        (got, Ok(()))
    }

    #[test]
    fn smallest_message_and_all_header_types() {
        let empty = encode(&[], b"");
        assert_eq!(empty.len(), MIN_MESSAGE_LEN);
        let m = decode_message(&empty, &Limits::default()).unwrap();
        assert!(m.payload.is_empty() && m.headers().next().is_none());

        let uuid = [7u8; 16];
        let all = [
            ("t", HeaderValue::Bool(true)),
            ("f", HeaderValue::Bool(false)),
            ("b", HeaderValue::Byte(-3)),
            ("s", HeaderValue::Short(-300)),
            ("i", HeaderValue::Int(70000)),
            ("l", HeaderValue::Long(-1)),
            ("x", HeaderValue::Bytes(b"\x00\xff")),
            (":event-type", HeaderValue::String("contentBlockDelta")),
            ("ts", HeaderValue::Timestamp(1_700_000_000_000)),
            ("u", HeaderValue::Uuid(uuid)),
        ];
        let bytes = encode(&all, b"{}");
        let m = decode_message(&bytes, &Limits::default()).unwrap();
        assert_eq!(m.headers().collect::<Vec<_>>(), all.to_vec());
        assert_eq!(m.header_str(":event-type"), Some("contentBlockDelta"));
        assert_eq!(m.header_str("i"), None);
        assert_eq!(m.payload, b"{}");
    }

    fn with_crcs(mut m: Vec<u8>) -> Vec<u8> {
        let crc = crc32fast::hash(&m[..8]);
        m[8..12].copy_from_slice(&crc.to_be_bytes());
        let n = m.len();
        let crc = crc32fast::hash(&m[..n - 4]);
        m[n - 4..].copy_from_slice(&crc.to_be_bytes());
        m
    }

    #[test]
    fn malformed_headers_are_typed_errors() {
        let base = encode(&[("ab", HeaderValue::String("xyz"))], b"p");
        // name length 0
        let mut m = base.clone();
        m[12] = 0;
        assert_eq!(
            decode_message(&with_crcs(m), &Limits::default()).unwrap_err(),
            DecodeError::HeaderNameEmpty
        );
        // unknown type
        let mut m = base.clone();
        m[15] = 10;
        assert_eq!(
            decode_message(&with_crcs(m), &Limits::default()).unwrap_err(),
            DecodeError::InvalidHeaderType(10)
        );
        // string length past the header section
        let mut m = base.clone();
        m[16..18].copy_from_slice(&200u16.to_be_bytes());
        assert_eq!(
            decode_message(&with_crcs(m), &Limits::default()).unwrap_err(),
            DecodeError::HeaderTruncated
        );
        // invalid UTF-8 name
        let mut m = base.clone();
        m[13] = 0xff;
        assert_eq!(
            decode_message(&with_crcs(m), &Limits::default()).unwrap_err(),
            DecodeError::InvalidUtf8
        );
        // headers_length larger than the message
        let mut m = base.clone();
        m[4..8].copy_from_slice(&100u32.to_be_bytes());
        assert!(matches!(
            decode_message(&with_crcs(m), &Limits::default()).unwrap_err(),
            DecodeError::HeadersTooLong { .. }
        ));
        // total length below minimum
        let mut m = encode(&[], b"");
        m[0..4].copy_from_slice(&15u32.to_be_bytes());
        assert!(matches!(
            decode_message(&with_crcs(m), &Limits::default()).unwrap_err(),
            DecodeError::MessageTooShort { .. }
        ));
        // too many headers
        let many: Vec<(&str, HeaderValue)> = (0..5).map(|_| ("h", HeaderValue::Bool(true))).collect();
        let lim = Limits {
            max_message_len: 1 << 20,
            max_header_count: 4,
        };
        assert_eq!(
            decode_message(&encode(&many, b""), &lim).unwrap_err(),
            DecodeError::TooManyHeaders { max: 4 }
        );
    }

    #[test]
    fn oversized_message_is_rejected_before_buffering() {
        let lim = Limits {
            max_message_len: 64,
            max_header_count: 8,
        };
        let big = encode(&[], &[b'x'; 100]);
        let mut d = Decoder::new(lim);
        let err = d.feed(&big[..20], |_| {}).unwrap_err();
        assert!(matches!(
            err,
            DecodeError::MessageTooLong {
                total_length: 116,
                max: 64
            }
        ));
        assert_eq!(d.buffered_len(), 0);
        // Poisoned afterwards.
        assert_eq!(
            d.feed(&encode(&[], b""), |_| panic!("no messages after an error"))
                .unwrap_err(),
            err
        );
    }

    #[test]
    fn corrupted_length_is_caught_by_the_prelude_crc_without_waiting() {
        let mut m = encode(&[], b"hello");
        m[3] = 0xff;
        let mut d = Decoder::new(Limits::default());
        assert!(matches!(
            d.feed(&m[..12], |_| {}).unwrap_err(),
            DecodeError::PreludeChecksumMismatch { .. }
        ));
    }

    #[test]
    fn finish_reports_a_partial_message() {
        let m = encode(&[], b"hello");
        let mut d = Decoder::new(Limits::default());
        d.feed(&m[..5], |_| {}).unwrap();
        assert_eq!(d.buffered_len(), 5);
        assert_eq!(d.finish().unwrap_err(), DecodeError::Truncated { buffered: 5 });
        let mut d = Decoder::new(Limits::default());
        d.feed(&m, |_| {}).unwrap();
        d.finish().unwrap();
    }

    fn arb_message() -> impl Strategy<Value = Vec<u8>> {
        (
            prop::collection::vec(("[a-z:-]{1,12}", "[ -~]{0,20}"), 0..4),
            prop::collection::vec(any::<u8>(), 0..200),
        )
            .prop_map(|(hs, payload)| {
                let hs: Vec<(&str, HeaderValue)> = hs
                    .iter()
                    .map(|(n, v)| (n.as_str(), HeaderValue::String(v.as_str())))
                    .collect();
                encode(&hs, &payload)
            })
    }

    fn split(bytes: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
        cuts.sort_unstable();
        let mut out = Vec::new();
        let mut start = 0;
        for c in cuts {
            out.push(bytes[start..c].to_vec());
            start = c;
        }
        out.push(bytes[start..].to_vec());
        out
    }

    proptest! {
        #[test]
        fn valid_streams_decode_the_same_however_split(
            msgs in prop::collection::vec(arb_message(), 1..8),
            cuts in prop::collection::vec(any::<usize>(), 0..12),
        ) {
            let stream: Vec<u8> = msgs.concat();
            let (whole, r) = collect(&mut Decoder::new(Limits::default()), &[&stream]);
            prop_assert!(r.is_ok());
            prop_assert_eq!(whole.len(), msgs.len());
            let pieces = split(&stream, &cuts);
            let refs: Vec<&[u8]> = pieces.iter().map(Vec::as_slice).collect();
            let mut d = Decoder::new(Limits::default());
            let (parts, r) = collect(&mut d, &refs);
            prop_assert!(r.is_ok());
            prop_assert_eq!(parts, whole);
            prop_assert!(d.finish().is_ok());
        }

        #[test]
        fn random_bytes_never_panic_and_splits_do_not_matter(
            bytes in prop::collection::vec(any::<u8>(), 0..400),
            cuts in prop::collection::vec(any::<usize>(), 0..8),
            prefix in arb_message(),
        ) {
            let mut stream = prefix;
            stream.extend_from_slice(&bytes);
            let lim = Limits { max_message_len: 4096, max_header_count: 16 };
            let mut d1 = Decoder::new(lim);
            let (whole, r1) = collect(&mut d1, &[&stream]);
            let r1 = r1.and_then(|_| d1.finish());
            let pieces = split(&stream, &cuts);
            let refs: Vec<&[u8]> = pieces.iter().map(Vec::as_slice).collect();
            let mut d2 = Decoder::new(lim);
            let (parts, r2) = collect(&mut d2, &refs);
            let r2 = r2.and_then(|_| d2.finish());
            prop_assert_eq!(parts, whole);
            prop_assert_eq!(r1.is_ok(), r2.is_ok());
        }
    }
}
