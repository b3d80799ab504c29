//! The report's content, in order, as one [`Doc`]: Findings first, then the tables and charts
//! that back them, each section with a short explanation of what its numbers mean. report.md
//! and report.html are this document in two formats.

use super::doc::{Doc, Text};
use super::findings;
use super::fit;
use super::outline::*;
use super::rq4;
use super::sections;
use super::table::Table;
use super::why::{self, TOP_OPS};
use crate::compute::bounds::PEAK_RAISE_LIMIT;
use crate::compute::correlate::PAIRS;
use crate::compute::{Analysis, View};
use crate::load::Dataset;

/// Up to this many devices, "Devices compared" has a column per device; beyond, the fleet
/// section summarises them (devices.csv has every column).
pub const MAX_COMPARED_DEVICES: usize = 12;

/// Ops listed in the "furthest above their bound" table, per device.
pub const TOP_EXCESS: usize = 15;

const INTRO: &str = "Latency is the clean end-to-end median (runs without per-op hooks); per-op \
times are medians from the instrumented passes. Counters marked \"not measured\" were not \
available on that device.";

const ROOFS: &str = "Measured on the device itself by the probe before the models (`hiddencost \
probe`): the peak f32 MAC rate of tract's own matmul kernel, sustained read, write and copy \
bandwidth for working sets that fit each cache level and DRAM, and the dispatch floor (one \
trivially small op through the same plan and hook). Each figure is repeated: \"used\" is the \
value the bounds below take, the 10th percentile of the repeats counted from the best (the 90th \
of a rate, the 10th of a time: one lone fast repeat does not own it; the best repeat in a log \
without percentiles), then the best repeat, the median and spread = (max - min) / median, \
which the bounds allow for before they call an op faster than its bound.";

const MODELS: &str = "GMAC/s = MACs / median latency. \"sum ops/e2e\" compares the per-op sum \
with end-to-end latency (below 1: time between ops; above 1: the per-op runs were slower). \
\"per-op/clean\" is what profiling costs: the median over rounds of a per-op run's end-to-end \
time over its round's clean run, with a 95% interval [low-high] for that median (order \
statistics, no assumption on the distribution); interleaved runs (the default) pair runs made \
one after the other, so drift of the machine cancels out of it. \
\"above roofs\" is the share of op time above the ops' bounds (section 3). Temperature drift is \
since the start of the run. \"thop MACs\" applies thop 0.1.1's rules to the ONNX nodes: on a \
BN-folded export it is below thop.profile of the PyTorch module (0.91-0.99 measured) because the \
BatchNormalization nodes are gone, and above it where thop has no rule for a module (functional \
pooling, LayerNorm/BatchNorm/Linear subclasses such as timm's); see docs/thop.md.";

const FUSED_BN: &str = "BatchNorm inside other ops: a BatchNormalization that does not follow \
a conv (after a Concat, as in DenseNet) is not folded into weights; tract fuses its scale and \
shift into the elementwise chain of the op after it (`OptBinChain(Mul+Add+Max)` named after the \
ReLU), which the executed view counts under that op's category (activation). Those ops do the \
BN and the activation in one pass over the tensor, so their time cannot be split by measurement: \
it is listed here whole, as the most the batchnorm share above can miss.";
const SHARES: &str = "Share of per-op time per category; each row sums to 100%. \"hidden\" = \
time in ops with zero MACs: in the executed view, tract ops with no MACs (im2col, copies, \
element-wise); in the source view, ONNX nodes with no MACs plus ops attributed to no node. The \
difference is tensor work hidden inside MAC-counted nodes.";

const EXPLAINING: &str = "Derived from the hardware counters of the per-op runs, summed over the \
ops where both sides were counted. Stall shares: frontend or backend stall cycles / cycles. L2 \
traffic/compulsory: L2 refills x 64-byte lines / the ops' tensor bytes (above 1: data fetched \
more than once; below 1: it was in L2 or prefetch hid it). SIMD share: Advanced SIMD / all \
speculatively executed instructions. ld+st/MAC, instr/MAC: over the ops with MACs; instr/byte: \
over the ops with tensor bytes. Speculative counts include work thrown away after a branch \
misprediction. docs/analysis.md says what each means for a tensor op and where it misleads.";

const NOT_EXPLAINED: &str = "No device of these logs counted stall, cache-refill or SIMD \
events: on an Arm board run `hiddencost bench --events all` (or `stalls`, `memory`, `simd`); a \
VM without a PMU, like this project's CI machine, counts none of them.";

