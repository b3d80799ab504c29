//! The ops table, defined once: every executed op of every model with its cost, time, bound
//! and counters. Two outputs read it, each a selection of its columns under its own names:
//! the report's ops.csv ([`Output::Csv`]: the device, the bound's terms and the counter
//! ratios) and the export's ops.parquet ([`Output::Export`]: ids, every cost field and the raw
//! counters). The rows come in groups of a given size, so that neither output holds a fleet's
//! millions of ops at once.

use super::names;
use crate::compute::Analysis;
use crate::compute::bounds::ModelBounds;
use crate::compute::metrics::{Agg, RATIOS, Ratio};
use crate::load::{Dataset, ModelRun, Op};
use crate::table::{Cell, Column, Kind, Table};
use std::collections::BTreeSet;

/// The outputs of the ops table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// The report's ops.csv.
    Csv,
    /// The export's ops.parquet.
    Export,
}

/// What one column of the ops table holds.
#[derive(Debug, Clone, PartialEq)]
enum Field {
    ModelId,
    RunId,
    Board,
    Model,
    NodeId,
    Order,
    Node,
    Op,
    Category,
    SourceNode,
    SourceOp,
    SourceCategory,
    FusedSources,
    Params,
    Macs,
    Int8Macs,
    ThopMacs,
    Flops,
    BytesRead,
    WeightBytes,
    BytesWritten,
    PackedConstBytes,
    ScratchBytesRead,
    ScratchBytesWritten,
    WallMedian,
    WallMin,
    WallMax,
    /// MACs per ns of the median: GMAC/s.
    GmacPerS,
    BoundNs,
    ComputeNs,
    /// The peak the compute term used: `f32`, `int8`, `int8 unmeasured`; null without MACs.
    ComputeRoof,
    MemoryNs,
    MemoryLevel,
    FloorNs,
    /// Time above the bound, 0 at the most.
    AboveBoundNs,
    Limiter,
    /// Time over the bound, negative below it.
    ExcessNs,
    Ratio(Ratio),
    /// The median of a counter event.
    Counter(String),
}

/// One column: what it holds, its kind, and its name in each output that has it.
struct OpColumn {
    field: Field,
    kind: Kind,
    nullable: bool,
    csv: Option<String>,
    export: Option<String>,
}

/// The columns of the ops table in order: the fixed ones, the counter ratios (ops.csv), then
/// one per counter event (ops.parquet, named by [`counter_column`]).
fn columns(counters: &[String]) -> Vec<OpColumn> {
    use Field::*;
    use Kind::{Float, Int, Text};
    // (field, kind, nullable, name in ops.csv, name in ops.parquet)
    let fixed: [(Field, Kind, bool, &str, &str); 37] = [
        (ModelId, Int, false, "", "model_id"),
        (RunId, Int, false, "", "run_id"),
        (Board, Text, false, "device", "board"),
        (Model, Text, false, "model", "model"),
        (NodeId, Int, false, "", "node_id"),
        (Order, Int, false, "order", "exec_order"),
        (Node, Text, false, "node", "node"),
        (Op, Text, false, "op", "op"),
        (Category, Text, false, "category", "category"),
        (SourceNode, Text, true, "source_node", "source_node"),
        (SourceOp, Text, true, "source_op", "source_op"),
        (SourceCategory, Text, true, "", "source_category"),
        (FusedSources, Text, true, "", "fused_sources"),
        (Params, Int, false, "", "params"),
        (Macs, Int, false, "macs", "macs"),
        (Int8Macs, Int, false, "int8_macs", "int8_macs"),
        (ThopMacs, Int, false, "", "thop_macs"),
        (Flops, Int, false, "", "flops"),
        (BytesRead, Int, false, "bytes_read", "bytes_read"),
        (WeightBytes, Int, false, "", "weight_bytes"),
        (BytesWritten, Int, false, "bytes_written", "bytes_written"),
        (
            PackedConstBytes,
            Int,
            false,
            "packed_const_bytes",
            "packed_const_bytes",
        ),
        (
            ScratchBytesRead,
            Int,
            false,
            "scratch_bytes_read",
            "scratch_bytes_read",
        ),
        (
            ScratchBytesWritten,
            Int,
            false,
            "scratch_bytes_written",
            "scratch_bytes_written",
        ),
        (WallMedian, Int, false, "wall_ns_median", "wall_median_ns"),
        (WallMin, Int, false, "wall_ns_min", "wall_min_ns"),
        (WallMax, Int, false, "wall_ns_max", "wall_max_ns"),
        (GmacPerS, Float, true, "gmac_per_s", ""),
        (BoundNs, Float, true, "bound_ns", "bound_ns"),
        (ComputeNs, Float, true, "compute_ns", ""),
        (ComputeRoof, Text, true, "compute_roof", "compute_roof"),
        (MemoryNs, Float, true, "memory_ns", ""),
        (MemoryLevel, Text, true, "memory_level", ""),
        (FloorNs, Float, true, "floor_ns", ""),
        (AboveBoundNs, Float, true, "", "above_bound_ns"),
        (Limiter, Text, true, "limiter", "limiter"),
        (ExcessNs, Float, true, "excess_ns", ""),
    ];
    let name = |n: &str| (!n.is_empty()).then(|| n.to_string());
    let mut cols: Vec<OpColumn> = (fixed.into_iter())
        .map(|(field, kind, nullable, csv, export)| OpColumn {
            field,
            kind,
            nullable,
            csv: name(csv),
            export: name(export),
        })
        .collect();
    cols.extend(RATIOS.iter().map(|r| OpColumn {
        field: Ratio(*r),
        kind: Float,
        nullable: true,
        csv: Some(r.csv_name().to_string()),
        export: None,
    }));
    cols.extend(counters.iter().map(|c| OpColumn {
        field: Counter(c.clone()),
        kind: Int,
        nullable: true,
        csv: None,
        export: Some(counter_column(c)),
    }));
    cols
}

