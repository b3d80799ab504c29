//! report.md: the tables of every section with a short explanation of what each number means,
//! the charts inline, links to the traces, and everything that was skipped.

use super::figures;
use super::load::Dataset;
use super::report::{Analysis, TOP_OPS, coefficients_table, fit_models_table, fit_summary_table};
use super::sections::{self, View};
use super::tables::Table;
use std::fmt::Write;

const INTRO: &str = "Latency is the clean end-to-end median (runs without per-op hooks); per-op \
times are medians from the instrumented passes. Counters marked \"not measured\" were not \
available on that device (last column below).";

const MODELS: &str = "GMAC/s = MACs / median latency. \"sum ops/e2e\" compares the per-op sum \
with end-to-end latency (above 1: measuring each op costs time; below 1: time between ops). \
Temperature drift is since the start of the run.";

const SHARES: &str = "Share of per-op time per category; each row sums to 100%. \"hidden\" = \
time in ops with zero MACs: in the executed view, tract ops with no MACs (im2col, copies, \
element-wise); in the source view, ONNX nodes with no MACs plus ops attributed to no node. The \
difference is tensor work hidden inside MAC-counted nodes.";

const WHY: &str = "IPC = instructions/cycles; misses per kilo-instruction; bytes/cycle uses the \
static tensor bytes of the ops (compulsory traffic, not measured DRAM traffic); MACs/cycle. \
Ratios are summed over the ops where both sides were measured. The roofline plots achieved \
GMAC/s against MACs per byte for every op with MACs; its roof is the best observed, not a \
datasheet peak.";

const FIG2: &str = "Pearson r (linear) and Spearman rho (rank) across the models of each \
device. A note names the model whose removal flips the sign of r or moves it by more than";

const FIT: &str = "Each device: per-category non-negative least squares on source-node features \
(MACs, bytes read, bytes written, weight bytes, 1 per node), scaled to end-to-end latency; \
against `latency = a * MACs + b`. Validated leave-one-model-out: each model is predicted by a \
fit on the other models of its device. `fit.json` holds the coefficients fitted on all models: \
`hiddencost predict MODEL --fit fit.json`.";

const TRACES: &str = "One inference per model, ops back to back in execution order with median \
times and counters as args; open in ui.perfetto.dev.";

fn devices_md(data: &Dataset) -> String {
    let headers = [
        "device",
        "board",
        "cpu",
        "arch",
        "kernel",
        "cpus",
        "fake counters",
        "events not available",
    ];
    let mut t = Table::new(&headers);
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
    t.to_markdown()
}

/// The whole report.md; `svgs` and `traces` are the file names written next to it.
pub fn report_md(a: &Analysis, data: &Dataset, svgs: &[String], traces: &[String]) -> String {
    let mut s = String::from("# hiddencost analysis\n\n");
    let img = |s: &mut String, name: &str| {
        if svgs.iter().any(|f| f == name) {
            let _ = writeln!(s, "![{name}]({name})\n");
        }
    };
    let (runs, devices) = (data.runs.len(), data.devices.len());
    let _ = writeln!(
        s,
        "{runs} model measurement(s) on {devices} device(s). {INTRO}\n"
    );
    let _ = write!(s, "## Devices\n\n{}\n", devices_md(data));
    let models = sections::models_table(a, data).to_markdown();
    let _ = write!(s, "## 1. Models\n\n{MODELS}\n\n{models}\n");
    warnings_md(&mut s, data);

    let _ = write!(s, "## 2. Where the time goes\n\n{SHARES}\n\n");
    let executed = sections::shares_table(a, data, View::Executed).to_markdown();
    let _ = write!(s, "### Executed view (tract ops)\n\n{executed}\n");
    img(&mut s, "shares_executed.svg");
    let source = sections::shares_table(a, data, View::Source).to_markdown();
    let _ = write!(s, "### Source view (ONNX ops)\n\n{source}\n");
    img(&mut s, "shares_source.svg");

    let _ = write!(s, "## 3. Why\n\n{WHY}\n\n");
    let why = sections::why_table(a, data).to_markdown();
    let _ = write!(s, "### Per category\n\n{why}\n");
    let top = sections::top_ops_table(a, data, TOP_OPS).to_markdown();
    let _ = write!(s, "### Top {TOP_OPS} op types per device\n\n{top}\n");
    for name in svgs.iter().filter(|f| f.starts_with("roofline_")) {
        img(&mut s, name);
    }

    let delta = figures::DOMINANCE_DELTA_R;
    let corr = figures::correlation_table(a).to_markdown();
    let _ = write!(
        s,
        "## 4. Figure 2: do size and MACs predict time?\n\n{FIG2} {delta:.1}.\n\n{corr}\n"
    );
    for p in &figures::PAIRS {
        img(&mut s, &format!("fig2_{}.svg", p.key));
    }

    let _ = write!(
        s,
        "## 5. A latency model that beats MACs\n\n{FIT}\n\n{}\n\n",
        a.fit.node_model
    );
    let _ = writeln!(s, "{}", fit_summary_table(a).to_markdown());
    let _ = write!(
        s,
        "### Per model (held out)\n\n{}\n",
        fit_models_table(a).to_markdown()
    );
    let _ = write!(
        s,
        "### Coefficients\n\n{}\n",
        coefficients_table(a).to_markdown()
    );
    for (device, model, why) in &a.fit_left_out {
        let _ = writeln!(s, "- left out of the fit on {device}: `{model}` ({why})");
    }

    let _ = write!(s, "\n## 6. Traces\n\n{TRACES}\n\n");
    for t in traces {
        let _ = writeln!(s, "- [{t}]({t})");
    }
    if data.devices.len() > 1 {
        let table = sections::devices_table(data).to_markdown();
        let _ = write!(s, "\n## 7. Devices compared\n\n{table}\n");
        img(&mut s, "devices.svg");
    }
    skipped_md(&mut s, data);
    s
}

/// The noise warnings the bench wrote into model records (clean-pass variation, governor,
/// temperature), when there are any.
fn warnings_md(s: &mut String, data: &Dataset) {
    let mut lines = Vec::new();
    for run in &data.runs {
        for w in &run.model.warnings {
            lines.push(format!(
                "- {} / `{}`: {} ({})",
                data.device_label(run),
                run.model.model,
                w.message.replace('|', "\\|"),
                w.kind
            ));
        }
    }
    if !lines.is_empty() {
        let _ = write!(s, "### Measurement warnings\n\n{}\n\n", lines.join("\n"));
    }
}

fn skipped_md(s: &mut String, data: &Dataset) {
    let _ = write!(s, "\n## Skipped\n\n");
    if data.notes.is_empty() && data.failed.is_empty() {
        s.push_str("Nothing: every line was used.\n");
    }
    for n in &data.notes {
        let _ = writeln!(s, "- {}", n.to_string().replace('|', "\\|"));
    }
}
