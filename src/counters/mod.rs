//! Hardware and software event counters read around each operator.
//!
//! The runner sees one [`CounterSet`]: the requested events, whether each could be opened (and
//! why not), and one [`CounterGroup`] per per-op *pass*. Events that the PMU cannot count at
//! the same time are split over passes instead of being multiplexed; the software events
//! (task-clock, page-faults, context-switches) ride along in every pass.
//!
//! Two sources implement [`CounterGroup`]: [`perf`] (Linux perf_event, the real thing) and
//! [`fake`] (deterministic counts for tests, behind the hidden `--fake-counters` flag).
//!
//! Hot path contract: [`CounterGroup::read`] writes into a caller-provided slice and neither
//! allocates, logs nor formats.

pub mod fake;
pub mod perf;
pub mod sets;
pub mod user;

use crate::record::EventStatus;

/// The events read when `--events` is not given.
pub const DEFAULT_EVENTS: &str = "cycles,instructions,cache-references,cache-misses,\
branch-instructions,branch-misses,l1d-read-misses";

/// Software events counted in every pass, whatever `--events` says.
pub const ALWAYS_SOFTWARE: [&str; 3] = ["task-clock", "page-faults", "context-switches"];

/// Most events one group may hold (the read buffer is sized for it).
pub const MAX_GROUP_EVENTS: usize = 24;

/// Words of a group read: nr, time_enabled, time_running, then (value, id) per member, the
/// first member being the group's dummy leader.
pub const MAX_READ_WORDS: usize = 3 + 2 * (MAX_GROUP_EVENTS + 1);

/// What kind of perf event a name stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Hardware(u64),
    /// `PERF_TYPE_HW_CACHE`: (cache id, op, result), see perf_event_open(2).
    Cache(u8, u8, u8),
    /// `PERF_TYPE_RAW`, CPU-specific event number (Cortex-A72 L2D refill is 0x17).
    Raw(u64),
    Software(u64),
}

impl EventKind {
    pub fn label(&self) -> &'static str {
        match self {
            EventKind::Hardware(_) => "hardware",
            EventKind::Cache(..) => "cache",
            EventKind::Raw(_) => "raw",
            EventKind::Software(_) => "software",
        }
    }

    /// Whether the event takes a PMU counter (software events do not).
    pub fn uses_pmu(&self) -> bool {
        !matches!(self, EventKind::Software(_))
    }
}

/// One requested event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventSpec {
    pub name: String,
    pub kind: EventKind,
    /// Why this CPU cannot count it, known before opening it (an Arm event the core does not
    /// implement, or an Arm event on another CPU): it is then reported, not opened.
    pub unsupported: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum CounterError {
    #[error(
        "unknown event `{0}`: use a set ({sets}), one of {known}, an Armv8 event ({arm}), or a \
         raw event number like r17 (hex)",
        sets = sets::SET_NAMES.join(", "),
        known = KNOWN_NAMES,
        arm = sets::ARM_EVENTS.map(|e| e.name).join(", ")
    )]
    UnknownEvent(String),
    #[error("too many events ({0}); at most {MAX_GROUP_EVENTS} can be requested")]
    TooMany(usize),
    #[error("{what}: {cause}")]
    Io { what: String, cause: std::io::Error },
}

const KNOWN_NAMES: &str = "cycles, instructions, cache-references, cache-misses, \
branch-instructions, branch-misses, bus-cycles, ref-cycles, stalled-cycles-frontend, \
stalled-cycles-backend, l1d-read-accesses, l1d-read-misses, l1i-read-misses, llc-read-accesses, \
llc-read-misses, dtlb-read-misses, itlb-read-misses, task-clock, cpu-clock, page-faults, \
minor-faults, major-faults, context-switches, cpu-migrations";

