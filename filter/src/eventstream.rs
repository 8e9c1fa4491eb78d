//! Incremental, panic-free decoder for `application/vnd.amazon.eventstream`, the framing of
//! Bedrock's streaming responses.
//!
//! One message on the wire (all integers big-endian):
//!
//! ```text
//! +--------------+----------------+-------------+-----------------+---------+-------------+
//! | total_length | headers_length | prelude_crc | headers ...     | payload | message_crc |
//! |     u32      |      u32       |     u32     | headers_length  |   ...   |     u32     |
//! +--------------+----------------+-------------+-----------------+---------+-------------+
//! ```
//!
//! `prelude_crc` is the CRC32 (IEEE) of the first 8 bytes, `message_crc` the CRC32 of everything
//! before it. A header is `name_len: u8` (at least 1), the UTF-8 name, a value type `u8` and the
//! value (see [`HeaderValue`]).
//!
//! All input is untrusted: every length is checked before it is used, no arithmetic can overflow,
//! no slice access can panic, and nothing is allocated for a message before its prelude checksum
//! and its length have been checked against [`Limits`].
//!
//! [`Decoder`] decodes complete messages straight from the chunk it is fed (zero copy) and keeps
//! only the unfinished tail of a chunk, so between chunks it holds at most one partial message.

use std::fmt;

/// Bytes of the prelude: total length, headers length, prelude CRC.
const PRELUDE_LEN: usize = 12;
/// Bytes of the prelude covered by the prelude CRC (the two length fields).
const PRELUDE_CRC_COVERED_LEN: usize = 8;
/// Bytes of a CRC32 field.
const CRC_LEN: usize = 4;
/// Smallest message: a prelude and the message CRC, no headers, no payload.
const MIN_MESSAGE_LEN: usize = PRELUDE_LEN + CRC_LEN;
/// Largest message AWS sends or accepts (16 MiB).
const AWS_MAX_MESSAGE_LEN: usize = 16 * 1024 * 1024;
/// Largest header section AWS allows (128 KiB), whatever the message length.
const AWS_MAX_HEADERS_LEN: usize = 128 * 1024;
/// Default for [`Limits::max_header_count`].
const DEFAULT_MAX_HEADER_COUNT: usize = 128;
/// Capacity the decoder's buffer may keep between messages; a larger buffer is shrunk back.
const MAX_RETAINED_CAPACITY: usize = 64 * 1024;

/// Header value type codes.
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

/// Bounds applied to every message before it is buffered or emitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted `total_length`, in bytes (prelude, headers, payload and CRC); never
    /// more than AWS's 16 MiB, whatever is set here.
    pub max_message_len: usize,
    /// Most headers accepted in one message.
    pub max_header_count: usize,
}

impl Default for Limits {
    /// 16 MiB messages (AWS's own limit) and 128 headers.
    fn default() -> Self {
        Limits {
            max_message_len: AWS_MAX_MESSAGE_LEN,
            max_header_count: DEFAULT_MAX_HEADER_COUNT,
        }
    }
}

/// Why a byte stream is not valid eventstream. Each kind of failure has its own variant; the
/// `Display` text is meant to be shown to a user as the reason a stream ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// `total_length` is below the 16-byte minimum (prelude + message CRC).
    MessageTooShort {
        /// The `total_length` field.
        total_length: u32,
    },
    /// `total_length` is above [`Limits::max_message_len`] (or AWS's 16 MiB).
    MessageTooLong {
        /// The `total_length` field.
        total_length: u32,
        /// The limit it exceeds.
        max: usize,
    },
    /// `headers_length` does not fit in `total_length` minus prelude and message CRC, or exceeds
    /// the protocol's 128 KiB.
    HeadersTooLong {
        /// The `headers_length` field.
        headers_length: u32,
        /// The `total_length` field.
        total_length: u32,
    },
    /// The prelude CRC does not match the first 8 bytes (a length field is corrupt).
    PreludeChecksumMismatch {
        /// The checksum carried by the message.
        expected: u32,
        /// The checksum of the bytes received.
        computed: u32,
    },
    /// The message CRC does not match the message (headers or payload are corrupt).
    MessageChecksumMismatch {
        /// The checksum carried by the message.
        expected: u32,
        /// The checksum of the bytes received.
        computed: u32,
    },
    /// A header has a zero-length name.
    HeaderNameEmpty,
    /// A header's name, type or value runs past the end of the header section.
    HeaderTruncated,
    /// A header has a value type outside 0..=9.
    InvalidHeaderType(u8),
    /// A header name or string value is not UTF-8.
    InvalidUtf8,
    /// The message has more headers than [`Limits::max_header_count`].
    TooManyHeaders {
        /// The limit exceeded.
        max: usize,
    },
    /// The input ended inside a message.
    Truncated {
        /// Bytes of the unfinished message that were received.
        buffered: usize,
    },
    /// [`decode_message`] was given more bytes than the message's `total_length`.
    TrailingBytes {
        /// The `total_length` field.
        total_length: u32,
        /// Bytes given.
        len: usize,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::MessageTooShort { total_length } => write!(
                f,
                "eventstream message length {total_length} is below the minimum of {MIN_MESSAGE_LEN} bytes"
            ),
            DecodeError::MessageTooLong { total_length, max } => {
                write!(
                    f,
                    "eventstream message length {total_length} exceeds the limit of {max} bytes"
                )
            }
            DecodeError::HeadersTooLong {
                headers_length,
                total_length,
            } => {
                if usize::try_from(*headers_length).map_or(true, |h| h > AWS_MAX_HEADERS_LEN) {
                    write!(
                        f,
                        "eventstream headers length {headers_length} exceeds the protocol limit of {AWS_MAX_HEADERS_LEN} bytes"
                    )
                } else {
                    write!(
                        f,
                        "eventstream headers length {headers_length} does not fit in a message of {total_length} bytes"
                    )
                }
            }
            DecodeError::PreludeChecksumMismatch { expected, computed } => write!(
                f,
                "eventstream prelude checksum mismatch (expected {expected:#010x}, computed {computed:#010x})"
            ),
            DecodeError::MessageChecksumMismatch { expected, computed } => write!(
                f,
                "eventstream message checksum mismatch (expected {expected:#010x}, computed {computed:#010x})"
            ),
            DecodeError::HeaderNameEmpty => f.write_str("eventstream header with an empty name"),
            DecodeError::HeaderTruncated => {
                f.write_str("eventstream header runs past the end of the message's header section")
            }
            DecodeError::InvalidHeaderType(t) => write!(f, "eventstream header has unknown value type {t}"),
            DecodeError::InvalidUtf8 => f.write_str("eventstream header name or string value is not valid UTF-8"),
            DecodeError::TooManyHeaders { max } => write!(f, "eventstream message has more than {max} headers"),
            DecodeError::Truncated { buffered } => write!(
                f,
                "eventstream ended inside a message ({buffered} bytes of it received)"
            ),
            DecodeError::TrailingBytes { total_length, len } => write!(
                f,
                "eventstream message of {total_length} bytes followed by {} unexpected bytes",
                len.saturating_sub(usize::try_from(*total_length).unwrap_or(usize::MAX))
            ),
        }
    }
}

impl std::error::Error for DecodeError {}

