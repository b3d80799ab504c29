//! Values no measurement can hold, by unit: a record with a time above [`MAX_NS`] (2^46 ns,
//! 19.5 hours for one op or one run), a cost above [`MAX_COST`] (2^52 MACs, FLOPs, params or
//! bytes: 4.5 x 10^15, 200 times a ResNet50 at 4096 x 4096, whose 21 x 10^12 MACs are real; no
//! 64-bit CPU addresses more bytes), or a counter above [`MAX_EVENTS`] (2^56 events: 19.5 hours
//! at 1,000 events per ns) is skipped with a note. hiddencost never writes one; a damaged or
//! hand-made log can. The analysis adds such values up saturating, so no sum wraps.

use crate::record::{Cost, OpRecord, Record};

/// Largest time, in ns, a record may carry: 2^46 ns, about 19.5 hours.
pub const MAX_NS: u64 = 1 << 46;
/// Largest static cost (MACs, FLOPs, params, bytes) a record may carry.
pub const MAX_COST: u64 = 1 << 52;
/// Largest counter value (events) a record may carry.
pub const MAX_EVENTS: u64 = 1 << 56;

fn cost_fields(c: &Cost) -> [(&'static str, u64); 11] {
    [
        ("params", c.params),
        ("macs", c.macs),
        ("int8_macs", c.int8_macs),
        ("thop_macs", c.thop_macs),
        ("flops", c.flops),
        ("bytes_read", c.bytes_read),
        ("weight_bytes", c.weight_bytes),
        ("bytes_written", c.bytes_written),
        ("packed_const_bytes", c.packed_const_bytes),
        ("scratch_bytes_read", c.scratch_bytes_read),
        ("scratch_bytes_written", c.scratch_bytes_written),
    ]
}

/// [`implausible`] for an op record, without a copy of it unless it is implausible.
pub fn implausible_op(o: &OpRecord) -> Option<String> {
    let fine = cost_fields(&o.cost).iter().all(|&(_, v)| v <= MAX_COST)
        && [o.wall_ns.median, o.wall_ns.min, o.wall_ns.max]
            .iter()
            .all(|&v| v <= MAX_NS)
        && o.counters
            .values()
            .flatten()
            .all(|v| v.median <= MAX_EVENTS);
    if fine {
        None
    } else {
        implausible(&Record::Op(o.clone()))
    }
}

/// A field's value, and the limit of its unit.
struct Field {
    name: &'static str,
    value: u64,
    unit: Unit,
}

#[derive(Clone, Copy)]
enum Unit {
    Ns,
    Cost,
    Events,
}

impl Unit {
    fn limit(self) -> u64 {
        match self {
            Unit::Ns => MAX_NS,
            Unit::Cost => MAX_COST,
            Unit::Events => MAX_EVENTS,
        }
    }

    fn said(self) -> &'static str {
        match self {
            Unit::Ns => "2^46 ns, 19.5 hours",
            Unit::Cost => "2^52 MACs, FLOPs, params or bytes",
            Unit::Events => "2^56 events",
        }
    }
}

fn of(unit: Unit, fields: impl IntoIterator<Item = (&'static str, u64)>) -> Vec<Field> {
    fields
        .into_iter()
        .map(|(name, value)| Field { name, value, unit })
        .collect()
}

/// Why `record` is implausible, if it is.
pub fn implausible(record: &Record) -> Option<String> {
    let fields: Vec<Field> = match record {
        Record::Node(n) => of(Unit::Cost, cost_fields(&n.cost)),
        Record::Op(o) => {
            let mut f = of(Unit::Cost, cost_fields(&o.cost));
            f.extend(of(
                Unit::Ns,
                [
                    ("wall_ns.median", o.wall_ns.median),
                    ("wall_ns.min", o.wall_ns.min),
                    ("wall_ns.max", o.wall_ns.max),
                ],
            ));
            f.extend(of(
                Unit::Events,
                o.counters
                    .values()
                    .flatten()
                    .map(|v| ("counters", v.median)),
            ));
            f
        }
        Record::Model(m) => {
            let mut f = of(Unit::Cost, cost_fields(&m.cost));
            let l = &m.latency_ns;
            f.extend(of(
                Unit::Ns,
                [
                    ("latency_ns.min", l.min),
                    ("latency_ns.median", l.median),
                    ("latency_ns.p90", l.p90),
                    ("latency_ns.p99", l.p99),
                    ("latency_ns.max", l.max),
                    ("sum_op_wall_median_ns", m.sum_op_wall_median_ns),
                    ("profiled_latency_median_ns", m.profiled_latency_median_ns),
                ],
            ));
            f.extend(of(
                Unit::Ns,
                m.unattributed_median_ns
                    .map(|v| ("unattributed_median_ns", v)),
            ));
            f.extend(of(
                Unit::Ns,
                m.counter_read_median_ns
                    .map(|v| ("counter_read_median_ns", v)),
            ));
            f.extend(of(
                Unit::Events,
                m.counter_totals
                    .values()
                    .flatten()
                    .map(|&v| ("counter_totals", v)),
            ));
            f
        }
        _ => return None,
    };
    let f = fields.into_iter().find(|f| f.value > f.unit.limit())?;
    Some(format!(
        "`{}` is {}, more than any measurement can hold (at most {})",
        f.name,
        f.value,
        f.unit.said()
    ))
}
