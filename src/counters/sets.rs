//! Event sets by name (`--events memory,stalls`) and the Armv8 PMU events by their architectural
//! names (`--events l2d_cache_refill`), resolved for the CPU the run is on.
//!
//! The sets: `default` (the generic perf events, [`super::DEFAULT_EVENTS`]), `memory` (cache,
//! bus and TLB traffic), `stalls` (cycles, instructions, frontend and backend stalls, branch
//! misses), `simd` (instructions, Advanced SIMD and load/store instructions), `all` (memory,
//! stalls and simd). On an Arm core they are PMUv3 common events, counted as raw events; on
//! other CPUs the generic perf events that come closest. An Arm event that the core's Technical
//! Reference Manual does not list is not opened: it is reported unavailable with that reason.

/// What the events are resolved against: the CPU the run is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cpu {
    /// `std::env::consts::ARCH`: `aarch64`, `x86_64`, ...
    pub arch: String,
    /// /proc/cpuinfo's `CPU implementer` (`0x41` is Arm Ltd), Arm only.
    pub implementer: Option<String>,
    /// /proc/cpuinfo's `CPU part` (`0xd08` is Cortex-A72), Arm only.
    pub part: Option<String>,
}

impl Cpu {
    /// The CPU this process runs on.
    pub fn this() -> Cpu {
        let text = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        Cpu::from_cpuinfo(std::env::consts::ARCH, &text)
    }

    /// A CPU from /proc/cpuinfo's text (its first processor's fields).
    pub fn from_cpuinfo(arch: &str, cpuinfo: &str) -> Cpu {
        let field =
            |key: &str| crate::context::cpuinfo_field(cpuinfo, key).map(|v| v.to_ascii_lowercase());
        Cpu {
            arch: arch.to_string(),
            implementer: field("CPU implementer"),
            part: field("CPU part"),
        }
    }

    pub fn is_arm(&self) -> bool {
        matches!(self.arch.as_str(), "aarch64" | "arm")
    }

    /// The core, when it is one whose PMU events are tabulated here.
    pub fn core(&self) -> Option<Core> {
        if self.implementer.as_deref() != Some("0x41") {
            return None;
        }
        Some(match self.part.as_deref()? {
            "0xd03" => Core::CortexA53,
            "0xd05" => Core::CortexA55,
            "0xd08" => Core::CortexA72,
            "0xd0b" => Core::CortexA76,
            "0xd0c" => Core::NeoverseN1,
            _ => return None,
        })
    }
}

/// Arm cores whose PMU events are tabulated (from their Technical Reference Manuals).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Core {
    CortexA53,
    CortexA55,
    CortexA72,
    CortexA76,
    NeoverseN1,
}

/// An Armv8 PMUv3 common event: its architectural name in lower case (as `perf list` shows it
/// on arm64) and its event number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArmEvent {
    pub name: &'static str,
    pub number: u64,
}

const fn ev(name: &'static str, number: u64) -> ArmEvent {
    ArmEvent { name, number }
}

/// The common events that explain an operator's cost.
pub const ARM_EVENTS: [ArmEvent; 18] = [
    ev("l1d_cache_refill", 0x03),
    ev("l1d_cache", 0x04),
    ev("l1d_tlb_refill", 0x05),
    ev("ld_retired", 0x06),
    ev("st_retired", 0x07),
    ev("inst_retired", 0x08),
    ev("br_mis_pred", 0x10),
    ev("cpu_cycles", 0x11),
    ev("mem_access", 0x13),
    ev("l2d_cache", 0x16),
    ev("l2d_cache_refill", 0x17),
    ev("bus_access", 0x19),
    ev("inst_spec", 0x1b),
    ev("stall_frontend", 0x23),
    ev("stall_backend", 0x24),
    ev("ld_spec", 0x70),
    ev("st_spec", 0x71),
    ev("ase_spec", 0x74),
];

