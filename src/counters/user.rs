//! Hardware counters read from user space on arm64: no system call per op boundary.
//!
//! With `kernel.perf_user_access = 1` (Linux >= 5.17, arm64) and an event opened with
//! `config1` bit 1 (the arm PMU's `rdpmc` format bit), the kernel lets the task read the
//! event's PMU counter with `mrs` while the event is scheduled on the CPU. The counter alone is
//! not the count: the kernel publishes, in the event's first mmap'd page (`perf_event_mmap_page`),
//! which counter holds it (`index`, 0 when none), the count accumulated before (`offset`), the
//! counter's width and a sequence lock, and the clock conversion for `time_enabled` /
//! `time_running`. The read protocol is the one of perf_event_open(2) ("rdpmc"):
//!
//! ```text
//! repeat: seq = lock; index, offset, width, times; count = offset
//!         if index != 0: count += sign-extend(counter[index - 1], width)
//!         if cap_user_time: times += clock delta from the page's time_offset/mult/shift
//! until lock == seq
//! ```
//!
//! perf-event2's `read_user` implements it for x86 only; this module does it for arm64, where
//! counter `n` is `PMEVCNTR<n>_EL0` and index 32 (counter 31) is the cycle counter
//! `PMCCNTR_EL0`. The page arithmetic ([`read_page`]) is plain Rust over any counter reader, so
//! it is unit-tested on every architecture with a page built in memory.
//!
//! Software events have no PMU counter (their `index` is always 0 and their `offset` is only
//! updated when the kernel feels like it): when user reads are on, they are counted in a pass of
//! their own, read with `read(2)` (see `perf::open`).

use perf_event_open_sys::bindings::perf_event_mmap_page;
use std::ptr::addr_of;
use std::sync::atomic::{Ordering, compiler_fence};

/// `config1` bit that asks the arm PMU driver for user-space access (its `rdpmc` format bit).
pub const CONFIG1_USER_ACCESS: u64 = 1 << 1;

/// The sysctl that allows user-space counter access on arm64 (absent on other architectures
/// and before Linux 5.17).
pub const SYSCTL: &str = "/proc/sys/kernel/perf_user_access";

// Bits of `perf_event_mmap_page.capabilities` (linux/perf_event.h).
const CAP_USER_RDPMC: u64 = 1 << 2;
const CAP_USER_TIME: u64 = 1 << 3;
const CAP_USER_TIME_SHORT: u64 = 1 << 5;

/// Retries of the sequence lock before giving up on one read (the caller then uses `read(2)`):
/// the kernel changes the page only when it reschedules or updates the event, so a read that
/// keeps racing is a bug somewhere, and a loop without bound would be a hang.
const MAX_RETRIES: u32 = 1000;

/// One consistent reading of an event through its mmap'd page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRead {
    pub count: u64,
    pub time_enabled_ns: u64,
    pub time_running_ns: u64,
    /// Whether a PMU counter was read (the event was on the CPU); `false` means the count is
    /// the kernel's saved one.
    pub from_counter: bool,
}

/// Whether the kernel allows user-space counter reads (`kernel.perf_user_access` is 1), and
/// if not, why, in words a user can act on.
pub fn sysctl_state() -> Result<(), NoUserReads> {
    match std::fs::read_to_string(SYSCTL) {
        Ok(text) if text.trim() == "1" => Ok(()),
        Ok(text) => Err(NoUserReads::SysctlOff(text.trim().to_string())),
        Err(_) => Err(NoUserReads::NoSysctl),
    }
}

/// Why the hardware counters are read with `read(2)` rather than from user space.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoUserReads {
    #[error("--counter-reads syscall")]
    Syscall,
    #[error("user-space counter reads are implemented for arm64 only")]
    NotArm64,
    #[error(
        "the counters also count the matmul pool's threads (--threads > 1): only read(2) \
         returns the kernel's sum over threads"
    )]
    Inherit,
    #[error(
        "kernel.perf_user_access is {0} (as root: sysctl kernel.perf_user_access=1; the card's \
         PID 1 sets it)"
    )]
    SysctlOff(String),
    #[error("no kernel.perf_user_access here (it needs Linux >= 5.17 on arm64)")]
    NoSysctl,
}

