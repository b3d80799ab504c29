//! Deterministic counters for tests (`--fake-counters`).
//!
//! Every event "opens" but those known unsupported (an Arm event the core lacks). PMU events are packed [`FAKE_PMU_COUNTERS`] to a group, so the pass
//! splitting is exercised as on a real board. Each read advances a tick; event `e` (index in
//! the run's event list) reads `tick * (e + 1) * 1000`, and time_enabled = time_running =
//! `tick * 1000`. A read before and after an operator therefore gives exactly
//! `(e + 1) * 1000` for event `e` and a running ratio of 1.0, whatever the machine. A group of
//! software events only is read per run ([`CounterGroup::per_op`]), as the real one is.

use super::{CounterGroup, CounterSet, EventSpec};
use crate::record::EventStatus;
use std::io;

/// PMU counters the fake pretends to have (a Cortex-A72 has 6 plus the cycle counter).
pub const FAKE_PMU_COUNTERS: usize = 4;

pub struct FakeGroup {
    events: Vec<usize>,
    tick: u64,
    /// Whether it holds a PMU event: a group of software events only is read per run, as
    /// the real one is.
    pmu: bool,
}

impl CounterGroup for FakeGroup {
    fn events(&self) -> &[usize] {
        &self.events
    }

    fn enable(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn disable(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn read(&mut self, out: &mut [u64]) -> io::Result<()> {
        self.tick += 1;
        out[0] = self.tick * 1000;
        out[1] = self.tick * 1000;
        for (i, &e) in self.events.iter().enumerate() {
            out[2 + i] = self.tick * (e as u64 + 1) * 1000;
        }
        Ok(())
    }

    fn method(&self) -> &'static str {
        "fake"
    }

    fn per_op(&self) -> bool {
        self.pmu
    }
}

pub fn open(events: &[EventSpec]) -> CounterSet {
    let software: Vec<usize> = (0..events.len())
        .filter(|&i| !events[i].kind.uses_pmu())
        .collect();
    let pmu: Vec<usize> = (0..events.len())
        .filter(|&i| events[i].kind.uses_pmu() && events[i].unsupported.is_none())
        .collect();
    let mut chunks: Vec<Vec<usize>> = pmu
        .chunks(FAKE_PMU_COUNTERS)
        .map(<[usize]>::to_vec)
        .collect();
    if chunks.is_empty() {
        chunks.push(Vec::new());
    }
    let mut status: Vec<EventStatus> = events
        .iter()
        .map(|e| EventStatus {
            name: e.name.clone(),
            kind: e.kind.label().to_string(),
            available: e.unsupported.is_none(),
            reason: e.unsupported.clone(),
            pass: e.unsupported.is_none().then_some(0),
        })
        .collect();
    let mut groups: Vec<Box<dyn CounterGroup>> = Vec::new();
    for (pass, chunk) in chunks.into_iter().enumerate() {
        for &ix in &chunk {
            status[ix].pass = Some(pass);
        }
        let pmu = !chunk.is_empty();
        let members = chunk.into_iter().chain(software.iter().copied()).collect();
        groups.push(Box::new(FakeGroup {
            events: members,
            tick: 0,
            pmu,
        }));
    }
    CounterSet {
        status,
        groups,
        syscall_reason: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::counters::{DEFAULT_EVENTS, parse_events};

    #[test]
    fn splits_seven_pmu_events_over_two_passes() {
        let events = parse_events(DEFAULT_EVENTS).unwrap();
        let set = open(&events);
        assert_eq!(set.passes(), 2);
        let passes: Vec<_> = set.status.iter().map(|s| s.pass.unwrap()).collect();
        assert_eq!(passes, [0, 0, 0, 0, 1, 1, 1, 0, 0, 0]);
        // software events (last three) are in both groups
        assert_eq!(set.groups[1].events(), &[4, 5, 6, 7, 8, 9]);
    }

    #[test]
    fn deltas_are_exact() {
        let events = parse_events("cycles").unwrap();
        let mut set = open(&events);
        let (mut a, mut b) = ([0u64; 8], [0u64; 8]);
        set.groups[0].read(&mut a).unwrap();
        set.groups[0].read(&mut b).unwrap();
        assert_eq!(b[1] - a[1], 1000);
        assert_eq!(b[2] - a[2], 1000); // cycles, event 0
        assert_eq!(b[3] - a[3], 2000); // task-clock, event 1
    }
}