fn kind_of(name: &str) -> Option<EventKind> {
    use EventKind::*;
    // Numbers from linux/perf_event.h (stable kernel ABI).
    let (l1d, l1i, ll, dtlb, itlb) = (0, 1, 2, 3, 4);
    let (read, access, miss) = (0, 0, 1);
    Some(match name {
        "cycles" | "cpu-cycles" => Hardware(0),
        "instructions" => Hardware(1),
        "cache-references" => Hardware(2),
        "cache-misses" => Hardware(3),
        "branch-instructions" | "branches" => Hardware(4),
        "branch-misses" => Hardware(5),
        "bus-cycles" => Hardware(6),
        "stalled-cycles-frontend" => Hardware(7),
        "stalled-cycles-backend" => Hardware(8),
        "ref-cycles" => Hardware(9),
        "l1d-read-accesses" => Cache(l1d, read, access),
        "l1d-read-misses" => Cache(l1d, read, miss),
        "l1i-read-misses" => Cache(l1i, read, miss),
        "llc-read-accesses" => Cache(ll, read, access),
        "llc-read-misses" => Cache(ll, read, miss),
        "dtlb-read-misses" => Cache(dtlb, read, miss),
        "itlb-read-misses" => Cache(itlb, read, miss),
        "cpu-clock" => Software(0),
        "task-clock" => Software(1),
        "page-faults" => Software(2),
        "context-switches" => Software(3),
        "cpu-migrations" => Software(4),
        "minor-faults" => Software(5),
        "major-faults" => Software(6),
        raw if raw.starts_with('r') && raw.len() > 1 => {
            Raw(u64::from_str_radix(&raw[1..], 16).ok()?)
        }
        _ => return None,
    })
}

/// Parses `--events` ("cycles,instructions,r17", "memory,stalls") for the CPU this process
/// runs on, and appends the always-on software events. Duplicates are dropped; order is kept.
pub fn parse_events(list: &str) -> Result<Vec<EventSpec>, CounterError> {
    parse_events_on(list, &sets::Cpu::this())
}

/// [`parse_events`] for `cpu`: set names expand to their events on it, and Arm events the CPU
/// cannot count carry the reason.
pub fn parse_events_on(list: &str, cpu: &sets::Cpu) -> Result<Vec<EventSpec>, CounterError> {
    let mut out: Vec<EventSpec> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let name = name.to_ascii_lowercase();
        match sets::expand(&name, cpu) {
            Some(members) => names.extend(members.into_iter().map(String::from)),
            None => names.push(name),
        }
    }
    names.extend(ALWAYS_SOFTWARE.map(String::from));
    for name in names {
        if out.iter().any(|e| e.name == name) {
            continue;
        }
        let spec = match sets::arm_event(&name) {
            Some(e) => EventSpec {
                unsupported: sets::arm_event_unsupported(e, cpu),
                kind: EventKind::Raw(e.number),
                name,
            },
            None => EventSpec {
                kind: kind_of(&name).ok_or_else(|| CounterError::UnknownEvent(name.clone()))?,
                unsupported: None,
                name,
            },
        };
        out.push(spec);
    }
    if out.len() > MAX_GROUP_EVENTS {
        return Err(CounterError::TooMany(out.len()));
    }
    Ok(out)
}

/// One group of counters enabled, disabled and read as a unit during one per-op pass.
pub trait CounterGroup {
    /// Indices (into the run's event list) of the events this group counts, in read order.
    fn events(&self) -> &[usize];
    fn enable(&mut self) -> std::io::Result<()>;
    fn disable(&mut self) -> std::io::Result<()>;
    /// Reads the cumulative counts. `out[0]` = time_enabled ns, `out[1]` = time_running ns,
    /// `out[2 + i]` = value of `events()[i]`. Hot path: no allocation, logging or formatting.
    fn read(&mut self, out: &mut [u64]) -> std::io::Result<()>;
    /// How [`read`](Self::read) gets the counts: `syscall` (one `read(2)` of the group),
    /// `user` (hardware counters read from user space, see [`user`]) or `fake`.
    fn method(&self) -> &'static str {
        "syscall"
    }
    /// Whether the group is read at every op boundary. A group of software events only is
    /// not: a `read(2)` per op (about 1.4 µs on the x86 VM) costs more than per-op page faults
    /// and context switches tell, so it is read at the start and the end of each run, and its
    /// events have run totals but no per-op counts.
    fn per_op(&self) -> bool {
        true
    }
}

