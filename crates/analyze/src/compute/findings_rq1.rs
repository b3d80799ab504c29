//! RQ1's parts beyond the correlation: how far noise could move r, and the light models on
//! their own.

use super::*;

/// The range of r (time vs MACs) when the warned models' latencies move within their own
/// measured spread: each alone to its min and its p90, then all together.
pub(super) fn noise_range(runs: &[&ModelRun], points: &[Point]) -> Option<(f64, f64)> {
    let by_name: HashMap<&str, &ModelRun> =
        runs.iter().map(|r| (r.model.model.as_str(), *r)).collect();
    let warned: Vec<usize> = points
        .iter()
        .enumerate()
        .filter(|(_, p)| {
            by_name
                .get(p.label.as_str())
                .is_some_and(|r| !r.model.warnings.is_empty())
        })
        .map(|(i, _)| i)
        .collect();
    if warned.is_empty() {
        return None;
    }
    let xs: Vec<f64> = points.iter().map(|p| p.x).collect();
    let base: Vec<f64> = points.iter().map(|p| p.y).collect();
    let edge = |i: usize, high: bool| {
        let l = &by_name[points[i].label.as_str()].model.latency_ns;
        (if high { l.p90 } else { l.min }) as f64 / 1e6
    };
    let mut variants: Vec<Vec<f64>> = Vec::new();
    for high in [false, true] {
        for &i in &warned {
            let mut ys = base.clone();
            ys[i] = edge(i, high);
            variants.push(ys);
        }
        let mut ys = base.clone();
        for &i in &warned {
            ys[i] = edge(i, high);
        }
        variants.push(ys);
    }
    let rs: Vec<f64> = variants.iter().filter_map(|ys| pearson(&xs, ys)).collect();
    let lo = rs.iter().copied().reduce(f64::min)?;
    let hi = rs.iter().copied().reduce(f64::max)?;
    Some((lo, hi))
}

pub(super) fn light_models(runs: &[&ModelRun]) -> Answer<LightModels> {
    let mut by_macs: Vec<&ModelRun> = runs
        .iter()
        .copied()
        .filter(|r| r.model.cost.macs > 0 && r.model.latency_ns.median > 0)
        .collect();
    by_macs.sort_by_key(|r| (r.model.cost.macs, r.model.model.clone()));
    let gap = by_macs
        .windows(2)
        .enumerate()
        .map(|(i, w)| (i, w[1].model.cost.macs as f64 / w[0].model.cost.macs as f64))
        .max_by(|a, b| a.1.total_cmp(&b.1));
    let Some((cut, factor)) = gap.filter(|(_, f)| *f >= LIGHT_GAP) else {
        return Answer::CannotSay(Why::NoLightGroup);
    };
    let light = &by_macs[..=cut];
    if light.len() < 3 {
        return Answer::CannotSay(Why::FewLightModels {
            light: light.len(),
            gap: factor,
        });
    }
    let xs: Vec<f64> = light.iter().map(|r| r.model.cost.macs as f64).collect();
    let ys: Vec<f64> = light
        .iter()
        .map(|r| r.model.latency_ns.median as f64)
        .collect();
    let (lat_min, lat_max) = ys
        .iter()
        .fold((f64::INFINITY, 0.0f64), |(a, b), y| (a.min(*y), b.max(*y)));
    Answer::Is(LightModels {
        models: light.iter().map(|r| r.model.model.clone()).collect(),
        max_macs: light[light.len() - 1].model.cost.macs,
        next_macs: by_macs[cut + 1].model.cost.macs,
        r: pearson(&xs, &ys),
        rho: spearman(&xs, &ys),
        latency_ratio: lat_max / lat_min,
        macs_ratio: xs[xs.len() - 1] / xs[0],
    })
}
