//! The render layer: the computed [`Analysis`] written out for readers. report.md and
//! report.html (one [`doc::Doc`] from [`report`], two backends), CSV tables ([`sections`]), SVG
//! charts ([`figures`] and [`rq4`] describe them as [`chart::Chart`]s, [`chart::draw`](fn@chart::draw) draws
//! them), the design probes' section, table and charts ([`rq4`]), fit.json, Chrome traces
//! ([`trace`]), the fleet section ([`fleet`]), the eager section ([`eager`]), the Parquet
//! export ([`export`]) and the terminal summary. All output is deterministic for a given input.

pub mod advise;
pub mod chart;
pub mod doc;
pub mod eager;
pub mod export;
pub mod figures;
pub mod findings;
pub mod fit;
pub mod fleet;
pub mod html;
pub mod int8;
pub mod markdown;
pub mod names;
pub mod ops;
pub mod outdir;
pub mod outline;
pub mod reasons;
pub mod report;
pub mod rq4;
pub mod sections;
pub mod table;
pub mod trace;
pub mod validation;
pub mod why;

use self::outdir::OutDir;
use self::table::Table;
use crate::compute::{Analysis, View, latency_by_device};
use crate::error::AnalyzeError;
use crate::load::Dataset;
use std::fmt::Write;
use std::path::PathBuf;

/// What `advise` prints: each model's changes ranked, then its int8 form against fp32.
pub fn advice(a: &Analysis, data: &Dataset) -> String {
    let mut s = advise::terminal(a, data);
    let int8 = int8::terminal(a, data);
    if !int8.is_empty() {
        let _ = write!(s, "\nint8 against fp32\n{int8}");
    }
    s
}

/// The findings and the key tables, as printed on the terminal.
pub fn terminal(a: &Analysis, data: &Dataset) -> String {
    let mut s = String::new();
    let mut doc = doc::Doc::default();
    report::findings(&mut doc, a, data);
    s.push_str("Findings\n");
    for b in &doc.blocks {
        match b {
            doc::Block::Heading(_, t) => {
                let _ = writeln!(s, "{t}");
            }
            doc::Block::List(items) => {
                for i in items {
                    let _ = writeln!(s, "- {}", i.plain());
                }
            }
            _ => {}
        }
    }
    s.push('\n');
    let advice = advise::terminal(a, data);
    if !advice.is_empty() {
        let _ = write!(
            s,
            "What to change (each model's rewrites, measured)\n{advice}\n"
        );
    }
    let int8 = int8::terminal(a, data);
    if !int8.is_empty() {
        let _ = write!(
            s,
            "int8 against fp32 (each model's int8 form, measured)\n{int8}\n"
        );
    }
    let mut section = |title: &str, t: Table| {
        let _ = write!(s, "{title}\n{}\n", t.to_text());
    };
    section(
        "Models (latency = clean end-to-end median; hidden = share of op time in zero-MAC ops; \
         above roofs = share of op time above the ops' bounds)",
        sections::models_table(a, data),
    );
    section(
        "Where the time goes (executed view: tract ops)",
        sections::shares_table(a, data, View::Executed),
    );
    section(
        "Where the time goes (source view: ONNX ops)",
        sections::shares_table(a, data, View::Source),
    );
    section(
        "Why: per category, all models of a device (time above the roofs, counters)",
        why::why_table(a, data),
    );
    if let Some(t) = why::explaining_table(a, data) {
        section("Counters that explain, per category", t);
    }
    section("Limiters", why::limiters_table(a, data));
    section(
        "Figure 2: correlations across models",
        sections::correlation_table(a, data),
    );
    section(
        "Latency models vs MACs-only, leave-one-model-out",
        fit::fit_summary_table(a),
    );
    if data.devices.len() > 1 && data.devices.len() <= report::MAX_COMPARED_DEVICES {
        section(
            "Devices compared (median latency)",
            sections::devices_table(data),
        );
    }
    if !a.eager.is_empty() {
        section(
            "Eager against optimized (hidden = time in zero-MAC ops; removed = eager hidden - \
             optimized hidden)",
            eager::models_table(a, data, true),
        );
    }
    if let Some(t) = fleet::terminal_table(a) {
        section("Fleet: per model and board class (median across boards)", t);
    }
    s
}