/// A typed header value. Borrowed values point into the message bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderValue<'a> {
    /// Types 0 (true) and 1 (false); no value bytes.
    Bool(bool),
    /// Type 2: one signed byte.
    Byte(i8),
    /// Type 3: `i16`.
    Short(i16),
    /// Type 4: `i32`.
    Int(i32),
    /// Type 5: `i64`.
    Long(i64),
    /// Type 6: `u16` length, then the bytes.
    Bytes(&'a [u8]),
    /// Type 7: `u16` length, then UTF-8.
    String(&'a str),
    /// Type 8: `i64` milliseconds since the Unix epoch.
    Timestamp(i64),
    /// Type 9: 16 bytes.
    Uuid([u8; 16]),
}

/// Headers a [`Message`] keeps split from the walk that validated them. Bedrock's events carry
/// three, so looking one up (twice per frame) compares names instead of decoding the section
/// again.
const KEPT_HEADERS: usize = 4;

/// The header section of a `contentBlockDelta` event exactly as Bedrock writes it (nearly every
/// frame of a stream), and its decoding: a section equal to these bytes is valid without being
/// walked again. Checked against the general walk in the tests.
const DELTA_HEADER_BYTES: &[u8] = b"\x0b:event-type\x07\x00\x11contentBlockDelta\
    \x0d:content-type\x07\x00\x10application/json\x0d:message-type\x07\x00\x05event";
const DELTA_HEADER_COUNT: usize = 3;
const DELTA_HEADERS: [(&str, HeaderValue<'static>); KEPT_HEADERS] = [
    (":event-type", HeaderValue::String("contentBlockDelta")),
    (":content-type", HeaderValue::String("application/json")),
    (":message-type", HeaderValue::String("event")),
    ("", HeaderValue::Bool(false)),
];

/// One decoded, fully validated message, borrowing the bytes it was decoded from.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    /// The header section, already walked once and found valid.
    headers: &'a [u8],
    /// Its first headers (up to [`KEPT_HEADERS`]), as decoded by that walk: `kept[..kept_len]`.
    kept: [(&'a str, HeaderValue<'a>); KEPT_HEADERS],
    kept_len: usize,
    /// The part of the section after the kept headers (empty for Bedrock's events).
    after_kept: &'a [u8],
    /// The payload bytes.
    pub payload: &'a [u8],
}

impl<'a> Message<'a> {
    /// The headers in wire order. Re-walks the header bytes that were validated when the message
    /// was decoded, so it cannot fail.
    pub fn headers(&self) -> impl Iterator<Item = (&'a str, HeaderValue<'a>)> {
        HeaderIter { rest: self.headers }
    }

    /// The value of the first header called `name`. Searches the kept headers, then walks the
    /// rest of the section comparing raw name bytes and decoding only the matching value.
    pub fn header(&self, name: &str) -> Option<HeaderValue<'a>> {
        let kept = self.kept.get(..self.kept_len).unwrap_or_default();
        if let Some((_, v)) = kept
            .iter()
            .find(|(n, _)| crate::bytes::eq(n.as_bytes(), name.as_bytes()))
        {
            return Some(*v);
        }
        let mut rest = self.after_kept;
        while !rest.is_empty() {
            let (raw_name, kind, value, next) = split_raw(rest).ok()?;
            if crate::bytes::eq(raw_name, name.as_bytes()) {
                return typed_value(kind, value).ok();
            }
            rest = next;
        }
        None
    }

    /// The value of the first header called `name` if it is string-typed (`None` for any other
    /// type, including bytes).
    pub fn header_str(&self, name: &str) -> Option<&'a str> {
        match self.header(name) {
            Some(HeaderValue::String(s)) => Some(s),
            _ => None,
        }
    }
}

/// Iterator over a validated header section.
struct HeaderIter<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for HeaderIter<'a> {
    type Item = (&'a str, HeaderValue<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        match split_header(self.rest) {
            Ok((name, value, rest)) => {
                self.rest = rest;
                Some((name, value))
            }
            // Unreachable for a validated section; end the iteration rather than panic.
            Err(_) => {
                self.rest = &[];
                None
            }
        }
    }
}

/// Cursor over a header section; every read fails with [`DecodeError::HeaderTruncated`] past its end.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    #[inline(always)]
    fn bytes(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let (head, tail) = self.0.split_at_checked(n).ok_or(DecodeError::HeaderTruncated)?;
        self.0 = tail;
        Ok(head)
    }

    #[inline(always)]
    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        self.bytes(N)?.try_into().map_err(|_| DecodeError::HeaderTruncated)
    }

    #[inline(always)]
    fn u8(&mut self) -> Result<u8, DecodeError> {
        let [b] = self.array::<1>()?;
        Ok(b)
    }

    /// A `u16` length followed by that many bytes.
    #[inline(always)]
    fn len_prefixed(&mut self) -> Result<&'a [u8], DecodeError> {
        let len = u16::from_be_bytes(self.array()?);
        self.bytes(usize::from(len))
    }
}

/// The parts of one header, unvalidated: `(name bytes, value type, value bytes, rest)`.
type RawHeader<'a> = (&'a [u8], u8, &'a [u8], &'a [u8]);

/// Splits the first header off a non-empty header section without checking UTF-8 or the type.
fn split_raw(section: &[u8]) -> Result<RawHeader<'_>, DecodeError> {
    let mut r = Reader(section);
    let name_len = r.u8()?;
    if name_len == 0 {
        return Err(DecodeError::HeaderNameEmpty);
    }
    let name = r.bytes(usize::from(name_len))?;
    let kind = r.u8()?;
    let value = match kind {
        TYPE_BOOL_TRUE | TYPE_BOOL_FALSE => &[][..],
        TYPE_BYTE => r.bytes(1)?,
        TYPE_SHORT => r.bytes(2)?,
        TYPE_INT => r.bytes(4)?,
        TYPE_LONG | TYPE_TIMESTAMP => r.bytes(8)?,
        TYPE_UUID => r.bytes(16)?,
        TYPE_BYTES | TYPE_STRING => r.len_prefixed()?,
        other => return Err(DecodeError::InvalidHeaderType(other)),
    };
    Ok((name, kind, value, r.0))
}

/// The typed value of a header from its type and value bytes (as split by [`split_raw`]).
fn typed_value(kind: u8, v: &[u8]) -> Result<HeaderValue<'_>, DecodeError> {
    let mut r = Reader(v);
    Ok(match kind {
        TYPE_BOOL_TRUE => HeaderValue::Bool(true),
        TYPE_BOOL_FALSE => HeaderValue::Bool(false),
        TYPE_BYTE => HeaderValue::Byte(i8::from_be_bytes(r.array()?)),
        TYPE_SHORT => HeaderValue::Short(i16::from_be_bytes(r.array()?)),
        TYPE_INT => HeaderValue::Int(i32::from_be_bytes(r.array()?)),
        TYPE_LONG => HeaderValue::Long(i64::from_be_bytes(r.array()?)),
        TYPE_BYTES => HeaderValue::Bytes(v),
        TYPE_STRING => HeaderValue::String(crate::bytes::utf8(v).map_err(|_| DecodeError::InvalidUtf8)?),
        TYPE_TIMESTAMP => HeaderValue::Timestamp(i64::from_be_bytes(r.array()?)),
        TYPE_UUID => HeaderValue::Uuid(r.array()?),
        other => return Err(DecodeError::InvalidHeaderType(other)),
    })
}

/// Splits the first header off a non-empty header section: `(name, value, rest)`.
fn split_header(section: &[u8]) -> Result<(&str, HeaderValue<'_>, &[u8]), DecodeError> {
    let (name, kind, value, rest) = split_raw(section)?;
    let name = crate::bytes::utf8(name).map_err(|_| DecodeError::InvalidUtf8)?;
    Ok((name, typed_value(kind, value)?, rest))
}

/// Walks a whole header section: every header well formed, at most `max_count` of them. Returns
/// the message with its first headers kept split.
fn validate_headers<'a>(headers: &'a [u8], payload: &'a [u8], max_count: usize) -> Result<Message<'a>, DecodeError> {
    if max_count >= DELTA_HEADER_COUNT && crate::bytes::eq(headers, DELTA_HEADER_BYTES) {
        return Ok(Message {
            headers,
            kept: DELTA_HEADERS,
            kept_len: DELTA_HEADER_COUNT,
            after_kept: &[],
            payload,
        });
    }
    walk_headers(headers, payload, max_count)
}

