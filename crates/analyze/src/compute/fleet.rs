//! Fleet analysis: the same models on many boards, one summary over all of them.
//!
//! Boards are grouped into classes (board model without its revision, and CPU): a Cortex-A76
//! board is never an outlier among Cortex-A53 ones, it is another class. Per model and class:
//! the boards that measured it, the median of their clean median latencies, min/max, the
//! quartiles (linear interpolation between order statistics, as numpy's default and DuckDB's
//! `median`/`quantile_cont`) and the median absolute deviation (MAD). A board is an outlier for
//! a model when its robust z-score, `(latency - median) / (1.4826 * MAD)`, is beyond
//! [`OUTLIER_Z`] (Iglewicz and Hoaglin's modified z-score rule) and its latency is at least
//! [`MIN_DEVIATION`] away from the median (so that a class whose boards agree to the
//! nanosecond, MAD 0, does not flag noise), with at least [`MIN_BOARDS_FOR_OUTLIERS`] boards in
//! the class. Each outlier carries what its logs say could explain it: a governor other than
//! `performance`, a temperature rise, the bench's noise warnings on that model, roofs below the
//! class's median.
//!
//! Nothing here formats text: render/fleet.rs does.

use super::bounds::{NoRoofs, Roofs};
use super::facts::{governor, thermal_drift_c};
use crate::load::{Dataset, ModelRun};
use std::collections::{BTreeMap, HashMap};

/// Robust z-score beyond which a board is an outlier for a model.
pub const OUTLIER_Z: f64 = 3.5;
/// Scale that makes the MAD a consistent estimator of a normal distribution's sigma.
pub const MAD_SCALE: f64 = 1.4826;
/// Smallest relative distance from the class median for an outlier (0.02 = 2%).
pub const MIN_DEVIATION: f64 = 0.02;
/// Fewest boards in a class for which outliers are looked for.
pub const MIN_BOARDS_FOR_OUTLIERS: usize = 3;
/// A temperature rise (°C) from the run's start to the model that counts as a reason.
pub const DRIFT_REASON_C: f64 = 5.0;
/// A roof this far below its class median (0.9 = 10% lower) counts as a reason.
pub const ROOF_REASON_RATIO: f64 = 0.9;

/// Everything the fleet section shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Fleet {
    /// Board classes, in first-seen order.
    pub classes: Vec<BoardClass>,
    /// Parallel to `Dataset::devices`.
    pub boards: Vec<BoardFacts>,
    /// Per (model, class), models in first-seen order, then classes.
    pub models: Vec<ModelSpread>,
}

/// Boards of one kind: board model without its revision, and CPU.
#[derive(Debug, Clone, PartialEq)]
pub struct BoardClass {
    pub name: ClassName,
    /// Indexes into `Dataset::devices`.
    pub boards: Vec<usize>,
    /// Median over the class's boards of each logged roof.
    pub roofs: RoofFigures,
}

/// The machine roofs of one board (the values its bounds use; `None` where not logged).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RoofFigures {
    pub peak_macs_per_s: Option<f64>,
    /// Read bandwidth of the last (largest) level: DRAM.
    pub dram_read_bytes_per_s: Option<f64>,
    pub dram_write_bytes_per_s: Option<f64>,
    pub floor_ns: Option<f64>,
}

/// What the logs say about one board.
#[derive(Debug, Clone, PartialEq)]
pub struct BoardFacts {
    pub device: usize,
    /// Index into [`Fleet::classes`].
    pub class: usize,
    pub models: usize,
    /// Distinct cpufreq governors over its runs (pinned CPU first, as `facts::governor`).
    pub governors: Vec<String>,
    /// Largest temperature rise of any of its models, °C.
    pub max_drift_c: Option<f64>,
    /// Noise warnings of its model records, by kind.
    pub warnings: BTreeMap<String, usize>,
    /// From the first run of the board whose header has machine roofs.
    pub roofs: RoofFigures,
    /// Why there are no roofs, when there are none.
    pub no_roofs: Option<NoRoofs>,
}

