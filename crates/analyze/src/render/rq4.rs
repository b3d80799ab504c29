//! RQ4 in the report: the design probes of `hiddencost sweep`, one table per design family
//! (each variant against its family's baseline), the ranked advice and the choices that cost
//! time, and one chart per device; the CSV of every variant.

use super::chart::svg::id_name;
use super::chart::{self, Chart, RatioBar};
use super::doc::{Doc, Text};
use super::table::{Table, csv_num, ms, or_na, pct, si};
use crate::compute::Analysis;
use crate::compute::sweep::{Advice, SweepFamily};
use crate::load::Dataset;

pub const TEXT: &str = "Design probes (`hiddencost sweep`): families of generated micro-models, \
each a set of variants at matched MACs (within 2% of the family's baseline, by the same cost \
rules as the models) that differ in one design choice, measured like the models (clean \
end-to-end runs). \"x baseline\" is the variant's median latency over its baseline's; \"noise\" \
is about two standard errors of that ratio (from both medians' run-to-run spread and run \
counts): a difference smaller than it is not a finding. \"ns/MAC x\" compares time per MAC, \
which differs from \"x baseline\" only where the MACs were matched less than exactly. \
\"spread\" is (p90 - min) / median of the variant's runs.";

pub const ADVICE: &str = "Ranked by the time saved at equal MACs on this device, each with its \
noise. The advice holds for the sizes the sweep measured (its `params` column), with tract \
0.23.9's kernels on this device: another board, another runtime or other tensor sizes need their \
own sweep.";

/// The families of device `d`, in family order.
fn families_of(a: &Analysis, d: usize) -> impl Iterator<Item = &SweepFamily> {
    a.sweep.families.iter().filter(move |f| f.device == d)
}

fn noise_cell(noise: Option<f64>) -> String {
    noise.map_or("n/a".into(), |n| format!("± {}", pct(n)))
}

/// One family's variants, the baseline first.
pub fn family_table(f: &SweepFamily) -> Table {
    let mut t = Table::new(&[
        "variant",
        "choice",
        "params",
        "MACs",
        "runs",
        "median ms",
        "x baseline",
        "noise",
        "ns/MAC x",
        "spread",
    ]);
    for v in &f.variants {
        t.row(vec![
            if v.baseline {
                format!("{} (baseline)", v.variant)
            } else {
                v.variant.clone()
            },
            v.choice.clone(),
            v.params.clone(),
            si(v.macs),
            v.runs.to_string(),
            ms(v.median_ns as f64),
            or_na(v.ratio, 3),
            noise_cell(v.noise),
            or_na(v.ns_per_mac_ratio, 3),
            pct(v.spread),
        ]);
    }
    t
}

/// Every variant of every family, raw (sweep.csv).
pub fn variants_csv(a: &Analysis, data: &Dataset) -> Table {
    let mut t = Table::new(&[
        "device",
        "family",
        "variant",
        "baseline",
        "choice",
        "params",
        "macs",
        "runs",
        "median_ns",
        "ratio_to_baseline",
        "ratio_noise",
        "ns_per_mac",
        "ns_per_mac_ratio",
        "spread",
    ]);
    for f in &a.sweep.families {
        for v in &f.variants {
            t.row(vec![
                data.devices[f.device].label.clone(),
                f.family.clone(),
                v.variant.clone(),
                v.baseline.to_string(),
                v.choice.clone(),
                v.params.clone(),
                v.macs.to_string(),
                v.runs.to_string(),
                v.median_ns.to_string(),
                csv_num(v.ratio),
                csv_num(v.noise),
                csv_num(v.ns_per_mac),
                csv_num(v.ns_per_mac_ratio),
                csv_num(Some(v.spread)),
            ]);
        }
    }
    t
}

/// "grouped 3x3, g = 4 instead of dense 3x3 (conv_type): 41.0% ± 2.1% faster, 0.120 ms"
pub fn advice_text(x: &Advice) -> Text {
    let (how, saved) = if x.saving >= 0.0 {
        ("faster", x.saved_ns)
    } else {
        ("slower", -x.saved_ns)
    };
    Text::new()
        .strong(if x.choice.is_empty() {
            x.variant.clone()
        } else {
            x.choice.clone()
        })
        .t(format!(" instead of {} (", x.baseline_choice))
        .code(&x.family)
        .t(format!(
            "): {} ± {} {how}, {} ms per inference",
            pct(x.saving.abs()),
            pct(x.noise),
            ms(saved as f64)
        ))
}

/// One chart per device with design families: `rq4_DEVICE.svg`.
pub fn svg_files(a: &Analysis, data: &Dataset) -> Vec<(String, String)> {
    let mut files = Vec::new();
    for (d, dev) in data.devices.iter().enumerate() {
        let bars: Vec<RatioBar> = families_of(a, d)
            .filter(|f| f.has_baseline)
            .flat_map(|f| {
                f.variants.iter().filter_map(|v| {
                    Some(RatioBar {
                        group: f.family.clone(),
                        label: v.variant.clone(),
                        ratio: v.ratio?,
                        noise: v.noise,
                    })
                })
            })
            .collect();
        if bars.is_empty() {
            continue;
        }
        files.push((
            format!("rq4_{}.svg", id_name(&dev.label)),
            chart::draw(&Chart::RatioBars {
                title: format!("Design choices at equal MACs on {}", dev.label),
                x_label: "latency / the family's baseline (1 = as fast)".into(),
                bars,
            }),
        ));
    }
    files
}

/// The section: per device, the advice, then one table per family, then the chart.
pub fn section(doc: &mut Doc, a: &Analysis, data: &Dataset, svgs: &[String]) {
    doc.para(TEXT);
    if a.sweep.families.is_empty() {
        doc.para(
            Text::new()
                .t("No design probes in these logs: run ")
                .code("hiddencost sweep > sweep.jsonl")
                .t(" on the device and analyze that log with the others."),
        );
        return;
    }
    for (d, dev) in data.devices.iter().enumerate() {
        let families: Vec<&SweepFamily> = families_of(a, d).collect();
        if families.is_empty() {
            continue;
        }
        if data.devices.len() > 1 {
            doc.heading(3, format!("On {}", dev.label));
        }
        doc.para(Text::new().strong("What saves time at equal MACs"));
        doc.para(ADVICE);
        // The items of one ranked list (advice or costs) that are this device's.
        let items = |list: &[Advice]| -> Vec<Text> {
            list.iter()
                .filter(|x| x.device == d)
                .map(advice_text)
                .collect()
        };
        let advice = items(&a.sweep.advice);
        if advice.is_empty() {
            doc.para("No variant was faster than its baseline beyond the noise.");
        } else {
            doc.list(advice);
        }
        let costs = items(&a.sweep.costs);
        if !costs.is_empty() {
            doc.para(Text::new().strong("What costs time at equal MACs"));
            doc.list(costs);
        }
        for f in families {
            doc.heading(4, format!("Family {}", f.family));
            if !f.has_baseline {
                doc.para(
                    "Its baseline was not measured (the sweep stopped before it, or it failed): \
                     no ratios.",
                );
            }
            doc.table(family_table(f));
        }
        let chart = format!("rq4_{}.svg", id_name(&dev.label));
        if svgs.contains(&chart) {
            doc.chart(chart);
        }
    }
}
