//! The eventstream decoder against the fixture corpus: the standard codec vectors (with their
//! aws-sdk-go decodings), the smithy-rs binary vectors, the Smithy restJson1 protocol messages,
//! a constructed exception frame and every recorded Bedrock stream. See tests/fixtures/README.md.
//!
//! Every glob must match something and every sidecar must exist: a missing fixture fails loudly.

use base64::Engine;
use bedrock_bridge::eventstream::{decode_message, DecodeError, Decoder, HeaderValue, Limits, Message};
use bedrock_bridge_testkit::recordings::{self, fixtures, name, read};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

// ---- fixture access ---------------------------------------------------------------------------

fn vectors() -> PathBuf {
    fixtures().join("eventstream-vectors")
}

/// Files directly in `dir` whose name ends with `suffix`, sorted; panics if there are none.
fn files(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let out = recordings::files(dir, suffix);
    assert!(!out.is_empty(), "no files matching {}/*{suffix}", dir.display());
    out
}

/// Files anywhere under `dir` whose name ends with `suffix`, sorted; panics if there are none.
fn files_recursive(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    fn walk(dir: &Path, suffix: &str, out: &mut Vec<PathBuf>) {
        let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
        for e in entries {
            let p = e
                .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
                .path();
            if p.is_dir() {
                walk(&p, suffix, out);
            } else if name(&p).ends_with(suffix) {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, suffix, &mut out);
    out.sort();
    assert!(!out.is_empty(), "no files matching {}/**/*{suffix}", dir.display());
    out
}

fn stem(p: &Path) -> String {
    p.file_stem()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn read_json(p: &Path) -> Value {
    serde_json::from_slice(&read(p)).unwrap_or_else(|e| panic!("{}: invalid JSON: {e}", p.display()))
}

fn hex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2) && s.is_ascii(), "bad hex {s:?}");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap_or_else(|_| panic!("bad hex {s:?}")))
        .collect()
}

fn b64(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .unwrap_or_else(|e| panic!("bad base64 {s:?}: {e}"))
}

fn uuid(s: &str) -> [u8; 16] {
    hex(&s.replace('-', ""))
        .try_into()
        .unwrap_or_else(|_| panic!("bad uuid {s:?}"))
}

fn be_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap())
}

/// The JSON number `v` as i64, or panic.
fn int(v: &Value, ctx: &str) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("{ctx}: not an integer: {v}"))
}

fn string<'v>(v: &'v Value, ctx: &str) -> &'v str {
    v.as_str().unwrap_or_else(|| panic!("{ctx}: not a string: {v}"))
}

// ---- header comparison ------------------------------------------------------------------------

/// The wire type code of a decoded value.
fn wire_type(v: HeaderValue<'_>) -> u8 {
    match v {
        HeaderValue::Bool(true) => 0,
        HeaderValue::Bool(false) => 1,
        HeaderValue::Byte(_) => 2,
        HeaderValue::Short(_) => 3,
        HeaderValue::Int(_) => 4,
        HeaderValue::Long(_) => 5,
        HeaderValue::Bytes(_) => 6,
        HeaderValue::String(_) => 7,
        HeaderValue::Timestamp(_) => 8,
        HeaderValue::Uuid(_) => 9,
    }
}

/// Bytes the header takes on the wire.
fn wire_len(name: &str, v: HeaderValue<'_>) -> usize {
    2 + name.len()
        + match v {
            HeaderValue::Bool(_) => 0,
            HeaderValue::Byte(_) => 1,
            HeaderValue::Short(_) => 2,
            HeaderValue::Int(_) => 4,
            HeaderValue::Long(_) | HeaderValue::Timestamp(_) => 8,
            HeaderValue::Bytes(b) => 2 + b.len(),
            HeaderValue::String(s) => 2 + s.len(),
            HeaderValue::Uuid(_) => 16,
        }
}

/// Wire type code of a type name as the fixture JSON files spell it.
fn type_code(t: &str, ctx: &str) -> u8 {
    match t {
        "bool_true" => 0,
        "bool_false" => 1,
        "byte" => 2,
        "short" => 3,
        // eventstream-vectors/expected.json says "integer", smithy-protocol-tests "int".
        "integer" | "int" => 4,
        "long" => 5,
        "bytes" => 6,
        "string" => 7,
        "timestamp" => 8,
        "uuid" => 9,
        other => panic!("{ctx}: unknown header type {other:?} in fixture"),
    }
}