/// [`validate_headers`] for any section: decodes every header.
fn walk_headers<'a>(headers: &'a [u8], payload: &'a [u8], max_count: usize) -> Result<Message<'a>, DecodeError> {
    let mut m = Message {
        headers,
        kept: [("", HeaderValue::Bool(false)); KEPT_HEADERS],
        kept_len: 0,
        after_kept: &[],
        payload,
    };
    let mut section = headers;
    let mut count = 0usize;
    while !section.is_empty() {
        if count >= max_count {
            return Err(DecodeError::TooManyHeaders { max: max_count });
        }
        let (name, value, rest) = split_header(section)?;
        if let Some(slot) = m.kept.get_mut(count) {
            *slot = (name, value);
            m.kept_len = count.saturating_add(1);
            m.after_kept = rest;
        }
        section = rest;
        count = count.saturating_add(1);
    }
    Ok(m)
}

/// A prelude whose checksum and lengths have been validated.
#[derive(Debug, Clone, Copy)]
struct Prelude {
    /// `total_length`, within `MIN_MESSAGE_LEN..=min(limits.max_message_len, 16 MiB)`.
    total_len: usize,
    /// `headers_length`, at most `total_len - MIN_MESSAGE_LEN` and `AWS_MAX_HEADERS_LEN`.
    headers_len: usize,
}

/// Reads and validates the prelude at the start of `bytes` (which must hold at least
/// `PRELUDE_LEN` bytes, else `Truncated`).
fn read_prelude(bytes: &[u8], limits: &Limits) -> Result<Prelude, DecodeError> {
    let prelude: [u8; PRELUDE_LEN] = bytes
        .get(..PRELUDE_LEN)
        .and_then(|p| p.try_into().ok())
        .ok_or(DecodeError::Truncated { buffered: bytes.len() })?;
    let [t0, t1, t2, t3, h0, h1, h2, h3, c0, c1, c2, c3] = prelude;
    let expected = u32::from_be_bytes([c0, c1, c2, c3]);
    let covered: [u8; PRELUDE_CRC_COVERED_LEN] = [t0, t1, t2, t3, h0, h1, h2, h3];
    let computed = crate::crc32::hash(&covered);
    if expected != computed {
        return Err(DecodeError::PreludeChecksumMismatch { expected, computed });
    }
    let total_length = u32::from_be_bytes([t0, t1, t2, t3]);
    let headers_length = u32::from_be_bytes([h0, h1, h2, h3]);
    // On a 16-bit target a u32 might not fit; saturating makes it fail the limit check below.
    let total_len = usize::try_from(total_length).unwrap_or(usize::MAX);
    let headers_len = usize::try_from(headers_length).unwrap_or(usize::MAX);
    if total_len < MIN_MESSAGE_LEN {
        return Err(DecodeError::MessageTooShort { total_length });
    }
    // AWS's own 16 MiB bounds any configured limit: on wasm32 a `total_length` near
    // `u32::MAX` is also near `usize::MAX`, and reserving room for it would abort the VM.
    let max = limits.max_message_len.min(AWS_MAX_MESSAGE_LEN);
    if total_len > max {
        return Err(DecodeError::MessageTooLong { total_length, max });
    }
    let room = total_len.checked_sub(MIN_MESSAGE_LEN);
    if headers_len > AWS_MAX_HEADERS_LEN || room.is_none_or(|room| headers_len > room) {
        return Err(DecodeError::HeadersTooLong {
            headers_length,
            total_length,
        });
    }
    Ok(Prelude { total_len, headers_len })
}

/// Decodes one message whose validated prelude is `prelude` and whose bytes are exactly `frame`
/// (`frame.len() == prelude.total_len`): checks the message CRC, then the headers.
fn decode_frame<'a>(frame: &'a [u8], prelude: Prelude, limits: &Limits) -> Result<Message<'a>, DecodeError> {
    let too_short = || DecodeError::Truncated { buffered: frame.len() };
    let crc_start = frame.len().checked_sub(CRC_LEN).ok_or_else(too_short)?;
    let (covered, crc) = frame.split_at_checked(crc_start).ok_or_else(too_short)?;
    let expected = u32::from_be_bytes(crc.try_into().map_err(|_| too_short())?);
    let computed = crate::crc32::hash(covered);
    if expected != computed {
        return Err(DecodeError::MessageChecksumMismatch { expected, computed });
    }
    let headers_end = PRELUDE_LEN.checked_add(prelude.headers_len).ok_or_else(too_short)?;
    let headers = covered.get(PRELUDE_LEN..headers_end).ok_or_else(too_short)?;
    let payload = covered.get(headers_end..).ok_or_else(too_short)?;
    validate_headers(headers, payload, limits.max_header_count)
}

/// Decode exactly one complete message occupying all of `bytes`.
///
/// Fails with [`DecodeError::Truncated`] if `bytes` is shorter than the message it starts, and
/// with [`DecodeError::TrailingBytes`] if it is longer.
pub fn decode_message<'a>(bytes: &'a [u8], limits: &Limits) -> Result<Message<'a>, DecodeError> {
    let prelude = read_prelude(bytes, limits)?;
    if bytes.len() < prelude.total_len {
        return Err(DecodeError::Truncated { buffered: bytes.len() });
    }
    if bytes.len() > prelude.total_len {
        return Err(DecodeError::TrailingBytes {
            total_length: u32::try_from(prelude.total_len).unwrap_or(u32::MAX),
            len: bytes.len(),
        });
    }
    decode_frame(bytes, prelude, limits)
}

/// Incremental decoder: feed arbitrary chunks; it calls `on_message` for each completed message,
/// in order.
///
/// Complete messages are decoded in place from the chunk; only the unfinished tail of a chunk is
/// copied, into a buffer that holds at most one partial message. A partial message's prelude is
/// validated as soon as its 12 bytes have arrived, before any room is reserved for the rest.
pub struct Decoder {
    limits: Limits,
    /// The unfinished message: empty, or a prefix of one message (a validated prelude once it
    /// holds `PRELUDE_LEN` bytes or more).
    buf: Vec<u8>,
    /// The first error; once set, every call returns it.
    poisoned: Option<DecodeError>,
}

impl fmt::Debug for Decoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decoder")
            .field("limits", &self.limits)
            .field("buffered_len", &self.buf.len())
            .field("poisoned", &self.poisoned)
            .finish()
    }
}

impl Decoder {
    /// A decoder enforcing `limits` on every message.
    pub fn new(limits: Limits) -> Self {
        Decoder {
            limits,
            buf: Vec::new(),
            poisoned: None,
        }
    }

