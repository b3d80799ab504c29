//! Unit tests of the kernel attribution rules on small hand-built graphs.

use super::*;
use crate::cost::source_category;
use crate::record::Cost;

fn src(name: &str, op_type: &str, producers: &[usize], macs: u64) -> SourceNode {
    SourceNode {
        name: name.into(),
        op_type: op_type.into(),
        category: source_category(op_type),
        input_shapes: vec![],
        output_shapes: vec![],
        producers: producers.to_vec(),
        cost: Cost {
            macs,
            params: macs / 36,
            flops: 2 * macs,
            thop_macs: macs,
            ..Cost::default()
        },
    }
}

/// An executed node named `name`, mapped by name to `source` as `exec_nodes` does.
fn ex(name: &str, op: &str, source: Option<usize>, sources: &[SourceNode]) -> ExecNode {
    ExecNode {
        node_id: 0,
        name: name.into(),
        op: op.into(),
        source,
        category: super::super::exec_category(
            op,
            source.map(|s| sources[s].category),
            source.is_some_and(|s| super::super::is_integer_op(&sources[s].op_type)),
        ),
        fused: vec![],
        input_shapes: vec![],
        output_shapes: vec![vec![1, 4, 36]],
        cost: Cost::default(),
    }
}

fn run(out: &mut [ExecNode], inputs: Vec<Vec<usize>>, fma: Vec<Option<u64>>, s: &[SourceNode]) {
    let flow = Flow::new(inputs, fma);
    resolve_kernels(out, &flow, s);
    find_fused_batchnorms(out, s);
    assign_costs(out, &flow, s);
}

fn macs(out: &[ExecNode]) -> Vec<u64> {
    out.iter().map(|e| e.cost.macs).collect()
}

#[test]
fn shares_add_up_exactly_and_follow_the_weights() {
    assert_eq!(shares(1800, &[1080, 720]), [1080, 720]);
    assert_eq!(shares(10, &[1, 1, 1]), [4, 3, 3]);
    assert_eq!(shares(7, &[0, 0]), [4, 3]);
    assert_eq!(shares(5, &[3, 0]), [5, 0]);
    assert_eq!(shares(0, &[3, 4]), [0, 0]);
    assert!(shares(9, &[]).is_empty());
    let big = shares(u64::MAX, &[u64::MAX, 1, u64::MAX]);
    assert_eq!(
        big.iter().map(|&x| x as u128).sum::<u128>(),
        u64::MAX as u128
    );
    for (total, w) in [
        (1000u64, vec![1u64, 2, 3, 4]),
        (997, vec![5, 5, 1]),
        (3, vec![7, 11]),
    ] {
        let parts = shares(total, &w);
        assert_eq!(parts.iter().sum::<u64>(), total);
        let wsum: u64 = w.iter().sum();
        for (p, w) in parts.iter().zip(&w) {
            assert!((*p as f64 - (total * w) as f64 / wsum as f64).abs() < 1.0);
        }
    }
}

#[test]
fn fused_tail_kernels_fed_by_a_shared_pack_compute_their_own_convs() {
    // a/conv -> a/relu and b/conv -> b/relu read the same input; tract's one pack is
    // named after a/conv and feeds both kernels, each named after its ReLU.
    let s = [
        src("a/conv", "Conv", &[], 1152),
        src("a/relu", "Relu", &[0], 0),
        src("b/conv", "Conv", &[], 1728),
        src("b/relu", "Relu", &[2], 0),
    ];
    let mut out = vec![
        ex("a/conv.pack_a", "OptMatMulPack", Some(0), &s),
        ex("a/relu.low.prefused", "OptMatMul", Some(1), &s),
        ex("a/conv.unmerge_out", "IntoShape", Some(0), &s),
        ex("b/relu.low.prefused", "OptMatMul", Some(3), &s),
        ex("b/conv.unmerge_out", "IntoShape", Some(2), &s),
    ];
    let inputs = vec![vec![], vec![0], vec![1], vec![0], vec![3]];
    run(
        &mut out,
        inputs,
        vec![None, Some(1152), None, Some(1728), None],
        &s,
    );
    assert_eq!(out[1].source, Some(0));
    assert_eq!(out[3].source, Some(2));
    assert_eq!(out[3].category, "conv");
    assert_eq!(macs(&out), [0, 1152, 0, 1728, 0]);
}