/// How a fixture file writes non-numeric header values.
#[derive(Clone, Copy)]
enum Notation {
    /// Bytes in hex, strings as is, uuids dashed (expected.json files, sidecars).
    Hex,
    /// Bytes, strings and uuids in base64 (aws-sdk-go).
    Base64,
}

/// Checks a decoded value against a fixture value of wire type `code`.
fn check_value(got: HeaderValue<'_>, code: u8, want: &Value, notation: Notation, ctx: &str) {
    let binary = match notation {
        Notation::Hex => hex,
        Notation::Base64 => b64,
    };
    assert_eq!(wire_type(got), code, "{ctx}: wire type of {got:?}");
    match got {
        HeaderValue::Bool(b) => assert_eq!(Some(b), want.as_bool(), "{ctx}"),
        HeaderValue::Byte(x) => assert_eq!(i64::from(x), int(want, ctx), "{ctx}"),
        HeaderValue::Short(x) => assert_eq!(i64::from(x), int(want, ctx), "{ctx}"),
        HeaderValue::Int(x) => assert_eq!(i64::from(x), int(want, ctx), "{ctx}"),
        HeaderValue::Long(x) | HeaderValue::Timestamp(x) => assert_eq!(x, int(want, ctx), "{ctx}"),
        HeaderValue::Bytes(b) => assert_eq!(b, binary(string(want, ctx)), "{ctx}"),
        HeaderValue::String(s) => match notation {
            Notation::Hex => assert_eq!(s, string(want, ctx), "{ctx}"),
            Notation::Base64 => assert_eq!(s.as_bytes(), b64(string(want, ctx)), "{ctx}"),
        },
        HeaderValue::Uuid(u) => {
            let w = string(want, ctx);
            let w: [u8; 16] = if w.contains('-') {
                uuid(w)
            } else {
                binary(w).try_into().unwrap_or_else(|_| panic!("{ctx}: bad uuid {w:?}"))
            };
            assert_eq!(u, w, "{ctx}");
        }
    }
}

/// Checks headers against a fixture list of `{name, type, value}` objects, in order.
fn check_header_list(msg: &Message<'_>, want: &Value, notation: Notation, ctx: &str) {
    let want = want
        .as_array()
        .unwrap_or_else(|| panic!("{ctx}: headers is not a list"));
    let got: Vec<_> = msg.headers().collect();
    assert_eq!(got.len(), want.len(), "{ctx}: header count; got {got:?}");
    for ((n, v), w) in got.into_iter().zip(want) {
        let ctx = format!("{ctx}: header {n:?}");
        assert_eq!(n, string(&w["name"], &ctx), "{ctx}: name");
        let code = match &w["type"] {
            Value::String(t) => type_code(t, &ctx),
            t => u8::try_from(int(t, &ctx)).unwrap_or_else(|_| panic!("{ctx}: bad type {t}")),
        };
        check_value(v, code, &w["value"], notation, &ctx);
    }
}

// ---- decoding helpers -------------------------------------------------------------------------

/// The messages of a valid stream, found by walking `total_length` and decoding each message on
/// its own with [`decode_message`]: the reference the incremental decoder is compared with.
fn reference<'a>(bytes: &'a [u8], ctx: &str) -> Vec<Message<'a>> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        assert!(rest.len() >= 4, "{ctx}: {} stray bytes at the end", rest.len());
        let len = be_u32(rest, 0) as usize;
        assert!(len <= rest.len(), "{ctx}: last message truncated");
        let (frame, tail) = rest.split_at(len);
        out.push(
            decode_message(frame, &Limits::default()).unwrap_or_else(|e| panic!("{ctx}: message {}: {e}", out.len())),
        );
        rest = tail;
    }
    out
}

fn same(a: &Message<'_>, b: &Message<'_>) -> bool {
    a.payload == b.payload && a.headers().eq(b.headers())
}

