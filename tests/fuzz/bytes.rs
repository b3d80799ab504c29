//! The pseudo-random bytes the fuzz tests build their cases from (xorshift64*, seeded by the
//! case number), shared by fuzz_onnx.rs and fuzz_logs.rs.

/// `len` bytes for case `n`.
pub fn case_bytes(n: u64, len: usize) -> Vec<u8> {
    let mut state = n.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8
        })
        .collect()
}
