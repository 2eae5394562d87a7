//! CMA-ES (Hansen 2016, "The CMA Evolution Strategy: A Tutorial") in the unit cube, for structured landscapes
//! above a few dimensions where Nelder-Mead is weak.
//!
//! Standard (mu/mu_w, lambda) weights, cumulative step-size adaptation and rank-one plus rank-mu covariance
//! updates, the rank-mu update active (negative weights for the worst samples, as in the tutorial's
//! defaults). Samples leaving the cube are mirrored back, and the update uses the mirrored point (the
//! repaired sample), which keeps the distribution consistent with what was evaluated. Restarts with a doubled
//! population (IPOP, Auger & Hansen 2005) from the best point when the step size collapses, the covariance
//! becomes ill-conditioned, or the generation best stagnates.
//!
//! It is pull-based: each generation proposes lambda points one by one, then waits for their results; the
//! update needs only ranks, so it is invariant to f -> a*f + b (a > 0).

use serde::{Deserialize, Serialize};

use super::bounds::mirror_point;
use super::eigen::symmetric_eigen;
use super::{Context, Strategy, StrategyKind};
use crate::history::Outcome;
use crate::rng::Rng;

const INITIAL_SIGMA: f64 = 0.2;
/// Smallest step a warm start takes from the spread of the best points: a tighter cluster than this is more
/// likely a lucky few near-duplicates than a located optimum.
const MIN_WARM_SIGMA: f64 = 0.02;
const MIN_SIGMA: f64 = 1e-10;
const MAX_CONDITION: f64 = 1e14;
const STAGNATION_GENERATIONS: usize = 40;
/// Asks served elsewhere (per sample of a generation) while waiting before still-pending samples count as
/// failures: a result that is never told must not stall the strategy forever.
const PATIENCE_PER_SAMPLE: usize = 2;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Cmaes {
    dim: usize,
    lambda: usize,
    mean: Vec<f64>,
    sigma: f64,
    /// Covariance, row-major dim*dim, with its eigendecomposition C = B diag(d^2) B^T.
    cov: Vec<f64>,
    basis: Vec<f64>,
    scales: Vec<f64>,
    path_sigma: Vec<f64>,
    path_cov: Vec<f64>,
    generation: usize,
    /// This generation's samples: (repaired point, trial id once accepted).
    samples: Vec<(Vec<f64>, Option<u64>)>,
    candidate: Option<Vec<f64>>,
    restarts: u32,
    best_history: Vec<f64>,
    started: bool,
    /// Proposals declined while waiting for this generation's results.
    waited: usize,
}

struct Params {
    mu: usize,
    /// Recombination weights of the best `mu` samples (positive, summing to 1).
    weights: Vec<f64>,
    /// Covariance weights of all `lambda` samples, best first: the positive ones above, then negative
    /// weights for the worst samples (active CMA).
    cov_weights: Vec<f64>,
    mu_eff: f64,
    c_sigma: f64,
    d_sigma: f64,
    c_c: f64,
    c_1: f64,
    c_mu: f64,
    chi_n: f64,
}

