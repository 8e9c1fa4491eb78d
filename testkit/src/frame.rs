//! Eventstream frame encoding: prelude (total and headers length, CRC32), headers, payload,
//! message CRC32.

/// An eventstream header value, with the wire type it is encoded as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderVal<'a> {
    Bool(bool),
    Byte(i8),
    Short(i16),
    Int(i32),
    Long(i64),
    Bytes(&'a [u8]),
    Str(&'a str),
    Timestamp(i64),
    Uuid([u8; 16]),
}

/// The frame overhead: prelude (12 bytes) and message CRC (4 bytes).
pub const OVERHEAD: usize = 16;

/// The encoded header block. Names longer than 255 bytes and values longer than 65535 bytes are
/// truncated to fit their length fields (a truncated string may then end inside a UTF-8
/// sequence, which a decoder must reject).
pub fn header_bytes(headers: &[(&[u8], HeaderVal<'_>)]) -> Vec<u8> {
    let mut h = Vec::new();
    for (name, value) in headers {
        let name = &name[..name.len().min(255)];
        h.push(name.len() as u8);
        h.extend_from_slice(name);
        let sized = |h: &mut Vec<u8>, kind: u8, b: &[u8]| {
            let b = &b[..b.len().min(u16::MAX as usize)];
            h.push(kind);
            h.extend_from_slice(&(b.len() as u16).to_be_bytes());
            h.extend_from_slice(b);
        };
        match *value {
            HeaderVal::Bool(true) => h.push(0),
            HeaderVal::Bool(false) => h.push(1),
            HeaderVal::Byte(v) => h.extend_from_slice(&[2, v as u8]),
            HeaderVal::Short(v) => {
                h.push(3);
                h.extend_from_slice(&v.to_be_bytes());
            }
            HeaderVal::Int(v) => {
                h.push(4);
                h.extend_from_slice(&v.to_be_bytes());
            }
            HeaderVal::Long(v) => {
                h.push(5);
                h.extend_from_slice(&v.to_be_bytes());
            }
            HeaderVal::Bytes(b) => sized(&mut h, 6, b),
            HeaderVal::Str(s) => sized(&mut h, 7, s.as_bytes()),
            HeaderVal::Timestamp(v) => {
                h.push(8);
                h.extend_from_slice(&v.to_be_bytes());
            }
            HeaderVal::Uuid(u) => {
                h.push(9);
                h.extend_from_slice(&u);
            }
        }
    }
    h
}

/// A frame with the given length fields and body (headers + payload), both CRCs correct
/// whatever the lengths say (for malformed frames).
pub fn raw_frame(total_length: u32, headers_length: u32, body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(body.len() + OVERHEAD);
    m.extend_from_slice(&total_length.to_be_bytes());
    m.extend_from_slice(&headers_length.to_be_bytes());
    let crc = crc32fast::hash(&m);
    m.extend_from_slice(&crc.to_be_bytes());
    m.extend_from_slice(body);
    let crc = crc32fast::hash(&m);
    m.extend_from_slice(&crc.to_be_bytes());
    m
}

/// A well-formed frame around an encoded header block.
pub fn seal(header_block: &[u8], payload: &[u8]) -> Vec<u8> {
    let total = (OVERHEAD + header_block.len() + payload.len()) as u32;
    raw_frame(total, header_block.len() as u32, &[header_block, payload].concat())
}

/// One well-formed eventstream message (lengths and both CRC32s correct).
pub fn encode_frame(headers: &[(&[u8], HeaderVal<'_>)], payload: &[u8]) -> Vec<u8> {
    seal(&header_bytes(headers), payload)
}

/// A frame with string headers only, the shape Bedrock sends.
pub fn string_frame(headers: &[(&str, &str)], payload: &[u8]) -> Vec<u8> {
    let h: Vec<(&[u8], HeaderVal<'_>)> = headers.iter().map(|(n, v)| (n.as_bytes(), HeaderVal::Str(v))).collect();
    encode_frame(&h, payload)
}

/// A ConverseStream event frame as Bedrock sends it (`:event-type`, `:content-type`,
/// `:message-type`).
pub fn event_frame(event_type: &str, payload: &[u8]) -> Vec<u8> {
    string_frame(
        &[
            (":event-type", event_type),
            (":content-type", "application/json"),
            (":message-type", "event"),
        ],
        payload,
    )
}

/// An event frame with a JSON payload.
pub fn event(event_type: &str, payload: serde_json::Value) -> Vec<u8> {
    event_frame(event_type, payload.to_string().as_bytes())
}

/// An exception frame (`:message-type exception`, `:exception-type`).
pub fn exception_frame(exception_type: &str, payload: &[u8]) -> Vec<u8> {
    string_frame(
        &[
            (":exception-type", exception_type),
            (":content-type", "application/json"),
            (":message-type", "exception"),
        ],
        payload,
    )
}

/// The frames of a well-formed eventstream body, each with its prelude and CRC. Stops at the
/// first frame whose length field does not fit.
pub fn split_frames(mut bytes: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while let Some(len) = bytes.get(..4) {
        let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
        if len < OVERHEAD || len > bytes.len() {
            break;
        }
        let (frame, rest) = bytes.split_at(len);
        out.push(frame);
        bytes = rest;
    }
    out
}

/// A frame's headers as `(name, value)` strings.
pub type StringHeaders<'a> = Vec<(&'a str, &'a str)>;

/// The string headers and the payload of one frame (as [`split_frames`] yields them), read
/// without the filter's decoder and without checking the CRCs: `None` when the lengths do not
/// fit, a header is not a string (type 7) or not UTF-8. Bedrock's events carry only strings.
pub fn string_parts(frame: &[u8]) -> Option<(StringHeaders<'_>, &[u8])> {
    let headers_len = u32::from_be_bytes(frame.get(4..8)?.try_into().ok()?) as usize;
    let mut h = frame.get(12..12usize.checked_add(headers_len)?)?;
    let payload = frame.get(12 + headers_len..frame.len().checked_sub(4)?)?;
    let mut out = Vec::new();
    while let [n, rest @ ..] = h {
        let (name, rest) = rest.split_at_checked(usize::from(*n))?;
        let [7, a, b, rest @ ..] = rest else { return None };
        let (value, rest) = rest.split_at_checked(usize::from(u16::from_be_bytes([*a, *b])))?;
        out.push((std::str::from_utf8(name).ok()?, std::str::from_utf8(value).ok()?));
        h = rest;
    }
    Some((out, payload))
}

/// The number of frames of an eventstream body.
pub fn frame_count(bytes: &[u8]) -> usize {
    split_frames(bytes).len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_carry_their_lengths_and_crcs() {
        let f = string_frame(&[(":event-type", "messageStart")], b"{}");
        let total = u32::from_be_bytes(f[..4].try_into().unwrap()) as usize;
        assert_eq!(total, f.len());
        assert_eq!(u32::from_be_bytes(f[4..8].try_into().unwrap()), 1 + 11 + 1 + 2 + 12);
        assert_eq!(
            u32::from_be_bytes(f[8..12].try_into().unwrap()),
            crc32fast::hash(&f[..8])
        );
        let n = f.len();
        assert_eq!(
            u32::from_be_bytes(f[n - 4..].try_into().unwrap()),
            crc32fast::hash(&f[..n - 4])
        );
        let (headers, payload) = string_parts(&f).unwrap();
        assert_eq!((headers, payload), (vec![(":event-type", "messageStart")], &b"{}"[..]));
        assert_eq!(string_parts(&encode_frame(&[(b"n", HeaderVal::Int(1))], b"")), None);
        assert_eq!(string_parts(&f[..f.len() - 6]), None);
        let two = [f.clone(), event_frame("messageStop", b"{}")].concat();
        assert_eq!(split_frames(&two).len(), 2);
        assert_eq!(split_frames(&two)[0], &f[..]);
    }
}