impl Core {
    pub fn name(self) -> &'static str {
        match self {
            Core::CortexA53 => "Cortex-A53",
            Core::CortexA55 => "Cortex-A55",
            Core::CortexA72 => "Cortex-A72",
            Core::CortexA76 => "Cortex-A76",
            Core::NeoverseN1 => "Neoverse-N1",
        }
    }

    /// The events of [`ARM_EVENTS`] the core's PMU does not implement, per its Technical
    /// Reference Manual as Arm publishes it in machine-readable form (the `pmu/<core>.json`
    /// files of Arm's ARM-software/data repository), which Linux's perf event tables agree
    /// with (tools/perf/pmu-events/arch/arm64/arm/).
    fn lacks(self) -> &'static [u64] {
        match self {
            // In order: retired loads and stores, nothing speculative, and no architectural
            // stall events; its stalls are IMPLEMENTATION DEFINED events 0xe0-0xe8 (instruction
            // queue empty 0xe0-0xe3, interlocks and load/store stalls 0xe4-0xe8: r e0 ... re8).
            Core::CortexA53 => &[0x1b, 0x23, 0x24, 0x70, 0x71, 0x74],
            // Armv8.0 out of order: speculative counts, but no retired loads and stores and no
            // architectural stall events.
            Core::CortexA72 => &[0x06, 0x07, 0x23, 0x24],
            // Armv8.2 in order: all of them (its *_SPEC events count what retired; its L2D
            // events depend on the configuration: without a per-core L2 they count the
            // cluster cache).
            Core::CortexA55 => &[],
            Core::CortexA76 | Core::NeoverseN1 => &[0x06, 0x07],
        }
    }

    pub fn implements(self, number: u64) -> bool {
        !self.lacks().contains(&number)
    }
}

/// The Arm event called `name`, if it is one of [`ARM_EVENTS`].
pub fn arm_event(name: &str) -> Option<ArmEvent> {
    ARM_EVENTS.iter().copied().find(|e| e.name == name)
}

/// Why an Arm event cannot be counted on `cpu`, or `None` when it can (or may: an Arm core not
/// tabulated here gets it opened, and the kernel says).
pub fn arm_event_unsupported(e: ArmEvent, cpu: &Cpu) -> Option<String> {
    if !cpu.is_arm() {
        return Some(format!(
            "an Armv8 PMU event (0x{:02x}); this CPU is {}",
            e.number, cpu.arch
        ));
    }
    let core = cpu.core()?;
    (!core.implements(e.number)).then(|| {
        format!(
            "{} does not implement event 0x{:02x} (its Technical Reference Manual)",
            core.name(),
            e.number
        )
    })
}

/// Set names `--events` accepts.
pub const SET_NAMES: [&str; 5] = ["default", "memory", "stalls", "simd", "all"];

const ARM_MEMORY: &[&str] = &[
    "l1d_cache",
    "l1d_cache_refill",
    "l2d_cache",
    "l2d_cache_refill",
    "bus_access",
    "mem_access",
    "l1d_tlb_refill",
];
const ARM_STALLS: &[&str] = &[
    "cpu_cycles",
    "inst_retired",
    "stall_frontend",
    "stall_backend",
    "br_mis_pred",
];
const ARM_SIMD: &[&str] = &[
    "inst_retired",
    "inst_spec",
    "ase_spec",
    "ld_spec",
    "st_spec",
    "ld_retired",
    "st_retired",
];
const GENERIC_MEMORY: &[&str] = &[
    "cache-references",
    "cache-misses",
    "l1d-read-accesses",
    "l1d-read-misses",
    "llc-read-accesses",
    "llc-read-misses",
    "dtlb-read-misses",
];
const GENERIC_STALLS: &[&str] = &[
    "cycles",
    "instructions",
    "stalled-cycles-frontend",
    "stalled-cycles-backend",
    "branch-misses",
];
// No generic perf event counts SIMD instructions: x86's are model-specific raw events.
const GENERIC_SIMD: &[&str] = &["instructions"];

