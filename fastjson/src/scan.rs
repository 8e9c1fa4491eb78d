//! Finding the bytes that end a plain run inside a JSON string (`"`, `\\`, control characters):
//! where the writer must escape, and where the reader must stop. 16 bytes at a time with
//! WebAssembly SIMD, 8 at a time (SWAR) elsewhere.

fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// The index of the first byte at or after `from` that must be escaped.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub(crate) fn next_escape(bytes: &[u8], from: usize) -> Option<usize> {
    use core::arch::wasm32::*;
    let rest = bytes.get(from..)?;
    let mut chunks = rest.chunks_exact(16);
    let mut at = from;
    for c in &mut chunks {
        // SAFETY: `c` is 16 readable bytes; `v128_load` has no alignment requirement.
        let v = unsafe { v128_load(c.as_ptr() as *const v128) };
        let hit = v128_or(
            u8x16_lt(v, u8x16_splat(0x20)),
            v128_or(i8x16_eq(v, u8x16_splat(b'"')), i8x16_eq(v, u8x16_splat(b'\\'))),
        );
        let mask = i8x16_bitmask(hit);
        if mask != 0 {
            return Some(at + mask.trailing_zeros() as usize);
        }
        at += 16;
    }
    chunks.remainder().iter().position(|&b| needs_escape(b)).map(|i| at + i)
}

/// The index of the first byte at or after `from` that must be escaped (8 bytes at a time: a
/// word has such a byte when one of its bytes is below 0x20 or equal to `"` or `\`).
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
pub(crate) fn next_escape(bytes: &[u8], from: usize) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let has_zero = |x: u64| x.wrapping_sub(LO) & !x & HI;
    let rest = bytes.get(from..)?;
    let mut chunks = rest.chunks_exact(8);
    let mut at = from;
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        let x = u64::from_le_bytes(w);
        // Bytes < 0x20 (the borrow may flag later bytes too: the exact byte is found below).
        let hit = (x.wrapping_sub(LO * 0x20) & !x & HI)
            | has_zero(x ^ (LO * b'"' as u64))
            | has_zero(x ^ (LO * b'\\' as u64));
        if hit != 0 {
            if let Some(i) = c.iter().position(|&b| needs_escape(b)) {
                return Some(at + i);
            }
        }
        at += 8;
    }
    chunks.remainder().iter().position(|&b| needs_escape(b)).map(|i| at + i)
}
