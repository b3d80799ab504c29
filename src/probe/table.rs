//! `hiddencost probe` without `--json`: the [`Machine`] record as a terminal table. Reads the
//! record only. Rates: GMAC/s = 1e9 MAC/s, GB/s = 1e9 bytes/s; each figure is `used, median
//! (min-max) xREPEATS`, where `used` is what the bounds take (the 10th percentile counted from
//! the best: `Spread::robust_max` of a rate, `robust_min` of the floor, the median of a
//! counter read).

use crate::record::{Machine, Spread};
use crate::table::{Col, Layout, Table};
use crate::units::bytes;
use std::fmt::Write;

/// `cols`, then the figures left-aligned two spaces after them.
fn layout(mut cols: Vec<Col>) -> Layout {
    cols.push(Col::left(0).after("  "));
    Layout {
        cols,
        indent: "",
        rule: false,
    }
}

fn spread(s: &Spread, used: f64, scale: f64, digits: usize) -> String {
    format!(
        "{:.d$}, {:.d$} ({:.d$}-{:.d$}) x{}",
        used * scale,
        s.median * scale,
        s.min * scale,
        s.max * scale,
        s.repeats,
        d = digits
    )
}

pub fn render(m: &Machine) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "machine probe: {:.2} s of a {:.2} s budget\n",
        m.elapsed_ns as f64 * 1e-9,
        m.budget_ns as f64 * 1e-9
    );
    let mut matmul = Table::new(&[
        "matmul",
        "kernel",
        "needs",
        "m x k x n",
        "GMAC/s used, median (min-max) xrepeats",
    ]);
    let matmuls = [
        &m.matmul,
        &m.matmul_threads,
        &m.matmul_int8,
        &m.matmul_int8_threads,
    ];
    for mm in matmuls.iter().filter_map(|x| x.as_ref()) {
        // An older log's figures are f32; on aarch64 the i8 kernel says whether it uses SDOT.
        let operands = mm.operands.as_deref().unwrap_or("f32");
        let needs = mm.kernel_isa.as_deref().unwrap_or("-");
        let dot = match mm.dot_product {
            Some(true) => " (SDOT)",
            Some(false) if operands == "i8" => " (no dotprod)",
            _ => "",
        };
        matmul.row(vec![
            format!("  {operands}, {}", super::plural(mm.threads, "thread")),
            mm.kernel.clone(),
            format!("{needs}{dot}"),
            format!("{}x{}x{}", mm.m, mm.k, mm.n),
            spread(&mm.macs_per_s, mm.macs_per_s.robust_max(), 1e-9, 2),
        ]);
    }
    let cols = vec![Col::left(16), Col::left(26), Col::left(16), Col::right(11)];
    t += &matmul.to_text_in(&layout(cols));
    if matmuls.iter().all(|x| x.is_none()) {
        let _ = writeln!(t, "  (not measured: see the warnings)");
    }
    let mut bandwidth = Table::new(&[
        "level",
        "capacity",
        "from",
        "working set",
        "GB/s used, median (min-max) xrepeats: read | write | copy",
    ]);
    for b in &m.bandwidth {
        let figures = [
            &b.read_bytes_per_s,
            &b.write_bytes_per_s,
            &b.copy_bytes_per_s,
        ]
        .map(|s| spread(s, s.robust_max(), 1e-9, 1));
        bandwidth.row(vec![
            format!("  {}", b.level),
            b.capacity_bytes.map_or("-".into(), bytes),
            b.capacity_from.clone(),
            bytes(b.working_set_bytes),
            figures.join(" | "),
        ]);
    }
    let cols = vec![Col::left(6), Col::right(10), Col::left(8), Col::right(11)];
    t.push('\n');
    t += &bandwidth.to_text_in(&layout(cols));
    let caches: Vec<String> = m
        .caches
        .iter()
        .map(|c| {
            let shared = c
                .shared_cpus
                .map_or(String::new(), |n| format!(", {n} CPU(s)"));
            format!("L{} {} {}{shared}", c.level, c.kind, bytes(c.size_bytes))
        })
        .collect();
    let _ = writeln!(
        t,
        "\ncaches of CPU 0 (sysfs): {}",
        if caches.is_empty() {
            "none listed (sizes assumed)".to_string()
        } else {
            caches.join("; ")
        }
    );
    let _ = writeln!(
        t,
        "dispatch floor (one Relu on 1 element), ns: {}",
        m.dispatch_floor_ns
            .as_ref()
            .map_or("not measured".into(), |s| spread(s, s.robust_min(), 1.0, 0))
    );
    if m.counter_reads.is_empty() {
        let _ = writeln!(t, "counter reads: none (no counter group open)");
    }
    for c in &m.counter_reads {
        let _ = writeln!(
            t,
            "counter read, pass {} ({} events, {}), ns: {}",
            c.pass,
            c.events.len(),
            c.method.as_deref().unwrap_or("syscall"),
            spread(&c.read_ns, c.read_ns.median, 1.0, 0)
        );
    }
    if !m.warnings.is_empty() {
        let _ = writeln!(t, "\nwarnings:");
        for w in &m.warnings {
            let _ = writeln!(t, "  - {}", w.message);
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{BandwidthProbe, MatmulProbe, NoiseWarning};

    #[test]
    fn renders_every_part() {
        let s = Spread {
            median: 2e9,
            min: 1.5e9,
            max: 2.5e9,
            repeats: 7,
            p90: Some(2.4e9),
            ..Default::default()
        };
        let m = Machine {
            elapsed_ns: 500_000_000,
            budget_ns: 3_000_000_000,
            matmul: Some(MatmulProbe {
                kernel: "fma_mmm_f32_16x6".into(),
                threads: 1,
                m: 240,
                k: 240,
                n: 240,
                macs_per_s: s,
                operands: Some("f32".into()),
                kernel_isa: Some("avx2+fma".into()),
                dot_product: None,
            }),
            bandwidth: vec![BandwidthProbe {
                level: "L1".into(),
                capacity_bytes: Some(32 << 10),
                capacity_from: "sysfs".into(),
                working_set_bytes: 16 << 10,
                read_bytes_per_s: s,
                write_bytes_per_s: s,
                copy_bytes_per_s: s,
            }],
            matmul_int8: Some(MatmulProbe {
                kernel: "arm64simd_mmm_i32_8x8_dot".into(),
                threads: 1,
                m: 96,
                k: 96,
                n: 96,
                macs_per_s: Spread {
                    median: 5e8,
                    min: 4e8,
                    max: 6e8,
                    p90: Some(5.8e8),
                    ..s
                },
                operands: Some("i8".into()),
                kernel_isa: Some("dotprod".into()),
                dot_product: Some(true),
            }),
            warnings: vec![NoiseWarning {
                kind: "probe".into(),
                message: "L1 read bandwidth varies".into(),
            }],
            ..Default::default()
        };
        let t = render(&m);
        for needle in [
            "0.50 s of a 3.00 s budget",
            "fma_mmm_f32_16x6",
            "240x240x240",
            "2.40, 2.00 (1.50-2.50) x7",
            "32 KiB",
            "16 KiB",
            "none listed (sizes assumed)",
            "dispatch floor (one Relu on 1 element), ns: not measured",
            "- L1 read bandwidth varies",
        ] {
            assert!(t.contains(needle), "{needle:?} missing from\n{t}");
        }
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(
            lines[2..5],
            [
                "matmul           kernel                     needs              m x k x n  \
                 GMAC/s used, median (min-max) xrepeats",
                "  f32, 1 thread  fma_mmm_f32_16x6           avx2+fma         240x240x240  \
                 2.40, 2.00 (1.50-2.50) x7",
                "  i8, 1 thread   arm64simd_mmm_i32_8x8_dot  dotprod (SDOT)      96x96x96  \
                 0.58, 0.50 (0.40-0.60) x7",
            ]
        );
    }
}
