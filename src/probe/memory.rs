//! Sustained single-thread bandwidth of one memory level: a buffer of the level's working set
//! is read, written and copied, each timed over enough passes to last a sample.
//!
//! Our own crate is built at opt-level 0 in test builds, so a loop written here would measure
//! the debug build, not the machine. Each stream is therefore one call into code that is
//! optimized whatever the profile: read = `memchr::memchr` for a byte the buffer does not hold
//! (a vectorised scan of every byte: AVX2 on x86-64, NEON on aarch64), write = `slice::fill`
//! (libc `memset`), copy = `copy_from_slice` from one half of the buffer to the other (libc
//! `memcpy`; it counts both the bytes read and the bytes written). These are sequential,
//! prefetch-friendly streams: an upper bound for an op's own access pattern, not its rate
//! (a strided or gathered access, or libc's choice of non-temporal stores for large copies,
//! gives other numbers).

use super::caches::Level;
use crate::budget::Clock;
use crate::budget::figures as budget;
use crate::record::BandwidthProbe;
use std::collections::TryReserveError;

/// The byte every buffer holds; [`ABSENT`] is the one the read scans for.
const FILL: u8 = 0x5a;
const ABSENT: u8 = 0xa5;

/// Longest single sample (several passes over the buffer); shorter when the slice is small.
pub const MAX_SAMPLE_NS: u64 = 500_000;

#[derive(Debug, thiserror::Error)]
pub enum MemoryError {
    #[error(
        "{level}: cannot allocate {bytes} bytes for the bandwidth probe ({cause}); that level is not measured"
    )]
    Alloc {
        level: String,
        bytes: usize,
        cause: TryReserveError,
    },
}

/// A buffer with every page touched (a fresh allocation maps the shared zero page, which a
/// read-only stream would then measure instead of memory).
struct Buffer(Vec<u8>);

impl Buffer {
    fn new(bytes: usize) -> Result<Buffer, TryReserveError> {
        let mut v: Vec<u8> = Vec::new();
        v.try_reserve_exact(bytes)?;
        let chunk = [FILL; 4096];
        while v.len() + chunk.len() <= bytes {
            v.extend_from_slice(&chunk);
        }
        v.extend_from_slice(&chunk[..bytes - v.len()]);
        Ok(Buffer(v))
    }

    fn read(&self) {
        std::hint::black_box(memchr::memchr(ABSENT, std::hint::black_box(&self.0)));
    }

    fn write(&mut self) {
        std::hint::black_box(&mut self.0).fill(FILL);
    }

    fn copy(&mut self) {
        let half = self.0.len() / 2;
        let (src, dst) = std::hint::black_box(&mut self.0).split_at_mut(half);
        dst[..half].copy_from_slice(src);
    }
}

#[derive(Clone, Copy)]
enum Stream {
    Read,
    Write,
    Copy,
}

impl Stream {
    fn run(self, buf: &mut Buffer, passes: u64) {
        for _ in 0..passes {
            match self {
                Stream::Read => buf.read(),
                Stream::Write => buf.write(),
                Stream::Copy => buf.copy(),
            }
        }
    }
}

/// Passes per sample of a stream: enough for `sample_ns` given one pass's time.
fn passes_for(sample_ns: u64, one_pass_ns: u64) -> u64 {
    sample_ns.div_ceil(one_pass_ns.max(1)).clamp(1, 1 << 20)
}

