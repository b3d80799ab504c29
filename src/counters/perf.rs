//! Real counters: Linux perf_event groups on the calling thread, via the perf-event2 crate.
//!
//! Opening: each requested event is first opened alone, so that an unavailable one is reported
//! with the kernel's reason ("perf_event_open: ENOENT (...)") and left out. The PMU events that
//! open are then packed greedily into groups that the kernel can schedule all at once (a trial
//! run must show time_running == time_enabled); an event that does not fit starts the next
//! group, i.e. the next per-op pass. Software events join every group.
//!
//! Reading: the group is read with one `read(2)` of the leader into a stack buffer (the
//! crate's own `Group::read` allocates, which the per-op hot path must not do).
//!
//! User-space reads (arm64, [`super::user`]): with `kernel.perf_user_access = 1` and the
//! counters of the calling thread only, the PMU events are opened with the user-access bit and
//! their groups are read with `mrs` through each member's mmap'd page; the software events then
//! have a pass of their own, read with `read(2)` (they have no counter to read). Where the
//! kernel does not give access (the check after opening: every member's page must publish a
//! counter while the group is enabled), the group is read with `read(2)`, and the header says
//! why.
//!
//! Threads: the counters count the calling thread. With `inherit` (asked for by `--threads N`)
//! they also count every thread that thread creates afterwards, i.e. the matmul pool built
//! after the counters are opened; a read of the leader then returns the sum over the calling
//! thread and those threads (the kernel adds the inherited children's counts), still one
//! `read(2)`.

use super::user::NoUserReads;
use super::{
    CounterGroup, CounterSet, EventKind, EventSpec, MAX_READ_WORDS, ReadMode, describe_errno,
};
use crate::record::EventStatus;
use perf_event::events::{Cache, CacheId, CacheOp, CacheResult, Hardware, Raw, Software};
use perf_event::{Builder, Counter, Group};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

fn builder(kind: EventKind, inherit: bool, user: bool) -> Builder<'static> {
    let mut b = match kind {
        EventKind::Hardware(n) => Builder::new(Hardware::from(n)),
        EventKind::Cache(which, op, result) => Builder::new(Cache {
            which: CacheId::from(which),
            operation: CacheOp::from(op),
            result: CacheResult::from(result),
        }),
        EventKind::Raw(n) => Builder::new(Raw::new(n)),
        EventKind::Software(n) => Builder::new(Software::from(n)),
    };
    // Count this thread on whichever CPU it runs, user space only (the crate's default), and,
    // with `inherit`, the threads it creates from now on (the matmul pool of `--threads`).
    b.observe_self().any_cpu().inherit(inherit);
    // Events that happen in the kernel (a context switch, a fault taken while the kernel
    // touches user memory) are dropped by the user-only exclusion: they read 0. They are
    // counted in the kernel too; where that is forbidden the event is reported unavailable.
    if counts_in_kernel(kind) {
        b.include_kernel();
    }
    if user && kind.uses_pmu() {
        // The arm PMU driver's `rdpmc` format bit: let this task read the counter itself (none
        // of our events sets anything else in `config1`).
        b.attrs_mut().__bindgen_anon_3.config1 = super::user::CONFIG1_USER_ACCESS;
    }
    b
}

/// Software events that the kernel raises in kernel mode: page-faults, context-switches,
/// cpu-migrations, minor-faults, major-faults (not the clocks: cpu-clock and task-clock count
/// time, and the exclusion does not stop them).
pub fn counts_in_kernel(kind: EventKind) -> bool {
    matches!(kind, EventKind::Software(n) if (2..=6).contains(&n))
}

/// One perf_event group: a dummy software leader plus the members, read as a unit.
pub struct PerfGroup {
    group: Group,
    _members: Vec<Counter>,
    events: Vec<usize>,
    /// Whether it counts a PMU event (else it is read per run, see [`CounterGroup::per_op`]).
    pmu: bool,
}

