//! Which executed kernels compute each source node, and how the source's static cost (params,
//! MACs, thop MACs, FLOPs) is shared among them.
//!
//! tract rewrites convs and matmuls in ways that break "one source node, one kernel":
//! - it fuses a conv's BatchNorm, ReLU or residual Add into the conv's matmul and names the kernel
//!   after the last fused op (`.../relu/Relu.low.prefused`);
//! - it deduplicates identical nodes, so sibling 1x1 convs reading the same input share one
//!   reshape and one packing node named after the first of them (`a/conv.pack_a` feeds the
//!   kernels of `a/conv` and `b/conv`);
//! - it splits a conv that reads a Concat into one kernel per concatenated input, each adding
//!   into the next (`c/conv.concat-einsum-I.0..4`, `c/conv.concat-einsum-I.add-1.prefused`).
//!
//! The rules, in order: a kernel named after a conv or linear source computes it; a kernel named
//! after another op (a fused tail) computes the conv or linear source that feeds that op in the
//! source graph, disambiguated by the executed graph when several do. A source computed by
//! several kernels shares its cost by the kernels' own work (tract's multiply-accumulate count of
//! each op); a kernel computing several sources carries the sum. A source with no kernel keeps
//! the anchor rule (one derived node). Everything here is plain data: `exec` builds it from tract.

use super::{ExecNode, SourceNode};
use std::collections::{HashSet, VecDeque};

/// The executed graph's edges and each node's own work, parallel to the executed nodes.
#[derive(Debug, Clone, Default)]
pub struct Flow {
    /// For each executed node, the executed nodes feeding it, in input-slot order (model inputs
    /// and constants left out).
    pub inputs: Vec<Vec<usize>>,
    /// For each executed node, the executed nodes reading its outputs.
    pub consumers: Vec<Vec<usize>>,
    /// tract's multiply-accumulate count of the op (`TypedOp::cost`, its FMA entries), when tract
    /// gives one with concrete dimensions.
    pub fma: Vec<Option<u64>>,
}

impl Flow {
    /// Edges from each node's inputs; consumers derived from them.
    pub fn new(inputs: Vec<Vec<usize>>, fma: Vec<Option<u64>>) -> Flow {
        let mut consumers = vec![Vec::new(); inputs.len()];
        for (i, ins) in inputs.iter().enumerate() {
            for &p in ins {
                if p < consumers.len() && !consumers[p].contains(&i) {
                    consumers[p].push(i);
                }
            }
        }
        Flow {
            inputs,
            consumers,
            fma,
        }
    }
}

/// How far a walk goes: source-graph hops from a fused tail back to its conv (Relu <- Add <- BN
/// <- Conv is three), and executed nodes visited through data movement.
const SOURCE_HOPS: usize = 6;
const ANCESTOR_HOPS: usize = 16;
const EXEC_WALK_NODES: usize = 32;

/// Whether an executed op is a matrix product or convolution kernel (not its packing).
pub fn is_matmul_like(op: &str) -> bool {
    (op.contains("MatMul") && !op.contains("Pack"))
        || op.starts_with("EinSum")
        || op.starts_with("DepthWiseConv")
        || op.starts_with("Conv")
        || op.starts_with("Deconv")
}

fn computes(sources: &[SourceNode], s: usize) -> bool {
    matches!(sources[s].category, "conv" | "linear")
}

fn moves_data(e: &ExecNode) -> bool {
    e.category == "tensor"
}

/// Conv and linear sources that feed source `t` through non-compute nodes (BN, activations,
/// adds), nearest first, within `SOURCE_HOPS`.
fn feeding_compute(sources: &[SourceNode], t: usize) -> Vec<usize> {
    let mut found = Vec::new();
    let mut seen = HashSet::from([t]);
    let mut frontier = vec![t];
    for _ in 0..SOURCE_HOPS {
        let mut next = Vec::new();
        for &n in &frontier {
            for &p in &sources[n].producers {
                if !seen.insert(p) {
                    continue;
                }
                if computes(sources, p) {
                    found.push(p);
                } else {
                    next.push(p);
                }
            }
        }
        if next.is_empty() {
            break;
        }
        frontier = next;
    }
    found
}

/// Source nodes upstream of `s` (any op), within `ANCESTOR_HOPS`.
fn ancestors(sources: &[SourceNode], s: usize) -> HashSet<usize> {
    let mut seen = HashSet::new();
    let mut frontier = vec![s];
    for _ in 0..ANCESTOR_HOPS {
        let next: Vec<usize> = frontier
            .iter()
            .flat_map(|&n| sources[n].producers.iter().copied())
            .filter(|&p| seen.insert(p))
            .collect();
        if next.is_empty() {
            break;
        }
        frontier = next;
    }
    seen
}

