//! The render layer: the computed [`Analysis`] written out for readers. report.md and
//! report.html (one [`doc::Doc`] from [`report`], two backends), CSV tables ([`sections`]), SVG
//! charts ([`figures`] and [`rq4`] describe them as [`chart::Chart`]s, [`chart::draw`] draws
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
pub mod markdown;
pub mod names;
pub mod ops;
pub mod outline;
pub mod reasons;
pub mod report;
pub mod rq4;
pub mod sections;
pub mod table;
pub mod trace;
pub mod validation;
pub mod why;

use self::table::Table;
use crate::compute::{Analysis, View, latency_by_device};
use crate::error::AnalyzeError;
use crate::load::Dataset;
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// Creates `dir` (and parents) and writes `bytes` to `dir/name`, returning the path.
pub fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, AnalyzeError> {
    std::fs::create_dir_all(dir).map_err(|cause| AnalyzeError::Write {
        path: dir.to_path_buf(),
        cause,
    })?;
    let path = dir.join(name);
    std::fs::write(&path, bytes).map_err(|cause| AnalyzeError::Write {
        path: path.clone(),
        cause,
    })?;
    Ok(path)
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

/// Creates `dir` and writes `dir/name` through a buffered writer handed to `write`, returning
/// the path: for files too large to build in memory first.
pub fn write_streamed(
    dir: &Path,
    name: &str,
    write: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> Result<PathBuf, AnalyzeError> {
    use std::io::Write as _;
    let path = write_file(dir, name, b"")?;
    let fail = |cause| AnalyzeError::Write {
        path: path.clone(),
        cause,
    };
    let file = std::fs::File::create(&path).map_err(fail)?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    write(&mut out).map_err(fail)?;
    out.flush().map_err(fail)?;
    Ok(path)
}

/// Writes every output file into `dir`; returns their paths in writing order.
pub fn write_all(a: &Analysis, data: &Dataset, dir: &Path) -> Result<Vec<PathBuf>, AnalyzeError> {
    let mut written = Vec::new();
    let mut phase = Phase::start();
    let csvs = [
        ("models.csv", sections::models_table(a, data)),
        ("shares.csv", sections::shares_csv(a, data)),
        ("counters.csv", why::why_csv(a, data)),
        ("correlations.csv", sections::correlations_csv(a, data)),
        ("fit_validation.csv", fit::fit_models_table(a)),
        ("devices.csv", sections::devices_table(data)),
        ("sweep.csv", rq4::variants_csv(a, data)),
    ];
    for (name, table) in csvs
        .into_iter()
        .chain(fleet::csv_files(a, data))
        .chain(eager::csv_files(a, data))
        .chain(advise::csv_files(a, data))
    {
        written.push(write_file(dir, name, table.to_csv().as_bytes())?);
    }
    phase.done("CSV tables");
    written.push(write_streamed(dir, "ops.csv", |w| {
        ops::write_csv(a, data, w)
    })?);
    phase.done("ops.csv");
    let mut svgs = figures::svg_files(a, data);
    svgs.extend(rq4::svg_files(a, data));
    for (name, body) in &svgs {
        written.push(write_file(dir, name, body.as_bytes())?);
    }
    phase.done("SVG charts");
    let fit_json =
        serde_json::to_string_pretty(&a.fit).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    written.push(write_file(dir, "fit.json", fit_json.as_bytes())?);
    let mut trace_names = Vec::new();
    let mut runs_of: std::collections::HashMap<&str, Vec<&crate::load::ModelRun>> =
        Default::default();
    for r in &data.runs {
        runs_of.entry(r.model.model.as_str()).or_default().push(r);
    }
    for (model, _) in latency_by_device(data) {
        let runs = runs_of.remove(model.as_str()).unwrap_or_default();
        let name = trace::file_name(&model);
        written.push(write_streamed(dir, &name, |w| {
            trace::write_chrome_trace(data, &runs, w)
        })?);
        trace_names.push(name);
    }
    phase.done("traces");
    let svg_names: Vec<String> = svgs.iter().map(|(n, _)| n.clone()).collect();
    let doc = report::report(a, data, &svg_names, &trace_names);
    written.push(write_file(
        dir,
        "report.md",
        markdown::render(&doc).as_bytes(),
    )?);
    phase.done("report.md");
    written.push(write_file(
        dir,
        "report.html",
        html::render(&doc, &svgs).as_bytes(),
    )?);
    phase.done("report.html");
    Ok(written)
}

/// Wall time of each step of [`write_all`], logged at debug level (`hiddencost -vv analyze`).
struct Phase(std::time::Instant);

impl Phase {
    fn start() -> Self {
        Phase(std::time::Instant::now())
    }

    fn done(&mut self, what: &str) {
        log::debug!("analyze: {what} {:.2} s", self.0.elapsed().as_secs_f64());
        self.0 = std::time::Instant::now();
    }
}