/// Reads one event's count and times through its mmap'd `page`, with `pmc(counter)` reading
/// the hardware counter and `clock()` the clock the page's time conversion is for. `None` when
/// the kernel does not allow user reads of this event (`cap_user_rdpmc` clear) or the sequence
/// lock never settled: the caller reads with `read(2)` instead. Hot path: no allocation.
///
/// # Safety
/// `page` points to a readable `perf_event_mmap_page` (an event's first mmap'd page, or one
/// built in memory) for the whole call.
#[inline]
pub unsafe fn read_page(
    page: *const perf_event_mmap_page,
    pmc: impl Fn(u32) -> u64,
    clock: impl Fn() -> u64,
) -> Option<PageRead> {
    // SAFETY (every read below): `page` is valid for reads (the caller's contract); the kernel
    // writes it concurrently, hence volatile reads of plain integers, checked by the lock.
    let load = |p: *const u64| unsafe { p.read_volatile() };
    for _ in 0..MAX_RETRIES {
        let seq = unsafe { addr_of!((*page).lock).read_volatile() };
        compiler_fence(Ordering::SeqCst);
        let caps = load(unsafe { addr_of!((*page).__bindgen_anon_1.capabilities) });
        if caps & CAP_USER_RDPMC == 0 {
            return None;
        }
        let index = unsafe { addr_of!((*page).index).read_volatile() };
        let mut count = unsafe { addr_of!((*page).offset).read_volatile() };
        let mut enabled = load(unsafe { addr_of!((*page).time_enabled) });
        let mut running = load(unsafe { addr_of!((*page).time_running) });
        if index != 0 {
            let width = u32::from(unsafe { addr_of!((*page).pmc_width).read_volatile() });
            count = count.wrapping_add(sign_extend(pmc(index - 1), width));
            if caps & CAP_USER_TIME != 0 {
                let delta = unsafe { clock_delta(page, caps, clock()) };
                enabled = enabled.wrapping_add(delta);
                running = running.wrapping_add(delta);
            }
        }
        compiler_fence(Ordering::SeqCst);
        if unsafe { addr_of!((*page).lock).read_volatile() } == seq {
            return Some(PageRead {
                count: count as u64,
                time_enabled_ns: enabled,
                time_running_ns: running,
                from_counter: index != 0,
            });
        }
    }
    None
}

/// A `width`-bit counter value as a signed difference (the kernel programs counters so that
/// `offset + value` is the count; the top bits of the register are not part of it).
fn sign_extend(raw: u64, width: u32) -> i64 {
    let width = width.clamp(1, 64);
    let shift = 64 - width;
    ((raw << shift) as i64) >> shift
}

/// Nanoseconds since the kernel last updated the page's times, from the clock reading `cyc`:
/// `time_offset + cyc * time_mult >> time_shift`, split to avoid overflow (perf_event.h).
///
/// # Safety
/// As [`read_page`].
unsafe fn clock_delta(page: *const perf_event_mmap_page, caps: u64, mut cyc: u64) -> u64 {
    let load = |p: *const u64| unsafe { p.read_volatile() };
    let shift = u32::from(unsafe { addr_of!((*page).time_shift).read_volatile() }).min(63);
    let mult = u64::from(unsafe { addr_of!((*page).time_mult).read_volatile() });
    let offset = load(unsafe { addr_of!((*page).time_offset) });
    if caps & CAP_USER_TIME_SHORT != 0 {
        let cycles = load(unsafe { addr_of!((*page).time_cycles) });
        let mask = load(unsafe { addr_of!((*page).time_mask) });
        cyc = cycles.wrapping_add(cyc.wrapping_sub(cycles) & mask);
    }
    let quot = cyc >> shift;
    let rem = cyc & ((1u64 << shift) - 1);
    offset
        .wrapping_add(quot.wrapping_mul(mult))
        .wrapping_add(rem.wrapping_mul(mult) >> shift)
}

/// Reads PMU counter `n` of this CPU: `PMEVCNTR<n>_EL0`, or `PMCCNTR_EL0` for 31. Only called
/// with an index the kernel published for an event of this task while it runs on the CPU, which
/// is when the kernel has enabled EL0 reads (PMUSERENR_EL0.ER and .CR).
#[cfg(target_arch = "aarch64")]
#[inline]
pub fn read_pmc(n: u32) -> u64 {
    macro_rules! counters {
        ($($i:literal)*) => {
            match n {
                $($i => {
                    let v: u64;
                    // SAFETY: a read of a PMU register this task is allowed to read (see
                    // above); it touches no memory and no stack.
                    unsafe {
                        core::arch::asm!(
                            concat!("mrs {v}, pmevcntr", $i, "_el0"),
                            v = out(reg) v,
                            options(nomem, nostack, preserves_flags)
                        )
                    };
                    v
                })*
                31 => {
                    let v: u64;
                    // SAFETY: as above, for the cycle counter (PMUSERENR_EL0.CR).
                    unsafe {
                        core::arch::asm!(
                            "mrs {v}, pmccntr_el0",
                            v = out(reg) v,
                            options(nomem, nostack, preserves_flags)
                        )
                    };
                    v
                }
                _ => 0,
            }
        };
    }
    counters!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30)
}