/// Executed nodes reached from `start` (included) along `edges`, going on only from data-movement
/// nodes, breadth first, at most `EXEC_WALK_NODES`.
fn walk(out: &[ExecNode], edges: &[Vec<usize>], start: &[usize]) -> Vec<usize> {
    let mut seen: HashSet<usize> = start.iter().copied().collect();
    let mut queue: VecDeque<usize> = start.iter().copied().collect();
    let mut visited = Vec::new();
    while let Some(n) = queue.pop_front() {
        visited.push(n);
        if visited.len() >= EXEC_WALK_NODES {
            break;
        }
        if !moves_data(&out[n]) {
            continue;
        }
        for &m in &edges[n] {
            if seen.insert(m) {
                queue.push_back(m);
            }
        }
    }
    visited
}

/// Gives every kernel whose name maps to a non-compute source (a fused tail) the conv or linear
/// source it computes: the one feeding that tail in the source graph; when several do (a fused
/// residual Add), the one named by the data-movement nodes its output flows into (the kernel's
/// `unmerge_out` reshape), else the first named upstream of its inputs in slot order (its
/// packed operand). A kernel with no source-graph candidate takes the first conv or linear source
/// upstream of its inputs (the fused conv's own packing). Its category becomes the source's.
pub fn resolve_kernels(out: &mut [ExecNode], flow: &Flow, sources: &[SourceNode]) {
    for k in 0..out.len() {
        if !is_matmul_like(&out[k].op) || out[k].source.is_some_and(|s| computes(sources, s)) {
            continue;
        }
        let candidates = out[k]
            .source
            .map(|t| feeding_compute(sources, t))
            .unwrap_or_default();
        let accept = |s: usize| {
            if candidates.is_empty() {
                computes(sources, s)
            } else {
                candidates.contains(&s)
            }
        };
        let downstream = || {
            let named: HashSet<usize> = walk(out, &flow.consumers, &flow.consumers[k])
                .into_iter()
                .filter(|&n| moves_data(&out[n]))
                .filter_map(|n| out[n].source)
                .filter(|&s| candidates.contains(&s))
                .collect();
            (named.len() == 1)
                .then(|| named.into_iter().next())
                .flatten()
        };
        let upstream = || {
            flow.inputs[k].iter().find_map(|&i| {
                walk(out, &flow.inputs, &[i])
                    .into_iter()
                    .find_map(|n| out[n].source.filter(|&s| accept(s)))
            })
        };
        let pick = match candidates.as_slice() {
            [only] => Some(*only),
            [] => upstream(),
            _ => downstream().or_else(upstream),
        };
        if let Some(s) = pick {
            out[k].source = Some(s);
            out[k].category = sources[s].category;
        }
    }
}

/// Records, on the elementwise op that does it, the work of a BatchNorm tract fused into the
/// next op's chain: a batchnorm source with no executed node of its own and no conv or linear
/// producer (after a conv, tract folds it into the weights instead: no runtime work), read by
/// a source whose executed node is a non-kernel op whose steps include the BN's Mul and Add
/// (`OptBinChain(Mul+Add+Max)` named after the ReLU). The first such node, in execution order.
pub fn find_fused_batchnorms(out: &mut [ExecNode], sources: &[SourceNode]) {
    for (p, src) in sources.iter().enumerate() {
        if src.category != "batchnorm"
            || out.iter().any(|e| e.source == Some(p))
            || src.producers.iter().any(|&q| computes(sources, q))
        {
            continue;
        }
        let host = out.iter().position(|e| {
            e.source.is_some_and(|s| sources[s].producers.contains(&p))
                && !is_matmul_like(&e.op)
                && e.op.contains("Mul")
                && e.op.contains("Add")
        });
        if let Some(h) = host {
            out[h].fused.push(p);
        }
    }
}

/// The kernels that compute each source: the matmul-like nodes mapped to it; for a conv or
/// linear source with none (merged into another source's kernel), the kernels its derived nodes
/// are fed from through data movement, except kernels of the source's own ancestors (its input's
/// producer, reached from its input-side reshapes).
fn kernel_sets(out: &[ExecNode], flow: &Flow, sources: &[SourceNode]) -> Vec<Vec<usize>> {
    let mut kernels = vec![Vec::new(); sources.len()];
    for (i, e) in out.iter().enumerate() {
        if let Some(s) = e.source.filter(|_| is_matmul_like(&e.op)) {
            kernels[s].push(i);
        }
    }
    for s in 0..sources.len() {
        if !kernels[s].is_empty() || !computes(sources, s) || sources[s].cost.macs == 0 {
            continue;
        }
        let derived: Vec<usize> = (0..out.len())
            .filter(|&i| out[i].source == Some(s))
            .collect();
        if derived.is_empty() {
            continue;
        }
        let upstream = ancestors(sources, s);
        let mut found: Vec<usize> = walk(out, &flow.inputs, &derived)
            .into_iter()
            .filter(|&n| is_matmul_like(&out[n].op))
            .filter(|&n| out[n].source.is_none_or(|o| !upstream.contains(&o)))
            .collect();
        found.sort_unstable();
        log::debug!(
            "{}: no kernel of its own; computed by {} kernel(s) it is fed from",
            sources[s].name,
            found.len()
        );
        kernels[s] = found;
    }
    kernels
}