    /// Decodes `chunk`, calling `on_message` for every message it completes, in order.
    ///
    /// After an error the decoder is poisoned: later calls return the same error and emit nothing.
    /// Messages completed before the error in the same chunk have been emitted.
    pub fn feed(&mut self, chunk: &[u8], mut on_message: impl FnMut(Message<'_>)) -> Result<(), DecodeError> {
        if let Some(e) = &self.poisoned {
            return Err(e.clone());
        }
        self.feed_inner(chunk, &mut on_message)
            .inspect_err(|e| self.poison(e.clone()))
    }

    /// Bytes of the unfinished message held between chunks.
    pub fn buffered_len(&self) -> usize {
        self.buf.len()
    }

    /// Call at end of stream: `Err(Truncated{..})` if a partial message is still buffered (the
    /// decoder is then poisoned), or the earlier error if it is poisoned.
    pub fn finish(&mut self) -> Result<(), DecodeError> {
        if let Some(e) = &self.poisoned {
            return Err(e.clone());
        }
        if self.buf.is_empty() {
            return Ok(());
        }
        let e = DecodeError::Truncated {
            buffered: self.buf.len(),
        };
        self.poison(e.clone());
        Err(e)
    }

    fn poison(&mut self, e: DecodeError) {
        self.poisoned = Some(e);
        self.buf = Vec::new();
    }

    fn feed_inner(&mut self, chunk: &[u8], on_message: &mut impl FnMut(Message<'_>)) -> Result<(), DecodeError> {
        let mut rest = chunk;
        if !self.buf.is_empty() {
            rest = self.complete_buffered(rest, on_message)?;
            if !self.buf.is_empty() {
                // The chunk ended inside the buffered message.
                return Ok(());
            }
        }
        // Nothing buffered: decode in place.
        while rest.len() >= PRELUDE_LEN {
            let prelude = read_prelude(rest, &self.limits)?;
            let Some((frame, tail)) = rest.split_at_checked(prelude.total_len) else {
                // Partial message with a validated prelude: room for exactly that message.
                self.buf.reserve_exact(prelude.total_len);
                break;
            };
            on_message(decode_frame(frame, prelude, &self.limits)?);
            rest = tail;
        }
        self.buf.extend_from_slice(rest);
        Ok(())
    }

    /// Moves bytes from the front of `chunk` into the buffered message, just enough to complete
    /// its prelude and then the message; emits the message once complete and empties the buffer.
    /// Returns the rest of `chunk`.
    fn complete_buffered<'c>(
        &mut self,
        chunk: &'c [u8],
        on_message: &mut impl FnMut(Message<'_>),
    ) -> Result<&'c [u8], DecodeError> {
        let mut rest = chunk;
        if self.buf.len() < PRELUDE_LEN {
            rest = self.move_to_buf(rest, PRELUDE_LEN.saturating_sub(self.buf.len()));
            if self.buf.len() < PRELUDE_LEN {
                return Ok(rest);
            }
        }
        // Re-validating an already seen prelude costs an 8-byte CRC and keeps no extra state.
        let prelude = read_prelude(&self.buf, &self.limits)?;
        let missing = prelude.total_len.saturating_sub(self.buf.len());
        self.buf.reserve_exact(missing);
        rest = self.move_to_buf(rest, missing);
        if self.buf.len() < prelude.total_len {
            return Ok(rest);
        }
        on_message(decode_frame(&self.buf, prelude, &self.limits)?);
        self.buf.clear();
        if self.buf.capacity() > MAX_RETAINED_CAPACITY {
            self.buf.shrink_to(MAX_RETAINED_CAPACITY);
        }
        Ok(rest)
    }

    /// Appends up to `n` bytes from the front of `chunk` to the buffer; returns the rest.
    fn move_to_buf<'c>(&mut self, chunk: &'c [u8], n: usize) -> &'c [u8] {
        let (head, tail) = chunk.split_at_checked(n.min(chunk.len())).unwrap_or((chunk, &[]));
        self.buf.extend_from_slice(head);
        tail
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bedrocks_delta_header_section_decodes_as_the_general_walk_does() {
        let fast = validate_headers(DELTA_HEADER_BYTES, b"{}", 128).unwrap();
        let walked = walk_headers(DELTA_HEADER_BYTES, b"{}", 128).unwrap();
        assert_eq!(fast.kept_len, walked.kept_len);
        assert_eq!(fast.kept[..fast.kept_len], walked.kept[..walked.kept_len]);
        assert_eq!(fast.after_kept, walked.after_kept);
        assert!(fast.headers().eq(walked.headers()));
        assert_eq!(fast.header_str(":event-type"), Some("contentBlockDelta"));
        assert!(matches!(
            validate_headers(DELTA_HEADER_BYTES, b"", 2),
            Err(DecodeError::TooManyHeaders { max: 2 })
        ));
        // The bytes of a real recording's delta frames (converse-stream fixtures).
        let recorded = b"\x0b:event-type\x07\x00\x11contentBlockDelta\r:content-type\x07\x00\x10application/json\r:message-type\x07\x00\x05event";
        assert_eq!(DELTA_HEADER_BYTES, recorded);
    }
    use bedrock_bridge_testkit::frame::{self as kit, raw_frame as frame, seal, HeaderVal};
    use proptest::prelude::*;

    // ---- encoding helpers -------------------------------------------------------------------

    /// A header value owning its data, for building and comparing messages.
    #[derive(Debug, Clone, PartialEq, Eq)]
    enum Owned {
        Bool(bool),
        Byte(i8),
        Short(i16),
        Int(i32),
        Long(i64),
        Bytes(Vec<u8>),
        String(String),
        Timestamp(i64),
        Uuid([u8; 16]),
    }

    impl Owned {
        fn of(v: HeaderValue<'_>) -> Self {
            match v {
                HeaderValue::Bool(b) => Owned::Bool(b),
                HeaderValue::Byte(x) => Owned::Byte(x),
                HeaderValue::Short(x) => Owned::Short(x),
                HeaderValue::Int(x) => Owned::Int(x),
                HeaderValue::Long(x) => Owned::Long(x),
                HeaderValue::Bytes(b) => Owned::Bytes(b.to_vec()),
                HeaderValue::String(s) => Owned::String(s.to_string()),
                HeaderValue::Timestamp(x) => Owned::Timestamp(x),
                HeaderValue::Uuid(u) => Owned::Uuid(u),
            }
        }