/// A counter's column name: `counter_` and the event name in lower case, every character that
/// is not a letter or digit as `_` (`cache-misses` -> `counter_cache_misses`).
pub fn counter_column(event: &str) -> String {
    let body: String = event
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("counter_{body}")
}

/// Every counter name of the ops, sorted.
pub fn counter_names(data: &Dataset) -> Vec<String> {
    let mut names: BTreeSet<&str> = BTreeSet::new();
    for r in &data.runs {
        for op in &r.ops {
            names.extend(op.counters.keys().map(|k| k.as_str()));
        }
    }
    names.into_iter().map(String::from).collect()
}

/// The columns of `output`: its selection of the ops table, under its names.
pub struct Selection {
    fields: Vec<Field>,
    /// An empty table of the selected columns.
    pub schema: Table,
    /// Whether a row needs the op's counter sums (a ratio column).
    sums: bool,
}

impl Selection {
    pub fn new(output: Output, data: &Dataset) -> Selection {
        let counters = match output {
            Output::Csv => Vec::new(),
            Output::Export => counter_names(data),
        };
        let (fields, cols): (Vec<Field>, Vec<Column>) = columns(&counters)
            .into_iter()
            .filter_map(|c| {
                let name = match output {
                    Output::Csv => c.csv,
                    Output::Export => c.export,
                }?;
                let mut col = Column::raw(&name, c.kind);
                col.nullable = c.nullable;
                Some((c.field, col))
            })
            .unzip();
        let sums = fields.iter().any(|f| matches!(f, Field::Ratio(_)));
        Selection {
            fields,
            schema: Table::typed(cols),
            sums,
        }
    }
}

/// One op and what its row reads beside it.
struct Row<'a> {
    model_id: usize,
    run_id: usize,
    board: &'a str,
    run: &'a ModelRun,
    op: &'a Op,
    bounds: Option<(&'a ModelBounds, usize)>,
    /// The op's counter sums, when a ratio column needs them.
    sums: Option<Agg>,
}

fn int(v: impl TryInto<u64>) -> Cell {
    Cell::Int(v.try_into().ok())
}

fn text(v: impl ToString) -> Cell {
    Cell::Text(Some(v.to_string()))
}

fn opt_text(v: Option<impl ToString>) -> Cell {
    Cell::Text(v.map(|v| v.to_string()))
}