impl PerfGroup {
    fn open(
        all: &[EventSpec],
        members: &[usize],
        inherit: bool,
        user: bool,
    ) -> io::Result<PerfGroup> {
        let mut group = Group::builder().any_cpu().inherit(inherit).build_group()?;
        let mut counters = Vec::with_capacity(members.len());
        for &ix in members {
            counters.push(group.add(&builder(all[ix].kind, inherit, user))?);
        }
        Ok(PerfGroup {
            group,
            _members: counters,
            events: members.to_vec(),
            pmu: members.iter().any(|&ix| all[ix].kind.uses_pmu()),
        })
    }

    /// Enables the group around a short busy loop and tells whether the kernel kept every
    /// member on the PMU for the whole time.
    fn schedulable(&mut self) -> io::Result<bool> {
        let mut buf = [0u64; MAX_READ_WORDS];
        self.enable()?;
        let mut x = 0u64;
        for i in 0..200_000u64 {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
        }
        self.disable()?;
        self.read(&mut buf)?;
        Ok(buf[1] > 0 && buf[1] == buf[0])
    }
}

impl CounterGroup for PerfGroup {
    fn events(&self) -> &[usize] {
        &self.events
    }

    fn per_op(&self) -> bool {
        self.pmu
    }

    fn enable(&mut self) -> io::Result<()> {
        self.group.enable()
    }

    fn disable(&mut self) -> io::Result<()> {
        self.group.disable()
    }

    fn read(&mut self, out: &mut [u64]) -> io::Result<()> {
        let mut bytes = [0u8; MAX_READ_WORDS * 8];
        let raw = self.group.as_counter().as_raw_fd();
        // SAFETY: `raw` is the leader's descriptor, owned by `self.group`, which outlives this
        // borrow (it is only used for the read below).
        let fd = unsafe { BorrowedFd::borrow_raw(raw) };
        let len = rustix::io::read(fd, &mut bytes).map_err(io::Error::from)?;
        // Layout (PERF_FORMAT_GROUP|TOTAL_TIME_ENABLED|TOTAL_TIME_RUNNING|ID):
        // nr, time_enabled, time_running, then {value, id} for the leader and each member.
        let word = |i: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&bytes[i * 8..i * 8 + 8]);
            u64::from_ne_bytes(w)
        };
        let n = self.events.len();
        let needed = 3 + 2 * (n + 1);
        if len < needed * 8 || out.len() < n + 2 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "short perf group read",
            ));
        }
        out[0] = word(1);
        out[1] = word(2);
        for i in 0..n {
            // Skip the dummy leader's {value, id}: members start at word 5.
            out[2 + i] = word(5 + 2 * i);
        }
        Ok(())
    }
}

/// Whether the hardware counters may be read from user space, or why not (for the header).
pub fn user_reads(reads: ReadMode, inherit: bool) -> Result<(), NoUserReads> {
    if reads == ReadMode::Syscall {
        return Err(NoUserReads::Syscall);
    }
    if !cfg!(target_arch = "aarch64") {
        return Err(NoUserReads::NotArm64);
    }
    if inherit {
        return Err(NoUserReads::Inherit);
    }
    super::user::sysctl_state()
}