        fn value(&self) -> HeaderValue<'_> {
            match self {
                Owned::Bool(b) => HeaderValue::Bool(*b),
                Owned::Byte(x) => HeaderValue::Byte(*x),
                Owned::Short(x) => HeaderValue::Short(*x),
                Owned::Int(x) => HeaderValue::Int(*x),
                Owned::Long(x) => HeaderValue::Long(*x),
                Owned::Bytes(b) => HeaderValue::Bytes(b),
                Owned::String(s) => HeaderValue::String(s),
                Owned::Timestamp(x) => HeaderValue::Timestamp(*x),
                Owned::Uuid(u) => HeaderValue::Uuid(*u),
            }
        }
    }

    type OwnedMessage = (Vec<(String, Owned)>, Vec<u8>);

    fn own(m: Message<'_>) -> OwnedMessage {
        (
            m.headers().map(|(n, v)| (n.to_string(), Owned::of(v))).collect(),
            m.payload.to_vec(),
        )
    }

    /// The test kit's header value for `v`.
    fn kit_value(v: HeaderValue<'_>) -> HeaderVal<'_> {
        match v {
            HeaderValue::Bool(b) => HeaderVal::Bool(b),
            HeaderValue::Byte(x) => HeaderVal::Byte(x),
            HeaderValue::Short(x) => HeaderVal::Short(x),
            HeaderValue::Int(x) => HeaderVal::Int(x),
            HeaderValue::Long(x) => HeaderVal::Long(x),
            HeaderValue::Bytes(b) => HeaderVal::Bytes(b),
            HeaderValue::String(s) => HeaderVal::Str(s),
            HeaderValue::Timestamp(x) => HeaderVal::Timestamp(x),
            HeaderValue::Uuid(u) => HeaderVal::Uuid(u),
        }
    }

    fn raw_headers(headers: &[(&str, HeaderValue<'_>)]) -> Vec<u8> {
        let h: Vec<(&[u8], HeaderVal<'_>)> = headers.iter().map(|(n, v)| (n.as_bytes(), kit_value(*v))).collect();
        kit::header_bytes(&h)
    }

    fn encode(headers: &[(&str, HeaderValue<'_>)], payload: &[u8]) -> Vec<u8> {
        seal(&raw_headers(headers), payload)
    }

    fn decode(bytes: &[u8]) -> Result<OwnedMessage, DecodeError> {
        decode_message(bytes, &Limits::default()).map(own)
    }

    /// Feeds `chunks`, then finishes; returns the messages and the first error (or `Ok`). Checks
    /// the poison contract and the one-partial-message bound on the way.
    fn run(limits: Limits, chunks: &[&[u8]]) -> (Vec<OwnedMessage>, Result<(), DecodeError>) {
        let mut d = Decoder::new(limits);
        let mut out = Vec::new();
        for c in chunks {
            if let Err(e) = d.feed(c, |m| out.push(own(m))) {
                let mut emitted = 0;
                assert_eq!(d.feed(&encode(&[], b""), |_| emitted += 1), Err(e.clone()));
                assert_eq!(emitted, 0);
                assert_eq!(d.finish(), Err(e.clone()));
                assert_eq!(d.buffered_len(), 0);
                return (out, Err(e));
            }
            assert!(d.buffered_len() < limits.max_message_len.max(PRELUDE_LEN));
        }
        let r = d.finish();
        (out, r)
    }

    fn split_at_points<'b>(bytes: &'b [u8], points: &[usize]) -> Vec<&'b [u8]> {
        let mut points: Vec<usize> = points.iter().map(|p| p % (bytes.len() + 1)).collect();
        points.sort_unstable();
        let mut chunks = Vec::new();
        let mut start = 0;
        for p in points {
            chunks.push(&bytes[start..p]);
            start = p;
        }
        chunks.push(&bytes[start..]);
        chunks
    }

    const ALL_TYPES: [(&str, HeaderValue<'static>); 10] = [
        ("t", HeaderValue::Bool(true)),
        ("f", HeaderValue::Bool(false)),
        ("byte", HeaderValue::Byte(-2)),
        ("short", HeaderValue::Short(-300)),
        ("int", HeaderValue::Int(70_000)),
        ("long", HeaderValue::Long(-5_000_000_000)),
        ("bytes", HeaderValue::Bytes(&[0, 1, 255])),
        (":event-type", HeaderValue::String("contentBlockDelta")),
        ("ts", HeaderValue::Timestamp(1_730_384_114_000)),
        ("uuid", HeaderValue::Uuid([7; 16])),
    ];

    // ---- single messages --------------------------------------------------------------------

    #[test]
    fn empty_message_is_16_bytes() {
        let m = encode(&[], b"");
        assert_eq!(m.len(), MIN_MESSAGE_LEN);
        let msg = decode_message(&m, &Limits::default()).unwrap();
        assert!(msg.payload.is_empty());
        assert_eq!(msg.headers().count(), 0);
        assert_eq!(msg.header("x"), None);
    }

    #[test]
    fn all_header_types_round_trip() {
        let m = encode(&ALL_TYPES, b"{\"p\":1}");
        let msg = decode_message(&m, &Limits::default()).unwrap();
        let got: Vec<_> = msg.headers().collect();
        assert_eq!(got, ALL_TYPES.to_vec());
        assert_eq!(msg.payload, b"{\"p\":1}");
        assert_eq!(msg.header("long"), Some(HeaderValue::Long(-5_000_000_000)));
        assert_eq!(msg.header_str(":event-type"), Some("contentBlockDelta"));
        assert_eq!(msg.header_str("bytes"), None, "bytes-typed is not a string");
        assert_eq!(msg.header_str("missing"), None);
    }

    #[test]
    fn first_of_duplicate_headers_wins() {
        let m = encode(&[("a", HeaderValue::String("1")), ("a", HeaderValue::String("2"))], b"");
        let msg = decode_message(&m, &Limits::default()).unwrap();
        assert_eq!(msg.header_str("a"), Some("1"));
        assert_eq!(msg.headers().count(), 2);
    }

    #[test]
    fn headers_beyond_the_kept_ones_are_found() {
        // Lookups search the headers kept by the validation walk, then the rest of the section.
        let names = ["h0", "h1", "h2", "h3", "h4", "h5", "h3"];
        let values = ["v0", "v1", "v2", "v3", "v4", "v5", "later"];
        for n in 0..=names.len() {
            let headers: Vec<_> = names[..n]
                .iter()
                .zip(values)
                .map(|(k, v)| (*k, HeaderValue::String(v)))
                .collect();
            let m = encode(&headers, b"p");
            let msg = decode_message(&m, &Limits::default()).unwrap();
            for (i, name) in names.iter().enumerate().take(n.min(6)) {
                assert_eq!(msg.header_str(name), Some(values[i]), "{n} headers, looking up {name}");
            }
            for name in names.iter().skip(n).filter(|k| !names[..n].contains(k)) {
                assert_eq!(msg.header(name), None);
            }
            assert_eq!(msg.header(""), None);
            assert_eq!(msg.headers().count(), n);
            assert_eq!(msg.payload, b"p");
        }
    }

    #[test]
    fn header_ending_exactly_at_section_end() {
        // Each type as the last header, followed by a payload that would parse as garbage.
        for (name, v) in ALL_TYPES {
            let m = encode(&[("first", HeaderValue::Int(1)), (name, v)], &[0xff, 0x00, 0x63]);
            let (h, p) = decode(&m).unwrap();
            assert_eq!(h.len(), 2);
            assert_eq!(h[1].1, Owned::of(v));
            assert_eq!(p, vec![0xff, 0x00, 0x63]);
        }
    }

    #[test]
    fn maximal_header_name_and_string() {
        let name = "n".repeat(255);
        let value = "v".repeat(usize::from(u16::MAX));
        let m = encode(&[(&name, HeaderValue::String(&value))], b"");
        let msg = decode_message(&m, &Limits::default()).unwrap();
        assert_eq!(msg.header_str(&name), Some(value.as_str()));
    }

    #[test]
    fn every_value_cut_short_by_the_section_end() {
        // Drop the last byte of the header section (moving it into the payload): truncated.
        for (name, v) in ALL_TYPES {
            let raw = raw_headers(&[(name, v)]);
            for cut in 1..raw.len() {
                let (h, p) = raw.split_at(raw.len() - cut);
                let m = seal(h, p);
                assert_eq!(decode(&m), Err(DecodeError::HeaderTruncated), "{name} cut {cut}");
            }
        }
    }

    #[test]
    fn string_length_beyond_headers() {
        // String claims 5 bytes; 4 are in the headers, the 5th would be the payload.
        let mut raw = raw_headers(&[("s", HeaderValue::String("abcde"))]);
        let last = raw.pop().unwrap();
        assert_eq!(decode(&seal(&raw, &[last])), Err(DecodeError::HeaderTruncated));
        // u16 length 0xffff with a handful of bytes.
        let raw = [1, b's', TYPE_STRING, 0xff, 0xff, b'a', b'b'];
        assert_eq!(decode(&seal(&raw, b"")), Err(DecodeError::HeaderTruncated));
        let raw = [1, b'b', TYPE_BYTES, 0x00, 0x03, b'a', b'b'];
        assert_eq!(decode(&seal(&raw, b"xyz")), Err(DecodeError::HeaderTruncated));
        // Only one of the two length bytes.
        let raw = [1, b's', TYPE_STRING, 0x00];
        assert_eq!(decode(&seal(&raw, b"")), Err(DecodeError::HeaderTruncated));
    }

    #[test]
    fn header_name_errors() {
        assert_eq!(
            decode(&seal(&[0, TYPE_BOOL_TRUE], b"")),
            Err(DecodeError::HeaderNameEmpty)
        );
        assert_eq!(decode(&seal(&[5, b'a', b'b'], b"")), Err(DecodeError::HeaderTruncated));
        assert_eq!(
            decode(&seal(&[2, b'a', b'b'], b"")),
            Err(DecodeError::HeaderTruncated),
            "no type byte"
        );
        assert_eq!(
            decode(&seal(&[2, 0xc3, 0x28, TYPE_BOOL_TRUE], b"")),
            Err(DecodeError::InvalidUtf8)
        );
        let raw = [1, b's', TYPE_STRING, 0, 1, 0xff];
        assert_eq!(decode(&seal(&raw, b"")), Err(DecodeError::InvalidUtf8));
        // Bytes-typed values need not be UTF-8.
        let raw = [1, b'b', TYPE_BYTES, 0, 1, 0xff];
        assert!(decode(&seal(&raw, b"")).is_ok());
    }

    #[test]
    fn invalid_header_types() {
        for t in [10u8, 11, 0x60, 0xff] {
            assert_eq!(
                decode(&seal(&[1, b'x', t], b"")),
                Err(DecodeError::InvalidHeaderType(t))
            );
        }
    }

    #[test]
    fn header_count_limit() {
        let headers: Vec<(&str, HeaderValue<'_>)> = (0..4).map(|_| ("h", HeaderValue::Bool(true))).collect();
        let m = encode(&headers, b"");
        let at = |max| {
            decode_message(
                &m,
                &Limits {
                    max_header_count: max,
                    ..Limits::default()
                },
            )
            .map(own)
        };
        assert!(at(4).is_ok());
        assert_eq!(at(3).unwrap_err(), DecodeError::TooManyHeaders { max: 3 });
        assert_eq!(at(0).unwrap_err(), DecodeError::TooManyHeaders { max: 0 });
        assert!(decode_message(
            &encode(&[], b"x"),
            &Limits {
                max_header_count: 0,
                ..Limits::default()
            }
        )
        .is_ok());
    }

    #[test]
    fn length_fields_off_by_one() {
        let payload = b"payload";
        let raw = raw_headers(&[("a", HeaderValue::Int(1))]);
        let body = [&raw[..], payload].concat();
        let total = u32::try_from(body.len() + MIN_MESSAGE_LEN).unwrap();
        let hl = u32::try_from(raw.len()).unwrap();
        assert!(decode(&frame(total, hl, &body)).is_ok());
        // headers_length one more: the payload's first byte `p` becomes a name length of 112.
        assert_eq!(decode(&frame(total, hl + 1, &body)), Err(DecodeError::HeaderTruncated));
        // One less: the int value loses its last byte.
        assert_eq!(decode(&frame(total, hl - 1, &body)), Err(DecodeError::HeaderTruncated));
        // headers_length = total - 16 (no payload) is accepted when the section parses...
        assert!(decode(&frame(total - 7, hl, &raw)).is_ok());
        // ...and here it does not.
        let all = frame(total, u32::try_from(body.len()).unwrap(), &body);
        assert_eq!(decode(&all), Err(DecodeError::HeaderTruncated));
        // headers_length beyond total - 16.
        let over = frame(total, u32::try_from(body.len()).unwrap() + 1, &body);
        assert_eq!(
            decode(&over),
            Err(DecodeError::HeadersTooLong {
                headers_length: u32::try_from(body.len()).unwrap() + 1,
                total_length: total
            })
        );
        // total_length one less / one more than the bytes: message CRC lands elsewhere.
        let short = frame(total - 1, hl, &body);
        assert_eq!(
            decode(&short),
            Err(DecodeError::TrailingBytes {
                total_length: total - 1,
                len: short.len()
            })
        );
        assert!(matches!(
            decode(&short[..short.len() - 1]),
            Err(DecodeError::MessageChecksumMismatch { .. })
        ));
        let long = frame(total + 1, hl, &body);
        assert_eq!(decode(&long), Err(DecodeError::Truncated { buffered: long.len() }));
    }

    #[test]
    fn total_length_bounds() {
        for total in [0u32, 1, 12, 15] {
            assert_eq!(
                decode(&frame(total, 0, b"")),
                Err(DecodeError::MessageTooShort { total_length: total })
            );
        }
        let m = encode(&[], b"0123456789");
        let limits = |max| Limits {
            max_message_len: max,
            ..Limits::default()
        };
        assert!(decode_message(&m, &limits(m.len())).is_ok());
        assert_eq!(
            decode_message(&m, &limits(m.len() - 1)).unwrap_err(),
            DecodeError::MessageTooLong {
                total_length: 26,
                max: 25
            }
        );
        assert_eq!(
            decode(&frame(u32::MAX, 0, b"")),
            Err(DecodeError::MessageTooLong {
                total_length: u32::MAX,
                max: AWS_MAX_MESSAGE_LEN
            })
        );
        assert_eq!(
            decode(&frame(16, u32::MAX, b"")),
            Err(DecodeError::HeadersTooLong {
                headers_length: u32::MAX,
                total_length: 16
            })
        );
    }

    #[test]
    fn no_limit_above_aws_16_mib() {
        // With no limit of its own, a hostile 4 GiB length must still be refused from its
        // prelude: on wasm32 (32-bit usize) reserving room for it aborts the VM.
        let limits = Limits {
            max_message_len: usize::MAX,
            ..Limits::default()
        };
        let too_long = DecodeError::MessageTooLong {
            total_length: u32::MAX,
            max: AWS_MAX_MESSAGE_LEN,
        };
        let prelude = frame(u32::MAX, 0, b"");
        let mut d = Decoder::new(limits);
        assert_eq!(d.feed(&prelude[..PRELUDE_LEN], |_| {}), Err(too_long.clone()));
        assert_eq!(d.buffered_len(), 0);
        let mut d = Decoder::new(limits);
        assert_eq!(d.feed(&prelude[..PRELUDE_LEN - 1], |_| {}), Ok(()));
        assert_eq!(d.feed(&prelude[PRELUDE_LEN - 1..], |_| {}), Err(too_long));
        let len = u32::try_from(AWS_MAX_MESSAGE_LEN).unwrap();
        let mut d = Decoder::new(limits);
        assert_eq!(d.feed(&frame(len, 0, b"")[..PRELUDE_LEN], |_| {}), Ok(()));
        assert_eq!(d.buffered_len(), PRELUDE_LEN);
    }

    #[test]
    fn header_section_limit() {
        // 128 KiB of headers is the protocol's ceiling, even in a larger message.
        let value = "v".repeat(usize::from(u16::MAX));
        let mut raw = raw_headers(&[("a", HeaderValue::String(&value))]);
        // A bytes header named "b" takes 5 bytes besides its value.
        let pad = AWS_MAX_HEADERS_LEN - raw.len() - 5;
        raw.extend(raw_headers(&[("b", HeaderValue::Bytes(&vec![0; pad]))]));
        assert_eq!(raw.len(), AWS_MAX_HEADERS_LEN);
        assert!(decode(&seal(&raw, b"")).is_ok());
        raw.push(1);
        raw.push(b'c');
        raw.push(TYPE_BOOL_TRUE);
        let e = decode(&seal(&raw, b"")).unwrap_err();
        assert!(
            matches!(
                e,
                DecodeError::HeadersTooLong {
                    headers_length: 131075,
                    ..
                }
            ),
            "{e}"
        );
        assert_eq!(
            e.to_string(),
            "eventstream headers length 131075 exceeds the protocol limit of 131072 bytes"
        );
    }

    #[test]
    fn short_inputs() {
        for n in 0..PRELUDE_LEN {
            assert_eq!(decode(&vec![0; n]), Err(DecodeError::Truncated { buffered: n }));
        }
        let m = encode(&[("a", HeaderValue::Bool(true))], b"xyz");
        for n in PRELUDE_LEN..m.len() {
            assert_eq!(decode(&m[..n]), Err(DecodeError::Truncated { buffered: n }));
        }
    }

    #[test]
    fn checksums() {
        let m = encode(&[("a", HeaderValue::String("b"))], b"xyz");
        for i in 0..m.len() {
            let mut bad = m.clone();
            bad[i] ^= 0x01;
            let e = decode(&bad).unwrap_err();
            if i < PRELUDE_LEN {
                assert!(
                    matches!(e, DecodeError::PreludeChecksumMismatch { .. }),
                    "byte {i}: {e}"
                );
            } else {
                assert!(
                    matches!(e, DecodeError::MessageChecksumMismatch { .. }),
                    "byte {i}: {e}"
                );
            }
        }
        let mut bad = m.clone();
        let n = bad.len();
        bad[n - 1] ^= 0xff;
        let expected = u32::from_be_bytes(bad[n - 4..].try_into().unwrap());
        let computed = crc32fast::hash(&m[..n - 4]);
        assert_eq!(
            decode(&bad),
            Err(DecodeError::MessageChecksumMismatch { expected, computed })
        );
    }

    #[test]
    fn display_reads_well() {
        let e = DecodeError::PreludeChecksumMismatch {
            expected: 1,
            computed: 0xdeadbeef,
        };
        assert_eq!(
            e.to_string(),
            "eventstream prelude checksum mismatch (expected 0x00000001, computed 0xdeadbeef)"
        );
        let all = [
            DecodeError::MessageTooShort { total_length: 3 },
            DecodeError::MessageTooLong {
                total_length: 3,
                max: 2,
            },
            DecodeError::HeadersTooLong {
                headers_length: 9,
                total_length: 16,
            },
            e,
            DecodeError::MessageChecksumMismatch {
                expected: 1,
                computed: 2,
            },
            DecodeError::HeaderNameEmpty,
            DecodeError::HeaderTruncated,
            DecodeError::InvalidHeaderType(12),
            DecodeError::InvalidUtf8,
            DecodeError::TooManyHeaders { max: 1 },
            DecodeError::Truncated { buffered: 5 },
            DecodeError::TrailingBytes {
                total_length: 16,
                len: 20,
            },
        ];
        for e in all {
            let s = e.to_string();
            assert!(s.starts_with("eventstream "), "{s}");
            assert!(!s.ends_with('.'), "{s}");
        }
        assert_eq!(
            DecodeError::TrailingBytes {
                total_length: 16,
                len: 20
            }
            .to_string(),
            "eventstream message of 16 bytes followed by 4 unexpected bytes"
        );
    }

    // ---- the incremental decoder ------------------------------------------------------------

    fn stream_of(n: usize) -> (Vec<u8>, Vec<OwnedMessage>) {
        let mut bytes = Vec::new();
        let mut want = Vec::new();
        for i in 0..n {
            let payload = format!("{{\"i\":{i},\"pad\":\"{}\"}}", "x".repeat(i * 7));
            let m = encode(
                &[
                    (":event-type", HeaderValue::String("contentBlockDelta")),
                    ("i", HeaderValue::Int(i as i32)),
                ],
                payload.as_bytes(),
            );
            want.push(decode(&m).unwrap());
            bytes.extend_from_slice(&m);
        }
        (bytes, want)
    }

    #[test]
    fn whole_and_byte_by_byte_and_every_split() {
        let (bytes, want) = stream_of(6);
        assert_eq!(run(Limits::default(), &[&bytes]), (want.clone(), Ok(())));
        let bytewise: Vec<&[u8]> = bytes.chunks(1).collect();
        assert_eq!(run(Limits::default(), &bytewise), (want.clone(), Ok(())));
        for i in 0..=bytes.len() {
            for j in (i..=bytes.len()).step_by(13) {
                let (a, rest) = bytes.split_at(i);
                let (b, c) = rest.split_at(j - i);
                assert_eq!(run(Limits::default(), &[a, b, c]), (want.clone(), Ok(())), "{i} {j}");
            }
        }
    }

    #[test]
    fn empty_chunks_are_fine() {
        let (bytes, want) = stream_of(2);
        let (a, b) = bytes.split_at(20);
        assert_eq!(run(Limits::default(), &[b"", a, b"", b"", b, b""]), (want, Ok(())));
        assert_eq!(run(Limits::default(), &[]), (vec![], Ok(())));
    }

    #[test]
    fn zero_copy_when_nothing_is_buffered() {
        let (bytes, _) = stream_of(3);
        let m0 = usize::try_from(u32::from_be_bytes(bytes[..4].try_into().unwrap())).unwrap();
        let mut d = Decoder::new(Limits::default());
        // First chunk: part of message 0.
        d.feed(&bytes[..5], |_| panic!("nothing complete yet")).unwrap();
        assert_eq!(d.buffered_len(), 5);
        // Second chunk: the rest of message 0, all of message 1 and 3 bytes of message 2.
        let m1_end = bytes.len() - decode_message_len(&bytes, 2);
        let chunk = &bytes[5..m1_end + 3];
        let range = chunk.as_ptr_range();
        let mut seen = Vec::new();
        d.feed(chunk, |m| seen.push(range.contains(&m.payload.as_ptr())))
            .unwrap();
        assert_eq!(seen, vec![false, true], "message 0 from the buffer, message 1 in place");
        assert_eq!(d.buffered_len(), 3, "only the tail is kept");
        assert!(m0 < m1_end);
        d.feed(&bytes[m1_end + 3..], |_| {}).unwrap();
        assert_eq!(d.buffered_len(), 0);
        d.finish().unwrap();
    }

    /// Length of message `index` in a stream.
    fn decode_message_len(bytes: &[u8], index: usize) -> usize {
        let mut pos = 0;
        for _ in 0..index {
            pos += usize::try_from(u32::from_be_bytes(bytes[pos..pos + 4].try_into().unwrap())).unwrap();
        }
        usize::try_from(u32::from_be_bytes(bytes[pos..pos + 4].try_into().unwrap())).unwrap()
    }

    #[test]
    fn corrupt_prelude_is_rejected_at_12_bytes() {
        let mut m = encode(&[], &[b'x'; 1000]);
        m[2] ^= 0x10; // total_length now ~1 MiB larger, prelude CRC stale
        let mut d = Decoder::new(Limits::default());
        for (i, b) in m.iter().enumerate() {
            let r = d.feed(std::slice::from_ref(b), |_| panic!("no message"));
            if i + 1 < PRELUDE_LEN {
                assert_eq!(r, Ok(()));
            } else {
                assert!(
                    matches!(r, Err(DecodeError::PreludeChecksumMismatch { .. })),
                    "byte {i}: {r:?}"
                );
            }
        }
        assert_eq!(d.buffered_len(), 0);
    }

    #[test]
    fn oversized_message_is_rejected_before_reserving() {
        // Valid prelude claiming 4 GiB: rejected from the prelude alone, nothing reserved.
        let prelude = &frame(u32::MAX, 0, b"")[..PRELUDE_LEN];
        let mut d = Decoder::new(Limits::default());
        d.feed(&prelude[..7], |_| {}).unwrap();
        let r = d.feed(&prelude[7..], |_| {});
        assert_eq!(
            r,
            Err(DecodeError::MessageTooLong {
                total_length: u32::MAX,
                max: AWS_MAX_MESSAGE_LEN
            })
        );
        assert_eq!(d.buf.capacity(), 0);
        // Same in place.
        let mut d = Decoder::new(Limits::default());
        assert!(d.feed(prelude, |_| {}).is_err());
        assert_eq!(d.buf.capacity(), 0);
    }

    #[test]
    fn partial_message_reserves_exactly_its_length() {
        let m = encode(&[], &[b'x'; 5000]);
        let mut d = Decoder::new(Limits::default());
        d.feed(&m[..100], |_| {}).unwrap();
        assert_eq!(d.buf.capacity(), m.len());
        let mut d = Decoder::new(Limits::default());
        d.feed(&m[..3], |_| {}).unwrap();
        d.feed(&m[3..20], |_| {}).unwrap();
        assert!(d.buf.capacity() >= m.len());
        let mut n = 0;
        d.feed(&m[20..], |_| n += 1).unwrap();
        assert_eq!(n, 1);
    }

    #[test]
    fn buffer_capacity_is_reused_then_shrunk() {
        let small = encode(&[], &[1; 1000]);
        let mut d = Decoder::new(Limits::default());
        d.feed(&small[..10], |_| {}).unwrap();
        d.feed(&small[10..], |_| {}).unwrap();
        let cap = d.buf.capacity();
        assert!(cap >= small.len());
        d.feed(&small[..10], |_| {}).unwrap();
        d.feed(&small[10..], |_| {}).unwrap();
        assert_eq!(d.buf.capacity(), cap, "reused");

        let big = encode(&[], &vec![2; 300 * 1024]);
        d.feed(&big[..10], |_| {}).unwrap();
        d.feed(&big[10..], |_| {}).unwrap();
        assert_eq!(d.buffered_len(), 0);
        assert!(d.buf.capacity() <= MAX_RETAINED_CAPACITY, "{}", d.buf.capacity());
    }

    #[test]
    fn poisoned_after_error() {
        let good = encode(&[("a", HeaderValue::Bool(true))], b"ok");
        let mut bad = good.clone();
        let n = bad.len();
        bad[n - 5] ^= 1;
        let stream = [good.clone(), bad, good.clone()].concat();
        let mut d = Decoder::new(Limits::default());
        let mut n = 0;
        let e = d.feed(&stream, |_| n += 1).unwrap_err();
        assert_eq!(n, 1, "the message before the error is emitted");
        assert!(matches!(e, DecodeError::MessageChecksumMismatch { .. }));
        assert_eq!(d.feed(&good, |_| n += 1), Err(e.clone()));
        assert_eq!(d.feed(b"", |_| n += 1), Err(e.clone()));
        assert_eq!(d.finish(), Err(e.clone()));
        assert_eq!(n, 1);
        assert_eq!(d.buffered_len(), 0);
        assert!(format!("{d:?}").contains("poisoned: Some"));
    }

    #[test]
    fn finish_on_partial() {
        let m = encode(&[("a", HeaderValue::Bool(true))], b"ok");
        for cut in [1, PRELUDE_LEN - 1, PRELUDE_LEN, m.len() - 1] {
            let mut d = Decoder::new(Limits::default());
            d.feed(&m[..cut], |_| panic!()).unwrap();
            assert_eq!(d.buffered_len(), cut);
            assert_eq!(d.finish(), Err(DecodeError::Truncated { buffered: cut }));
            assert_eq!(d.finish(), Err(DecodeError::Truncated { buffered: cut }), "poisoned");
            assert_eq!(
                d.feed(&m[cut..], |_| panic!()),
                Err(DecodeError::Truncated { buffered: cut })
            );
        }
        let mut d = Decoder::new(Limits::default());
        d.finish().unwrap();
        d.feed(&m, |_| {}).unwrap();
        d.finish().unwrap();
    }

    #[test]
    fn header_errors_in_both_paths() {
        let bad = seal(&[1, b'x', 42], b"p");
        let good = encode(&[], b"");
        let stream = [good.clone(), bad].concat();
        let want = (vec![decode(&good).unwrap()], Err(DecodeError::InvalidHeaderType(42)));
        for split in 0..=stream.len() {
            let (a, b) = stream.split_at(split);
            assert_eq!(run(Limits::default(), &[a, b]), want, "split {split}");
        }
    }

    // ---- properties -------------------------------------------------------------------------

    fn header_value() -> impl Strategy<Value = Owned> {
        prop_oneof![
            any::<bool>().prop_map(Owned::Bool),
            any::<i8>().prop_map(Owned::Byte),
            any::<i16>().prop_map(Owned::Short),
            any::<i32>().prop_map(Owned::Int),
            any::<i64>().prop_map(Owned::Long),
            proptest::collection::vec(any::<u8>(), 0..40).prop_map(Owned::Bytes),
            "\\PC{0,20}".prop_map(Owned::String),
            any::<i64>().prop_map(Owned::Timestamp),
            any::<[u8; 16]>().prop_map(Owned::Uuid),
        ]
    }

    fn message() -> impl Strategy<Value = OwnedMessage> {
        (
            proptest::collection::vec(("\\PC{1,12}", header_value()), 0..6),
            proptest::collection::vec(any::<u8>(), 0..120),
        )
    }

    fn encode_owned(m: &OwnedMessage) -> Vec<u8> {
        let headers: Vec<(&str, HeaderValue<'_>)> = m.0.iter().map(|(n, v)| (n.as_str(), v.value())).collect();
        encode(&headers, &m.1)
    }

    /// Inputs that are mostly invalid, each with limits.
    fn hostile() -> impl Strategy<Value = (Vec<u8>, Limits)> {
        let limits = prop_oneof![
            Just(Limits::default()),
            (0usize..200, 0usize..5).prop_map(|(l, h)| Limits {
                max_message_len: l,
                max_header_count: h
            }),
        ];
        let stream = proptest::collection::vec(message(), 0..4)
            .prop_map(|ms| ms.iter().flat_map(encode_owned).collect::<Vec<u8>>())
            .boxed();
        let bytes = prop_oneof![
            // Pure noise.
            proptest::collection::vec(any::<u8>(), 0..300),
            // Valid stream with a few flipped bytes.
            (
                stream.clone(),
                proptest::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..3)
            )
                .prop_map(|(mut s, flips)| {
                    if !s.is_empty() {
                        for (i, x) in flips {
                            let i = i.index(s.len());
                            s[i] ^= x;
                        }
                    }
                    s
                }),
            // Valid stream cut short.
            (stream.clone(), any::<prop::sample::Index>()).prop_map(|(s, i)| {
                let keep = i.index(s.len() + 1);
                s[..keep].to_vec()
            }),
            // CRC-valid messages around random header sections.
            proptest::collection::vec(
                (
                    proptest::collection::vec(any::<u8>(), 0..40),
                    proptest::collection::vec(any::<u8>(), 0..20)
                ),
                1..4
            )
            .prop_map(|ms| ms.iter().flat_map(|(h, p)| seal(h, p)).collect()),
        ];
        (bytes, limits)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn split_points_do_not_change_valid_streams(
            msgs in proptest::collection::vec(message(), 0..6),
            points in proptest::collection::vec(any::<usize>(), 0..10),
        ) {
            let bytes: Vec<u8> = msgs.iter().flat_map(encode_owned).collect();
            let whole = run(Limits::default(), &[&bytes]);
            prop_assert_eq!(&whole, &(msgs.clone(), Ok(())));
            let split = run(Limits::default(), &split_at_points(&bytes, &points));
            prop_assert_eq!(&split, &whole);
            // And each message alone through decode_message.
            let mut pos = 0;
            for m in &msgs {
                let len = encode_owned(m).len();
                prop_assert_eq!(&decode(&bytes[pos..pos + len]).unwrap(), m);
                pos += len;
            }
        }

        #[test]
        fn split_points_do_not_change_hostile_streams(
            (bytes, limits) in hostile(),
            points in proptest::collection::vec(any::<usize>(), 0..10),
        ) {
            let whole = run(limits, &[&bytes]);
            let split = run(limits, &split_at_points(&bytes, &points));
            prop_assert_eq!(&split, &whole);
            let bytewise: Vec<&[u8]> = bytes.chunks(1).collect();
            prop_assert_eq!(&run(limits, &bytewise), &whole);
            let _ = decode_message(&bytes, &limits);
        }
    }
}
