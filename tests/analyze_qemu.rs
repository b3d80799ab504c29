//! The golden log of a `-M virt -icount` boot (tests/golden/qemu_virt_icount.jsonl; how it was
//! made: docs/analysis.md, "A deterministic finding from QEMU"): its instruction counts are
//! exact for the aarch64 binary, so the figures docs/analysis.md quotes are checked here.

mod common;
use common::*;

/// counters.csv of `hiddencost analyze` on the golden log, rows by (model, view, key).
fn counters() -> Vec<std::collections::BTreeMap<String, String>> {
    let dir = tempfile::tempdir().unwrap();
    let golden = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/golden/qemu_virt_icount.jsonl"
    );
    analyze_into(&[std::path::Path::new(golden)], dir.path());
    let text = std::fs::read_to_string(dir.path().join("counters.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    lines
        .map(|l| {
            header
                .iter()
                .cloned()
                .zip(l.split(',').map(String::from))
                .collect()
        })
        .collect()
}

fn value(
    rows: &[std::collections::BTreeMap<String, String>],
    model: &str,
    op: &str,
    col: &str,
) -> f64 {
    let row = rows
        .iter()
        .find(|r| r["model"] == model && r["view"] == "op" && r["category"] == op)
        .unwrap_or_else(|| panic!("{model} {op}"));
    row[col].parse().unwrap()
}

#[test]
fn instructions_per_mac_and_per_byte_are_the_documented_ones() {
    let rows = counters();
    let round = |x: f64| (x * 100.0).round() / 100.0;
    let per_mac = |m: &str, op: &str| round(value(&rows, m, op, "instructions_per_mac"));
    let per_byte = |m: &str, op: &str| round(value(&rows, m, op, "instructions_per_byte"));
    // the matmul kernels: about 3 MACs per instruction
    assert_eq!(per_mac("resnet50", "OptMatMul"), 0.32);
    assert_eq!(per_mac("mobilenet", "OptMatMul"), 0.34);
    assert_eq!(per_mac("shufflenetv2", "OptMatMul"), 0.39);
    // depthwise convs: 4 to 7 times the instructions per MAC
    assert_eq!(per_mac("mobilenet", "DepthWiseConv"), 1.55);
    assert_eq!(per_mac("shufflenetv2", "DepthWiseConv"), 2.64);
    // ShuffleNetV2's tensor ops: copies cost a tenth of an instruction per byte, its
    // element-wise Add and Mul over twenty times that
    assert_eq!(per_byte("shufflenetv2", "Concat"), 0.10);
    assert_eq!(per_byte("shufflenetv2", "Slice"), 0.07);
    assert_eq!(per_byte("shufflenetv2", "MoveAxis"), 0.18);
    assert_eq!(per_byte("shufflenetv2", "OptMatMulPack"), 0.19);
    assert_eq!(per_byte("shufflenetv2", "Add"), 2.13);
    assert_eq!(per_byte("shufflenetv2", "Mul"), 2.13);
    assert_eq!(per_byte("resnet50", "Pad"), 0.57);
    // icount: one instruction per 2^3 virtual cycles, whatever the code
    assert_eq!(value(&rows, "resnet50", "OptMatMul", "ipc"), 0.125);
}