/// Splits `total` into integer parts proportional to `weights` that add up to `total` exactly
/// (largest remainder; ties to the earlier part). All-zero weights split evenly.
fn shares(total: u64, weights: &[u64]) -> Vec<u64> {
    if weights.is_empty() {
        return Vec::new();
    }
    let weights: Vec<u128> = if weights.iter().all(|&w| w == 0) {
        vec![1; weights.len()]
    } else {
        weights.iter().map(|&w| w as u128).collect()
    };
    let sum: u128 = weights.iter().sum();
    let exact: Vec<(u128, u128)> = weights
        .iter()
        .map(|&w| {
            let x = total as u128 * w;
            (x / sum, x % sum)
        })
        .collect();
    let mut parts: Vec<u64> = exact.iter().map(|&(q, _)| q as u64).collect();
    let short = total - parts.iter().sum::<u64>();
    let mut order: Vec<usize> = (0..parts.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(exact[i].1));
    for &i in order.iter().take(short as usize) {
        parts[i] += 1;
    }
    parts
}

/// A kernel's own work: tract's multiply-accumulate count when every kernel of the set has
/// one, else their output elements.
fn work(out: &[ExecNode], flow: &Flow, ks: &[usize]) -> Vec<u64> {
    let fma: Option<Vec<u64>> = ks.iter().map(|&k| flow.fma[k]).collect();
    match fma {
        Some(f) if f.iter().any(|&x| x > 0) => f,
        _ => ks
            .iter()
            .map(|&k| {
                out[k]
                    .output_shapes
                    .first()
                    .map(|s| s.iter().map(|&d| d as u64).product())
                    .unwrap_or(0)
            })
            .collect(),
    }
}

/// Puts each source's params, MACs (and integer MACs), thop MACs and FLOPs on executed nodes:
/// shared among its kernels by their work, else on its anchor: the derived node that best does
/// the source's work (any node of its category, then the node bearing the source's exact name,
/// then the last), else the node it was fused into (`find_fused_batchnorms`, or a kernel
/// bearing its name), else (but a folded BN) the first compute node of a source reading it.
pub fn assign_costs(out: &mut [ExecNode], flow: &Flow, sources: &[SourceNode]) {
    let kernels = kernel_sets(out, flow, sources);
    for (s, src) in sources.iter().enumerate() {
        let c = &src.cost;
        let ks = &kernels[s];
        if !ks.is_empty() {
            let w = work(out, flow, ks);
            let parts =
                [c.params, c.macs, c.int8_macs, c.thop_macs, c.flops].map(|t| shares(t, &w));
            for (j, &k) in ks.iter().enumerate() {
                let e = &mut out[k].cost;
                e.params += parts[0][j];
                e.macs += parts[1][j];
                e.int8_macs += parts[2][j];
                e.thop_macs += parts[3][j];
                e.flops += parts[4][j];
            }
            continue;
        }
        let anchor = out
            .iter()
            .enumerate()
            .filter(|(_, e)| e.source == Some(s))
            .max_by_key(|(i, e)| (e.category == src.category, e.name == src.name, *i))
            .map(|(i, _)| i)
            .or_else(|| out.iter().position(|e| e.fused.contains(&s)))
            // A bias Add tract fused into a matmul kernel that now counts as the matmul's.
            .or_else(|| out.iter().position(|e| e.name == src.name))
            // Fused away: the first op of a source that reads it (a bias Add in the next ReLU's
            // OptBinChain(Mul+Add+Max)). Not a BN folded into its conv's weights: no op does
            // its work at run time.
            .or_else(|| {
                (src.category != "batchnorm").then_some(())?;
                out.iter().position(|e| {
                    !moves_data(e)
                        && e.category != "concat"
                        && e.source
                            .is_some_and(|r| r != s && sources[r].producers.contains(&s))
                })
            });
        if let Some(i) = anchor {
            let e = &mut out[i].cost;
            e.params += c.params;
            e.macs += c.macs;
            e.int8_macs += c.int8_macs;
            e.thop_macs += c.thop_macs;
            e.flops += c.flops;
        }
    }
}

#[cfg(test)]
#[path = "attrib_tests.rs"]
mod tests;