/// The events of set `name` on `cpu`, in order; `None` when `name` is not a set. On an Arm
/// core the events the core lacks are left in: they are reported unavailable with the reason.
pub fn expand(name: &str, cpu: &Cpu) -> Option<Vec<&'static str>> {
    let (memory, stalls, simd) = if cpu.is_arm() {
        (ARM_MEMORY, ARM_STALLS, ARM_SIMD)
    } else {
        (GENERIC_MEMORY, GENERIC_STALLS, GENERIC_SIMD)
    };
    let parts: Vec<&[&'static str]> = match name {
        "default" => return Some(super::DEFAULT_EVENTS.split(',').collect()),
        "memory" => vec![memory],
        "stalls" => vec![stalls],
        "simd" => vec![simd],
        "all" => vec![memory, stalls, simd],
        _ => return None,
    };
    let mut out: Vec<&'static str> = Vec::new();
    for e in parts.into_iter().flatten() {
        if !out.contains(e) {
            out.push(e);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::counters::{EventKind, MAX_GROUP_EVENTS, fake, parse_events_on};

    /// The first processor of /proc/cpuinfo on each core, as the kernel prints it.
    fn arm(part: &str) -> Cpu {
        let text = format!(
            "processor\t: 0\nBogoMIPS\t: 108.00\nFeatures\t: fp asimd evtstrm crc32 cpuid\n\
             CPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x0\n\
             CPU part\t: {part}\nCPU revision\t: 3\n\nprocessor\t: 1\nCPU part\t: 0xfff\n"
        );
        Cpu::from_cpuinfo("aarch64", &text)
    }

    fn x86() -> Cpu {
        Cpu::from_cpuinfo(
            "x86_64",
            "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 85\n\
             model name\t: Intel(R) Xeon(R) Processor\n",
        )
    }

    /// (name, unsupported reason) of the events `list` resolves to on `cpu`.
    fn resolved(list: &str, cpu: &Cpu) -> Vec<(String, Option<String>)> {
        parse_events_on(list, cpu)
            .unwrap()
            .into_iter()
            .map(|e| (e.name, e.unsupported))
            .collect()
    }

    fn lacking(list: &str, cpu: &Cpu) -> Vec<String> {
        resolved(list, cpu)
            .into_iter()
            .filter(|(_, why)| why.is_some())
            .map(|(n, _)| n)
            .collect()
    }

    #[test]
    fn cores_are_told_apart_by_implementer_and_part() {
        assert_eq!(arm("0xd03").core(), Some(Core::CortexA53));
        assert_eq!(arm("0xd05").core(), Some(Core::CortexA55));
        assert_eq!(arm("0xd08").core(), Some(Core::CortexA72));
        assert_eq!(arm("0xd0b").core(), Some(Core::CortexA76));
        assert_eq!(arm("0xd0c").core(), Some(Core::NeoverseN1));
        assert_eq!(arm("0xd07").core(), None, "Cortex-A57: not tabulated");
        assert_eq!(x86().core(), None);
        let qualcomm = Cpu::from_cpuinfo("aarch64", "CPU implementer\t: 0x51\nCPU part\t: 0xd08\n");
        assert_eq!(qualcomm.core(), None, "part numbers are per implementer");
    }

    #[test]
    fn stall_events_resolve_per_core() {
        let a72 = arm("0xd08");
        let events = parse_events_on("stalls", &a72).unwrap();
        let names: Vec<&str> = events.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "cpu_cycles",
                "inst_retired",
                "stall_frontend",
                "stall_backend",
                "br_mis_pred",
                "task-clock",
                "page-faults",
                "context-switches"
            ]
        );
        assert_eq!(events[0].kind, EventKind::Raw(0x11));
        assert_eq!(events[2].kind, EventKind::Raw(0x23));
        let why = events[2].unsupported.as_deref().unwrap();
        assert_eq!(
            why,
            "Cortex-A72 does not implement event 0x23 (its Technical Reference Manual)"
        );
        assert_eq!(lacking("stalls", &a72), ["stall_frontend", "stall_backend"]);
        assert_eq!(
            lacking("stalls", &arm("0xd03")),
            ["stall_frontend", "stall_backend"]
        );
        for part in ["0xd05", "0xd0b", "0xd0c"] {
            assert!(lacking("stalls", &arm(part)).is_empty(), "{part}");
        }
        // an Arm core not tabulated: everything is opened, the kernel decides
        assert!(lacking("all", &arm("0xd07")).is_empty());
    }

    #[test]
    fn simd_and_memory_sets_per_core() {
        assert_eq!(
            lacking("simd", &arm("0xd03")),
            ["inst_spec", "ase_spec", "ld_spec", "st_spec"],
            "the in-order A53 counts retired loads and stores, nothing speculative"
        );
        for part in ["0xd08", "0xd0b", "0xd0c"] {
            assert_eq!(
                lacking("simd", &arm(part)),
                ["ld_retired", "st_retired"],
                "{part}"
            );
        }
        assert!(
            lacking("all", &arm("0xd05")).is_empty(),
            "the A55 has them all"
        );
        for part in ["0xd03", "0xd05", "0xd08", "0xd0b", "0xd0c"] {
            assert!(lacking("memory", &arm(part)).is_empty(), "{part}");
        }
    }

    #[test]
    fn x86_gets_the_generic_events_and_no_arm_ones() {
        let cpu = x86();
        let memory: Vec<String> = resolved("memory", &cpu).into_iter().map(|e| e.0).collect();
        assert_eq!(&memory[..2], ["cache-references", "cache-misses"]);
        assert!(lacking("all", &cpu).is_empty());
        let arm_on_x86 = parse_events_on("l2d_cache_refill", &cpu).unwrap();
        assert_eq!(arm_on_x86[0].kind, EventKind::Raw(0x17));
        assert_eq!(
            arm_on_x86[0].unsupported.as_deref(),
            Some("an Armv8 PMU event (0x17); this CPU is x86_64")
        );
        // named events and sets mix, without duplicates, the software events last
        let mixed: Vec<String> = resolved("cycles,stalls,INSTRUCTIONS", &cpu)
            .into_iter()
            .map(|e| e.0)
            .collect();
        assert_eq!(
            mixed,
            [
                "cycles",
                "instructions",
                "stalled-cycles-frontend",
                "stalled-cycles-backend",
                "branch-misses",
                "task-clock",
                "page-faults",
                "context-switches"
            ]
        );
        assert_eq!(
            resolved("default", &cpu).len(),
            resolved(crate::counters::DEFAULT_EVENTS, &cpu).len()
        );
    }

    #[test]
    fn every_set_fits_one_request_on_every_core() {
        for cpu in ["0xd03", "0xd05", "0xd08", "0xd0b", "0xd0c", "0xd07"]
            .map(arm)
            .into_iter()
            .chain([x86()])
        {
            for set in SET_NAMES {
                let events = parse_events_on(set, &cpu).unwrap();
                assert!(events.len() <= MAX_GROUP_EVENTS, "{set} on {cpu:?}");
            }
        }
    }

    #[test]
    fn a_lacking_event_is_reported_not_counted() {
        let events = parse_events_on("stalls", &arm("0xd08")).unwrap();
        let set = fake::open(&events);
        for (e, s) in events.iter().zip(&set.status) {
            assert_eq!(s.available, e.unsupported.is_none(), "{s:?}");
            assert_eq!(s.reason, e.unsupported, "{s:?}");
            assert_eq!(s.pass.is_some(), s.available, "{s:?}");
        }
        let counted: Vec<usize> = set
            .groups
            .iter()
            .flat_map(|g| g.events().to_vec())
            .collect();
        assert!(
            !counted.contains(&2) && !counted.contains(&3),
            "{counted:?}"
        );
    }
}