const WHY: &str = "Every executed op gets a lower bound from its run's machine roofs: \
max(MACs / peak, bytes / bandwidth of the level that holds its working set) + dispatch floor, \
where the working set is the op's bytes read + written and the memory term is the larger of \
bytes read / read bandwidth and bytes written / write bandwidth. The limiter is the largest \
term (compute, memory:LEVEL, overhead = the floor). \"above roofs\" is measured time minus the \
bound, summed over ops: the hidden cost that neither MACs nor bytes explain. Bytes are static \
tensor bytes (compulsory traffic), not measured DRAM traffic. Counter ratios (IPC = \
instructions/cycles, misses per kilo-instruction, bytes and MACs per cycle) are summed over \
the ops where both sides were measured.";

const ROOFLINE: &str = "The roofline plots each op with MACs: achieved GMAC/s against MACs per \
byte read, under the measured compute roof and one read-bandwidth roof per memory level. A log \
without machine roofs shows the best observed rates instead, labelled as such.";

const FIG2: &str = "Pearson r (linear) and Spearman rho (rank) across the models of each \
device. A note names the model whose removal flips the sign of r or moves it by more than";

const FIT: &str = "Each device: up to three latency predictors, each validated leave-one-model-out \
(every model predicted by a fit on the other models of its device; the kernel model's fit also \
takes the device's design probes): the \
kernel model (per executed kernel type, from the op records: what tract runs after its fusion), \
the node model (per-category non-negative least squares on source-node features: MACs, bytes \
read, bytes written, weight bytes, 1 per node, scaled to end-to-end latency) and MACs alone \
(`latency = a * MACs + b`). The one that validates best leads; one that loses to MACs alone is \
not a latency model worth using on these models. `fit.json` holds them fitted on all models: \
`hiddencost predict MODEL --fit fit.json`.";

const TRACES: &str = "One inference per model, ops back to back in execution order with median \
times and counters as args; open in ui.perfetto.dev.";

fn devices_table(data: &Dataset) -> Table {
    let mut t = Table::new(&[
        "device",
        "board",
        "cpu",
        "arch",
        "kernel",
        "cpus",
        "fake counters",
        "events not available",
    ]);
    let or_na = |v: &Option<String>| v.clone().unwrap_or_else(|| "n/a".into());
    for (d, dev) in data.devices.iter().enumerate() {
        let c = &dev.context;
        let fake = data
            .runs
            .iter()
            .any(|r| r.device == d && r.header.options.fake_counters);
        let missing: Vec<String> = dev
            .events
            .iter()
            .filter(|e| !e.available)
            .map(|e| e.name.clone())
            .collect();
        t.row(vec![
            dev.label.clone(),
            or_na(&c.device_model),
            or_na(&c.cpu_model),
            c.arch.clone(),
            or_na(&c.kernel_release),
            c.cpu_count.to_string(),
            if fake {
                "yes (counts are synthetic)"
            } else {
                "no"
            }
            .into(),
            if missing.is_empty() {
                "none".into()
            } else {
                missing.join(", ")
            },
        ]);
    }
    t
}

/// The findings of every device: one list per device.
pub fn findings(doc: &mut Doc, a: &Analysis, data: &Dataset) {
    for f in &a.findings {
        if data.devices.len() > 1 {
            let dev = &data.devices[f.device];
            doc.heading(3, format!("On {} ({} models)", dev.label, f.models));
        }
        doc.list(findings::device_items(f, data));
    }
}

/// Per validated device, the predictor that validates best, and what MACs alone gives.
fn fit_leads(a: &Analysis) -> Vec<Text> {
    a.fit
        .devices
        .iter()
        .filter_map(|d| {
            let v = d.validation.as_ref()?;
            let ranked = v.ranked();
            let (best, score) = ranked[0];
            let words = if best == crate::compute::fit::Predictor::MacsOnly {
                format!(
                    "{}: MACs alone validates best (MAPE {:.1}%, {}/{} within ±10%): no cost model \
                     here beats it on these models",
                    d.device, score.mape_pct, score.within_10pct, v.models
                )
            } else {
                format!(
                    "{}: the {} validates best (MAPE {:.1}%, {}/{} within ±10%), against MACs \
                     alone's {:.1}% ({}/{})",
                    d.device,
                    fit::predictor_name(best),
                    score.mape_pct,
                    score.within_10pct,
                    v.models,
                    v.macs_only.mape_pct,
                    v.macs_only.within_10pct,
                    v.models
                )
            };
            Some(Text::new().t(words))
        })
        .collect()
}