/// One model over the boards of one class.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelSpread {
    pub model: String,
    pub class: usize,
    /// (device, index into `Dataset::runs`, clean median latency ns), fastest first.
    pub boards: Vec<(usize, usize, f64)>,
    pub median_ns: f64,
    pub min_ns: f64,
    pub max_ns: f64,
    pub q1_ns: f64,
    pub q3_ns: f64,
    pub mad_ns: f64,
    /// Most extreme first.
    pub outliers: Vec<Outlier>,
}

impl ModelSpread {
    pub fn iqr_ns(&self) -> f64 {
        self.q3_ns - self.q1_ns
    }

    /// Robust z-score of a latency against this spread (infinite when the MAD is 0 and the
    /// latency differs from the median; 0 when it equals it).
    pub fn robust_z(&self, latency_ns: f64) -> f64 {
        let d = latency_ns - self.median_ns;
        if d == 0.0 {
            0.0
        } else if self.mad_ns > 0.0 {
            d / (MAD_SCALE * self.mad_ns)
        } else {
            d.signum() * f64::INFINITY
        }
    }
}

/// A board whose latency for a model is far from its class's median.
#[derive(Debug, Clone, PartialEq)]
pub struct Outlier {
    pub device: usize,
    /// Index into `Dataset::runs`.
    pub run: usize,
    pub latency_ns: f64,
    /// Latency over the class median.
    pub ratio: f64,
    pub robust_z: f64,
    pub reasons: Vec<Reason>,
}

/// Something in the board's logs that may explain an outlier.
#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    /// The cpufreq governor of the run, when not `performance`.
    Governor(String),
    /// Temperature rise from the run's start to this model, °C.
    Drift(f64),
    /// A noise warning the bench wrote on this model: (kind, message).
    Warning(String, String),
    /// A roof of this board over its class's median (below [`ROOF_REASON_RATIO`]).
    Roof(RoofKind, f64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoofKind {
    Peak,
    DramRead,
    /// The dispatch floor, where higher is worse: the ratio is class median over board.
    Floor,
}

/// Linear-interpolation quantile of sorted values (numpy's default, DuckDB's
/// `quantile_cont`); `None` for no values.
pub fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let pos = q.clamp(0.0, 1.0) * (n - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let frac = pos - lo as f64;
    Some(sorted[lo] + (sorted[hi] - sorted[lo]) * frac)
}

/// Median of unsorted values (`None` for none).
pub fn median(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    quantile(&v, 0.5)
}

/// What a board class is known by: its board model without " Rev ..." and its CPU without
/// " @ ..." (either may be unknown), or its architecture when neither is logged.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ClassName {
    Board {
        board: Option<String>,
        cpu: Option<String>,
    },
    Arch(String),
}

/// The class of a board.
pub fn class_name(run_context: &crate::record::Context) -> ClassName {
    let board = run_context
        .device_model
        .as_deref()
        .map(|m| m.split(" Rev ").next().unwrap_or(m).trim().to_string())
        .filter(|m| !m.is_empty());
    let cpu = run_context
        .cpu_model
        .as_deref()
        .map(|c| c.split(" @ ").next().unwrap_or(c).trim().to_string())
        .filter(|c| !c.is_empty());
    match (board, cpu) {
        (None, None) => ClassName::Arch(run_context.arch.clone()),
        (board, cpu) => ClassName::Board { board, cpu },
    }
}

/// Roofs of one run's header.
pub fn roof_figures(run: &ModelRun) -> Result<RoofFigures, NoRoofs> {
    let r = Roofs::of(&run.header)?;
    let last = r.levels.last();
    Ok(RoofFigures {
        peak_macs_per_s: Some(r.peak_macs_per_s),
        dram_read_bytes_per_s: last.map(|l| l.read_bytes_per_s),
        dram_write_bytes_per_s: last.map(|l| l.write_bytes_per_s),
        floor_ns: Some(r.floor_ns),
    })
}