/// Opens what can be opened of `events` and packs it into passes. `inherit`: also count the
/// threads this thread creates after this call. `reads`: whether the PMU groups may be read
/// from user space ([`user_reads`]).
pub fn open(events: &[EventSpec], inherit: bool, reads: ReadMode) -> CounterSet {
    let allowed = user_reads(reads, inherit);
    let user = allowed.is_ok();
    let mut status: Vec<EventStatus> = events
        .iter()
        .map(|e| EventStatus {
            name: e.name.clone(),
            kind: e.kind.label().to_string(),
            available: false,
            reason: None,
            pass: None,
        })
        .collect();
    let mut pmu = Vec::new();
    let mut software = Vec::new();
    for (ix, e) in events.iter().enumerate() {
        if let Some(why) = &e.unsupported {
            status[ix].reason = Some(why.clone());
            continue;
        }
        match builder(e.kind, inherit, user).build() {
            Ok(_) => {
                status[ix].available = true;
                if e.kind.uses_pmu() {
                    pmu.push(ix)
                } else {
                    software.push(ix)
                }
            }
            Err(err) => {
                let mut reason = format!("perf_event_open: {}", describe_errno(&err));
                if counts_in_kernel(e.kind) && matches!(err.raw_os_error(), Some(1 | 13)) {
                    reason.push_str(
                        "; it happens in the kernel, so it needs kernel counting \
                         (kernel.perf_event_paranoid <= 1, or root): user space only it \
                         would read 0",
                    );
                }
                status[ix].reason = Some(reason);
            }
        }
    }

    // With user reads the software events are not in the PMU groups: their own pass, last.
    let riders: &[usize] = if user { &[] } else { &software };
    let mut chunks: Vec<Vec<usize>> = Vec::new();
    let mut current: Vec<usize> = Vec::new();
    for &ix in &pmu {
        current.push(ix);
        if fits(events, &current, riders, inherit, user) {
            continue;
        }
        current.pop();
        if !current.is_empty() {
            chunks.push(std::mem::take(&mut current));
        }
        current.push(ix);
        if !fits(events, &current, riders, inherit, user) {
            current.pop();
            status[ix].available = false;
            status[ix].reason = Some("opens, but the kernel could not schedule it".into());
        }
    }
    if !current.is_empty() {
        chunks.push(current);
    }
    if !software.is_empty() && (chunks.is_empty() || user) {
        chunks.push(Vec::new());
    }

    let mut groups: Vec<Box<dyn CounterGroup>> = Vec::new();
    let mut syscall_reason = None;
    for chunk in chunks {
        let user_group = user && !chunk.is_empty();
        let members: Vec<usize> = if user_group {
            chunk.clone()
        } else {
            chunk.iter().chain(&software).copied().collect()
        };
        match PerfGroup::open(events, &members, inherit, user_group) {
            Ok(g) => {
                for &ix in &chunk {
                    status[ix].pass = Some(groups.len());
                }
                if !user_group {
                    for &ix in &software {
                        status[ix].pass.get_or_insert(groups.len());
                    }
                }
                let group: Box<dyn CounterGroup> = if user_group {
                    match read_from_user_space(g) {
                        Ok(u) => u,
                        Err((g, why)) => {
                            syscall_reason.get_or_insert(why);
                            Box::new(g)
                        }
                    }
                } else {
                    if !chunk.is_empty() {
                        syscall_reason = allowed.as_ref().err().map(|e| e.to_string());
                    }
                    Box::new(g)
                };
                groups.push(group);
            }
            Err(err) => {
                let lost = if chunk.is_empty() { &software } else { &chunk };
                for &ix in lost {
                    status[ix].available = false;
                    status[ix].reason =
                        Some(format!("perf_event_open (group): {}", describe_errno(&err)));
                }
            }
        }
    }
    match (&syscall_reason, user) {
        (Some(why), _) => log::info!("counters read with read(2): {why}"),
        (None, true) => log::info!("hardware counters read from user space (mrs)"),
        _ => {}
    }
    // One warning per distinct reason, naming the events it covers.
    let mut reasons: Vec<(&str, Vec<&str>)> = Vec::new();
    for s in &status {
        if let Some(reason) = s.reason.as_deref() {
            match reasons.iter_mut().find(|(r, _)| *r == reason) {
                Some((_, names)) => names.push(&s.name),
                None => reasons.push((reason, vec![&s.name])),
            }
        }
    }
    for (reason, names) in reasons {
        log::warn!(
            "counters {}: {reason}; left out (null in records)",
            names.join(", ")
        );
    }
    CounterSet {
        status,
        groups,
        syscall_reason,
    }
}

