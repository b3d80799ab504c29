//! Tests of [`super`] (bounds.rs).

use super::*;
use crate::compute::metrics::tests::compact;
use crate::record::{BandwidthProbe, MatmulProbe, OpRecord};

fn spread_of(v: f64) -> Spread {
    Spread {
        median: v,
        min: v * 0.95,
        max: v,
        repeats: 5,
        ..Default::default()
    }
}

fn level(name: &str, capacity: Option<u64>, read: f64, write: f64) -> BandwidthProbe {
    BandwidthProbe {
        level: name.into(),
        capacity_bytes: capacity,
        capacity_from: "sysfs".into(),
        working_set_bytes: capacity.unwrap_or(1 << 26) / 2,
        read_bytes_per_s: spread_of(read),
        write_bytes_per_s: spread_of(write),
        copy_bytes_per_s: spread_of(read),
    }
}

#[test]
fn half_a_copy_is_a_read_and_a_write_the_machine_reached() {
    let mut m = machine();
    // A read stream slower than half a copy (seen under QEMU's emulation of memchr).
    m.bandwidth[1].read_bytes_per_s = spread_of(10e9);
    m.bandwidth[1].copy_bytes_per_s = spread_of(60e9);
    let r = Roofs::from_machine(&m, 1).unwrap();
    assert_eq!(r.levels[0].read_bytes_per_s, 30e9);
    assert_eq!(r.levels[0].write_bytes_per_s, 50e9);
}

#[test]
fn roofs_take_the_tenth_percentile_from_the_best_and_the_best_in_older_logs() {
    let mut m = machine();
    // A probe with percentiles: one lone fast repeat (max) does not set the roof.
    let with_p90 = |s: Spread, p90: f64| Spread {
        p90: Some(p90),
        ..s
    };
    let mm = m.matmul.as_mut().unwrap();
    mm.macs_per_s = with_p90(
        Spread {
            max: 14e9,
            ..mm.macs_per_s
        },
        9.8e9,
    );
    let l1 = &mut m.bandwidth[1];
    l1.read_bytes_per_s = with_p90(l1.read_bytes_per_s, 90e9);
    m.dispatch_floor_ns = Some(Spread {
        p10: Some(520.0),
        ..m.dispatch_floor_ns.unwrap()
    });
    let r = Roofs::from_machine(&m, 1).unwrap();
    assert_eq!(r.peak_macs_per_s, 9.8e9);
    assert_eq!(r.levels[0].read_bytes_per_s, 90e9);
    assert_eq!(r.floor_ns, 520.0);
    // Without them (an older log): the best repeat, the highest rate and the lowest time.
    let r = Roofs::from_machine(&machine(), 1).unwrap();
    assert_eq!(
        (r.peak_macs_per_s, r.levels[0].read_bytes_per_s, r.floor_ns),
        (10e9, 100e9, 500.0)
    );
}

fn machine() -> Machine {
    let matmul = |threads, rate| MatmulProbe {
        kernel: "k".into(),
        threads,
        m: 256,
        k: 256,
        n: 256,
        macs_per_s: spread_of(rate),
        operands: Some("f32".into()),
        kernel_isa: None,
        dot_product: None,
    };
    Machine {
        matmul: Some(matmul(1, 10e9)),
        matmul_threads: Some(matmul(4, 40e9)),
        bandwidth: vec![
            level("DRAM", None, 1e9, 0.5e9),
            level("L1", Some(32_768), 100e9, 50e9),
            level("L2", Some(1 << 20), 20e9, 10e9),
        ],
        dispatch_floor_ns: Some(Spread {
            median: 600.0,
            min: 500.0,
            max: 700.0,
            repeats: 5,
            ..Default::default()
        }),
        ..Machine::default()
    }
}

fn cost(macs: u64, read: u64, written: u64) -> Cost {
    Cost {
        macs,
        bytes_read: read,
        bytes_written: written,
        ..Cost::default()
    }
}

