//! Tests of `perf`.

use super::*;
use crate::counters::parse_events;

/// Runs everywhere: on this CI VM only software events open; on a board, all of them.
/// Either way every event is accounted for, with a reason when unavailable.
#[test]
fn every_event_is_available_or_explained() {
    let events = parse_events("cycles,instructions,task-clock").unwrap();
    let set = open(&events, false, ReadMode::Auto);
    assert_eq!(set.status.len(), events.len());
    for s in &set.status {
        assert_eq!(s.available, s.reason.is_none(), "{s:?}");
        assert_eq!(s.available, s.pass.is_some(), "{s:?}");
    }
}

/// The default counters with task-clock, and task-clock's index; `None` only under an
/// emulator without perf_event_open (qemu-user), whose reason must say so.
fn open_task_clock(inherit: bool) -> Option<(CounterSet, usize)> {
    let set = open(&parse_events("").unwrap(), inherit, ReadMode::Auto);
    let task = set
        .status
        .iter()
        .position(|s| s.name == "task-clock")
        .unwrap();
    if !set.status[task].available {
        let reason = set.status[task].reason.clone().unwrap();
        assert!(
            reason.contains("ENOSYS") || reason.contains("EACCES"),
            "{reason}"
        );
        return None;
    }
    Some((set, task))
}

/// task-clock counts nanoseconds of this thread's CPU time: reading it around a busy loop
/// must give a positive, monotonic count, with time_running == time_enabled.
#[test]
fn task_clock_reads_through_the_raw_group_path() {
    let Some((mut set, task)) = open_task_clock(false) else {
        return;
    };
    let g = &mut set.groups[0];
    let at = g.events().iter().position(|&e| e == task).unwrap();
    let mut a = [0u64; MAX_READ_WORDS];
    let mut b = [0u64; MAX_READ_WORDS];
    g.enable().unwrap();
    g.read(&mut a).unwrap();
    let mut x = 0u64;
    for i in 0..2_000_000u64 {
        x = std::hint::black_box(x ^ i.wrapping_mul(0x9e37));
    }
    g.read(&mut b).unwrap();
    g.disable().unwrap();
    assert!(
        b[2 + at] > a[2 + at],
        "task-clock did not advance: {a:?} {b:?}"
    );
    assert!(b[0] >= a[0] && b[1] >= a[1]);
}

/// With `inherit`, a thread created after the counters were opened is counted too: while
/// this thread sleeps, a child burns 30 ms of its own CPU time, and the group read (with
/// the child still alive) must show at least that much task-clock.
#[test]
fn inherited_counters_count_a_later_thread() {
    let Some((mut set, task)) = open_task_clock(true) else {
        return;
    };
    let g = &mut set.groups[0];
    let at = g.events().iter().position(|&e| e == task).unwrap();
    let (mut a, mut b) = ([0u64; MAX_READ_WORDS], [0u64; MAX_READ_WORDS]);
    g.enable().unwrap();
    g.read(&mut a).unwrap();
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let (quit_tx, quit_rx) = std::sync::mpsc::channel::<()>();
    let child = std::thread::spawn(move || {
        let cpu = || rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
        let start = cpu();
        let mut x = 0u64;
        loop {
            for i in 0..100_000u64 {
                x = std::hint::black_box(x ^ i.wrapping_mul(0x9e37));
            }
            let now = cpu();
            let ns = (now.tv_sec - start.tv_sec) * 1_000_000_000 + (now.tv_nsec - start.tv_nsec);
            if ns >= 30_000_000 {
                break;
            }
        }
        done_tx.send(()).unwrap();
        quit_rx.recv().ok();
    });
    done_rx.recv().unwrap();
    g.read(&mut b).unwrap();
    quit_tx.send(()).unwrap();
    child.join().unwrap();
    g.disable().unwrap();
    let counted = b[2 + at] - a[2 + at];
    assert!(
        counted >= 30_000_000,
        "task-clock {counted} ns: the child was not counted"
    );
}

/// Opens `name` alone in a group; `None` when the kernel refused it, after checking that
/// the reason is one a user can act on (kernel counting forbidden, or no perf at all).
fn open_one(name: &str) -> Option<(CounterSet, usize)> {
    let events = parse_events(name).unwrap();
    let ix = events.iter().position(|e| e.name == name).unwrap();
    let set = open(&events, false, ReadMode::Auto);
    let s = &set.status[ix];
    if !s.available {
        let reason = s.reason.clone().unwrap();
        assert!(
            reason.contains("ENOSYS") || reason.contains("needs kernel counting"),
            "{name}: {reason}"
        );
        return None;
    }
    Some((set, ix))
}

/// The count of event `ix` over `work`, from the group that holds it.
fn count_over(set: &mut CounterSet, ix: usize, work: impl FnOnce()) -> u64 {
    let p = set.status[ix].pass.unwrap();
    let g = &mut set.groups[p];
    let at = g.events().iter().position(|&e| e == ix).unwrap();
    let (mut a, mut b) = ([0u64; MAX_READ_WORDS], [0u64; MAX_READ_WORDS]);
    g.enable().unwrap();
    g.read(&mut a).unwrap();
    work();
    g.read(&mut b).unwrap();
    g.disable().unwrap();
    b[2 + at] - a[2 + at]
}

/// Each sleep takes this thread off the CPU: a context switch the kernel makes in kernel
/// mode, which a user-only counter reads as 0 (what older logs show).
#[test]
fn context_switches_count_the_switches_of_the_op() {
    let Some((mut set, ix)) = open_one("context-switches") else {
        return;
    };
    let n = count_over(&mut set, ix, || {
        for _ in 0..5 {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    });
    assert!(n >= 5, "5 sleeps, {n} context switches");
}

/// Touching fresh pages faults them in: at least one fault per 2 MiB (a transparent huge
/// page), one per 4 KiB without them.
#[test]
fn page_faults_count_the_first_touch_of_new_memory() {
    let Some((mut set, ix)) = open_one("page-faults") else {
        return;
    };
    const BYTES: usize = 16 << 20;
    let mut fresh: Vec<u8> = Vec::new();
    let n = count_over(&mut set, ix, || {
        fresh = vec![0u8; BYTES]; // calloc: mapped, not yet touched
        for i in (0..BYTES).step_by(4096) {
            fresh[i] = 1;
        }
        std::hint::black_box(&fresh);
    });
    assert!(n >= (BYTES >> 21) as u64, "{n} page faults for 16 MiB");
}