/// Writes every output file into `out`, after claiming them all with `more` (files a caller
/// writes next, such as the export's) so that nothing is written when one may not be; returns
/// their paths in writing order.
pub fn write_all(
    a: &Analysis,
    data: &Dataset,
    out: &mut OutDir,
    more: &[&str],
) -> Result<Vec<PathBuf>, AnalyzeError> {
    let mut written = Vec::new();
    let mut phase = Phase::start();
    // Each table as its CSV text as soon as it is built: a fleet's tables as cells take
    // several times their text.
    let built: [(&str, &dyn Fn() -> Table); 7] = [
        ("models.csv", &|| sections::models_table(a, data)),
        ("shares.csv", &|| sections::shares_csv(a, data)),
        ("counters.csv", &|| why::why_csv(a, data)),
        ("correlations.csv", &|| sections::correlations_csv(a, data)),
        ("fit_validation.csv", &|| fit::fit_models_table(a)),
        ("devices.csv", &|| sections::devices_table(data)),
        ("sweep.csv", &|| rq4::variants_csv(a, data)),
    ];
    let csvs: Vec<(&str, String)> = built
        .into_iter()
        .map(|(name, table)| (name, table().to_csv()))
        .chain(
            fleet::csv_files(a, data)
                .into_iter()
                .chain(eager::csv_files(a, data))
                .chain(advise::csv_files(a, data))
                .chain(int8::csv_files(a, data))
                .map(|(name, table)| (name, table.to_csv())),
        )
        .collect();
    phase.done("CSV tables built");
    let mut svgs = figures::svg_files(a, data);
    svgs.extend(rq4::svg_files(a, data));
    phase.done("SVG charts built");
    let models = latency_by_device(data);
    let trace_names: Vec<String> = models.iter().map(|(m, _)| trace::file_name(m)).collect();
    let fixed = ["ops.csv", "fit.json", "report.md", "report.html"];
    out.claim(
        csvs.iter()
            .map(|(n, _)| *n)
            .chain(svgs.iter().map(|(n, _)| n.as_str()))
            .chain(trace_names.iter().map(String::as_str))
            .chain(fixed)
            .chain(more.iter().copied()),
    )?;
    for (name, text) in &csvs {
        written.push(out.write(name, text.as_bytes())?);
    }
    phase.done("CSV tables");
    written.push(out.write_streamed("ops.csv", |w| ops::write_csv(a, data, w))?);
    phase.done("ops.csv");
    for (name, body) in &svgs {
        written.push(out.write(name, body.as_bytes())?);
    }
    phase.done("SVG charts");
    // Streamed: a fleet's fit holds every device's training calls (a gigabyte at 1,000 boards).
    written.push(out.write_streamed("fit.json", |w| {
        serde_json::to_writer_pretty(w, &a.fit).map_err(std::io::Error::other)
    })?);
    phase.done("fit.json");
    let mut runs_of: std::collections::HashMap<&str, Vec<&crate::load::ModelRun>> =
        Default::default();
    for r in &data.runs {
        runs_of.entry(r.model.model.as_str()).or_default().push(r);
    }
    for ((model, _), name) in models.iter().zip(&trace_names) {
        let runs = runs_of.remove(model.as_str()).unwrap_or_default();
        written.push(out.write_streamed(name, |w| trace::write_chrome_trace(data, &runs, w))?);
    }
    phase.done("traces");
    let svg_names: Vec<String> = svgs.iter().map(|(n, _)| n.clone()).collect();
    let doc = report::report(a, data, &svg_names, &trace_names);
    written.push(out.write("report.md", markdown::render(&doc).as_bytes())?);
    phase.done("report.md");
    written.push(out.write("report.html", html::render(&doc, &svgs).as_bytes())?);
    phase.done("report.html");
    Ok(written)
}

/// Wall time of each step of `analyze` (load, compute, each file of [`write_all`]) and the
/// peak resident memory so far, logged at debug level (`hiddencost -vv analyze`).
pub(crate) struct Phase(std::time::Instant);

impl Phase {
    pub(crate) fn start() -> Self {
        Phase(std::time::Instant::now())
    }

    pub(crate) fn done(&mut self, what: &str) {
        log::debug!(
            "analyze: {what} {:.2} s, peak resident {:.2} GB",
            self.0.elapsed().as_secs_f64(),
            crate::load::peak_resident_bytes().unwrap_or(0) as f64 / 1e9
        );
        self.0 = std::time::Instant::now();
    }
}