/// An op record of `macs` MACs (100 bytes each way) whose median is `ns`.
fn op_record(op: &str, category: &str, macs: u64, ns: u64) -> OpRecord {
    OpRecord {
        model: "m".into(),
        node_id: 0,
        node: "n".into(),
        op: op.into(),
        source_node: None,
        source_op: None,
        category: category.into(),
        source_category: None,
        fused_sources: vec![],
        input_shapes: vec![],
        output_shapes: vec![],
        order: 0,
        cost: cost(macs, 100, 100),
        wall_ns: crate::record::WallNs {
            median: ns,
            min: ns,
            max: ns,
        },
        counters: BTreeMap::new(),
    }
}

#[test]
fn roofs_take_the_best_repeats_and_order_the_levels() {
    let r = Roofs::from_machine(&machine(), 1).unwrap();
    assert_eq!(r.peak_macs_per_s, 10e9);
    assert!((r.peak_spread - 0.05).abs() < 1e-12);
    let names: Vec<&str> = r.levels.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["L1", "L2", "DRAM"]);
    assert_eq!(r.floor_ns, 500.0);
    assert_eq!(
        Roofs::from_machine(&machine(), 4).unwrap().peak_macs_per_s,
        40e9
    );
    let mut no_peak = machine();
    no_peak.matmul = None;
    assert_eq!(Roofs::from_machine(&no_peak, 4).unwrap().threads, 4);
    assert!(Roofs::from_machine(&no_peak, 1).is_err());
    let mut one_thread = machine();
    one_thread.matmul_threads = None;
    let err = Roofs::from_machine(&one_thread, 4).unwrap_err();
    assert_eq!(err, NoRoofs::NoThreadsPeak { threads: 4 });
}

#[test]
fn each_op_gets_its_limiter_and_excess() {
    let r = Roofs::from_machine(&machine(), 1).unwrap();
    // 1e6 MACs at 10 GMAC/s = 100 µs; 16 KiB in L1 is nothing: compute.
    let b = r.bound("Op", &cost(1_000_000, 8192, 8192), 200_500.0);
    assert_eq!(b.limiter, Limiter::Compute);
    assert!((b.bound_ns - 100_500.0).abs() < 1e-6);
    assert!((b.excess_ns - 100_000.0).abs() < 1e-6);
    assert!((b.times_bound() - 200_500.0 / 100_500.0).abs() < 1e-12);
    // A 4 MB copy (2 MB each way) lives in DRAM: 2 MB / 0.5 GB/s write = 4 ms.
    let b = r.bound("Op", &cost(0, 2_000_000, 2_000_000), 5e6);
    assert_eq!(b.limiter, Limiter::Memory(2));
    assert_eq!(
        r.limiter_name(b.limiter),
        LimiterName::Memory("DRAM".into())
    );
    assert!((b.memory_ns - 4e6).abs() < 1e-3);
    // 300 KiB: L2 (the read term, 300k / 20 GB/s = 15 µs, beats the write term 7.5 µs).
    let b = r.bound("Op", &cost(0, 200_000, 50_000), 20_000.0);
    assert_eq!(r.limiter_name(b.limiter), LimiterName::Memory("L2".into()));
    assert!((b.memory_ns - 10_000.0).abs() < 1e-6);
    // A tiny op is all floor.
    let b = r.bound("Op", &cost(0, 16, 16), 900.0);
    assert_eq!(b.limiter, Limiter::Overhead);
    assert!((b.excess_ns - (900.0 - b.bound_ns)).abs() < 1e-9);
    // A slice of a 4 MB tensor reads the 64 KB it writes (L1 is too small for 4 MB + 64 KB:
    // DRAM, where 64 KB take 64 µs to read and 128 µs to write).
    let b = r.bound("Slice", &cost(0, 4_000_000, 64_000), 200_000.0);
    assert_eq!(
        r.limiter_name(b.limiter),
        LimiterName::Memory("DRAM".into())
    );
    assert!((b.memory_ns - 128_000.0).abs() < 1e-6);
    // A reshape need not move its 4 MB: its bound is the floor.
    let b = r.bound("IntoShape", &cost(0, 2_000_000, 2_000_000), 5e6);
    assert_eq!((b.memory_ns, b.limiter), (0.0, Limiter::Overhead));
}

