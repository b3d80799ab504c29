//! The CPU share a figure got: the CPU time of the threads that measured it over its wall
//! time. The clocks are read once before and once after each measurement call, never inside
//! a repeat's timed window, so reading them disturbs nothing. A share well below one means
//! that another process had the CPU while the figure was measured, however its repeats spread
//! (a busy loop beside the probe slows every repeat alike, and time slices of milliseconds
//! leave many repeats whole).

use rustix::time::{ClockId, clock_gettime};
use std::time::Instant;
use tract_linalg::multithread::{self, Executor};

/// CPU and wall time spent measuring (part of) a figure.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct OnCpu {
    /// CPU time of the measuring thread (one-thread figures) or of the process (pool figures).
    pub cpu_ns: u64,
    pub wall_ns: u64,
}

impl OnCpu {
    /// CPU time over wall time x `threads`: 1.0 when every thread had its CPU all along;
    /// `None` without wall time.
    pub fn share(&self, threads: usize) -> Option<f64> {
        let capacity_ns = self.wall_ns as f64 * threads.max(1) as f64;
        (self.wall_ns > 0).then(|| self.cpu_ns as f64 / capacity_ns)
    }

    /// The two measurements together.
    pub fn plus(self, other: OnCpu) -> OnCpu {
        OnCpu {
            cpu_ns: self.cpu_ns.saturating_add(other.cpu_ns),
            wall_ns: self.wall_ns.saturating_add(other.wall_ns),
        }
    }
}

/// The clocks at the start of a measurement.
pub struct Stopwatch {
    clock: ClockId,
    wall: Instant,
    cpu_ns: u64,
}

impl Stopwatch {
    /// Starts on the calling thread's CPU clock, for a figure measured on this thread.
    pub fn thread() -> Stopwatch {
        Stopwatch::on(ClockId::ThreadCPUTime)
    }

    /// Starts on the clock that counts a tract inference started here: the calling thread's
    /// when tract runs single-threaded, the process's when a matmul pool does the work.
    pub fn for_tract() -> Stopwatch {
        match multithread::current_tract_executor() {
            Executor::SingleThread => Stopwatch::on(ClockId::ThreadCPUTime),
            _ => Stopwatch::on(ClockId::ProcessCPUTime),
        }
    }

    fn on(clock: ClockId) -> Stopwatch {
        Stopwatch {
            clock,
            wall: Instant::now(),
            cpu_ns: cpu_now_ns(clock),
        }
    }

    /// CPU and wall time since the start.
    pub fn stop(&self) -> OnCpu {
        OnCpu {
            cpu_ns: cpu_now_ns(self.clock).saturating_sub(self.cpu_ns),
            wall_ns: self.wall.elapsed().as_nanos().min(u64::MAX as u128) as u64,
        }
    }
}

fn cpu_now_ns(clock: ClockId) -> u64 {
    let t = clock_gettime(clock);
    (t.tv_sec.max(0) as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(t.tv_nsec.max(0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn share_is_cpu_over_wall_times_threads() {
        let m = OnCpu {
            cpu_ns: 150,
            wall_ns: 100,
        };
        assert_eq!(m.share(2), Some(0.75));
        assert_eq!(m.share(1), Some(1.5));
        assert_eq!(OnCpu::default().share(1), None);
        let sum = m.plus(OnCpu {
            cpu_ns: 50,
            wall_ns: 100,
        });
        assert_eq!(sum.share(1), Some(1.0));
    }

    #[test]
    fn a_busy_thread_is_on_the_cpu_and_a_sleeping_one_is_not() {
        // Spinning: the thread's CPU clock moves with the wall clock; sleeping, it stands.
        // Only the order is asserted (a loaded test machine lowers the first share).
        let busy = Stopwatch::thread();
        let mut x = 0u64;
        while busy.wall.elapsed().as_millis() < 20 {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        let busy = busy.stop();
        let idle = Stopwatch::thread();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let idle = idle.stop();
        let (b, i) = (busy.share(1).unwrap(), idle.share(1).unwrap());
        assert!(b > i && i < 0.5, "busy {b}, idle {i}");
    }
}