/// The clock the arm64 kernel's `cap_user_time` conversion is for: the virtual counter.
#[cfg(target_arch = "aarch64")]
#[inline]
pub fn read_clock() -> u64 {
    let v: u64;
    // SAFETY: CNTVCT_EL0 is readable at EL0 on Linux (the vDSO reads it); no memory touched.
    unsafe {
        core::arch::asm!("isb", "mrs {v}, cntvct_el0", v = out(reg) v, options(nomem, nostack, preserves_flags))
    };
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn page() -> Box<perf_event_mmap_page> {
        // SAFETY: the page is plain integers; all-zero is a valid value of it.
        Box::new(unsafe { std::mem::zeroed() })
    }

    fn set_caps(p: &mut perf_event_mmap_page, caps: u64) {
        p.__bindgen_anon_1.capabilities = caps;
    }

    #[test]
    fn count_is_offset_plus_the_sign_extended_counter() {
        let mut p = page();
        set_caps(&mut p, CAP_USER_RDPMC);
        p.index = 3;
        p.pmc_width = 32;
        p.offset = 1_000_000 - 0x1_0000_0000; // the kernel's offset against a 32-bit start
        p.time_enabled = 500;
        p.time_running = 400;
        let asked = Cell::new(u32::MAX);
        let r = unsafe {
            read_page(
                &*p,
                |n| {
                    asked.set(n);
                    0xdead_0000_0000_0010 // garbage above the counter's 32 bits
                },
                || 0,
            )
        }
        .unwrap();
        assert_eq!(asked.get(), 2, "index 3 is counter 2");
        assert_eq!(r.count as i64, 1_000_000 - 0x1_0000_0000 + 0x10);
        // No cap_user_time: the page's times as they are.
        assert_eq!((r.time_enabled_ns, r.time_running_ns), (500, 400));
        assert!(r.from_counter);
    }

    #[test]
    fn a_counter_past_half_its_range_is_negative_against_the_offset() {
        let mut p = page();
        set_caps(&mut p, CAP_USER_RDPMC);
        p.index = 1;
        p.pmc_width = 32;
        p.offset = 5_000_000_000;
        let r = unsafe { read_page(&*p, |_| 0xffff_fff0, || 0) }.unwrap();
        assert_eq!(r.count, 5_000_000_000 - 16);
        p.pmc_width = 64;
        let r = unsafe { read_page(&*p, |_| 0xffff_fff0, || 0) }.unwrap();
        assert_eq!(r.count, 5_000_000_000 + 0xffff_fff0);
    }

    #[test]
    fn an_event_off_the_cpu_reads_the_saved_count_and_no_counter() {
        let mut p = page();
        set_caps(&mut p, CAP_USER_RDPMC | CAP_USER_TIME);
        p.index = 0;
        p.offset = 777;
        p.time_enabled = 9;
        p.time_running = 4;
        let r = unsafe { read_page(&*p, |_| panic!("no counter to read"), || 123) }.unwrap();
        assert_eq!((r.count, r.time_enabled_ns, r.time_running_ns), (777, 9, 4));
        assert!(!r.from_counter);
    }

    #[test]
    fn without_user_access_the_caller_falls_back() {
        let mut p = page();
        set_caps(&mut p, CAP_USER_TIME);
        p.index = 2;
        assert_eq!(unsafe { read_page(&*p, |_| 1, || 1) }, None);
    }

    #[test]
    fn times_advance_by_the_clock_conversion() {
        let mut p = page();
        set_caps(&mut p, CAP_USER_RDPMC | CAP_USER_TIME);
        p.index = 1;
        p.pmc_width = 64;
        p.time_enabled = 1_000;
        p.time_running = 600;
        // 62.5 MHz counter: 16 ns per tick = mult 2^4 << 20 with shift 20.
        p.time_shift = 20;
        p.time_mult = 16 << 20;
        p.time_offset = (-(16i64 * 1_000)) as u64; // the page was updated at tick 1000
        let r = unsafe { read_page(&*p, |_| 0, || 1_250) }.unwrap();
        assert_eq!(r.time_enabled_ns, 1_000 + 16 * 250);
        assert_eq!(r.time_running_ns, 600 + 16 * 250);
        // time_short: the clock is taken relative to time_cycles within time_mask.
        set_caps(&mut p, CAP_USER_RDPMC | CAP_USER_TIME | CAP_USER_TIME_SHORT);
        p.time_cycles = 1_000;
        p.time_mask = 0xffff;
        let r = unsafe { read_page(&*p, |_| 0, || 0x7_0000 + 1_250) }.unwrap();
        assert_eq!(r.time_enabled_ns, 1_000 + 16 * 250);
    }

    #[test]
    fn a_racing_update_is_read_again_and_a_lock_that_never_settles_gives_up() {
        let mut p = page();
        set_caps(&mut p, CAP_USER_RDPMC);
        p.index = 1;
        p.pmc_width = 64;
        p.offset = 10;
        let raw: *mut perf_event_mmap_page = &mut *p;
        let calls = Cell::new(0u32);
        // The first counter read races a kernel update: lock and offset change under it.
        let r = unsafe {
            read_page(
                raw,
                |_| {
                    calls.set(calls.get() + 1);
                    if calls.get() == 1 {
                        (*raw).lock += 1;
                        (*raw).offset = 20;
                    }
                    5
                },
                || 0,
            )
        }
        .unwrap();
        assert_eq!((r.count, calls.get()), (25, 2));
        let r = unsafe {
            read_page(
                raw,
                |_| {
                    (*raw).lock += 1;
                    5
                },
                || 0,
            )
        };
        assert_eq!(r, None);
    }
}