#[test]
fn ops_faster_than_physics_are_flagged() {
    let r = Roofs::from_machine(&machine(), 1).unwrap();
    let op = |macs, ns, category| op_record("IntoShape", category, macs, ns);
    // 16.8M MACs in 0.7 µs (a reshape carrying a merged conv's MACs): 24,000 GMAC/s.
    let ops = [
        op(16_800_000, 700, "tensor"),
        op(1_000_000, 150_000, "conv"),
    ];
    let m = model_bounds(&r, &compact(&ops));
    assert_eq!(m.over_peak, vec![0]);
    assert!(m.peak_beaten.is_empty());
    assert_eq!(m.below_bound, vec![0]);
    assert_eq!(m.total.ops, 2);
    assert_eq!(m.by_category["conv"].ops, 1);
    assert!((m.by_category["conv"].above_ns - (150_000.0 - 100_500.0)).abs() < 1e-6);
    assert_eq!(m.by_limiter[&LimiterName::Compute].ops, 2);
    // A model whose fastest op beats the probe's 500 ns floor takes that op's time.
    let ops = [op(0, 300, "tensor"), op(1_000_000, 150_000, "conv")];
    let m = model_bounds(&r, &compact(&ops));
    assert_eq!(m.roofs.floor_ns, 300.0);
    assert!(m.below_bound.is_empty());
    assert!((m.ops[1].bound_ns - 100_300.0).abs() < 1e-6);
    // A conv kernel at twice the peak beat the probe; a Relu with MACs carries a conv's.
    let ops = [
        op(2_000_000, 100_000, "conv"),
        op(2_000_000, 100_000, "relu"),
    ];
    let m = model_bounds(&r, &compact(&ops));
    assert_eq!(
        (m.peak_beaten.clone(), m.over_peak.clone()),
        (vec![0], vec![1])
    );
}

#[test]
fn a_kernel_above_the_probe_raises_the_roof_up_to_the_limit() {
    let r = Roofs::from_machine(&machine(), 1).unwrap();
    let conv = |macs, ns| op_record("OptMatMul", "conv", macs, ns);
    // Within the probe's 5% spread: nothing beaten, the probe's roof.
    let m = model_bounds(
        &r,
        &compact(&[conv(1_040_000, 100_000), conv(500_000, 100_000)]),
    );
    assert!(m.peak_beaten.is_empty() && !m.peak_raised());
    assert_eq!(m.roofs.peak_macs_per_s, 10e9);
    // 12 and 15 GMAC/s beat the probe's 10: the roof is the faster, and every bound holds.
    let m = model_bounds(
        &r,
        &compact(&[
            conv(1_200_000, 100_000),
            conv(1_500_000, 100_000),
            conv(500_000, 100_000),
        ]),
    );
    assert_eq!(m.peak_beaten, vec![0, 1]);
    assert!(m.peak_raised());
    assert_eq!(m.probe_peak_macs_per_s, 10e9);
    assert!((m.roofs.peak_macs_per_s - 15e9).abs() < 1.0);
    assert!(m.above_raised_peak().is_empty());
    assert!(m.below_bound.is_empty());
    assert!((m.ops[1].compute_ns - 100_000.0).abs() < 1e-6);
    // 25 GMAC/s is beyond 2x: likelier overcounted MACs; the roof rises to the 15 only,
    // and the 25 stays above it.
    let m = model_bounds(
        &r,
        &compact(&[conv(2_500_000, 100_000), conv(1_500_000, 100_000)]),
    );
    assert_eq!(m.peak_beaten, vec![0, 1]);
    assert!((m.roofs.peak_macs_per_s - 15e9).abs() < 1.0);
    assert_eq!(m.above_raised_peak(), vec![0]);
    assert_eq!(m.below_bound, vec![0]);
    // Beyond the limit alone: the probe's roof is kept.
    let m = model_bounds(&r, &compact(&[conv(2_500_000, 100_000)]));
    assert!(!m.peak_raised());
    assert_eq!(m.above_raised_peak(), vec![0]);
}

