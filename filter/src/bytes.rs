//! Byte-level helpers for the per-frame path: comparisons without `memcmp` calls and an ASCII
//! fast path for UTF-8. (JSON strings: `fastjson::write::write_str`.)
//!
//! The module is built at `opt-level = "z"`, where every `==` on slices and every
//! `strip_prefix` becomes a call to a byte-at-a-time `memcmp` inside the module. Each
//! eventstream frame makes about a dozen of them on short constants (header names, the event
//! type, the `contentBlockDelta` payload's fixed parts), which a V8 profile of the module showed
//! at 13 % of its time per frame. These compare eight bytes per load, inline, and are checked
//! against the standard library's answers in the tests.

/// `a == b`, eight bytes per comparison.
#[inline(always)]
pub(crate) fn eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && same_prefix(a, b)
}

/// `s.strip_prefix(prefix)`, eight bytes per comparison.
#[inline(always)]
pub(crate) fn strip_prefix<'a>(s: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
    let (head, rest) = s.split_at_checked(prefix.len())?;
    same_prefix(head, prefix).then_some(rest)
}

/// Whether the first `min(a.len(), b.len())` bytes of `a` and `b` are equal (callers pass equal
/// lengths).
#[inline(always)]
fn same_prefix(mut a: &[u8], mut b: &[u8]) -> bool {
    while let (Some((x, ra)), Some((y, rb))) = (a.split_first_chunk::<8>(), b.split_first_chunk::<8>()) {
        if u64::from_ne_bytes(*x) != u64::from_ne_bytes(*y) {
            return false;
        }
        (a, b) = (ra, rb);
    }
    if let (Some((x, ra)), Some((y, rb))) = (a.split_first_chunk::<4>(), b.split_first_chunk::<4>()) {
        if u32::from_ne_bytes(*x) != u32::from_ne_bytes(*y) {
            return false;
        }
        (a, b) = (ra, rb);
    }
    if let (Some((x, ra)), Some((y, rb))) = (a.split_first_chunk::<2>(), b.split_first_chunk::<2>()) {
        if u16::from_ne_bytes(*x) != u16::from_ne_bytes(*y) {
            return false;
        }
        (a, b) = (ra, rb);
    }
    // At most one byte left (iterator adapters would not be inlined at `opt-level = "z"`).
    a.first() == b.first() || a.is_empty() || b.is_empty()
}

/// `std::str::from_utf8`, with a fast path for ASCII (every header name and value Bedrock sends).
#[inline(always)]
pub(crate) fn utf8(v: &[u8]) -> Result<&str, std::str::Utf8Error> {
    if is_ascii(v) {
        // SAFETY: ASCII bytes are valid UTF-8.
        Ok(unsafe { std::str::from_utf8_unchecked(v) })
    } else {
        std::str::from_utf8(v)
    }
}

/// `v.is_ascii()`, eight bytes per test and inline (the standard one is not inlined at
/// `opt-level = "z"` and aligns its reads first, which short header strings never amortise).
#[inline(always)]
fn is_ascii(mut v: &[u8]) -> bool {
    let mut high = 0u64;
    while let Some((w, rest)) = v.split_first_chunk::<8>() {
        high |= u64::from_ne_bytes(*w);
        v = rest;
    }
    while let Some((&b, rest)) = v.split_first() {
        high |= u64::from(b);
        v = rest;
    }
    high & 0x8080_8080_8080_8080 == 0
}

/// How many bytes at the start of `s` satisfy `f` (`s.iter().take_while(f).count()`, whose
/// iterator adapters are not inlined at `opt-level = "z"`).
#[inline(always)]
pub(crate) fn count_while(s: &[u8], f: impl Fn(u8) -> bool) -> usize {
    let mut n = 0;
    while let Some(&b) = s.get(n) {
        if !f(b) {
            break;
        }
        n += 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_length_and_every_differing_position() {
        let base: Vec<u8> = (0u8..40).map(|i| b'a' + i % 26).collect();
        for len in 0..base.len() {
            let a = &base[..len];
            assert!(eq(a, a));
            assert_eq!(strip_prefix(&base, a), Some(&base[len..]));
            for pos in 0..len {
                let mut b = a.to_vec();
                b[pos] ^= 0x20;
                assert!(!eq(a, &b), "len {len} pos {pos}");
                assert_eq!(strip_prefix(&base, &b), None, "len {len} pos {pos}");
            }
            assert!(!eq(a, &base[..len + 1]));
        }
        assert_eq!(strip_prefix(b"ab", b"abc"), None);
    }

    #[test]
    fn utf8_matches_the_standard_library() {
        for v in [
            &b""[..],
            b"event",
            b"caf\xc3\xa9",
            b"\xff",
            b"ok\xc3",
            b"\x7f\x00",
            b"0123456\x80",
            b"01234567\x80",
        ] {
            assert_eq!(utf8(v).ok(), std::str::from_utf8(v).ok(), "{v:?}");
            assert_eq!(is_ascii(v), v.is_ascii(), "{v:?}");
        }
    }

    proptest! {
        #[test]
        fn agree_with_the_standard_library(a in proptest::collection::vec(0u8..4, 0..40),
                                           b in proptest::collection::vec(0u8..4, 0..40)) {
            prop_assert_eq!(eq(&a, &b), a == b);
            prop_assert_eq!(strip_prefix(&a, &b), a.strip_prefix(&b[..]));
            prop_assert_eq!(utf8(&a).ok(), std::str::from_utf8(&a).ok());
            let high: Vec<u8> = a.iter().map(|b| b.wrapping_mul(67)).collect();
            prop_assert_eq!(is_ascii(&high), high.is_ascii());
            prop_assert_eq!(count_while(&a, |b| b < 2), a.iter().take_while(|&&b| b < 2).count());
        }
    }
}