fn fits(
    events: &[EventSpec],
    pmu: &[usize],
    software: &[usize],
    inherit: bool,
    user: bool,
) -> bool {
    let members: Vec<usize> = pmu.iter().chain(software).copied().collect();
    match PerfGroup::open(events, &members, inherit, user) {
        Ok(mut g) => g.schedulable().unwrap_or(false),
        Err(_) => false,
    }
}

/// A group of PMU events read from user space: `mrs` of each member's counter through its
/// mmap'd page ([`super::user::read_page`]); `read(2)` of the group when the kernel withdraws
/// access.
#[cfg(target_arch = "aarch64")]
struct UserGroup {
    inner: PerfGroup,
    pages: Vec<memmap2::MmapRaw>,
}

#[cfg(target_arch = "aarch64")]
impl UserGroup {
    fn page(&self, i: usize) -> *const perf_event_open_sys::bindings::perf_event_mmap_page {
        self.pages[i].as_ptr() as *const _
    }
}

#[cfg(target_arch = "aarch64")]
impl CounterGroup for UserGroup {
    fn events(&self) -> &[usize] {
        &self.inner.events
    }

    fn enable(&mut self) -> io::Result<()> {
        self.inner.enable()
    }

    fn disable(&mut self) -> io::Result<()> {
        self.inner.disable()
    }

    fn read(&mut self, out: &mut [u64]) -> io::Result<()> {
        use super::user::{read_clock, read_page, read_pmc};
        let n = self.pages.len();
        if out.len() < n + 2 {
            return Err(io::ErrorKind::InvalidInput.into());
        }
        for i in 0..n {
            // SAFETY: the page is the member's first mmap'd page, mapped read-only for as long
            // as `self` lives.
            match unsafe { read_page(self.page(i), read_pmc, read_clock) } {
                Some(r) => {
                    out[2 + i] = r.count;
                    if i == 0 {
                        out[0] = r.time_enabled_ns;
                        out[1] = r.time_running_ns;
                    }
                }
                None => return self.inner.read(out),
            }
        }
        Ok(())
    }

    fn method(&self) -> &'static str {
        "user"
    }
}

/// `g` read from user space, when the kernel gives this task access to every member's counter
/// (checked with the group enabled: each page must publish a counter); else `g` back, and why.
#[cfg(target_arch = "aarch64")]
fn read_from_user_space(mut g: PerfGroup) -> Result<Box<dyn CounterGroup>, (PerfGroup, String)> {
    use super::user::{read_clock, read_page, read_pmc};
    let page_bytes = rustix::param::page_size();
    let mut pages = Vec::with_capacity(g._members.len());
    for c in &g._members {
        match memmap2::MmapOptions::new()
            .len(page_bytes)
            .map_raw_read_only(c.as_raw_fd())
        {
            Ok(p) => pages.push(p),
            Err(e) => {
                let why = format!("mmap of a counter's page: {}", describe_errno(&e));
                return Err((g, why));
            }
        }
    }
    let mut lacking = None;
    if let Err(e) = g.enable() {
        return Err((g, format!("enabling the group: {}", describe_errno(&e))));
    }
    for (i, p) in pages.iter().enumerate() {
        // SAFETY: `p` is the counter's first page, mapped read-only just above.
        let read = unsafe { read_page(p.as_ptr() as *const _, read_pmc, read_clock) };
        if !read.is_some_and(|r| r.from_counter) {
            lacking = Some(i);
            break;
        }
    }
    let _ = g.disable();
    match lacking {
        None => Ok(Box::new(UserGroup { inner: g, pages })),
        Some(_) => Err((
            g,
            "the kernel published no user-readable counter for the group (cap_user_rdpmc or \
             index 0 with the group enabled)"
                .into(),
        )),
    }
}

#[cfg(not(target_arch = "aarch64"))]
fn read_from_user_space(g: PerfGroup) -> Result<Box<dyn CounterGroup>, (PerfGroup, String)> {
    Err((
        g,
        "user-space counter reads are implemented for arm64 only".into(),
    ))
}

#[cfg(test)]
#[path = "perf_tests.rs"]
mod tests;