/// The fleet over the dataset; `None` unless some board class has two boards or more.
pub fn fleet(data: &Dataset) -> Option<Fleet> {
    if data.devices.len() < 2 {
        return None;
    }
    let mut classes: Vec<BoardClass> = Vec::new();
    let mut class_of_name: HashMap<ClassName, usize> = HashMap::new();
    let mut boards: Vec<BoardFacts> = Vec::with_capacity(data.devices.len());
    for (d, dev) in data.devices.iter().enumerate() {
        let name = class_name(&dev.context);
        let class = *class_of_name.entry(name.clone()).or_insert_with(|| {
            classes.push(BoardClass {
                name,
                boards: Vec::new(),
                roofs: RoofFigures::default(),
            });
            classes.len() - 1
        });
        classes[class].boards.push(d);
        boards.push(BoardFacts {
            device: d,
            class,
            models: 0,
            governors: Vec::new(),
            max_drift_c: None,
            warnings: BTreeMap::new(),
            roofs: RoofFigures::default(),
            no_roofs: None,
        });
    }
    // Boards that are each the only one of their kind make a comparison of devices (section 7),
    // not a fleet.
    if classes.iter().all(|c| c.boards.len() < 2) {
        return None;
    }
    let mut have_roofs = vec![false; boards.len()];
    for run in &data.runs {
        let b = &mut boards[run.device];
        b.models += 1;
        if let Some(g) = governor(run)
            && !b.governors.contains(&g)
        {
            b.governors.push(g);
        }
        if let Some(c) = thermal_drift_c(run) {
            b.max_drift_c = Some(b.max_drift_c.map_or(c, |m: f64| m.max(c)));
        }
        for w in &run.model.warnings {
            *b.warnings.entry(w.kind.clone()).or_default() += 1;
        }
        if !have_roofs[run.device] {
            match roof_figures(run) {
                Ok(r) => {
                    b.roofs = r;
                    b.no_roofs = None;
                    have_roofs[run.device] = true;
                }
                Err(why) => b.no_roofs = Some(why),
            }
        }
    }
    for class in &mut classes {
        let of = |f: fn(&RoofFigures) -> Option<f64>| {
            let v: Vec<f64> = class
                .boards
                .iter()
                .filter_map(|&d| f(&boards[d].roofs))
                .collect();
            median(&v)
        };
        class.roofs = RoofFigures {
            peak_macs_per_s: of(|r| r.peak_macs_per_s),
            dram_read_bytes_per_s: of(|r| r.dram_read_bytes_per_s),
            dram_write_bytes_per_s: of(|r| r.dram_write_bytes_per_s),
            floor_ns: of(|r| r.floor_ns),
        };
    }

    // (model, class) -> its runs, in first-seen order of models.
    let mut order: Vec<(String, usize)> = Vec::new();
    let mut at: HashMap<(&str, usize), usize> = HashMap::new();
    let mut members: Vec<Vec<(usize, usize, f64)>> = Vec::new();
    for (ix, run) in data.runs.iter().enumerate() {
        let class = boards[run.device].class;
        let slot = *at
            .entry((run.model.model.as_str(), class))
            .or_insert_with(|| {
                order.push((run.model.model.clone(), class));
                members.push(Vec::new());
                members.len() - 1
            });
        members[slot].push((run.device, ix, run.model.latency_ns.median as f64));
    }
    let mut models: Vec<ModelSpread> = order
        .into_iter()
        .zip(members)
        .filter_map(|((model, class), m)| spread(data, &boards, &classes, model, class, m))
        .collect();
    // Models in first-seen order, classes in class order within a model.
    let first_seen: HashMap<String, usize> = {
        let mut h = HashMap::new();
        for s in &models {
            let n = h.len();
            h.entry(s.model.clone()).or_insert(n);
        }
        h
    };
    models.sort_by_key(|s| (first_seen.get(&s.model).copied(), s.class));
    Some(Fleet {
        classes,
        boards,
        models,
    })
}