impl Cmaes {
    pub fn new(dim: usize) -> Self {
        let lambda = 4 + (3.0 * (dim as f64).ln()).floor() as usize;
        let mut identity = vec![0.0; dim * dim];
        for i in 0..dim {
            identity[i * dim + i] = 1.0;
        }
        Cmaes {
            dim,
            lambda,
            mean: vec![0.5; dim],
            sigma: INITIAL_SIGMA,
            cov: identity.clone(),
            basis: identity,
            scales: vec![1.0; dim],
            path_sigma: vec![0.0; dim],
            path_cov: vec![0.0; dim],
            generation: 0,
            samples: Vec::new(),
            candidate: None,
            restarts: 0,
            best_history: Vec::new(),
            started: false,
            waited: 0,
        }
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Points the current generation still has to propose.
    pub fn remaining_in_generation(&self) -> usize {
        self.lambda - self.samples.len()
    }

    fn params(&self) -> Params {
        let n = self.dim as f64;
        let mu = self.lambda / 2;
        let raw: Vec<f64> = (0..self.lambda)
            .map(|i| ((self.lambda as f64 + 1.0) / 2.0).ln() - ((i + 1) as f64).ln())
            .collect();
        let (positive, negative) = raw.split_at(mu);
        let sum: f64 = positive.iter().sum();
        let weights: Vec<f64> = positive.iter().map(|w| w / sum).collect();
        let mu_eff = 1.0 / weights.iter().map(|w| w * w).sum::<f64>();
        let c_sigma = (mu_eff + 2.0) / (n + mu_eff + 5.0);
        let d_sigma = 1.0 + 2.0 * (((mu_eff - 1.0) / (n + 1.0)).sqrt() - 1.0).max(0.0) + c_sigma;
        let c_c = (4.0 + mu_eff / n) / (n + 4.0 + 2.0 * mu_eff / n);
        let c_1 = 2.0 / ((n + 1.3).powi(2) + mu_eff);
        let c_mu = (1.0 - c_1).min(2.0 * (mu_eff - 2.0 + 1.0 / mu_eff) / ((n + 2.0).powi(2) + mu_eff));
        let chi_n = n.sqrt() * (1.0 - 1.0 / (4.0 * n) + 1.0 / (21.0 * n * n));
        let cov_weights = active_weights(&weights, negative, mu_eff, c_1, c_mu, n);
        Params { mu, weights, cov_weights, mu_eff, c_sigma, d_sigma, c_c, c_1, c_mu, chi_n }
    }

    fn restart(&mut self, ctx: &Context, rng: &mut Rng) {
        let dim = self.dim;
        let lambda = if self.started { self.lambda * 2 } else { self.lambda };
        let restarts = if self.started { self.restarts + 1 } else { 0 };
        *self = Cmaes::new(dim);
        self.lambda = lambda.min(64 * (dim + 1));
        self.restarts = restarts;
        self.started = true;
        if restarts == 0 {
            let (mean, spread) = self.recombine_best(ctx);
            self.mean = mean;
            self.sigma = spread.clamp(MIN_WARM_SIGMA, INITIAL_SIGMA);
        } else {
            // Later runs start from a random point so a restart can leave the basin the last one converged to.
            self.mean = (0..dim).map(|_| rng.uniform()).collect();
            self.sigma = INITIAL_SIGMA * 1.5;
        }
    }

    /// Treats the results so far as generation zero: the weighted recombination of the best mu points (steadier
    /// than the single best point) and their weighted RMS distance from it per coordinate, the step size that
    /// generation implies. After the probe alone the best points are far apart and the step stays at
    /// `INITIAL_SIGMA`; after a TPE warm-up they have gathered in the good region, and starting at the
    /// probe's width there would throw that progress away.
    fn recombine_best(&self, ctx: &Context) -> (Vec<f64>, f64) {
        let p = self.params();
        let best: Vec<&[f64]> = ctx
            .history
            .ranked()
            .take(p.mu)
            .filter_map(|(_, id)| ctx.history.get(id))
            .map(|t| t.unit.as_slice())
            .collect();
        if best.is_empty() {
            return (vec![0.5; self.dim], INITIAL_SIGMA);
        }
        let weights = &p.weights[..best.len()];
        let total: f64 = weights.iter().sum();
        let mean: Vec<f64> = (0..self.dim)
            .map(|i| best.iter().zip(weights).map(|(x, w)| w * x[i]).sum::<f64>() / total)
            .collect();
        if best.len() < 2 {
            return (mean, INITIAL_SIGMA);
        }
        let variance = best
            .iter()
            .zip(weights)
            .map(|(x, w)| w * x.iter().zip(&mean).map(|(a, m)| (a - m).powi(2)).sum::<f64>())
            .sum::<f64>()
            / (total * self.dim as f64);
        (mean, variance.sqrt())
    }

    fn sample(&self, rng: &mut Rng) -> Vec<f64> {
        let n = self.dim;
        let z: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
        let scaled: Vec<f64> = (0..n).map(|k| self.scales[k] * z[k]).collect();
        let x: Vec<f64> = (0..n)
            .map(|i| {
                self.mean[i] + self.sigma * (0..n).map(|k| self.basis[i * n + k] * scaled[k]).sum::<f64>()
            })
            .collect();
        mirror_point(&x)
    }

    /// All results of the generation, or None while some are pending. Once patience runs out, samples still
    /// pending count as failures (ranked last).
    fn generation_results(&mut self, ctx: &Context) -> Option<Vec<(Vec<f64>, f64)>> {
        let give_up = self.waited >= PATIENCE_PER_SAMPLE * self.lambda;
        let results: Option<Vec<(Vec<f64>, f64)>> = self
            .samples
            .iter()
            .map(|(x, id)| {
                let value = match id.and_then(|id| ctx.history.get(id)).map(|t| t.outcome) {
                    Some(Outcome::Complete(v)) => v,
                    Some(Outcome::Pending) if !give_up => return None,
                    _ => f64::INFINITY,
                };
                Some((x.clone(), value))
            })
            .collect();
        self.waited = if results.is_some() { 0 } else { self.waited + 1 };
        results
    }

    fn update(&mut self, mut results: Vec<(Vec<f64>, f64)>) {
        let n = self.dim;
        let p = self.params();
        results.sort_by(|a, b| a.1.total_cmp(&b.1));
        self.best_history.push(results[0].1);
        let old_mean = self.mean.clone();
        let mut new_mean = vec![0.0; n];
        for (w, (x, _)) in p.weights.iter().zip(&results) {
            for i in 0..n {
                new_mean[i] += w * x[i];
            }
        }
        let y_mean: Vec<f64> = (0..n).map(|i| (new_mean[i] - old_mean[i]) / self.sigma).collect();
        // C^(-1/2) y = B diag(1/d) B^T y
        let bt_y: Vec<f64> =
            (0..n).map(|k| (0..n).map(|i| self.basis[i * n + k] * y_mean[i]).sum()).collect();
        let inv_sqrt_y: Vec<f64> =
            (0..n).map(|i| (0..n).map(|k| self.basis[i * n + k] * bt_y[k] / self.scales[k]).sum()).collect();
        let cs = p.c_sigma;
        let sigma_gain = (cs * (2.0 - cs) * p.mu_eff).sqrt();
        for (ps, y) in self.path_sigma.iter_mut().zip(&inv_sqrt_y) {
            *ps = (1.0 - cs) * *ps + sigma_gain * y;
        }
        let ps_norm = self.path_sigma.iter().map(|v| v * v).sum::<f64>().sqrt();
        self.generation += 1;
        let h_sigma_bound = (1.4 + 2.0 / (n as f64 + 1.0)) * p.chi_n;
        let decay = (1.0 - (1.0 - cs).powi(2 * self.generation as i32)).sqrt();
        let h_sigma = if ps_norm / decay < h_sigma_bound { 1.0 } else { 0.0 };
        let cov_gain = h_sigma * (p.c_c * (2.0 - p.c_c) * p.mu_eff).sqrt();
        for (pc, y) in self.path_cov.iter_mut().zip(&y_mean) {
            *pc = (1.0 - p.c_c) * *pc + cov_gain * y;
        }
        let ys: Vec<Vec<f64>> = results
            .iter()
            .map(|(x, _)| (0..n).map(|i| (x[i] - old_mean[i]) / self.sigma).collect())
            .collect();
        // Negative weights are rescaled by n / |C^(-1/2) y|^2 so that the worst samples, however far out,
        // cannot make the covariance indefinite (Hansen 2016, eq. 46).
        let weights: Vec<f64> = p
            .cov_weights
            .iter()
            .zip(&ys)
            .map(|(&w, y)| if w >= 0.0 { w } else { w * n as f64 / self.mahalanobis_squared(y).max(1e-300) })
            .collect();
        let weight_sum: f64 = p.cov_weights.iter().sum();
        let delta_h = (1.0 - h_sigma) * p.c_c * (2.0 - p.c_c);
        for i in 0..n {
            for j in 0..n {
                let rank_one = self.path_cov[i] * self.path_cov[j];
                let rank_mu: f64 = weights.iter().zip(&ys).map(|(w, y)| w * y[i] * y[j]).sum();
                self.cov[i * n + j] = (1.0 - p.c_1 - p.c_mu * weight_sum + p.c_1 * delta_h)
                    * self.cov[i * n + j]
                    + p.c_1 * rank_one
                    + p.c_mu * rank_mu;
            }
        }
        self.sigma *= ((cs / p.d_sigma) * (ps_norm / p.chi_n - 1.0)).min(1.0).exp();
        self.mean = new_mean;
        self.decompose();
        self.samples.clear();
    }

    /// |C^(-1/2) y|^2 = sum_k ((B^T y)_k / d_k)^2
    fn mahalanobis_squared(&self, y: &[f64]) -> f64 {
        let n = self.dim;
        (0..n)
            .map(|k| {
                let projected: f64 = (0..n).map(|i| self.basis[i * n + k] * y[i]).sum();
                (projected / self.scales[k]).powi(2)
            })
            .sum()
    }

    fn decompose(&mut self) {
        let n = self.dim;
        // Enforce exact symmetry against rounding drift before decomposing.
        for i in 0..n {
            for j in 0..i {
                let avg = 0.5 * (self.cov[i * n + j] + self.cov[j * n + i]);
                self.cov[i * n + j] = avg;
                self.cov[j * n + i] = avg;
            }
        }
        let (eigenvalues, basis) = symmetric_eigen(&self.cov, n);
        self.scales = eigenvalues.iter().map(|&e| e.max(1e-30).sqrt()).collect();
        self.basis = basis;
    }

    fn should_restart(&self) -> bool {
        let max_scale = self.scales.iter().cloned().fold(0.0, f64::max);
        let min_scale = self.scales.iter().cloned().fold(f64::INFINITY, f64::min);
        let condition = (max_scale / min_scale).powi(2);
        let stagnated = self.best_history.len() > STAGNATION_GENERATIONS && {
            let recent = &self.best_history[self.best_history.len() - STAGNATION_GENERATIONS..];
            let old_best = self.best_history[..self.best_history.len() - STAGNATION_GENERATIONS]
                .iter()
                .cloned()
                .fold(f64::INFINITY, f64::min);
            recent.iter().all(|&v| v >= old_best)
        };
        self.sigma * max_scale < MIN_SIGMA || !condition.is_finite() || condition > MAX_CONDITION || stagnated
    }
}

/// Active CMA's weights for all samples, best first (Hansen 2016, eq. 49-53): the recombination weights, then
/// the raw negative weights of the worst samples scaled to the largest total that keeps the covariance
/// update positive definite. The negative part lets the covariance shrink along directions where samples
/// were bad, which learns ill-conditioned landscapes several times faster than positive weights alone.
fn active_weights(
    positive: &[f64],
    negative_raw: &[f64],
    mu_eff: f64,
    c_1: f64,
    c_mu: f64,
    n: f64,
) -> Vec<f64> {
    let negative_sum: f64 = negative_raw.iter().map(|w| w.abs()).sum();
    let mut out = positive.to_vec();
    if negative_sum <= 0.0 || c_mu <= 0.0 {
        out.extend(negative_raw.iter().map(|_| 0.0));
        return out;
    }
    let mu_eff_negative =
        negative_raw.iter().sum::<f64>().powi(2) / negative_raw.iter().map(|w| w * w).sum::<f64>();
    let alpha_mu = 1.0 + c_1 / c_mu;
    let alpha_mu_eff = 1.0 + 2.0 * mu_eff_negative / (mu_eff + 2.0);
    let alpha_posdef = (1.0 - c_1 - c_mu) / (n * c_mu);
    let scale = alpha_mu.min(alpha_mu_eff).min(alpha_posdef) / negative_sum;
    out.extend(negative_raw.iter().map(|w| w * scale));
    out
}

impl Strategy for Cmaes {
    fn kind(&self) -> StrategyKind {
        StrategyKind::Cmaes
    }