/// Feeds `chunks` to a fresh decoder, comparing every emitted message with `want` as it arrives
/// (no allocation per message), then calls `finish`. Panics on any difference.
fn feed_and_compare<'c>(chunks: impl IntoIterator<Item = &'c [u8]>, want: &[Message<'_>], ctx: &dyn Fn() -> String) {
    let mut d = Decoder::new(Limits::default());
    let mut i = 0;
    for chunk in chunks {
        let r = d.feed(chunk, |m| {
            assert!(i < want.len() && same(&m, &want[i]), "{}: message {i} differs", ctx());
            i += 1;
        });
        if let Err(e) = r {
            panic!("{}: {e}", ctx());
        }
    }
    if let Err(e) = d.finish() {
        panic!("{}: finish: {e}", ctx());
    }
    assert_eq!(i, want.len(), "{}: message count", ctx());
}

/// What a decoder makes of `chunks`: the messages (payload lengths) and the first error, if any.
fn outcome<'c>(chunks: impl IntoIterator<Item = &'c [u8]>) -> (Vec<usize>, Result<(), DecodeError>) {
    let mut d = Decoder::new(Limits::default());
    let mut seen = Vec::new();
    for chunk in chunks {
        if let Err(e) = d.feed(chunk, |m| seen.push(m.payload.len())) {
            return (seen, Err(e));
        }
    }
    (seen, d.finish())
}

/// The kind of an error, for comparing with fixtures that name only the kind.
fn kind(e: &DecodeError) -> &'static str {
    match e {
        DecodeError::MessageTooShort { .. } => "message_too_short",
        DecodeError::MessageTooLong { .. } => "message_too_long",
        DecodeError::HeadersTooLong { .. } => "headers_too_long",
        DecodeError::PreludeChecksumMismatch { .. } => "prelude_checksum",
        DecodeError::MessageChecksumMismatch { .. } => "message_checksum",
        DecodeError::HeaderNameEmpty => "header_name_empty",
        DecodeError::HeaderTruncated => "header_truncated",
        DecodeError::InvalidHeaderType(_) => "invalid_header_type",
        DecodeError::InvalidUtf8 => "invalid_utf8",
        DecodeError::TooManyHeaders { .. } => "too_many_headers",
        DecodeError::Truncated { .. } => "truncated",
        DecodeError::TrailingBytes { .. } => "trailing_bytes",
    }
}

// ---- standard vectors -------------------------------------------------------------------------

#[test]
fn positive_vectors_match_expected_json_and_aws_sdk_go() {
    let dir = vectors();
    let expected = read_json(&dir.join("expected.json"));
    let go_dir = dir.join("aws-sdk-go-decoded/positive");
    let go_files = files(&go_dir, ".json");
    let mut go_checked = BTreeSet::new();
    let bins = files(&dir.join("positive"), ".bin");
    for path in &bins {
        let ctx = path.display().to_string();
        let bytes = read(path);
        let want = &expected[name(path)];
        assert!(want.is_object(), "{ctx}: no entry in expected.json");
        assert!(want.get("error").is_none(), "{ctx}: expected.json calls it an error");

        let msg = decode_message(&bytes, &Limits::default()).unwrap_or_else(|e| panic!("{ctx}: {e}"));
        feed_and_compare([&bytes[..]], &[msg], &|| format!("{ctx} (whole)"));
        feed_and_compare(bytes.chunks(1), &[msg], &|| format!("{ctx} (1 byte at a time)"));

        // expected.json: headers as an object keyed by name (so no order), payload as UTF-8.
        let want_headers = want["headers"].as_object().unwrap_or_else(|| panic!("{ctx}: headers"));
        let names: BTreeSet<&str> = msg.headers().map(|(n, _)| n).collect();
        assert_eq!(names.len(), msg.headers().count(), "{ctx}: duplicate header names");
        assert_eq!(
            names,
            want_headers.keys().map(String::as_str).collect(),
            "{ctx}: header names"
        );
        for (n, v) in msg.headers() {
            let w = &want_headers[n];
            let hctx = format!("{ctx}: header {n:?}");
            check_value(
                v,
                type_code(string(&w["type"], &hctx), &hctx),
                &w["value"],
                Notation::Hex,
                &hctx,
            );
        }
        assert_eq!(
            msg.payload,
            string(&want["payload_utf8"], &ctx).as_bytes(),
            "{ctx}: payload"
        );

        // aws-sdk-go's decoding of the same bytes, where it exists: ordered, typed headers and
        // every length and checksum field.
        let go_path = go_dir.join(format!("{}.json", stem(path)));
        if go_path.exists() {
            let go = read_json(&go_path);
            let gctx = go_path.display().to_string();
            assert_eq!(
                int(&go["total_length"], &gctx),
                bytes.len() as i64,
                "{gctx}: total_length"
            );
            assert_eq!(
                int(&go["headers_length"], &gctx),
                i64::from(be_u32(&bytes, 4)),
                "{gctx}: headers_length"
            );
            let headers_len: usize = msg.headers().map(|(n, v)| wire_len(n, v)).sum();
            assert_eq!(
                int(&go["headers_length"], &gctx),
                headers_len as i64,
                "{gctx}: decoded header bytes"
            );
            // Checksums are written as signed 32-bit integers.
            assert_eq!(
                int(&go["prelude_crc"], &gctx) as i32 as u32,
                be_u32(&bytes, 8),
                "{gctx}: prelude_crc"
            );
            assert_eq!(
                int(&go["message_crc"], &gctx) as i32 as u32,
                be_u32(&bytes, bytes.len() - 4),
                "{gctx}: message_crc"
            );
            check_header_list(&msg, &go["headers"], Notation::Base64, &gctx);
            assert_eq!(msg.payload, b64(string(&go["payload"], &gctx)), "{gctx}: payload");
            go_checked.insert(go_path);
        }
    }
    assert_eq!(
        go_checked,
        go_files.into_iter().collect(),
        "every aws-sdk-go positive file has its .bin"
    );
    assert!(bins.len() >= 8, "the 5 standard and 3 smithy-rs positive vectors");

    // Every expected.json entry has its file.
    for (file, want) in expected.as_object().unwrap() {
        let sub = if want.get("error").is_some() {
            "negative"
        } else {
            "positive"
        };
        assert!(
            dir.join(sub).join(file).is_file(),
            "expected.json names missing {sub}/{file}"
        );
    }
}