/// The whole report; `svgs` and `traces` are the file names written next to it.
pub fn report(a: &Analysis, data: &Dataset, svgs: &[String], traces: &[String]) -> Doc {
    let mut doc = Doc::default();
    let chart = |doc: &mut Doc, name: &str| {
        if svgs.iter().any(|f| f == name) {
            doc.chart(name);
        }
    };
    doc.heading(1, "hiddencost analysis");
    let (runs, devices) = (data.runs.len(), data.devices.len());
    doc.para(format!(
        "{runs} model measurement(s) on {devices} device(s). {INTRO}"
    ));
    doc.heading(2, H_FINDINGS);
    findings(&mut doc, a, data);

    doc.heading(2, H_DEVICES);
    doc.table(devices_table(data));
    doc.heading(2, H_ROOFS);
    doc.para(ROOFS);
    doc.table(why::roofs_table(a, data));

    doc.heading(2, H_MODELS);
    doc.para(MODELS);
    doc.table(sections::models_table(a, data));
    warnings(&mut doc, data);

    doc.heading(2, H_SHARES);
    doc.para(SHARES);
    doc.heading(3, "Executed view (tract ops)");
    doc.table(sections::shares_table(a, data, View::Executed));
    if let Some(t) = sections::fused_batchnorm_table(a, data) {
        doc.para(FUSED_BN);
        doc.table(t);
    }
    chart(&mut doc, "shares_executed.svg");
    doc.heading(3, "Source view (ONNX ops)");
    doc.table(sections::shares_table(a, data, View::Source));
    chart(&mut doc, "shares_source.svg");

    doc.heading(2, H_WHY);
    doc.para(WHY);
    doc.heading(3, "Per category: time above the roofs and counters");
    doc.table(why::why_table(a, data));
    doc.heading(3, "Counters that explain");
    match why::explaining_table(a, data) {
        Some(t) => {
            doc.para(EXPLAINING);
            doc.table(t);
        }
        None => doc.para(NOT_EXPLAINED),
    }
    doc.heading(3, "Limiters");
    doc.table(why::limiters_table(a, data));
    doc.heading(3, "Ops furthest above their bound");
    doc.para(format!(
        "Per device, the {TOP_EXCESS} ops with the most time above their bound; every op is in \
         ops.csv."
    ));
    doc.table(why::top_excess_table(a, data, TOP_EXCESS));
    bound_notes(&mut doc, a, data);
    doc.heading(3, format!("Top {TOP_OPS} op types per device"));
    doc.table(why::top_ops_table(a, data, TOP_OPS));
    doc.para(ROOFLINE);
    for name in svgs.iter().filter(|f| f.starts_with("roofline_")) {
        doc.chart(name.clone());
    }

    doc.heading(2, H_FIG2);
    doc.para(format!(
        "{FIG2} {:.1}.",
        crate::compute::correlate::DOMINANCE_DELTA_R
    ));
    doc.table(sections::correlation_table(a, data));
    for p in &PAIRS {
        chart(&mut doc, &format!("fig2_{}.svg", p.key));
    }

    doc.heading(2, H_FIT);
    doc.para(format!("{FIT} Node model: {}", a.fit.node_model));
    doc.list(fit_leads(a));
    doc.table(fit::fit_summary_table(a));
    doc.heading(3, "Per model (held out)");
    doc.table(fit::fit_models_table(a));
    doc.heading(3, "Coefficients");
    doc.table(fit::coefficients_table(a));
    doc.list(
        a.fit_left_out
            .iter()
            .map(|l| {
                Text::new()
                    .t(format!("left out of the fit on {}: ", l.device))
                    .code(&l.model)
                    .t(format!(" ({})", l.why))
            })
            .collect(),
    );

    doc.heading(2, H_RQ4);
    rq4::section(&mut doc, a, data, svgs);

    doc.heading(2, H_TRACES);
    doc.para(TRACES);
    doc.list(
        traces
            .iter()
            .map(|t| Text::new().link(t.clone(), t.clone()))
            .collect(),
    );
    if data.devices.len() > 1 {
        doc.heading(2, H_DEVICES_COMPARED);
        if data.devices.len() <= MAX_COMPARED_DEVICES {
            doc.table(sections::devices_table(data));
        } else {
            doc.para(format!(
                "{} devices: too many for a column each; section \"{}\" summarises them per model \
                 and board class, and devices.csv has every device's column.",
                data.devices.len(),
                super::fleet::H_FLEET
            ));
        }
        chart(&mut doc, "devices.svg");
    }
    super::fleet::section(&mut doc, a, data);
    super::eager::section(&mut doc, a, data);
    super::advise::section(&mut doc, a, data);
    super::int8::section(&mut doc, a, data);
    skipped(&mut doc, data);
    doc
}

/// The noise warnings the bench wrote into model records, and the probe's own.
fn warnings(doc: &mut Doc, data: &Dataset) {
    let mut items = Vec::new();
    for run in &data.runs {
        for w in &run.model.warnings {
            items.push(
                Text::new()
                    .t(format!("{} / ", data.device_label(run)))
                    .code(&run.model.model)
                    .t(format!(": {} ({})", w.message, w.kind)),
            );
        }
    }
    let mut seen = Vec::new();
    for run in &data.runs {
        let Some(m) = &run.header.machine else {
            continue;
        };
        if seen.contains(&std::rc::Rc::as_ptr(&run.header)) {
            continue;
        }
        seen.push(std::rc::Rc::as_ptr(&run.header));
        for w in &m.warnings {
            items.push(Text::new().t(format!(
                "{} / probe: {} ({})",
                data.device_label(run),
                w.message,
                w.kind
            )));
        }
    }
    if !items.is_empty() {
        doc.heading(3, H_WARNINGS);
        doc.list(items);
    }
}