impl Row<'_> {
    fn cell(&self, field: &Field) -> Cell {
        let op = self.op;
        let bound = self.bounds.map(|(b, ix)| (&b.roofs, &b.ops[ix]));
        let of_bound =
            |v: fn(&crate::compute::bounds::OpBound) -> f64| Cell::Float(bound.map(|(_, o)| v(o)));
        match field {
            Field::ModelId => int(self.model_id),
            Field::RunId => int(self.run_id),
            Field::Board => text(self.board),
            Field::Model => text(&self.run.model.model),
            Field::NodeId => int(op.node_id),
            Field::Order => int(op.order),
            Field::Node => text(&op.node),
            Field::Op => text(&op.op),
            Field::Category => text(&op.category),
            Field::SourceNode => opt_text(op.source_node.as_ref()),
            Field::SourceOp => opt_text(op.source_op.as_ref()),
            Field::SourceCategory => opt_text(op.source_category.as_ref()),
            Field::FusedSources => {
                opt_text((!op.fused_sources.is_empty()).then(|| op.fused_sources.join(",")))
            }
            Field::Params => int(op.cost.params),
            Field::Macs => int(op.cost.macs),
            Field::Int8Macs => int(op.cost.int8_macs),
            Field::ThopMacs => int(op.cost.thop_macs),
            Field::Flops => int(op.cost.flops),
            Field::BytesRead => int(op.cost.bytes_read),
            Field::WeightBytes => int(op.cost.weight_bytes),
            Field::BytesWritten => int(op.cost.bytes_written),
            Field::PackedConstBytes => int(op.cost.packed_const_bytes),
            Field::ScratchBytesRead => int(op.cost.scratch_bytes_read),
            Field::ScratchBytesWritten => int(op.cost.scratch_bytes_written),
            Field::WallMedian => int(op.wall_ns.median),
            Field::WallMin => int(op.wall_ns.min),
            Field::WallMax => int(op.wall_ns.max),
            Field::GmacPerS => Cell::Float(
                (op.cost.macs > 0 && op.wall_ns.median > 0)
                    .then(|| op.cost.macs as f64 / op.wall_ns.median as f64),
            ),
            Field::BoundNs => of_bound(|o| o.bound_ns),
            Field::ComputeNs => of_bound(|o| o.compute_ns),
            Field::ComputeRoof => opt_text(bound.and_then(|(_, o)| names::compute_roof(o.roof))),
            Field::MemoryNs => of_bound(|o| o.memory_ns),
            Field::MemoryLevel => opt_text(bound.map(|(r, o)| &r.levels[o.level].name)),
            Field::FloorNs => of_bound(|o| o.floor_ns),
            Field::AboveBoundNs => of_bound(|o| o.above_ns()),
            Field::Limiter => opt_text(bound.map(|(r, o)| names::limiter_of(r, o.limiter))),
            Field::ExcessNs => of_bound(|o| o.excess_ns),
            Field::Ratio(r) => Cell::Float(self.sums.as_ref().and_then(|s| s.ratio(*r))),
            Field::Counter(c) => Cell::Int(op.counters.get(c).copied().flatten().map(|v| v.median)),
        }
    }
}

/// Run ids: each distinct header (one bench run) in first-seen order; parallel to
/// `Dataset::runs`, and the first model run of each id.
pub fn run_ids(data: &Dataset) -> (Vec<usize>, Vec<usize>) {
    let mut ids: std::collections::HashMap<*const crate::record::Header, usize> =
        Default::default();
    let mut firsts = Vec::new();
    let per_run = (data.runs.iter().enumerate())
        .map(|(ix, r)| {
            let n = ids.len();
            *ids.entry(std::rc::Rc::as_ptr(&r.header))
                .or_insert_with(|| {
                    firsts.push(ix);
                    n
                })
        })
        .collect();
    (per_run, firsts)
}

/// Calls `emit` with the rows of `sel` in groups of `rows_per_group` (at least one call, an
/// empty group when there is no op); returns the number of rows.
pub fn row_groups<E>(
    a: &Analysis,
    data: &Dataset,
    sel: &Selection,
    rows_per_group: usize,
    mut emit: impl FnMut(&Table) -> Result<(), E>,
) -> Result<usize, E> {
    let mut t = sel.schema.clone();
    let (ids, _) = run_ids(data);
    let mut total = 0;
    for (ix, run) in data.runs.iter().enumerate() {
        let bounds = a.bounds.get(ix).and_then(|b| b.as_ref().ok());
        for (k, op) in run.ops.iter().enumerate() {
            let row = Row {
                model_id: ix,
                run_id: ids[ix],
                board: data.device_label(run),
                run,
                op,
                bounds: bounds.map(|b| (b, k)),
                sums: sel.sums.then(|| {
                    let mut one = Agg::default();
                    one.add(op);
                    one
                }),
            };
            t.rows
                .push(sel.fields.iter().map(|f| row.cell(f)).collect());
            total += 1;
            if t.rows.len() >= rows_per_group {
                emit(&t)?;
                t.rows.clear();
            }
        }
    }
    if !t.rows.is_empty() || total == 0 {
        emit(&t)?;
    }
    Ok(total)
}

/// The whole ops table of `output`.
pub fn table(a: &Analysis, data: &Dataset, output: Output) -> Table {
    let sel = Selection::new(output, data);
    let mut all = sel.schema.clone();
    let _ = row_groups(a, data, &sel, usize::MAX, |t| {
        all.rows.extend(t.rows.iter().cloned());
        Ok::<(), ()>(())
    });
    all
}

/// ops.csv written into `w` a group of rows at a time: a fleet's millions of ops never sit in
/// memory as text.
pub fn write_csv(a: &Analysis, data: &Dataset, w: &mut impl std::io::Write) -> std::io::Result<()> {
    let sel = Selection::new(Output::Csv, data);
    w.write_all(sel.schema.to_csv().as_bytes())?;
    row_groups(a, data, &sel, 4096, |t| {
        w.write_all(t.csv_rows().as_bytes())
    })?;
    Ok(())
}

#[cfg(test)]
#[path = "ops_tests.rs"]
mod tests;