    fn propose(&mut self, ctx: &Context, rng: &mut Rng) -> Option<Vec<f64>> {
        if !self.started {
            self.restart(ctx, rng);
        }
        if self.samples.len() == self.lambda {
            let results = self.generation_results(ctx)?;
            self.update(results);
            if self.should_restart() {
                self.restart(ctx, rng);
            }
        }
        let x = self.sample(rng);
        self.candidate = Some(x.clone());
        Some(x)
    }

    fn accepted(&mut self, id: u64) {
        if let Some(x) = self.candidate.take() {
            self.samples.push((x, Some(id)));
        }
    }

    fn duplicate_of(&mut self, id: u64) {
        self.accepted(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn active_weights_recombine_the_best_and_subtract_the_worst_within_the_positive_definite_bound() {
        for dim in [2, 5, 10, 20] {
            let cmaes = Cmaes::new(dim);
            let p = cmaes.params();
            assert_eq!(p.cov_weights.len(), cmaes.lambda);
            assert_eq!(&p.cov_weights[..p.mu], p.weights.as_slice());
            assert!((p.weights.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            // Best first: weights fall with rank, and the worst samples get negative ones.
            assert!(p.cov_weights.windows(2).all(|w| w[0] >= w[1]), "{:?}", p.cov_weights);
            assert!(*p.cov_weights.last().unwrap() < 0.0);
            // The negative total is bounded so that 1 - c_1 - c_mu * sum(w) stays at least 1 - c_1 - c_mu.
            let negative: f64 = p.cov_weights[p.mu..].iter().sum();
            let bound = (1.0 - p.c_1 - p.c_mu) / (dim as f64 * p.c_mu);
            assert!(-negative <= bound + 1e-12, "dim {dim}: {negative} vs {bound}");
        }
    }
}
