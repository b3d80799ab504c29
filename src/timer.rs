//! Cheap timestamps for the per-operator hot path.
//!
//! [`now`] returns ticks of a monotonic clock; [`ticks_to_ns`] converts a difference of two
//! readings after the pass. On aarch64 a tick is one step of the generic timer's virtual count
//! `cntvct_el0` (54 MHz on a Raspberry Pi 4: 18.5 ns), read with one instruction: the vDSO's
//! `clock_gettime` reads the same register and then scales it, which the hot path does not
//! need. Elsewhere a tick is a nanosecond of `std::time::Instant` (the vDSO's
//! `clock_gettime(CLOCK_MONOTONIC)` on x86-64 Linux).

#[cfg(target_arch = "aarch64")]
mod imp {
    /// The virtual count. The `isb` keeps the read from being taken before earlier
    /// instructions have completed (the architecture lets the counter read run early).
    #[inline(always)]
    pub fn now() -> u64 {
        let ticks: u64;
        // SAFETY: reading CNTVCT_EL0 has no side effect and touches no memory. Linux lets EL0
        // read it (the vDSO depends on it) and traps and emulates the read on the few cores
        // whose errata forbid direct access.
        unsafe {
            core::arch::asm!(
                "isb",
                "mrs {t}, cntvct_el0",
                t = out(reg) ticks,
                options(nomem, nostack, preserves_flags)
            );
        }
        ticks
    }

    /// Frequency of the virtual count in Hz (CNTFRQ_EL0, set by the firmware).
    pub fn frequency_hz() -> u64 {
        let hz: u64;
        // SAFETY: as above, CNTFRQ_EL0 is readable from EL0 and the read has no side effect.
        unsafe {
            core::arch::asm!(
                "mrs {f}, cntfrq_el0",
                f = out(reg) hz,
                options(nomem, nostack, preserves_flags)
            );
        }
        hz
    }
}

#[cfg(not(target_arch = "aarch64"))]
mod imp {
    use std::sync::OnceLock;
    use std::time::Instant;

    static ORIGIN: OnceLock<Instant> = OnceLock::new();

    /// Nanoseconds since the first call in this process.
    #[inline(always)]
    pub fn now() -> u64 {
        ORIGIN.get_or_init(Instant::now).elapsed().as_nanos() as u64
    }

    pub fn frequency_hz() -> u64 {
        1_000_000_000
    }
}

/// A timestamp in ticks (see the module documentation). Only differences mean anything.
#[inline(always)]
pub fn now() -> u64 {
    imp::now()
}

/// Ticks per second of [`now`].
pub fn frequency_hz() -> u64 {
    imp::frequency_hz()
}

/// Nanoseconds in `ticks` (a difference of two [`now`] readings).
pub fn ticks_to_ns(ticks: u64) -> u64 {
    ticks_to_ns_at(ticks, frequency_hz())
}

fn ticks_to_ns_at(ticks: u64, hz: u64) -> u64 {
    if hz == 0 {
        return 0;
    }
    (u128::from(ticks) * 1_000_000_000 / u128::from(hz)) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversion() {
        assert_eq!(ticks_to_ns_at(54, 54_000_000), 1000); // Pi 4: 54 MHz
        assert_eq!(ticks_to_ns_at(123, 1_000_000_000), 123);
        assert_eq!(ticks_to_ns_at(u64::MAX, 1_000_000_000), u64::MAX);
        assert_eq!(ticks_to_ns_at(5, 0), 0);
    }

    /// A sleep of 20 ms must read as at least 20 ms (a lower bound the OS guarantees; not a
    /// speed check) and as less than a minute (the clock is not counting something else).
    #[test]
    fn measures_a_sleep() {
        assert!(frequency_hz() > 0);
        let t0 = now();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let t1 = now();
        assert!(t1 >= t0);
        let ns = ticks_to_ns(t1 - t0);
        assert!(ns >= 20_000_000, "{ns} ns");
        assert!(ns < 60_000_000_000, "{ns} ns");
    }
}