#[test]
fn packed_constants_and_scratch_are_traffic() {
    let r = Roofs::from_machine(&machine(), 1).unwrap();
    // nn.Linear(4096, 4096) at batch 1 as tract records it: the bias a plain constant input,
    // the 64 MiB of packed weights inside the kernel, the packed input row as scratch.
    let gemv = Cost {
        macs: 4096 * 4096,
        bytes_read: 16_384,
        weight_bytes: 16_384,
        bytes_written: 16_384,
        packed_const_bytes: 4096 * 4100 * 4,
        scratch_bytes_read: 16_400,
        ..Cost::default()
    };
    let t = Traffic::of("OptMatMul", &gemv);
    assert_eq!(
        (t.read, t.written, t.own, t.working_set),
        (67_207_184, 16_384, 0, 67_223_568)
    );
    let b = r.bound("OptMatMul", &gemv, 70e6);
    // 64 MiB is beyond every cache: read from DRAM at 1 GB/s, 67.2 ms against 1.7 ms of MACs.
    assert_eq!(
        r.limiter_name(b.limiter),
        LimiterName::Memory("DRAM".into())
    );
    assert!((b.memory_ns - 67_207_184.0).abs() < 1e-3);
    assert!((b.compute_ns - 1_677_721.6).abs() < 1e-3);
    // Without its packed weights (a version 1 record) the same op looked compute-bound.
    let v1 = Cost {
        packed_const_bytes: 0,
        ..gemv
    };
    assert_eq!(r.bound("OptMatMul", &v1, 70e6).limiter, Limiter::Compute);
    // A 3x3 conv's kernel gathering a lazy im2col's panels: its 2.3 MB of panels are filled
    // and read in L1; the input, weights and output (694 KiB) sit in L2.
    let conv = Cost {
        bytes_read: 296_192,
        bytes_written: 262_144,
        packed_const_bytes: 151_552,
        scratch_bytes_read: 2_369_376,
        scratch_bytes_written: 2_369_376,
        ..Cost::default()
    };
    let b = r.bound("OptMatMul", &conv, 1e6);
    assert_eq!(b.level, 1);
    let read_ns = 447_744.0 / 20e9 * 1e9 + 2_369_376.0 / 100e9 * 1e9;
    let write_ns = 262_144.0 / 10e9 * 1e9 + 2_369_376.0 / 50e9 * 1e9;
    assert!(write_ns > read_ns);
    assert!((b.memory_ns - write_ns).abs() < 1e-6);
    // The eager im2col that fills 4 MB of scratch for another op writes it where it fits.
    let im2col = Cost {
        bytes_read: 1_000_000,
        scratch_bytes_written: 4_000_000,
        ..Cost::default()
    };
    let b = r.bound("Im2col", &im2col, 1e7);
    assert_eq!(
        r.limiter_name(b.limiter),
        LimiterName::Memory("DRAM".into())
    );
    assert!((b.memory_ns - 8e6).abs() < 1e-3);
}

/// The test machine with an integer roof of 0.5 GMAC/s on one thread (the value used; spread
/// 5%) and 2 GMAC/s on the pool.
fn machine_int8() -> Machine {
    let mut m = machine();
    let int8 = |threads, rate| MatmulProbe {
        kernel: "i32k".into(),
        threads,
        m: 96,
        k: 96,
        n: 96,
        macs_per_s: spread_of(rate),
        operands: Some("i8".into()),
        kernel_isa: Some("avx2".into()),
        dot_product: None,
    };
    m.matmul_int8 = Some(int8(1, 0.5e9));
    m.matmul_int8_threads = Some(int8(4, 2e9));
    m
}

/// `macs` MACs, `int8` of them on 8-bit operands, and 16 KiB each way (L1: no memory limit).
fn int8_cost(macs: u64, int8: u64) -> Cost {
    Cost {
        int8_macs: int8,
        ..cost(macs, 8192, 8192)
    }
}