fn spread(
    data: &Dataset,
    boards: &[BoardFacts],
    classes: &[BoardClass],
    model: String,
    class: usize,
    mut members: Vec<(usize, usize, f64)>,
) -> Option<ModelSpread> {
    members.sort_by(|a, b| a.2.total_cmp(&b.2));
    let lat: Vec<f64> = members.iter().map(|m| m.2).collect();
    let median_ns = quantile(&lat, 0.5)?;
    let mut dev: Vec<f64> = lat.iter().map(|x| (x - median_ns).abs()).collect();
    dev.sort_by(f64::total_cmp);
    let mut s = ModelSpread {
        model,
        class,
        median_ns,
        min_ns: lat[0],
        max_ns: lat[lat.len() - 1],
        q1_ns: quantile(&lat, 0.25)?,
        q3_ns: quantile(&lat, 0.75)?,
        mad_ns: quantile(&dev, 0.5)?,
        boards: members,
        outliers: Vec::new(),
    };
    if s.boards.len() >= MIN_BOARDS_FOR_OUTLIERS {
        let mut out: Vec<Outlier> = s
            .boards
            .iter()
            .filter_map(|&(device, run, latency_ns)| {
                let z = s.robust_z(latency_ns);
                let far = (latency_ns - median_ns).abs() >= MIN_DEVIATION * median_ns;
                (z.abs() > OUTLIER_Z && far).then(|| Outlier {
                    device,
                    run,
                    latency_ns,
                    ratio: if median_ns > 0.0 {
                        latency_ns / median_ns
                    } else {
                        f64::INFINITY
                    },
                    robust_z: z,
                    reasons: reasons(&data.runs[run], &boards[device], &classes[class]),
                })
            })
            .collect();
        out.sort_by(|a, b| b.robust_z.abs().total_cmp(&a.robust_z.abs()));
        s.outliers = out;
    }
    Some(s)
}

/// What the board's logs say that may explain an outlier on this run.
fn reasons(run: &ModelRun, board: &BoardFacts, class: &BoardClass) -> Vec<Reason> {
    let mut out = Vec::new();
    if let Some(g) = governor(run).filter(|g| g != "performance") {
        out.push(Reason::Governor(g));
    }
    if let Some(c) = thermal_drift_c(run).filter(|c| *c >= DRIFT_REASON_C) {
        out.push(Reason::Drift(c));
    }
    for w in &run.model.warnings {
        // The governor is already a reason of its own.
        if w.kind != "governor" || !out.iter().any(|r| matches!(r, Reason::Governor(_))) {
            out.push(Reason::Warning(w.kind.clone(), w.message.clone()));
        }
    }
    let ratio = |b: Option<f64>, c: Option<f64>| match (b, c) {
        (Some(b), Some(c)) if c > 0.0 && b > 0.0 => Some(b / c),
        _ => None,
    };
    let (r, c) = (&board.roofs, &class.roofs);
    if let Some(x) = ratio(r.peak_macs_per_s, c.peak_macs_per_s).filter(|x| *x < ROOF_REASON_RATIO)
    {
        out.push(Reason::Roof(RoofKind::Peak, x));
    }
    if let Some(x) =
        ratio(r.dram_read_bytes_per_s, c.dram_read_bytes_per_s).filter(|x| *x < ROOF_REASON_RATIO)
    {
        out.push(Reason::Roof(RoofKind::DramRead, x));
    }
    // A higher floor is worse: class over board.
    if let Some(x) = ratio(c.floor_ns, r.floor_ns).filter(|x| *x < ROOF_REASON_RATIO) {
        out.push(Reason::Roof(RoofKind::Floor, x));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_like_numpy() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&v, 0.5), Some(2.5));
        assert_eq!(quantile(&v, 0.25), Some(1.75));
        assert_eq!(quantile(&v, 0.75), Some(3.25));
        assert_eq!(quantile(&[7.0], 0.5), Some(7.0));
        assert_eq!(quantile(&[], 0.5), None);
        assert_eq!(median(&[5.0, 1.0, 3.0]), Some(3.0));
    }

    #[test]
    fn class_drops_the_revision() {
        let ctx = |m: &str| crate::record::Context {
            device_model: Some(m.into()),
            cpu_model: Some("Cortex-A72".into()),
            ..Default::default()
        };
        assert_eq!(
            class_name(&ctx("Raspberry Pi 4 Model B Rev 1.4")),
            class_name(&ctx("Raspberry Pi 4 Model B Rev 1.1"))
        );
        assert_eq!(
            class_name(&ctx("Raspberry Pi 4 Model B Rev 1.4")),
            ClassName::Board {
                board: Some("Raspberry Pi 4 Model B".into()),
                cpu: Some("Cortex-A72".into())
            }
        );
    }
}