/// Ops the bounds flag: faster than their bound, or above the peak MAC rate; and the models
/// whose kernels raised the peak.
fn bound_notes(doc: &mut Doc, a: &Analysis, data: &Dataset) {
    let mut items = Vec::new();
    let mut raised = Vec::new();
    for (run, b) in data.runs.iter().zip(&a.bounds) {
        let Ok(b) = b else { continue };
        let names = |ix: &[usize]| {
            ix.iter()
                .take(5)
                .map(|&i| format!("{} ({})", run.ops[i].node, run.ops[i].op))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !b.int8_unbounded.is_empty() {
            items.push(Text::new().t(format!(
                "{} / {}: {} op(s) compute on 8-bit integers and the probe has no integer \
                 matmul roof (an older log), so their compute is unbounded: their bounds are \
                 memory and floor only (compute roof `int8 unmeasured`), never the f32 \
                 peak's: {}",
                data.device_label(run),
                run.model.model,
                b.int8_unbounded.len(),
                names(&b.int8_unbounded)
            )));
        }
        if !b.over_peak.is_empty() {
            items.push(Text::new().t(format!(
                "{} / {}: {} op(s) that compute no MACs run above the peak MAC rate beyond the \
                 probe's spread, so their MACs are attributed wrongly: {}",
                data.device_label(run),
                run.model.model,
                b.over_peak.len(),
                names(&b.over_peak)
            )));
        }
        if !b.peak_beaten.is_empty() {
            let times_probe = |ix: &[usize]| {
                ix.iter()
                    .map(|&i| b.rates[i] / b.probe_peak_macs_per_s)
                    .fold(0.0, f64::max)
            };
            let above = b.above_raised_peak();
            let under: Vec<usize> = b
                .peak_beaten
                .iter()
                .copied()
                .filter(|i| !above.contains(i))
                .collect();
            if !under.is_empty() {
                raised.push(Text::new().t(format!(
                    "{} / {}: {} kernel op(s) ran above the probe's peak of {:.1} GMAC/s beyond \
                     its spread (up to {:.2}x): the probe caught the machine at a slower moment \
                     (a shared VM, a clock that boosts), or its matmul is not the fastest code \
                     for them (as under an emulator); this model's bounds take the fastest, \
                     {:.1} GMAC/s, as the peak: {}",
                    data.device_label(run),
                    run.model.model,
                    under.len(),
                    b.probe_peak_macs_per_s / 1e9,
                    times_probe(&under),
                    b.roofs.peak_macs_per_s / 1e9,
                    names(&under)
                )));
            }
            if !above.is_empty() {
                items.push(Text::new().t(format!(
                    "{} / {}: {} kernel op(s) above {PEAK_RAISE_LIMIT}x the probe's peak MAC \
                     rate (up to {:.1}x): their MACs are likely overcounted (a kernel split into \
                     pieces with all the MACs on one), or the probe's matmul is far from the \
                     fastest code for them; their compute bounds are too high: {}",
                    data.device_label(run),
                    run.model.model,
                    above.len(),
                    times_probe(&above),
                    names(&above)
                )));
            }
        }
        let below: Vec<usize> = b
            .below_bound
            .iter()
            .copied()
            .filter(|i| !b.over_peak.contains(i) && !b.peak_beaten.contains(i))
            .collect();
        if !below.is_empty() {
            items.push(Text::new().t(format!(
                "{} / {}: {} op(s) ran faster than their bound beyond the probe's spread (the \
                 probe did not reach this machine's roof for them, e.g. an op cheaper than the \
                 probe's one-element Relu, or their bytes are overcounted): {}",
                data.device_label(run),
                run.model.model,
                below.len(),
                names(&below)
            )));
        }
    }
    if !raised.is_empty() {
        doc.para(Text::new().strong("Roofs raised by the run"));
        doc.list(raised);
    }
    if !items.is_empty() {
        doc.para(Text::new().strong("Bounds that do not hold"));
        doc.list(items);
    }
}

fn skipped(doc: &mut Doc, data: &Dataset) {
    doc.heading(2, H_SKIPPED);
    if data.notes.is_empty() && data.failed.is_empty() {
        doc.para("Nothing: every line was used.");
    }
    doc.list(
        data.notes
            .iter()
            .map(|n| Text::from(n.to_string()))
            .collect(),
    );
}