/// `bytes` with both checksums recomputed (over the first `total_length` bytes), so that what was
/// corrupted behind the checksums is what gets decoded.
fn reseal(bytes: &[u8]) -> Vec<u8> {
    let total = (be_u32(bytes, 0) as usize).min(bytes.len());
    let mut out = bytes[..total].to_vec();
    let crc = crc32fast::hash(&out[..8]);
    out[8..12].copy_from_slice(&crc.to_be_bytes());
    if out.len() == be_u32(bytes, 0) as usize && out.len() >= 16 {
        let n = out.len();
        let crc = crc32fast::hash(&out[..n - 4]);
        out[n - 4..].copy_from_slice(&crc.to_be_bytes());
    }
    out
}

/// The negative vectors: file → (error kind as stored, error kind once both checksums are
/// recomputed or "ok").
/// All smithy-rs header vectors carry a stale message checksum, which is checked before the
/// headers are parsed; resealed, they reach the header checks they were written for.
const NEGATIVE: &[(&str, &str, &str)] = &[
    ("corrupted_header_len.bin", "prelude_checksum", "header_truncated"),
    ("corrupted_headers.bin", "message_checksum", "ok"),
    ("corrupted_length.bin", "prelude_checksum", "truncated"),
    ("corrupted_payload.bin", "message_checksum", "ok"),
    (
        "smithy_invalid_header_name_length.bin",
        "message_checksum",
        "header_truncated",
    ),
    (
        "smithy_invalid_header_name_length_too_long.bin",
        "message_checksum",
        "header_truncated",
    ),
    (
        "smithy_invalid_header_string_length_cut_off.bin",
        "message_checksum",
        "header_truncated",
    ),
    (
        "smithy_invalid_header_string_value_length.bin",
        "message_checksum",
        "header_truncated",
    ),
    (
        "smithy_invalid_header_value_type.bin",
        "message_checksum",
        "invalid_header_type",
    ),
    (
        "smithy_invalid_headers_length.bin",
        "headers_too_long",
        "headers_too_long",
    ),
    ("smithy_invalid_message_checksum.bin", "message_checksum", "ok"),
    ("smithy_invalid_prelude_checksum.bin", "prelude_checksum", "ok"),
];