#[test]
fn a_fused_residual_add_goes_to_the_conv_its_output_reshape_names() {
    // relu(add(a/relu(a/conv(x)), b/conv(x))): the Add's kernel is fed by the pack named
    // after a/conv, but computes b/conv (its output reshape is b's).
    let s = [
        src("a/conv", "Conv", &[], 1000),
        src("a/relu", "Relu", &[0], 0),
        src("b/conv", "Conv", &[], 2000),
        src("add", "Add", &[1, 2], 0),
        src("relu", "Relu", &[3], 0),
    ];
    let mut out = vec![
        ex("a/conv.pack_a", "OptMatMulPack", Some(0), &s),
        ex("a/relu.low.prefused", "OptMatMul", Some(1), &s),
        ex("relu.low.prefused", "OptMatMul", Some(4), &s),
        ex("b/conv.unmerge_out", "IntoShape", Some(2), &s),
    ];
    let inputs = vec![vec![], vec![0], vec![0, 1], vec![2]];
    run(
        &mut out,
        inputs,
        vec![None, Some(1000), Some(2000), None],
        &s,
    );
    assert_eq!(out[2].source, Some(2));
    assert_eq!(macs(&out), [0, 1000, 2000, 0]);
}

#[test]
fn without_a_named_output_the_packed_operand_decides() {
    // resnet's block: relu(add(bn1(c1(x)), bn2(sc(x)))) fused into c1's kernel, whose output
    // goes straight into the next conv's packing.
    let s = [
        src("c1", "Conv", &[], 4096),
        src("bn1", "BatchNormalization", &[0], 0),
        src("sc", "Conv", &[], 8192),
        src("bn2", "BatchNormalization", &[2], 0),
        src("add", "Add", &[1, 3], 0),
        src("relu", "Relu", &[4], 0),
        src("next", "Conv", &[5], 512),
    ];
    let mut out = vec![
        ex("c1.pack_a", "OptMatMulPack", Some(0), &s),
        ex("sc.pack_a", "OptMatMulPack", Some(2), &s),
        ex("bn2.prefused", "OptMatMul", Some(3), &s),
        ex("relu.low.prefused", "OptMatMul", Some(5), &s),
        ex("next.pack_a", "OptMatMulPack", Some(6), &s),
        ex("next", "OptMatMul", Some(6), &s),
    ];
    let inputs = vec![vec![], vec![], vec![1], vec![0, 2], vec![3], vec![4]];
    let fma = vec![None, None, Some(8192), Some(4096), None, Some(512)];
    run(&mut out, inputs, fma, &s);
    assert_eq!(out[2].source, Some(2));
    assert_eq!(out[3].source, Some(0));
    assert_eq!(macs(&out), [0, 0, 8192, 4096, 0, 512]);
}

#[test]
fn a_split_conv_is_shared_by_its_kernels_work() {
    let s = [src("cat", "Concat", &[], 0), src("c", "Conv", &[0], 1800)];
    let mut out = vec![
        ex("c.concat-einsum-I.4..10", "OptMatMul", Some(1), &s),
        ex("c.concat-einsum-I.add-1.prefused", "OptMatMul", Some(1), &s),
        ex(
            "c.concat-einsum-I.0..4.unmerge_out",
            "IntoShape",
            Some(1),
            &s,
        ),
    ];
    let inputs = vec![vec![], vec![0], vec![1]];
    run(&mut out, inputs, vec![Some(1080), Some(720), None], &s);
    assert_eq!(macs(&out), [1080, 720, 0]);
    // Every cost field is split and adds up to the source's.
    assert_eq!(out[0].cost.params + out[1].cost.params, s[1].cost.params);
    assert_eq!(out[0].cost.flops + out[1].cost.flops, s[1].cost.flops);
    assert_eq!(out[0].cost.thop_macs, 1080);
    // Without tract's counts, output elements weigh: equal here.
    let mut out2 = out.clone();
    out2.iter_mut().for_each(|e| e.cost = Cost::default());
    run(&mut out2, vec![vec![], vec![0], vec![1]], vec![None; 3], &s);
    assert_eq!(macs(&out2), [900, 900, 0]);
}

