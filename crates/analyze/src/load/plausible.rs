//! Values no measurement can hold, by unit: a record with a time above [`MAX_NS`] (2^46 ns,
//! 19.5 hours for one op or one run), a cost above [`MAX_COST`] (2^52 MACs, FLOPs, params or
//! bytes: 4.5 x 10^15, 200 times a ResNet50 at 4096 x 4096, whose 21 x 10^12 MACs are real; no
//! 64-bit CPU addresses more bytes), or a counter above [`MAX_EVENTS`] (2^56 events: 19.5 hours
//! at 1,000 events per ns) is skipped with a note. hiddencost never writes one; a damaged or
//! hand-made log can. The analysis adds such values up saturating, so no sum wraps.

use crate::record::{Cost, ModelRecord, OpRecord, Record};

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

fn of(
    unit: Unit,
    fields: impl IntoIterator<Item = (&'static str, u64)>,
) -> impl Iterator<Item = Field> {
    fields
        .into_iter()
        .map(move |(name, value)| Field { name, value, unit })
}

/// The checked fields of an op record (nothing allocated: every op of a log goes through it).
fn op_fields(o: &OpRecord) -> impl Iterator<Item = Field> + '_ {
    of(Unit::Cost, cost_fields(&o.cost))
        .chain(of(
            Unit::Ns,
            [
                ("wall_ns.median", o.wall_ns.median),
                ("wall_ns.min", o.wall_ns.min),
                ("wall_ns.max", o.wall_ns.max),
            ],
        ))
        .chain(of(
            Unit::Events,
            o.counters
                .values()
                .flatten()
                .map(|v| ("counters", v.median)),
        ))
}

/// The checked fields of a model record.
fn model_fields(m: &ModelRecord) -> impl Iterator<Item = Field> + '_ {
    let l = &m.latency_ns;
    of(Unit::Cost, cost_fields(&m.cost))
        .chain(of(
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
        ))
        .chain(of(
            Unit::Ns,
            m.unattributed_median_ns
                .map(|v| ("unattributed_median_ns", v))
                .into_iter()
                .chain(
                    m.counter_read_median_ns
                        .map(|v| ("counter_read_median_ns", v)),
                ),
        ))
        .chain(of(
            Unit::Events,
            m.counter_totals
                .values()
                .flatten()
                .map(|&v| ("counter_totals", v)),
        ))
}

/// The first field beyond its unit's limit, said.
fn first_beyond(mut fields: impl Iterator<Item = Field>) -> Option<String> {
    let f = fields.find(|f| f.value > f.unit.limit())?;
    Some(format!(
        "`{}` is {}, more than any measurement can hold (at most {})",
        f.name,
        f.value,
        f.unit.said()
    ))
}

/// [`implausible`] for an op record.
pub fn implausible_op(o: &OpRecord) -> Option<String> {
    first_beyond(op_fields(o))
}

/// Why `record` is implausible, if it is.
pub fn implausible(record: &Record) -> Option<String> {
    match record {
        Record::Node(n) => first_beyond(of(Unit::Cost, cost_fields(&n.cost))),
        Record::Op(o) => implausible_op(o),
        Record::Model(m) => first_beyond(model_fields(m)),
        _ => None,
    }
}