#[test]
fn negative_vectors_are_rejected_with_the_right_error() {
    let dir = vectors();
    let expected = read_json(&dir.join("expected.json"));
    let go_dir = dir.join("aws-sdk-go-decoded/negative");
    let go_files = files(&go_dir, ".txt");
    let mut go_checked = BTreeSet::new();
    let bins = files(&dir.join("negative"), ".bin");
    for path in &bins {
        let ctx = path.display().to_string();
        let bytes = read(path);
        assert_eq!(
            expected[name(path)]["error"],
            Value::Bool(true),
            "{ctx}: expected.json entry"
        );
        assert!(
            decode_message(&bytes, &Limits::default()).is_err(),
            "{ctx}: decode_message accepted it"
        );

        let whole = outcome([&bytes[..]]);
        let Err(e) = &whole.1 else { panic!("{ctx}: accepted") };
        assert!(whole.0.is_empty(), "{ctx}: emitted a message");
        assert_eq!(outcome(bytes.chunks(1)), whole, "{ctx}: 1 byte at a time");
        for split in 0..=bytes.len() {
            let (a, b) = bytes.split_at(split);
            assert_eq!(outcome([a, b]), whole, "{ctx}: split at {split}");
        }

        let go_path = go_dir.join(format!("{}.txt", stem(path)));
        if go_path.exists() {
            let text = String::from_utf8(read(&go_path)).unwrap();
            let want = match text.trim() {
                "Prelude checksum mismatch" => "prelude_checksum",
                "Message checksum mismatch" => "message_checksum",
                other => panic!("{}: unknown expected error {other:?}", go_path.display()),
            };
            assert_eq!(kind(e), want, "{ctx}: {e} (aws-sdk-go says {:?})", text.trim());
            go_checked.insert(go_path);
        }

        if let Some((_, stored, resealed)) = NEGATIVE.iter().find(|(f, _, _)| *f == name(path)) {
            assert_eq!(kind(e), *stored, "{ctx}: {e}");
            let fixed = reseal(&bytes);
            let got = match outcome([&fixed[..]]) {
                (msgs, Ok(())) => {
                    assert_eq!(msgs.len(), 1, "{ctx}: resealed");
                    "ok"
                }
                (_, Err(e)) => kind(&e),
            };
            assert_eq!(got, *resealed, "{ctx}: resealed");
        }
    }
    assert_eq!(
        go_checked,
        go_files.into_iter().collect(),
        "every aws-sdk-go negative file has its .bin"
    );
    for (file, _, _) in NEGATIVE {
        assert!(
            dir.join("negative").join(file).is_file(),
            "missing negative vector {file}"
        );
    }

    // Exact values where the resealed vector pins them down.
    let fixed = reseal(&read(&dir.join("negative/smithy_invalid_header_value_type.bin")));
    assert_eq!(outcome([&fixed[..]]).1, Err(DecodeError::InvalidHeaderType(0x60)));
    let bytes = read(&dir.join("negative/smithy_invalid_headers_length.bin"));
    assert_eq!(
        outcome([&bytes[..]]).1,
        Err(DecodeError::HeadersTooLong {
            headers_length: 77,
            total_length: 89
        })
    );
}

// ---- Smithy protocol messages and the constructed exception frame -----------------------------

#[test]
fn smithy_protocol_messages_decode_with_their_wire_types() {
    let dir = vectors().join("smithy-protocol-tests");
    let expected = read_json(&dir.join("expected.json"));
    let cases = expected["cases"]
        .as_object()
        .expect("smithy-protocol-tests/expected.json: cases");
    let mut referenced = BTreeSet::new();
    let mut stream = Vec::new();
    for (case, want) in cases {
        let file = dir.join(string(&want["file"], case));
        let ctx = format!("{} ({case})", file.display());
        let bytes = read(&file);
        let msg = decode_message(&bytes, &Limits::default()).unwrap_or_else(|e| panic!("{ctx}: {e}"));
        check_header_list(&msg, &want["headers"], Notation::Hex, &ctx);
        assert_eq!(
            msg.payload,
            string(&want["payload_utf8"], &ctx).as_bytes(),
            "{ctx}: payload"
        );
        stream.extend_from_slice(&bytes);
        referenced.insert(file);
    }
    let on_disk: BTreeSet<PathBuf> = files(&dir, ".bin").into_iter().collect();
    assert_eq!(referenced, on_disk, "expected.json cases and .bin files");
    assert!(cases.len() >= 21);

    // All of them back to back, in one stream.
    let want = reference(&stream, "smithy-protocol-tests");
    assert_eq!(want.len(), cases.len());
    feed_and_compare(stream.chunks(1), &want, &|| {
        "smithy-protocol-tests, 1 byte at a time".into()
    });
    feed_and_compare(stream.chunks(7), &want, &|| {
        "smithy-protocol-tests, 7 bytes at a time".into()
    });
}

