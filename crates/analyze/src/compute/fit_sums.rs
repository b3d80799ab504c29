//! The sums the node model and the MACs-only baseline are fitted from, run by run, so that a
//! leave-one-model-out fold is the sums of all runs without one run's.

use super::{Coefficients, F, MacsOnly, NodeModel, features, node_samples};
use crate::compute::stats::NormalEquations;
use crate::load::ModelRun;
use std::collections::BTreeMap;

/// What fitting the node model and the MACs-only baseline needs from some runs, all of it
/// sums over the runs: per category and pooled normal equations of the node samples, and,
/// for the scale, sums over runs of y·φ and φ·φᵀ, where φ is a run's feature sums per
/// category (K categories x F features) and y its clean latency. A leave-one-model-out fold is
/// then the sum over all runs without the held-out run's ([`Sums::without`]): linear in the
/// number of models, where refitting every fold on the others was quadratic.
#[derive(Debug, Clone)]
pub(super) struct Sums {
    per_category: Vec<NormalEquations>,
    pooled: NormalEquations,
    y_phi: Vec<f64>,
    phi_phi: Vec<f64>,
    macs: NormalEquations,
}

impl Sums {
    pub(super) fn new(k: usize) -> Self {
        Sums {
            per_category: (0..k).map(|_| NormalEquations::new(F)).collect(),
            pooled: NormalEquations::new(F),
            y_phi: vec![0.0; k * F],
            phi_phi: vec![0.0; k * F * k * F],
            macs: NormalEquations::new(2),
        }
    }

    /// One run's sums; `categories` indexes every category of the runs.
    pub(super) fn of_run(run: &ModelRun, categories: &BTreeMap<&str, usize>) -> Self {
        let mut sums = Sums::new(categories.len());
        let mut phi = vec![0.0; categories.len() * F];
        for (category, cost, ns) in node_samples(run) {
            let x = features(cost);
            if let Some(&k) = categories.get(category) {
                sums.per_category[k].add_row(&x, ns);
                for (p, v) in phi[k * F..(k + 1) * F].iter_mut().zip(x) {
                    *p += v;
                }
            }
            sums.pooled.add_row(&x, ns);
        }
        let y = run.model.latency_ns.median as f64;
        if phi.iter().all(|v| v.is_finite()) && y.is_finite() {
            let m = phi.len();
            for i in (0..m).filter(|&i| phi[i] != 0.0) {
                sums.y_phi[i] = y * phi[i];
                for j in 0..m {
                    sums.phi_phi[i * m + j] = phi[i] * phi[j];
                }
            }
        }
        sums.macs.add_row(&[run.model.cost.macs as f64, 1.0], y);
        sums
    }

    pub(super) fn add(&mut self, other: &Sums) {
        for (a, b) in self.per_category.iter_mut().zip(&other.per_category) {
            a.add(b);
        }
        self.pooled.add(&other.pooled);
        for (a, b) in self.y_phi.iter_mut().zip(&other.y_phi) {
            *a += b;
        }
        for (a, b) in self.phi_phi.iter_mut().zip(&other.phi_phi) {
            *a += b;
        }
        self.macs.add(&other.macs);
    }

    pub(super) fn without(&self, other: &Sums) -> Sums {
        Sums {
            per_category: self
                .per_category
                .iter()
                .zip(&other.per_category)
                .map(|(a, b)| a.without(b))
                .collect(),
            pooled: self.pooled.without(&other.pooled),
            y_phi: minus(&self.y_phi, &other.y_phi),
            phi_phi: minus(&self.phi_phi, &other.phi_phi),
            macs: self.macs.without(&other.macs),
        }
    }

    /// The node model these sums give: NNLS per category with samples, pooled for the
    /// default, and the scale through the origin (Σ y·p / Σ p², p = c·φ per run).
    pub(super) fn node_model(&self, categories: &BTreeMap<&str, usize>) -> NodeModel {
        let default = Coefficients::from_vec(&self.pooled.solve_nnls(), self.pooled.rows());
        let mut fitted = BTreeMap::new();
        let mut c = vec![0.0; categories.len() * F];
        for (&name, &k) in categories {
            let ne = &self.per_category[k];
            let coefficients = if ne.rows() > 0 {
                let co = Coefficients::from_vec(&ne.solve_nnls(), ne.rows());
                fitted.insert(name.to_string(), co);
                co
            } else {
                default
            };
            c[k * F..(k + 1) * F].copy_from_slice(&coefficients.as_array());
        }
        let m = c.len();
        let yp: f64 = c.iter().zip(&self.y_phi).map(|(a, b)| a * b).sum();
        let pp: f64 = (0..m)
            .filter(|&i| c[i] != 0.0)
            .map(|i| {
                let row = &self.phi_phi[i * m..(i + 1) * m];
                c[i] * row.iter().zip(&c).map(|(a, b)| a * b).sum::<f64>()
            })
            .sum();
        let mut model = NodeModel {
            categories: fitted,
            default,
            scale: 1.0,
        };
        if pp > 0.0 && (yp / pp).is_finite() {
            model.scale = yp / pp;
        }
        model
    }

    pub(super) fn macs_only(&self) -> MacsOnly {
        let c = self.macs.solve_nnls();
        MacsOnly {
            ns_per_mac: c[0],
            intercept_ns: c[1],
        }
    }
}

/// Every category of the runs' nodes, indexed in name order.
pub(super) fn category_index<'a>(runs: &[&'a ModelRun]) -> BTreeMap<&'a str, usize> {
    let mut names: BTreeMap<&str, usize> = runs
        .iter()
        .flat_map(|r| r.nodes.iter().map(|n| (n.category.as_str(), 0)))
        .collect();
    for (k, v) in names.values_mut().enumerate() {
        *v = k;
    }
    names
}

/// `a - b`, element by element.
fn minus(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(a, b)| a - b).collect()
}
