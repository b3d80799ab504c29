//! Numerics: Pearson and Spearman correlation, least squares and non-negative least squares.
//!
//! Everything here is linear in the number of points, exact enough for a few features. Least
//! squares go through normal equations accumulated row by row ([`NormalEquations`]), so a fit
//! over 100k node samples keeps only an n x n matrix; columns are scaled to unit norm before
//! solving, so features in MACs and in bytes live side by side.

/// Pearson correlation coefficient; `None` below 3 points or when either side is constant.
pub fn pearson(xs: &[f64], ys: &[f64]) -> Option<f64> {
    let n = xs.len().min(ys.len());
    if n < 3 {
        return None;
    }
    let mean = |v: &[f64]| v[..n].iter().sum::<f64>() / n as f64;
    let (mx, my) = (mean(xs), mean(ys));
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for i in 0..n {
        let (dx, dy) = (xs[i] - mx, ys[i] - my);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    if sxx <= 0.0 || syy <= 0.0 {
        return None;
    }
    let r = sxy / (sxx.sqrt() * syy.sqrt());
    r.is_finite().then(|| r.clamp(-1.0, 1.0))
}

/// Ranks from 1, ties sharing their average rank (as scipy.stats.rankdata does).
pub fn ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut out = vec![0.0; values.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && values[order[j + 1]] == values[order[i]] {
            j += 1;
        }
        let average_rank = (i + j) as f64 / 2.0 + 1.0;
        for &ix in &order[i..=j] {
            out[ix] = average_rank;
        }
        i = j + 1;
    }
    out
}

/// Spearman rank correlation: Pearson on average ranks.
pub fn spearman(xs: &[f64], ys: &[f64]) -> Option<f64> {
    let n = xs.len().min(ys.len());
    pearson(&ranks(&xs[..n]), &ranks(&ys[..n]))
}