#[test]
fn constructed_exception_frames_decode() {
    let dir = vectors().join("constructed-exception-frames");
    for path in files(&dir, ".bin") {
        let ctx = path.display().to_string();
        let meta = read_json(&path.with_extension("meta.json"));
        let bytes = read(&path);
        assert_eq!(int(&meta["bytes"], &ctx), bytes.len() as i64, "{ctx}: size");
        let msgs = reference(&bytes, &ctx);
        assert_eq!(msgs.len() as i64, int(&meta["frames"], &ctx), "{ctx}: frames");
        feed_and_compare(bytes.chunks(1), &msgs, &|| format!("{ctx} (1 byte at a time)"));
        if let [msg] = msgs[..] {
            check_header_list(&msg, &meta["headers"], Notation::Hex, &ctx);
            assert_eq!(
                msg.payload,
                string(&meta["payload_utf8"], &ctx).as_bytes(),
                "{ctx}: payload"
            );
            assert_eq!(msg.header_str(":message-type"), Some("exception"), "{ctx}");
        }
    }
}

// ---- recorded Bedrock streams -----------------------------------------------------------------

/// Every recorded stream: top-level `*.eventstream` (sidecar `<file>.meta.json`) and the `.bin`
/// files of `converse-stream/` and `invoke-stream/` (sidecar `<stem>.meta.json`).
fn recordings() -> Vec<(PathBuf, PathBuf)> {
    let base = fixtures().join("bedrock-recordings");
    let mut out = Vec::new();
    for p in files_recursive(&base, ".eventstream") {
        let meta = PathBuf::from(format!("{}.meta.json", p.display()));
        out.push((p, meta));
    }
    for sub in ["converse-stream", "invoke-stream"] {
        for p in files(&base.join(sub), ".bin") {
            let meta = p.with_extension("meta.json");
            out.push((p, meta));
        }
    }
    for (p, meta) in &out {
        assert!(meta.is_file(), "{}: sidecar {} missing", p.display(), meta.display());
    }
    out
}

/// Run-length form of a sequence, as the sidecars write it: `a b x3 c`.
fn run_length(items: &[&str]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < items.len() {
        let n = items[i..].iter().take_while(|x| **x == items[i]).count();
        parts.push(if n == 1 {
            items[i].to_string()
        } else {
            format!("{} x{n}", items[i])
        });
        i += n;
    }
    parts.join(" ")
}

/// Bytes decoded per file by two-chunk splits of the whole file, so that the test stays within
/// a few seconds in a debug build (about 20 MB/s there, checks included).
const WHOLE_FILE_SPLIT_BUDGET: usize = 512 << 10;

/// Split points for feeding a whole stream as two chunks: every point of a small stream,
/// evenly spaced points within the budget for a larger one (the edges of every message are
/// covered by [`check_splits_around_each_message`]).
fn whole_file_split_points(len: usize) -> Vec<usize> {
    let n = (WHOLE_FILE_SPLIT_BUDGET / len.max(1)).max(8);
    if n > len {
        return (0..=len).collect();
    }
    (0..=n).map(|i| i * len / n).collect()
}