/// Measures one level until `deadline_ns` or `max_repeats` repeats of each stream (read,
/// write and copy take turns, so that all three see the same machine state).
pub fn measure(
    level: &Level,
    clock: &dyn Clock,
    deadline_ns: u64,
    max_repeats: usize,
) -> Result<(BandwidthProbe, budget::Repeated), MemoryError> {
    let bytes = level.working_set_bytes as usize & !63;
    let mut buf = Buffer::new(bytes).map_err(|cause| MemoryError::Alloc {
        level: level.name.clone(),
        bytes,
        cause,
    })?;
    let streams = [Stream::Read, Stream::Write, Stream::Copy];
    let left = deadline_ns.saturating_sub(clock.now_ns());
    let sample_ns = (left / (3 * max_repeats.max(1) as u64)).min(MAX_SAMPLE_NS);
    let mut passes = [1u64; 3];
    let mut first_ns = [0u64; 3];
    // The buffer was just written, so a cache level holds it; each stream's timed first pass
    // calibrates its samples and warms the level for the next stream.
    for (i, s) in streams.iter().enumerate() {
        let t0 = clock.now_ns();
        s.run(&mut buf, 1);
        first_ns[i] = clock.now_ns().saturating_sub(t0).max(1);
        passes[i] = passes_for(sample_ns, first_ns[i]);
    }
    let rate = |passes: u64, ns: u64| (bytes as u64 * passes) as f64 * 1e9 / ns.max(1) as f64;
    let mut rates: [Vec<f64>; 3] = Default::default();
    // Where one pass already lasts a sample (DRAM), the first passes are the first repeat.
    let first_is_sample = passes == [1; 3];
    if first_is_sample {
        for i in 0..3 {
            rates[i].push(rate(1, first_ns[i]));
        }
    }
    let done = first_is_sample as usize;
    let next_ends = clock.now_ns() + first_ns.iter().sum::<u64>();
    let repeated = if done > 0 && (done >= max_repeats || next_ends > deadline_ns) {
        budget::Repeated {
            repeats: done,
            stopped_by_deadline: done < max_repeats,
        }
    } else {
        let more = budget::repeat::<MemoryError>(clock, deadline_ns, max_repeats - done, || {
            for (i, s) in streams.iter().enumerate() {
                let t0 = clock.now_ns();
                s.run(&mut buf, passes[i]);
                rates[i].push(rate(passes[i], clock.now_ns().saturating_sub(t0)));
            }
            Ok(1)
        })?;
        budget::Repeated {
            repeats: more.repeats + done,
            ..more
        }
    };
    log::trace!("{} read, write and copy rates: {rates:?}", level.name);
    let [read, write, copy] = rates.map(|r| budget::spread(&r).unwrap_or_default());
    let probe = BandwidthProbe {
        level: level.name.clone(),
        capacity_bytes: level.capacity_bytes,
        capacity_from: level.capacity_from.into(),
        working_set_bytes: bytes as u64,
        read_bytes_per_s: read,
        write_bytes_per_s: write,
        copy_bytes_per_s: copy,
    };
    Ok((probe, repeated))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::budget::Monotonic;

    #[test]
    fn streams_touch_what_they_say() {
        let mut b = Buffer::new(10_000).unwrap();
        assert_eq!(b.0.len(), 10_000);
        assert!(b.0.iter().all(|&x| x == FILL), "every page touched");
        b.0[0] = ABSENT;
        b.copy();
        assert_eq!(b.0[5_000], ABSENT, "the first half copied onto the second");
        b.write();
        assert!(b.0.iter().all(|&x| x == FILL));
    }

    #[test]
    fn passes_per_sample() {
        assert_eq!(passes_for(1_000, 100), 10);
        assert_eq!(passes_for(1_000, 300), 4);
        assert_eq!(passes_for(1_000, 5_000), 1, "one pass at least");
        assert_eq!(passes_for(1_000, 0), 1_000);
    }

    #[test]
    fn a_level_gives_three_positive_rates() {
        let clock = Monotonic::new();
        let level = Level {
            name: "L1".into(),
            capacity_bytes: Some(32 << 10),
            capacity_from: "assumed",
            working_set_bytes: 16 << 10,
        };
        let (p, r) = measure(&level, &clock, clock.now_ns() + 5_000_000, 3).unwrap();
        assert_eq!(p.working_set_bytes, 16 << 10);
        for s in [p.read_bytes_per_s, p.write_bytes_per_s, p.copy_bytes_per_s] {
            assert!(
                s.min > 0.0 && s.min <= s.median && s.median <= s.max,
                "{s:?}"
            );
            assert_eq!(s.repeats, r.repeats);
        }
    }

    #[test]
    fn an_impossible_allocation_is_an_error() {
        let level = Level {
            name: "DRAM".into(),
            capacity_bytes: None,
            capacity_from: "assumed",
            working_set_bytes: u64::MAX / 2,
        };
        let clock = Monotonic::new();
        let err = measure(&level, &clock, u64::MAX, 3)
            .unwrap_err()
            .to_string();
        assert!(err.contains("cannot allocate"), "{err}");
    }
}
