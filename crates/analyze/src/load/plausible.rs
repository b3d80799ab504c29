//! Counts no measurement can have: a record with a time, cost or count above
//! [`MAX_COUNT`] (2^40: 18 minutes in ns, a trillion MACs or bytes, for one op or one model) is
//! skipped with a note. hiddencost never writes one; a damaged or hand-made log can, and every
//! sum of the analysis (over at most 2^23 records) then stays far from overflowing 64 bits.

use crate::record::{Cost, OpRecord, Record};

/// Largest count a record may carry in a time, cost or counter field.
pub const MAX_COUNT: u64 = 1 << 40;

fn cost_fields(c: &Cost) -> [(&'static str, u64); 10] {
    [
        ("params", c.params),
        ("macs", c.macs),
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
    let fine = cost_fields(&o.cost).iter().all(|&(_, v)| v <= MAX_COUNT)
        && [o.wall_ns.median, o.wall_ns.min, o.wall_ns.max]
            .iter()
            .all(|&v| v <= MAX_COUNT)
        && o.counters.values().flatten().all(|v| v.median <= MAX_COUNT);
    if fine {
        None
    } else {
        implausible(&Record::Op(o.clone()))
    }
}

/// Why `record` is implausible, if it is.
pub fn implausible(record: &Record) -> Option<String> {
    let fields: Vec<(&str, u64)> = match record {
        Record::Node(n) => cost_fields(&n.cost).to_vec(),
        Record::Op(o) => {
            let mut f = cost_fields(&o.cost).to_vec();
            f.extend([
                ("wall_ns.median", o.wall_ns.median),
                ("wall_ns.min", o.wall_ns.min),
                ("wall_ns.max", o.wall_ns.max),
            ]);
            f.extend(
                o.counters
                    .values()
                    .flatten()
                    .map(|v| ("counters", v.median)),
            );
            f
        }
        Record::Model(m) => {
            let mut f = cost_fields(&m.cost).to_vec();
            let l = &m.latency_ns;
            f.extend([
                ("latency_ns.min", l.min),
                ("latency_ns.median", l.median),
                ("latency_ns.p90", l.p90),
                ("latency_ns.p99", l.p99),
                ("latency_ns.max", l.max),
                ("sum_op_wall_median_ns", m.sum_op_wall_median_ns),
                ("profiled_latency_median_ns", m.profiled_latency_median_ns),
            ]);
            f.extend(
                m.unattributed_median_ns
                    .map(|v| ("unattributed_median_ns", v)),
            );
            f.extend(
                m.counter_read_median_ns
                    .map(|v| ("counter_read_median_ns", v)),
            );
            f.extend(
                m.counter_totals
                    .values()
                    .flatten()
                    .map(|&v| ("counter_totals", v)),
            );
            f
        }
        _ => return None,
    };
    let (field, value) = fields.into_iter().find(|&(_, v)| v > MAX_COUNT)?;
    Some(format!(
        "`{field}` is {value}, more than any measurement can be (at most 2^40)"
    ))
}