/// Pearson r with each point left out in turn (`None` where undefined), in linear time: the
/// centred sums of all points are downdated by each point (removing point k from n changes
/// the sum of squares by (x_k - mean)^2 n / (n - 1)). Where that cancels most of a sum (the
/// rest nearly constant), the point is recomputed directly.
pub fn leave_one_out_pearson(xs: &[f64], ys: &[f64]) -> Vec<Option<f64>> {
    let n = xs.len().min(ys.len());
    let (xs, ys) = (&xs[..n], &ys[..n]);
    let direct = |skip: usize| {
        let (x, y): (Vec<f64>, Vec<f64>) = (0..n)
            .filter(|&i| i != skip)
            .map(|i| (xs[i], ys[i]))
            .unzip();
        pearson(&x, &y)
    };
    if n < 4 {
        return (0..n).map(direct).collect();
    }
    let nf = n as f64;
    let (mx, my) = (xs.iter().sum::<f64>() / nf, ys.iter().sum::<f64>() / nf);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in xs.iter().zip(ys) {
        let (dx, dy) = (x - mx, y - my);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    let w = nf / (nf - 1.0);
    // Below this share of the full sum, a downdated sum of squares is mostly rounding.
    const CANCELLED: f64 = 1e-9;
    (0..n)
        .map(|k| {
            let (dx, dy) = (xs[k] - mx, ys[k] - my);
            let (kxx, kyy) = (sxx - dx * dx * w, syy - dy * dy * w);
            if !(kxx > CANCELLED * sxx && kyy > CANCELLED * syy) {
                return direct(k);
            }
            let r = (sxy - dx * dy * w) / (kxx.sqrt() * kyy.sqrt());
            r.is_finite().then(|| r.clamp(-1.0, 1.0))
        })
        .collect()
}

/// A figure that may be missing, such as an error over no point: JSON `null` (what serde_json
/// writes for NaN) read as NaN.
pub(crate) fn f64_or_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(<Option<f64> as serde::Deserialize>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// Mean absolute percentage error of `predicted` against `actual` (points with actual 0 are
/// left out); `None` when no point is left.
pub fn mape_pct(predicted: &[f64], actual: &[f64]) -> Option<f64> {
    let errors: Vec<f64> = predicted
        .iter()
        .zip(actual)
        .filter(|(_, a)| **a != 0.0)
        .map(|(p, a)| ((p - a) / a).abs() * 100.0)
        .collect();
    (!errors.is_empty()).then(|| errors.iter().sum::<f64>() / errors.len() as f64)
}

/// Normal equations `AᵀA x = Aᵀb` of a least-squares problem, accumulated one row at a time.
#[derive(Debug, Clone)]
pub struct NormalEquations {
    n: usize,
    ata: Vec<f64>,
    atb: Vec<f64>,
    rows: usize,
}

impl NormalEquations {
    pub fn new(features: usize) -> Self {
        NormalEquations {
            n: features,
            ata: vec![0.0; features * features],
            atb: vec![0.0; features],
            rows: 0,
        }
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Adds every row of `other` (same number of features).
    pub fn add(&mut self, other: &NormalEquations) {
        debug_assert_eq!(self.n, other.n);
        for (a, b) in self.ata.iter_mut().zip(&other.ata) {
            *a += b;
        }
        for (a, b) in self.atb.iter_mut().zip(&other.atb) {
            *a += b;
        }
        self.rows += other.rows;
    }

    /// These rows without those of `other`, which must be among them: a leave-one-out fold
    /// from the sum over all (rounding aside, the same as adding the others' rows).
    pub fn without(&self, other: &NormalEquations) -> NormalEquations {
        debug_assert_eq!(self.n, other.n);
        NormalEquations {
            n: self.n,
            ata: self
                .ata
                .iter()
                .zip(&other.ata)
                .map(|(a, b)| a - b)
                .collect(),
            atb: self
                .atb
                .iter()
                .zip(&other.atb)
                .map(|(a, b)| a - b)
                .collect(),
            rows: self.rows.saturating_sub(other.rows),
        }
    }

    /// Adds one sample: features `x` (length n) and target `y`. Non-finite samples are ignored.
    pub fn add_row(&mut self, x: &[f64], y: f64) {
        if x.len() != self.n || !y.is_finite() || x.iter().any(|v| !v.is_finite()) {
            return;
        }
        for i in 0..self.n {
            self.atb[i] += x[i] * y;
            for j in 0..self.n {
                self.ata[i * self.n + j] += x[i] * x[j];
            }
        }
        self.rows += 1;
    }

    /// Unit-norm column scales (0 for an all-zero column, whose coefficient is then 0).
    fn scales(&self) -> Vec<f64> {
        (0..self.n)
            .map(|j| self.ata[j * self.n + j].sqrt())
            .collect()
    }

    /// Non-negative least squares (Lawson-Hanson active set). All-zero features get 0.
    pub fn solve_nnls(&self) -> Vec<f64> {
        let n = self.n;
        let d = self.scales();
        let live: Vec<usize> = (0..n).filter(|&j| d[j] > 0.0 && d[j].is_finite()).collect();
        let m = live.len();
        let mut x_out = vec![0.0; n];
        if m == 0 {
            return x_out;
        }
        // Scaled system over the live columns.
        let g = |a: usize, b: usize| {
            let (i, j) = (live[a], live[b]);
            self.ata[i * n + j] / (d[i] * d[j])
        };
        let h: Vec<f64> = live.iter().map(|&i| self.atb[i] / d[i]).collect();
        let tol = 1e-10 * h.iter().fold(0.0f64, |acc, v| acc.max(v.abs())).max(1e-300);
        let mut x = vec![0.0; m];
        let mut passive = vec![false; m];
        let gradient = |x: &[f64]| -> Vec<f64> {
            (0..m)
                .map(|a| h[a] - (0..m).map(|b| g(a, b) * x[b]).sum::<f64>())
                .collect()
        };
        for _outer in 0..(3 * m + 10) {
            let w = gradient(&x);
            let next = (0..m)
                .filter(|&a| !passive[a] && w[a] > tol)
                .max_by(|&a, &b| w[a].total_cmp(&w[b]));
            let Some(enter) = next else { break };
            passive[enter] = true;
            for _inner in 0..(3 * m + 10) {
                let z = solve_subset(&g, &h, &passive);
                if (0..m).all(|a| !passive[a] || z[a] > 0.0) {
                    x = z;
                    break;
                }
                let mut alpha = f64::INFINITY;
                for a in 0..m {
                    if passive[a] && z[a] <= 0.0 {
                        let denominator = x[a] - z[a];
                        if denominator > 0.0 {
                            alpha = alpha.min(x[a] / denominator);
                        } else {
                            alpha = 0.0;
                        }
                    }
                }
                let alpha = if alpha.is_finite() { alpha } else { 0.0 };
                for a in 0..m {
                    x[a] += alpha * (z[a] - x[a]);
                    if passive[a] && x[a] <= tol {
                        passive[a] = false;
                        x[a] = 0.0;
                    }
                }
                if !passive.iter().any(|&p| p) {
                    break;
                }
            }
        }
        for (a, &j) in live.iter().enumerate() {
            x_out[j] = (x[a] / d[j]).max(0.0);
        }
        x_out
    }

    /// Ordinary least squares (coefficients may be negative). All-zero features get 0.
    pub fn solve_ls(&self) -> Vec<f64> {
        let n = self.n;
        let d = self.scales();
        let live: Vec<usize> = (0..n).filter(|&j| d[j] > 0.0 && d[j].is_finite()).collect();
        let g = |a: usize, b: usize| {
            let (i, j) = (live[a], live[b]);
            self.ata[i * n + j] / (d[i] * d[j])
        };
        let h: Vec<f64> = live.iter().map(|&i| self.atb[i] / d[i]).collect();
        let z = solve_subset(&g, &h, &vec![true; live.len()]);
        let mut out = vec![0.0; n];
        for (a, &j) in live.iter().enumerate() {
            out[j] = z[a] / d[j];
        }
        out
    }
}

/// Solves `G[P,P] z = h[P]` (z = 0 outside P) by Gaussian elimination with partial pivoting.
/// A tiny ridge keeps collinear features (e.g. two identical columns) solvable.
fn solve_subset(g: &dyn Fn(usize, usize) -> f64, h: &[f64], passive: &[bool]) -> Vec<f64> {
    let idx: Vec<usize> = (0..h.len()).filter(|&a| passive[a]).collect();
    let k = idx.len();
    let mut mat: Vec<Vec<f64>> = idx
        .iter()
        .enumerate()
        .map(|(r, &a)| {
            let mut row: Vec<f64> = idx.iter().map(|&b| g(a, b)).collect();
            row[r] += 1e-10;
            row.push(h[a]);
            row
        })
        .collect();
    for col in 0..k {
        let pivot = (col..k).max_by(|&a, &b| mat[a][col].abs().total_cmp(&mat[b][col].abs()));
        let Some(pivot) = pivot else { break };
        mat.swap(col, pivot);
        let p = mat[col][col];
        if p.abs() < 1e-300 {
            continue;
        }
        let pivot_row = mat[col].clone();
        for row in mat.iter_mut().skip(col + 1) {
            let factor = row[col] / p;
            for (dst, src) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                *dst -= factor * src;
            }
        }
    }
    let mut z_sub = vec![0.0; k];
    for r in (0..k).rev() {
        let rest: f64 = ((r + 1)..k).map(|c| mat[r][c] * z_sub[c]).sum();
        let p = mat[r][r];
        z_sub[r] = if p.abs() < 1e-300 {
            0.0
        } else {
            (mat[r][k] - rest) / p
        };
    }
    let mut z = vec![0.0; h.len()];
    for (r, &a) in idx.iter().enumerate() {
        z[a] = if z_sub[r].is_finite() { z_sub[r] } else { 0.0 };
    }
    z
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    // Expected values from an independent computation (Python 3.11 standard library):
    // python3 -c "import statistics as s; x=[1,2,3,4,5,6]; y=[2.1,3.9,6.2,7.8,10.1,11.7];
    //   print(s.correlation(x,y))"
    const X: [f64; 6] = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    const Y: [f64; 6] = [2.1, 3.9, 6.2, 7.8, 10.1, 11.7];
    const PEARSON_XY: f64 = 0.998_895_318_217_438_6;
    // python3 -c "import statistics as s; x=[10,20,20,40,5]; y=[3,1,4,1,5];
    //   r=lambda v:[sum(w<a for w in v)+ (sum(w==a for w in v)+1)/2 for a in v];
    //   print(s.correlation(r(x),r(y)))"
    const SPEARMAN_TIES: f64 = -0.763_157_894_736_842_1;

    #[test]
    fn pearson_matches_python() {
        let r = pearson(&X, &Y).unwrap();
        assert!(close(r, PEARSON_XY, 1e-12), "{r}");
        let neg: Vec<f64> = Y.iter().map(|y| -y).collect();
        assert!(close(pearson(&X, &neg).unwrap(), -PEARSON_XY, 1e-12));
    }

    #[test]
    fn spearman_with_ties_matches_python() {
        let x = [10.0, 20.0, 20.0, 40.0, 5.0];
        let y = [3.0, 1.0, 4.0, 1.0, 5.0];
        assert_eq!(ranks(&x), vec![2.0, 3.5, 3.5, 5.0, 1.0]);
        let rho = spearman(&x, &y).unwrap();
        assert!(close(rho, SPEARMAN_TIES, 1e-12), "{rho}");
    }

    #[test]
    fn undefined_correlations_are_none() {
        assert_eq!(pearson(&[1.0, 2.0], &[1.0, 2.0]), None);
        assert_eq!(pearson(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]), None);
        assert_eq!(spearman(&[], &[]), None);
    }

    #[test]
    fn leave_one_out_reveals_a_dominating_point() {
        // Four uncorrelated points plus one far outlier that makes r close to 1.
        let x = [1.0, 2.0, 3.0, 4.0, 100.0];
        let y = [4.0, 1.0, 3.0, 2.0, 100.0];
        assert!(pearson(&x, &y).unwrap() > 0.95);
        let loo = leave_one_out_pearson(&x, &y);
        assert_eq!(loo.len(), 5);
        assert!(loo[4].unwrap() < 0.0, "{loo:?}");
    }

    #[test]
    fn leave_one_out_downdates_agree_with_recomputing() {
        let direct = |xs: &[f64], ys: &[f64]| -> Vec<Option<f64>> {
            (0..xs.len())
                .map(|skip| {
                    let keep = |v: &[f64]| -> Vec<f64> {
                        (0..v.len()).filter(|&i| i != skip).map(|i| v[i]).collect()
                    };
                    pearson(&keep(xs), &keep(ys))
                })
                .collect()
        };
        let xs: Vec<f64> = (0..200).map(|i| ((i * 37) % 101) as f64 * 1e6).collect();
        let ys: Vec<f64> = (0..200)
            .map(|i| ((i * 53) % 97) as f64 + 0.3 * xs[i] / 1e6)
            .collect();
        for (fast, slow) in leave_one_out_pearson(&xs, &ys).iter().zip(direct(&xs, &ys)) {
            assert!(
                (fast.unwrap() - slow.unwrap()).abs() < 1e-9,
                "{fast:?} {slow:?}"
            );
        }
        // the rest constant once the outlier is out: undefined, as recomputing says
        let (x, y) = ([1.0, 1.0, 1.0, 1.0, 100.0], [3.0, 1.0, 2.0, 4.0, 50.0]);
        let loo = leave_one_out_pearson(&x, &y);
        assert_eq!(loo[4], None);
        assert_eq!(loo, direct(&x, &y));
    }

    #[test]
    fn least_squares_recovers_exact_line() {
        let mut ne = NormalEquations::new(2);
        for i in 0..10 {
            let x = i as f64 * 1e6;
            ne.add_row(&[x, 1.0], 3e-3 * x + 250.0);
        }
        let c = ne.solve_ls();
        assert!(close(c[0], 3e-3, 1e-9) && close(c[1], 250.0, 1e-4), "{c:?}");
        let c = ne.solve_nnls();
        assert!(close(c[0], 3e-3, 1e-9) && close(c[1], 250.0, 1e-4), "{c:?}");
    }

    #[test]
    fn nnls_clamps_negative_coefficients() {
        // y = 2*a - 1*b: the unconstrained fit wants b < 0, NNLS must give b = 0.
        let mut ne = NormalEquations::new(2);
        let rows = [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, 1.0]];
        for r in rows {
            ne.add_row(&r, 2.0 * r[0] - r[1]);
        }
        let ls = ne.solve_ls();
        assert!(close(ls[1], -1.0, 1e-6), "{ls:?}");
        let c = ne.solve_nnls();
        assert_eq!(c[1], 0.0);
        assert!(c[0] > 0.0);
        // Optimum over b = 0: a = sum(x*y)/sum(x*x) = (2+0+1+3*2)/(1+0+1+4) = 9/6.
        assert!(close(c[0], 1.5, 1e-9), "{c:?}");
    }

    #[test]
    fn zero_and_duplicate_columns_do_not_break_solvers() {
        let mut ne = NormalEquations::new(3);
        for i in 1..6 {
            let x = i as f64;
            ne.add_row(&[x, 0.0, x], 4.0 * x);
        }
        let c = ne.solve_nnls();
        assert_eq!(c[1], 0.0);
        assert!(close(c[0] + c[2], 4.0, 1e-6), "{c:?}");
        assert!(
            NormalEquations::new(2)
                .solve_nnls()
                .iter()
                .all(|v| *v == 0.0)
        );
    }

    #[test]
    fn mape_skips_zero_actuals() {
        assert_eq!(
            mape_pct(&[110.0, 90.0, 5.0], &[100.0, 100.0, 0.0]),
            Some(10.0)
        );
        assert_eq!(mape_pct(&[], &[]), None);
    }
}