#[test]
fn a_merged_in_conv_goes_to_the_kernel_its_reshape_is_fed_from() {
    // One kernel computing two sources (its name is a's; b keeps only a reshape).
    let s = [src("a", "Conv", &[], 1152), src("b", "Conv", &[], 1728)];
    let mut out = vec![
        ex("a.pack_a", "OptMatMulPack", Some(0), &s),
        ex("a", "OptMatMul", Some(0), &s),
        ex("a.unmerge_out", "IntoShape", Some(0), &s),
        ex("b.unmerge_out", "Slice", Some(1), &s),
    ];
    let inputs = vec![vec![], vec![0], vec![1], vec![1]];
    run(&mut out, inputs, vec![None, Some(2880), None, None], &s);
    assert_eq!(macs(&out), [0, 2880, 0, 0]);
}

#[test]
fn a_kernel_of_the_sources_own_input_is_not_its_kernel() {
    // q has no kernel and only an input-side reshape, fed by p's kernel: p is q's producer,
    // so q keeps the anchor rule (and p keeps only its own MACs).
    let s = [
        src("p", "Conv", &[], 300),
        src("p/relu", "Relu", &[0], 0),
        src("q", "Conv", &[1], 500),
    ];
    let mut out = vec![
        ex("p/relu.low.prefused", "OptMatMul", Some(1), &s),
        ex("q.merge_in0", "IntoShape", Some(2), &s),
    ];
    run(&mut out, vec![vec![], vec![0]], vec![Some(300), None], &s);
    assert_eq!(out[0].source, Some(0));
    assert_eq!(macs(&out), [300, 500]);
}

#[test]
fn a_source_without_kernels_keeps_its_anchor() {
    let mut pool = src("gap", "GlobalAveragePool", &[], 0);
    pool.cost.flops = 256;
    let s = [pool];
    let mut out = vec![
        ex("gap.sum", "Reduce<Sum>", Some(0), &s),
        ex("gap.norm", "OptMulByScalar", Some(0), &s),
    ];
    run(&mut out, vec![vec![], vec![0]], vec![None, None], &s);
    assert_eq!(
        out.iter().map(|e| e.cost.flops).collect::<Vec<_>>(),
        [0, 256]
    );
}

#[test]
fn a_batchnorm_after_a_concat_is_recorded_on_the_relu_chain_that_does_it() {
    // conv -> concat -> bn -> relu, and conv2 -> bn2 -> relu2 (bn2 folded into conv2's weights)
    let s = vec![
        src("conv", "Conv", &[], 0),
        src("cat", "Concat", &[0], 0),
        src("bn", "BatchNormalization", &[1], 0),
        src("relu", "Relu", &[2], 0),
        src("conv2", "Conv", &[3], 0),
        src("bn2", "BatchNormalization", &[4], 0),
        src("relu2", "Relu", &[5], 0),
    ];
    let mut s = s;
    s[2].cost.flops = 256;
    s[2].cost.params = 16;
    s[5].cost.flops = 64;
    let mut out = vec![
        ex("conv", "OptMatMul", Some(0), &s),
        ex("cat", "Concat", Some(1), &s),
        ex("relu.low", "OptBinChain(Mul+Add+Max)", Some(3), &s),
        ex("conv2", "OptMatMul", Some(4), &s),
        ex("relu2.low", "OptMaxByScalar", Some(6), &s),
    ];
    run(
        &mut out,
        vec![vec![], vec![0], vec![1], vec![2], vec![3]],
        vec![None; 5],
        &s,
    );
    let fused: Vec<Vec<usize>> = out.iter().map(|e| e.fused.clone()).collect();
    assert_eq!(fused, [vec![], vec![], vec![2], vec![], vec![]]);
    assert_eq!(out[2].category, "activation");
    // The BN's static cost goes where its work is done; the folded bn2 has no op to go to.
    assert_eq!((out[2].cost.flops, out[2].cost.params), (256, 16));
    assert_eq!(out[4].cost.flops, 0);
}
