//! Feeding a body to a streaming pipeline in chunks. The pipeline is a closure
//! `feed(chunk, end_of_stream, out)` (typically `|c, end, out| rs.on_body(c, end, out)`).

/// Feed `body` split at `cuts` (clamped into the body and made non-decreasing), ending the
/// stream with the last chunk; the output of all chunks.
pub fn replay(body: &[u8], cuts: &[usize], mut feed: impl FnMut(&[u8], bool, &mut Vec<u8>)) -> Vec<u8> {
    let mut out = Vec::new();
    let mut start = 0;
    for &c in cuts {
        let end = c.min(body.len()).max(start);
        feed(&body[start..end], false, &mut out);
        start = end;
    }
    feed(&body[start..], true, &mut out);
    out
}

/// Feed `body` one byte per chunk.
pub fn replay_bytewise(body: &[u8], feed: impl FnMut(&[u8], bool, &mut Vec<u8>)) -> Vec<u8> {
    let cuts: Vec<usize> = (1..body.len()).collect();
    replay(body, &cuts, feed)
}

/// Assert that a fresh pipeline from `pipeline()` writes the same bytes for `body` in one chunk,
/// split in two at every point, and byte by byte; returns the output.
pub fn assert_same_at_every_split<F>(body: &[u8], mut pipeline: impl FnMut() -> F, what: &str) -> Vec<u8>
where
    F: FnMut(&[u8], bool, &mut Vec<u8>),
{
    let whole = replay(body, &[], pipeline());
    for c in 1..body.len() {
        assert!(replay(body, &[c], pipeline()) == whole, "{what}: split at {c}");
    }
    assert!(replay_bytewise(body, pipeline()) == whole, "{what}: byte by byte");
    whole
}

/// Sorted cut points in `0..=len` from raw values (fuzzer or proptest input).
pub fn cut_points(len: usize, raw: impl IntoIterator<Item = usize>) -> Vec<usize> {
    let mut cuts: Vec<usize> = raw.into_iter().map(|c| c % (len + 1)).collect();
    cuts.sort_unstable();
    cuts
}

/// `n` sorted pseudo-random cut points in `0..=len`, the same for the same `seed`.
pub fn random_cuts(len: usize, n: usize, seed: u64) -> Vec<usize> {
    let mut x = seed | 1;
    let raw = (0..n).map(|_| {
        // xorshift64*
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 16) as usize
    });
    cut_points(len, raw.collect::<Vec<_>>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_feeds_every_byte_once_and_ends_the_stream_last() {
        let body: Vec<u8> = (0..50).collect();
        let mut ends = 0;
        let out = replay(&body, &[10, 5, 70, 20], |c, end, out| {
            assert_eq!(ends, 0, "nothing after the end");
            ends += usize::from(end);
            out.extend_from_slice(c);
        });
        assert_eq!((out, ends), (body.clone(), 1));
        assert_eq!(replay_bytewise(&body, |c, _, out| out.extend_from_slice(c)), body);
        let cuts = random_cuts(body.len(), 8, 7);
        assert_eq!(cuts.len(), 8);
        assert!(cuts.windows(2).all(|w| w[0] <= w[1]) && cuts.iter().all(|&c| c <= body.len()));
        assert_eq!(cuts, random_cuts(body.len(), 8, 7));
    }
}
