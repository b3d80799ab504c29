//! `hiddencost probe` without `--json`: the [`Machine`] record as a terminal table. Reads the
//! record only. Rates: GMAC/s = 1e9 MAC/s, GB/s = 1e9 bytes/s; each figure is `median
//! (min-max) xREPEATS`.

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

fn spread(s: &Spread, scale: f64, digits: usize) -> String {
    format!(
        "{:.d$} ({:.d$}-{:.d$}) x{}",
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
        "matmul f32",
        "kernel",
        "m x k x n",
        "GMAC/s median (min-max) xrepeats",
    ]);
    let matmuls = [&m.matmul, &m.matmul_threads];
    for mm in matmuls.iter().filter_map(|x| x.as_ref()) {
        matmul.row(vec![
            format!("  {}", super::plural(mm.threads, "thread")),
            mm.kernel.clone(),
            format!("{}x{}x{}", mm.m, mm.k, mm.n),
            spread(&mm.macs_per_s, 1e-9, 2),
        ]);
    }
    t += &matmul.to_text_in(&layout(vec![Col::left(24), Col::left(28), Col::right(10)]));
    if matmuls.iter().all(|x| x.is_none()) {
        let _ = writeln!(t, "  (not measured: see the warnings)");
    }
    let mut bandwidth = Table::new(&[
        "level",
        "capacity",
        "from",
        "working set",
        "GB/s median (min-max) xrepeats: read | write | copy",
    ]);
    for b in &m.bandwidth {
        let figures = [
            &b.read_bytes_per_s,
            &b.write_bytes_per_s,
            &b.copy_bytes_per_s,
        ]
        .map(|s| spread(s, 1e-9, 1));
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
            .map_or("not measured".into(), |s| spread(s, 1.0, 0))
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
            spread(&c.read_ns, 1.0, 0)
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
            "2.00 (1.50-2.50) x7",
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
            lines[2..4],
            [
                "matmul f32               kernel                         m x k x n  \
                 GMAC/s median (min-max) xrepeats",
                "  1 thread               fma_mmm_f32_16x6             240x240x240  2.00 (1.50-2.50) x7",
            ]
        );
    }
}