/// How per-op counter reads may be made (`--counter-reads`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReadMode {
    /// From user space where the kernel allows it (arm64, `kernel.perf_user_access=1`,
    /// counters of the calling thread only), else `read(2)`.
    #[default]
    Auto,
    /// Always `read(2)`.
    Syscall,
}

impl ReadMode {
    pub fn as_str(&self) -> &'static str {
        match self {
            ReadMode::Auto => "auto",
            ReadMode::Syscall => "syscall",
        }
    }
}

/// Everything the runner needs to count events: availability and one group per pass.
pub struct CounterSet {
    pub status: Vec<EventStatus>,
    pub groups: Vec<Box<dyn CounterGroup>>,
    /// Why the hardware counters are not read from user space, when they are not.
    pub syscall_reason: Option<String>,
}

impl CounterSet {
    /// Number of per-op passes: one per group, at least one (wall time is always measured).
    pub fn passes(&self) -> usize {
        self.groups.len().max(1)
    }

    /// How each pass's group is read (see [`CounterGroup::method`]).
    pub fn methods(&self) -> Vec<String> {
        self.groups.iter().map(|g| g.method().to_string()).collect()
    }

    /// Event names in the order of `status`.
    pub fn names(&self) -> Vec<String> {
        self.status.iter().map(|s| s.name.clone()).collect()
    }
}

/// Names an errno the way a user can look it up, with a hint for the common perf cases.
pub fn describe_errno(err: &std::io::Error) -> String {
    let (name, hint) = match err.raw_os_error() {
        Some(1) => (
            "EPERM",
            "not permitted: run as root or lower kernel.perf_event_paranoid",
        ),
        Some(2) => (
            "ENOENT",
            "this CPU, VM or kernel does not provide the event",
        ),
        Some(13) => (
            "EACCES",
            "forbidden: run as root or lower kernel.perf_event_paranoid",
        ),
        Some(16) => ("EBUSY", "the PMU is in use by someone else"),
        Some(19) => ("ENODEV", "no PMU for this event"),
        Some(22) => ("EINVAL", "the kernel rejected the event's configuration"),
        Some(24) => (
            "EMFILE",
            "too many open files: raise the file descriptor limit",
        ),
        Some(38) => (
            "ENOSYS",
            "no perf_event_open here (kernel without perf, or an emulator)",
        ),
        Some(95) => ("EOPNOTSUPP", "the PMU cannot count this event in this mode"),
        Some(7) => (
            "E2BIG",
            "perf_event_attr size not understood by this kernel",
        ),
        _ => return err.to_string(),
    };
    format!("{name} ({hint})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_raw_and_appends_software() {
        let ev = parse_events("cycles, instructions,r17,L1D-read-misses,cycles").unwrap();
        let names: Vec<_> = ev.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "cycles",
                "instructions",
                "r17",
                "l1d-read-misses",
                "task-clock",
                "page-faults",
                "context-switches"
            ]
        );
        assert_eq!(ev[2].kind, EventKind::Raw(0x17));
        assert_eq!(ev[3].kind, EventKind::Cache(0, 0, 1));
        assert!(!ev[4].kind.uses_pmu());
    }

    #[test]
    fn rejects_unknown_and_bad_raw() {
        for bad in ["cycels", "rzz", "r"] {
            let err = parse_events(bad).unwrap_err().to_string();
            assert!(err.contains("unknown event"), "{err}");
        }
    }

    #[test]
    fn default_events_parse() {
        assert_eq!(parse_events(DEFAULT_EVENTS).unwrap().len(), 10);
    }

    #[test]
    fn errno_names() {
        let e = std::io::Error::from_raw_os_error(2);
        assert!(describe_errno(&e).starts_with("ENOENT"));
        let e = std::io::Error::from_raw_os_error(38);
        assert!(describe_errno(&e).starts_with("ENOSYS"));
    }
}