#[test]
fn int8_macs_are_bounded_by_the_integer_roof() {
    let r = Roofs::from_machine(&machine_int8(), 1).unwrap();
    let int8 = r.int8.as_ref().unwrap();
    assert_eq!(
        (int8.peak_macs_per_s, int8.kernel.as_str()),
        (0.5e9, "i32k")
    );
    assert_eq!(
        Roofs::from_machine(&machine_int8(), 4)
            .unwrap()
            .int8
            .unwrap()
            .peak_macs_per_s,
        2e9,
        "the pool's integer peak on 4 threads"
    );
    // 1e6 int8 MACs at 0.5 GMAC/s: 2 ms (at the f32 roof they would be 100 µs).
    let b = r.bound("OptMatMul", &int8_cost(1_000_000, 1_000_000), 3e6);
    assert_eq!((b.roof, b.limiter), (ComputeRoof::Int8, Limiter::Compute));
    assert!((b.compute_ns - 2e6).abs() < 1e-6, "{b:?}");
    assert!((b.bound_ns - 2_000_500.0).abs() < 1e-6);
    assert!((b.excess_ns - 999_500.0).abs() < 1e-6);
    // Part of the MACs on f32 (a fused op): each part at its own roof, 1 ms + 50 µs.
    let b = r.bound("OptMatMul", &int8_cost(1_000_000, 500_000), 3e6);
    assert_eq!(b.roof, ComputeRoof::Int8);
    assert!((b.compute_ns - 1_050_000.0).abs() < 1e-6, "{b:?}");
    // No int8 MACs: the f32 roof, as before; no MACs: no compute roof.
    let b = r.bound("OptMatMul", &int8_cost(1_000_000, 0), 3e6);
    assert_eq!(b.roof, ComputeRoof::F32);
    assert!((b.compute_ns - 100_000.0).abs() < 1e-6);
    assert_eq!(
        r.bound("Add", &int8_cost(0, 0), 1e3).roof,
        ComputeRoof::None
    );
}

#[test]
fn without_an_integer_roof_int8_macs_are_unbounded_not_f32_bounded() {
    // An older log: no matmul_int8. Its int8 ops' compute is not bounded at all.
    let r = Roofs::from_machine(&machine(), 1).unwrap();
    assert_eq!(r.int8, None);
    let b = r.bound("OptMatMul", &int8_cost(1_000_000, 1_000_000), 3e6);
    assert_eq!(b.roof, ComputeRoof::Int8Unmeasured);
    assert_eq!(b.compute_ns, 0.0, "never the f32 roof's 100 µs");
    // 16 KiB each way in L1 (100 and 50 GB/s): 8192 / 50e9 s, under the 500 ns floor.
    assert_eq!(b.limiter, Limiter::Overhead);
    assert!((b.bound_ns - 500.0 - 8192.0 / 50.0).abs() < 1e-6, "{b:?}");
    // The f32 part of a mixed op is still bounded by the f32 roof.
    let b = r.bound("OptMatMul", &int8_cost(1_000_000, 600_000), 3e6);
    assert!((b.compute_ns - 40_000.0).abs() < 1e-6, "{b:?}");
    // On a pool without its integer figure: unbounded too.
    let mut m = machine_int8();
    m.matmul_int8_threads = None;
    assert_eq!(Roofs::from_machine(&m, 4).unwrap().int8, None);
    let mut rec = op_record("OptMatMul", "conv", 1_000_000, 3_000_000);
    rec.cost.int8_macs = 1_000_000;
    let plain = op_record("OptMatMul", "conv", 1_000_000, 150_000);
    let mb = model_bounds(&r, &compact(&[rec, plain]));
    assert_eq!(mb.int8_unbounded, vec![0]);
    assert!(mb.peak_beaten.is_empty() && mb.over_peak.is_empty());
}

#[test]
fn int8_ops_neither_raise_nor_beat_the_f32_peak() {
    let r = Roofs::from_machine(&machine_int8(), 1).unwrap();
    let int8_op = |macs, ns| {
        let mut o = op_record("OptMatMul", "conv", macs, ns);
        o.cost.int8_macs = macs;
        o
    };
    // An integer conv at 15 GMAC/s: above the f32 peak (10) within the raise limit, but it is
    // held to the integer peak of 0.5: it beat that (30x), raises nothing, and is above it.
    let ops = [int8_op(1_500_000, 100_000), int8_op(1_000_000, 2_500_000)];
    let m = model_bounds(&r, &compact(&ops));
    assert_eq!(m.roofs.peak_macs_per_s, 10e9, "the f32 roof is not raised");
    assert!(!m.peak_raised());
    assert_eq!(m.peak_beaten, vec![0]);
    assert_eq!(m.above_raised_peak(), vec![0]);
    assert_eq!(m.ops[1].roof, ComputeRoof::Int8);
    // 1e6 MACs at 0.5 GMAC/s is 2 ms, the op ran 2.5 ms: 0.5 ms above its bound (+ floor).
    assert!((m.ops[1].excess_ns - (2_500_000.0 - 2_000_000.0 - 500.0)).abs() < 1e-6);
    assert!(m.int8_unbounded.is_empty());
}
