//! `hiddencost probe`: the machine record (`--json`) and its table, on this machine. The
//! figures' values depend on the machine; the tests check what cannot vary: every part is
//! there, every spread is ordered and positive, repeats shrink with the budget.

mod common;
use common::*;
use hiddencost::record::{Machine, Spread};

fn probe(args: &[&str]) -> (String, String) {
    let out = hiddencost().arg("probe").args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "probe {args:?} failed: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    (String::from_utf8_lossy(&out.stdout).into_owned(), stderr)
}

fn probe_json(args: &[&str]) -> Machine {
    let (stdout, _) = probe(&[&["--json", "--fake-counters"], args].concat());
    assert_eq!(stdout.lines().count(), 1, "one JSON object: {stdout}");
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not a Machine record: {e}\n{stdout}"))
}

fn ordered(what: &str, s: &Spread) {
    assert!(
        s.min > 0.0 && s.min <= s.median && s.median <= s.max && s.repeats >= 1,
        "{what}: {s:?}"
    );
}

fn all_spreads(m: &Machine) -> Vec<(String, Spread)> {
    let mut out = Vec::new();
    let matmuls = [
        &m.matmul,
        &m.matmul_threads,
        &m.matmul_int8,
        &m.matmul_int8_threads,
    ];
    for mm in matmuls.into_iter().flatten() {
        let operands = mm.operands.as_deref().unwrap_or("?");
        out.push((format!("matmul {operands} x{}", mm.threads), mm.macs_per_s));
    }
    for b in &m.bandwidth {
        out.push((format!("{} read", b.level), b.read_bytes_per_s));
        out.push((format!("{} write", b.level), b.write_bytes_per_s));
        out.push((format!("{} copy", b.level), b.copy_bytes_per_s));
    }
    out.extend(m.dispatch_floor_ns.map(|s| ("floor".to_string(), s)));
    for c in &m.counter_reads {
        out.push((format!("counter read {}", c.pass), c.read_ns));
    }
    out
}

#[test]
fn json_is_a_machine_record_with_every_part() {
    let m = probe_json(&[]);
    let mm = m.matmul.as_ref().expect("a matmul figure");
    assert!(!mm.kernel.is_empty());
    assert_eq!(
        (mm.threads, mm.m, mm.k),
        (1, mm.n, mm.n),
        "a cube on one thread"
    );
    assert_eq!(m.matmul_threads, None, "no pool without --threads");
    assert_eq!(mm.operands.as_deref(), Some("f32"));
    let int8 = m.matmul_int8.as_ref().expect("an integer matmul figure");
    assert_eq!(int8.operands.as_deref(), Some("i8"));
    assert_eq!((int8.threads, int8.m, int8.k), (1, int8.n, int8.n));
    assert_ne!(
        int8.kernel, mm.kernel,
        "the integer kernel is not the f32 one"
    );
    assert!(int8.kernel_isa.is_some() && mm.kernel_isa.is_some());
    assert_eq!(m.matmul_int8_threads, None, "no pool without --threads");
    assert!(m.bandwidth.len() >= 2, "{:?}", m.bandwidth);
    let last = m.bandwidth.last().unwrap();
    assert_eq!(last.level, "DRAM");
    assert_eq!(last.capacity_bytes, None);
    for pair in m.bandwidth.windows(2) {
        assert!(
            pair[0].working_set_bytes < pair[1].working_set_bytes,
            "{pair:?}"
        );
    }
    for b in &m.bandwidth[..m.bandwidth.len() - 1] {
        let capacity = b.capacity_bytes.expect("a cache level has a capacity");
        assert!(b.working_set_bytes <= capacity, "{b:?}");
        assert!(["sysfs", "assumed"].contains(&b.capacity_from.as_str()));
    }
    assert!(m.dispatch_floor_ns.is_some());
    // The fake PMU splits the default events over two passes: one read figure each.
    let passes: Vec<usize> = m.counter_reads.iter().map(|c| c.pass).collect();
    assert_eq!(passes, [0, 1]);
    for (what, s) in all_spreads(&m) {
        ordered(&what, &s);
    }
    assert!(m.warnings.iter().all(|w| w.kind == "probe"));
    // The probe never starts a figure past its budget, but a figure's first sample is never
    // cut: the last one can run over. The longest first sample is DRAM's (allocate and write
    // its buffer, then one read, write and copy pass: ~0.1-0.3 s on the x86 VM); 2 s covers a
    // test build on a busy machine.
    assert_eq!(m.budget_ns, 3_000_000_000);
    assert!(
        m.elapsed_ns <= m.budget_ns + 2_000_000_000,
        "{} ns",
        m.elapsed_ns
    );
}

#[test]
fn a_tiny_budget_gives_fewer_repeats_and_says_why() {
    let total = |m: &Machine| all_spreads(m).iter().map(|(_, s)| s.repeats).sum::<usize>();
    let full = probe_json(&["--budget", "3"]);
    // 1 ms: the matmul figure's calibration alone takes longer, so the figures after it are
    // never started.
    let tiny = probe_json(&["--budget", "0.001"]);
    assert_eq!(tiny.budget_ns, 1_000_000);
    assert!(
        total(&tiny) < total(&full),
        "{} vs {}",
        total(&tiny),
        total(&full)
    );
    assert!(tiny.bandwidth.len() < full.bandwidth.len());
    let skipped = tiny
        .warnings
        .iter()
        .filter(|w| w.message.contains("budget was spent"))
        .count();
    assert!(skipped >= 1, "{:?}", tiny.warnings);
    for (what, s) in all_spreads(&tiny) {
        ordered(&what, &s);
    }
}

#[test]
fn threads_add_the_pool_figure() {
    let m = probe_json(&["--threads", "2", "--budget", "1"]);
    let one = m.matmul.expect("one thread");
    let two = m.matmul_threads.expect("the pool of --threads 2");
    assert_eq!((one.threads, two.threads), (1, 2));
    assert_eq!(one.kernel, two.kernel, "the same kernel, on more threads");
    ordered("matmul x2", &two.macs_per_s);
    let (one, two) = (m.matmul_int8, m.matmul_int8_threads);
    let (one, two) = (
        one.expect("int8, one thread"),
        two.expect("int8 on the pool"),
    );
    assert_eq!((one.threads, two.threads), (1, 2));
    assert_eq!(one.kernel, two.kernel);
}

#[test]
fn the_table_names_every_part() {
    let (table, _) = probe(&["--fake-counters", "--budget", "1"]);
    for needle in [
        "machine probe:",
        "1 thread",
        "GMAC/s",
        "L1",
        "DRAM",
        "dispatch floor",
        "counter read, pass 0",
        "counter read, pass 1",
    ] {
        assert!(table.contains(needle), "{needle:?} missing from\n{table}");
    }
}