/// Two-chunk splits around each message `k`, on the window of messages `k-1..=k+1` (so that the
/// first chunk may end with whole messages and the second continue with one, as in a stream).
/// Each message is split just around each of its edges (start, end of prelude, end of headers,
/// start of checksum); the first, the last and the largest message at every byte.
fn check_splits_around_each_message(bytes: &[u8], msgs: &[Message<'_>], ctx: &str) {
    let mut bounds = Vec::with_capacity(msgs.len() + 1);
    let mut pos = 0;
    bounds.push(0);
    for _ in msgs {
        pos += be_u32(bytes, pos) as usize;
        bounds.push(pos);
    }
    let largest = (0..msgs.len()).max_by_key(|&k| bounds[k + 1] - bounds[k]).unwrap_or(0);
    for (k, m) in msgs.iter().enumerate() {
        let (start, end) = (bounds[k], bounds[k + 1]);
        let first = k.saturating_sub(1);
        let last = (k + 1).min(msgs.len() - 1);
        let (window, want) = (&bytes[bounds[first]..bounds[last + 1]], &msgs[first..=last]);
        let offset = bounds[first];
        let points: Vec<usize> = if k == 0 || k == largest || k + 1 == msgs.len() {
            (start..end).collect()
        } else {
            let headers_end = end - 4 - m.payload.len();
            [start, start + 12, headers_end, end - 4]
                .iter()
                .flat_map(|&e| [e.saturating_sub(1), e, e + 1])
                .filter(|s| (start..end).contains(s))
                .collect()
        };
        for s in points {
            let (a, b) = window.split_at(s - offset);
            feed_and_compare([a, b], want, &|| {
                format!("{ctx} (messages {first}..={last} split at {s})")
            });
        }
    }
}

#[test]
fn recordings_decode_whole_bytewise_and_at_split_points() {
    let recs = recordings();
    assert!(recs.len() >= 50, "found only {} recorded streams", recs.len());
    let mut total_frames = 0;
    for (path, meta_path) in &recs {
        let ctx = path.display().to_string();
        let meta = read_json(meta_path);
        let bytes = read(path);
        if let Some(size) = meta.get("bytes") {
            assert_eq!(int(size, &ctx), bytes.len() as i64, "{ctx}: size in sidecar");
        }
        if let Some(file) = meta.get("file") {
            assert_eq!(string(file, &ctx), name(path), "{ctx}: file in sidecar");
        }

        let want = reference(&bytes, &ctx);
        assert_eq!(
            want.len() as i64,
            int(&meta["frames"], &ctx),
            "{ctx}: frames in sidecar"
        );
        total_frames += want.len();

        // Event types agree with the sidecar (listed in first-appearance order in the subfolders,
        // alphabetically at the top level, hence compared as sets), and the run-length sequence.
        let events: Vec<&str> = want
            .iter()
            .map(|m| {
                m.header_str(":event-type")
                    .unwrap_or_else(|| panic!("{ctx}: no :event-type"))
            })
            .collect();
        let types: BTreeSet<&str> = meta["event_types"]
            .as_array()
            .unwrap_or_else(|| panic!("{ctx}: event_types"))
            .iter()
            .map(|t| string(t, &ctx))
            .collect();
        assert_eq!(
            events.iter().copied().collect::<BTreeSet<_>>(),
            types,
            "{ctx}: event types"
        );
        if let Some(seq) = meta.get("event_sequence") {
            assert_eq!(run_length(&events), string(seq, &ctx), "{ctx}: event sequence");
        }
        for m in &want {
            assert_eq!(m.header_str(":message-type"), Some("event"), "{ctx}");
        }

        feed_and_compare([&bytes[..]], &want, &|| format!("{ctx} (whole)"));
        feed_and_compare(bytes.chunks(1), &want, &|| format!("{ctx} (1 byte at a time)"));
        if let Some(sizes) = meta.get("network_chunk_sizes") {
            let sizes: Vec<usize> = sizes
                .as_array()
                .unwrap()
                .iter()
                .map(|s| int(s, &ctx) as usize)
                .collect();
            assert_eq!(sizes.iter().sum::<usize>(), bytes.len(), "{ctx}: network_chunk_sizes");
            let mut rest = &bytes[..];
            let chunks = sizes.iter().map(|&n| {
                let (c, r) = rest.split_at(n);
                rest = r;
                c
            });
            feed_and_compare(chunks, &want, &|| format!("{ctx} (recorded network chunks)"));
        }
        if bytes.len() <= 64 * 1024 {
            for split in whole_file_split_points(bytes.len()) {
                let (a, b) = bytes.split_at(split);
                feed_and_compare([a, b], &want, &|| format!("{ctx} (split at {split})"));
            }
            check_splits_around_each_message(&bytes, &want, &ctx);
        }
    }
    assert!(total_frames > 2000, "{total_frames} frames");
}

#[test]
fn recordings_back_to_back_in_odd_chunks() {
    // All recordings as one stream, in chunk sizes that drift across every message position.
    let mut all = Vec::new();
    for (path, _) in recordings() {
        all.extend_from_slice(&read(&path));
    }
    let want = reference(&all, "all recordings");
    for size in [3, 11, 12, 13, 16, 97, 1000, 4093] {
        feed_and_compare(all.chunks(size), &want, &|| {
            format!("all recordings in chunks of {size}")
        });
    }
}
