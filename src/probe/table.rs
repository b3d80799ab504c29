//! `hiddencost probe` without `--json`: the [`Machine`] record as a terminal table. Reads the
//! record only. Rates: GMAC/s = 1e9 MAC/s, GB/s = 1e9 bytes/s; each figure is `median
//! (min-max) xREPEATS`.

use crate::record::{Machine, Spread};
use std::fmt::Write;

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

/// `32 KiB`, `1 MiB`, `512 B`.
fn bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 30 && n % (1 << 30) == 0 => format!("{} GiB", n >> 30),
        n if n >= 1 << 20 && n % (1 << 20) == 0 => format!("{} MiB", n >> 20),
        n if n >= 1 << 10 && n % (1 << 10) == 0 => format!("{} KiB", n >> 10),
        n => format!("{n} B"),
    }
}

pub fn render(m: &Machine) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "machine probe: {:.2} s of a {:.2} s budget\n",
        m.elapsed_ns as f64 * 1e-9,
        m.budget_ns as f64 * 1e-9
    );
    let _ = writeln!(
        t,
        "{:<24} {:<28} {:>10}  GMAC/s median (min-max) xrepeats",
        "matmul f32", "kernel", "m x k x n"
    );
    let matmuls = [&m.matmul, &m.matmul_threads];
    for mm in matmuls.iter().filter_map(|x| x.as_ref()) {
        let _ = writeln!(
            t,
            "  {:<22} {:<28} {:>10}  {}",
            super::plural(mm.threads, "thread"),
            mm.kernel,
            format!("{}x{}x{}", mm.m, mm.k, mm.n),
            spread(&mm.macs_per_s, 1e-9, 2)
        );
    }
    if matmuls.iter().all(|x| x.is_none()) {
        let _ = writeln!(t, "  (not measured: see the warnings)");
    }
    let _ = writeln!(
        t,
        "\n{:<6} {:>10} {:<8} {:>11}  GB/s median (min-max) xrepeats: read | write | copy",
        "level", "capacity", "from", "working set"
    );
    for b in &m.bandwidth {
        let _ = writeln!(
            t,
            "  {:<4} {:>10} {:<8} {:>11}  {} | {} | {}",
            b.level,
            b.capacity_bytes.map_or("-".into(), bytes),
            b.capacity_from,
            bytes(b.working_set_bytes),
            spread(&b.read_bytes_per_s, 1e-9, 1),
            spread(&b.write_bytes_per_s, 1e-9, 1),
            spread(&b.copy_bytes_per_s, 1e-9, 1),
        );
    }
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
        assert_eq!(bytes(1536), "1536 B");
        assert_eq!(bytes(128 << 20), "128 MiB");
    }
}
