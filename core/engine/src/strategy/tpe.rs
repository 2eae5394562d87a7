//! Tree-structured Parzen Estimator (Bergstra et al. 2011) in its multivariate form (Falkner et al. 2018),
//! for rugged or noisy landscapes.
//!
//! Completed trials are split by rank into a "good" set (the best gamma share) and a "bad" set. Each set
//! becomes a product-kernel density over the unit cube; candidates are drawn from the good density and the
//! one maximizing l(x)/g(x) is proposed. Kernels:
//! * numeric coordinates: Gaussian, truncated to the cube by mirroring. Each kernel's bandwidth is its larger
//!   gap to the neighbouring observations along the coordinate, capped by the set's Scott's-rule bandwidth
//!   (sigma_j * n^(-1/(d+4))) and floored at 1/min(100, n + 2) of the cube (Optuna's "magic clip") and at half
//!   a grid level for discrete parameters. A single global Scott bandwidth must pick one width for all
//!   kernels: on multi-basin landscapes (Schwefel) the good set spans several basins, the width is large and
//!   nothing is refined; on smooth ones the good set is tight and the search creeps. Per-kernel gaps let
//!   clustered kernels refine while isolated ones keep exploring;
//! * categorical coordinates: the observed choice with probability 1 - eps, the others share eps.
//!
//! The per-ask cost is bounded: at most `MAX_GOOD` good and `MAX_BAD` bad observations are used (the bad ones
//! are the most recent), so an ask costs the same at 10 000 trials as at 500. Pending trials join the bad set
//! as "constant liars": a batch of asks spreads out instead of repeating the same argmax. Failed trials are
//! bad observations too, steering away from regions that crash.

use serde::{Deserialize, Serialize};

use super::bounds::mirror_into_unit;
use super::{Context, Strategy, StrategyKind};
use crate::history::{History, Outcome, Source, Trial};
use crate::rng::Rng;
use crate::space::Space;

const MAX_GOOD: usize = 25;
const MAX_BAD: usize = 100;
const MAX_PENDING: usize = 32;
const CANDIDATES: usize = 24;
const MIN_BANDWIDTH: f64 = 0.01;
const MAX_BANDWIDTH: f64 = 1.0;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Tpe {
    dim: usize,
    /// Trials this strategy produced are left out of the model (a partner's own search thread).
    #[serde(default)]
    ignores: Option<StrategyKind>,
}

/// Per-coordinate description the kernels need.
struct Axis {
    /// Number of categorical choices, or None for an ordered coordinate.
    categories: Option<usize>,
    /// Bandwidth floor (half a bin for discrete ordered coordinates).
    floor: f64,
}

struct Density<'a> {
    centres: Vec<&'a [f64]>,
    /// The same centres, row-major and contiguous: the hot loop streams through them.
    flat: Vec<f64>,
    /// Indices of the numeric and of the categorical coordinates.
    numeric: Vec<usize>,
    categorical: Vec<usize>,
    /// Row-major (kernel, coordinate) bandwidths and their inverses.
    bandwidth: Vec<f64>,
    inv_bandwidth: Vec<f64>,
    /// Per kernel: the log normalizer of its Gaussian factors, so the inner loop needs no logarithms.
    log_norm: Vec<f64>,
    /// Per coordinate: log kernel mass on the observed choice and on each other choice (categoricals).
    log_same: Vec<f64>,
    log_other: Vec<f64>,
}

impl<'a> Density<'a> {
    fn new(centres: Vec<&'a [f64]>, axes: &[Axis]) -> Self {
        let n = centres.len();
        let d = axes.len();
        let bandwidth = kernel_bandwidths(&centres, axes);
        let inv_bandwidth = bandwidth.iter().map(|&h| if h > 0.0 { 1.0 / h } else { 0.0 }).collect();
        let log_norm = (0..n)
            .map(|k| {
                axes.iter()
                    .enumerate()
                    .filter(|(_, a)| a.categories.is_none())
                    .map(|(j, _)| -bandwidth[k * d + j].ln() - HALF_LN_TAU)
                    .sum()
            })
            .collect();
        let (log_same, log_other) = axes
            .iter()
            .map(|a| match a.categories {
                Some(k) if k > 1 => {
                    let eps = categorical_eps(k, n);
                    ((1.0 - eps).ln() + (k as f64).ln(), (eps / (k - 1) as f64).ln() + (k as f64).ln())
                }
                _ => (0.0, 0.0),
            })
            .unzip();
        let flat = centres.iter().flat_map(|c| c.iter().copied()).collect();
        let numeric = (0..d).filter(|&j| axes[j].categories.is_none()).collect();
        let categorical = (0..d).filter(|&j| axes[j].categories.is_some()).collect();
        Density {
            centres,
            flat,
            numeric,
            categorical,
            bandwidth,
            inv_bandwidth,
            log_norm,
            log_same,
            log_other,
        }
    }
}

/// ln(2 pi) / 2
const HALF_LN_TAU: f64 = 0.918_938_533_204_672_7;

impl Tpe {
    pub fn new(dim: usize) -> Self {
        Tpe { dim, ignores: None }
    }

    /// A TPE that models every trial except those `partner` proposed: beside a local search, whose points
    /// crowd one basin and would make that basin the whole "good" set, it stays a global search.
    pub fn beside(dim: usize, partner: StrategyKind) -> Self {
        Tpe { dim, ignores: Some(partner) }
    }

    fn models(&self, trial: &Trial) -> bool {
        self.ignores.is_none_or(|k| trial.source != Source::Strategy(k))
    }

    /// The bad density's observations, newest first: the `MAX_PENDING` newest pending trials (constant
    /// liars), and the newest failed trials and results worse than `threshold` while the total stays below
    /// `MAX_BAD` (the pending trials newer than a result count towards that total).
    ///
    /// Pending trials come from the history's pending index rather than from the walk over finished trials,
    /// so a result that never arrives does not make every later ask walk back to it. The walk stops once it
    /// has `MAX_BAD` bad observations; it passes over the good trials and, for a partner, the trials it
    /// leaves out, so its length depends on their share of the recent trials, not on the history's size.
    fn bad_observations<'h>(&self, history: &'h History, threshold: f64) -> Vec<&'h [f64]> {
        let pending: Vec<&Trial> =
            history.pending_newest_first().filter(|t| self.models(t)).take(MAX_PENDING).collect();
        let worse = |t: &&Trial| match t.outcome {
            Outcome::Complete(v) => v > threshold,
            Outcome::Failed => true,
            Outcome::Pending => false,
        };
        let mut finished: Vec<&Trial> = Vec::with_capacity(MAX_BAD);
        let mut newer_pending = 0;
        for t in history.trials().iter().rev().filter(|t| self.models(t)).filter(worse) {
            while newer_pending < pending.len() && pending[newer_pending].id > t.id {
                newer_pending += 1;
            }
            if finished.len() + newer_pending >= MAX_BAD {
                break;
            }
            finished.push(t);
        }
        merge_newest_first(&pending, &finished)
    }

    pub fn dim(&self) -> usize {
        self.dim
    }
}

fn axes(space: &Space) -> Vec<Axis> {
    space
        .params()
        .iter()
        .map(|p| match (p.is_categorical(), p.levels()) {
            (true, Some(k)) => Axis { categories: Some(k as usize), floor: 0.0 },
            (false, Some(levels)) => {
                Axis { categories: None, floor: (0.5 / levels as f64).max(MIN_BANDWIDTH) }
            }
            _ => Axis { categories: None, floor: MIN_BANDWIDTH },
        })
        .collect()
}

/// Optuna-style gamma: 10% of the observations, at least one, at most `MAX_GOOD`.
fn n_good(n: usize) -> usize {
    (n as f64 * 0.1).ceil().clamp(1.0, MAX_GOOD as f64) as usize
}

/// Scott's rule per coordinate: sigma_j * n^(-1/(d+4)), capped at the cube's width.
fn scott_bandwidth(centres: &[&[f64]], axes: &[Axis]) -> Vec<f64> {
    let n = centres.len().max(1) as f64;
    let factor = n.powf(-1.0 / (axes.len() as f64 + 4.0));
    axes.iter()
        .enumerate()
        .map(|(j, axis)| {
            if axis.categories.is_some() {
                return 0.0;
            }
            let mean = centres.iter().map(|c| c[j]).sum::<f64>() / n;
            let var = centres.iter().map(|c| (c[j] - mean).powi(2)).sum::<f64>() / n;
            // A single observation has no spread; fall back to a wide kernel.
            let sigma = if centres.len() < 2 { 0.3 } else { var.sqrt() };
            (sigma * factor).min(MAX_BANDWIDTH)
        })
        .collect()
}

/// Per-kernel bandwidths: each kernel's local scale is the larger gap to its neighbours along the coordinate
/// (the cube's edges count as neighbours), capped by the set's Scott's-rule bandwidth and floored at
/// 1/min(100, n + 2) of the cube and half a grid level. Clustered kernels get narrow, refining kernels;
/// isolated ones stay wide enough to explore — a single global bandwidth must choose one or the other.
fn kernel_bandwidths(centres: &[&[f64]], axes: &[Axis]) -> Vec<f64> {
    let n = centres.len();
    let d = axes.len();
    let scott = scott_bandwidth(centres, axes);
    let floor_n = 1.0 / (n as f64 + 2.0).min(100.0);
    let mut out = vec![0.0; n * d];
    let mut column: Vec<(f64, usize)> = Vec::with_capacity(n);
    for (j, axis) in axes.iter().enumerate() {
        if axis.categories.is_some() {
            continue;
        }
        column.clear();
        column.extend(centres.iter().enumerate().map(|(i, c)| (c[j], i)));
        // Ties are broken by index, so the order (and every bandwidth) is deterministic.
        column.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        for rank in 0..n {
            let (x, i) = column[rank];
            let below = if rank == 0 { 0.0 } else { column[rank - 1].0 };
            let above = if rank + 1 == n { 1.0 } else { column[rank + 1].0 };
            let gap = (x - below).max(above - x);
            out[i * d + j] = gap.min(scott[j]).max(floor_n).max(axis.floor).min(MAX_BANDWIDTH);
        }
    }
    out
}

/// Probability a categorical kernel centred on an observed choice leaves to the other choices.
fn categorical_eps(k: usize, n: usize) -> f64 {
    if k <= 1 {
        0.0
    } else {
        ((k - 1) as f64 / (k as f64 + n as f64)).min(0.5)
    }
}

impl Density<'_> {
    /// log density at x: a mixture of the kernels plus one uniform "prior" component (density 1 on the cube).
    /// `terms` is scratch space reused across calls.
    fn log_pdf(&self, x: &[f64], axes: &[Axis], terms: &mut Vec<f64>) -> f64 {
        let d = axes.len();
        terms.clear();
        terms.push(0.0);
        for k in 0..self.centres.len() {
            let c = &self.flat[k * d..(k + 1) * d];
            let inv = &self.inv_bandwidth[k * d..(k + 1) * d];
            let mut squares = 0.0;
            if self.categorical.is_empty() {
                // All-numeric spaces, the common case: a branch-free loop the compiler vectorizes.
                for ((xj, cj), ij) in x.iter().zip(c).zip(inv) {
                    let z = (xj - cj) * ij;
                    squares += z * z;
                }
            } else {
                for &j in &self.numeric {
                    let z = (x[j] - c[j]) * inv[j];
                    squares += z * z;
                }
            }
            let mut log_k = self.log_norm[k] - 0.5 * squares;
            for &j in &self.categorical {
                let n = axes[j].categories.unwrap_or(1);
                log_k += if bin(x[j], n) == bin(c[j], n) { self.log_same[j] } else { self.log_other[j] };
            }
            terms.push(log_k);
        }
        log_sum_exp(terms) - ((self.centres.len() + 1) as f64).ln()
    }

    fn sample(&self, axes: &[Axis], rng: &mut Rng) -> Vec<f64> {
        let n = self.centres.len();
        let pick = rng.below(n + 1);
        if pick == n {
            return (0..axes.len()).map(|_| rng.uniform()).collect();
        }
        let c = self.centres[pick];
        axes.iter()
            .enumerate()
            .map(|(j, axis)| match axis.categories {
                Some(k) => {
                    if rng.uniform() < categorical_eps(k, n) {
                        let other = (bin(c[j], k) + 1 + rng.below(k - 1)) % k;
                        (other as f64 + 0.5) / k as f64
                    } else {
                        c[j]
                    }
                }
                None => mirror_into_unit(c[j] + self.bandwidth[pick * axes.len() + j] * rng.normal()),
            })
            .collect()
    }
}

fn bin(u: f64, k: usize) -> usize {
    ((u * k as f64) as usize).min(k - 1)
}

fn log_sum_exp(xs: &[f64]) -> f64 {
    let m = xs.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    if !m.is_finite() {
        return m;
    }
    m + xs.iter().map(|x| (x - m).exp()).sum::<f64>().ln()
}

/// Two lists of trials, each newest first, as one list of points newest first.
fn merge_newest_first<'h>(a: &[&'h Trial], b: &[&'h Trial]) -> Vec<&'h [f64]> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::with_capacity(a.len() + b.len());
    while i < a.len() || j < b.len() {
        if j == b.len() || (i < a.len() && a[i].id > b[j].id) {
            out.push(a[i].unit.as_slice());
            i += 1;
        } else {
            out.push(b[j].unit.as_slice());
            j += 1;
        }
    }
    out
}

impl Strategy for Tpe {
    fn kind(&self) -> StrategyKind {
        StrategyKind::Tpe
    }

    fn propose(&mut self, ctx: &Context, rng: &mut Rng) -> Option<Vec<f64>> {
        let history = ctx.history;
        let axes = axes(ctx.space);
        let (n_modelled, ranked): (usize, Box<dyn Iterator<Item = (f64, u64)>>) = match self.ignores {
            None => (history.n_complete(), Box::new(history.ranked())),
            Some(kind) => (history.n_complete_excluding(kind), Box::new(history.ranked_excluding(kind))),
        };
        let good_count = n_good(n_modelled);
        let mut threshold = f64::NEG_INFINITY;
        let mut best_modelled = None;
        let mut good: Vec<&[f64]> = Vec::with_capacity(good_count);
        for (value, t) in ranked.filter_map(|(v, id)| history.get(id).map(|t| (v, t))).take(good_count) {
            best_modelled.get_or_insert(value);
            threshold = value;
            good.push(&t.unit);
        }
        if good.len() >= 2 && best_modelled == Some(threshold) {
            // A plateau: every good point ties with the best, so which tied points count as "good" is
            // arbitrary and l/g only favours wherever the ties happen to be. Without this, TPE kept sampling
            // one branch of a two-model space whose CV scores tied at the top (40 of 50 candidates) while the
            // other branch held better scores. The exploration stream serves until a result breaks the tie.
            return None;
        }
        let bad = self.bad_observations(history, threshold);
        if good.is_empty() {
            return Some((0..self.dim).map(|_| rng.uniform()).collect());
        }
        let l = Density::new(good, &axes);
        let g = Density::new(bad, &axes);
        let mut best: Option<(f64, Vec<f64>)> = None;
        let mut scratch = Vec::with_capacity(MAX_BAD + MAX_PENDING + 1);
        for _ in 0..CANDIDATES {
            let x = l.sample(&axes, rng);
            let score = l.log_pdf(&x, &axes, &mut scratch) - g.log_pdf(&x, &axes, &mut scratch);
            if best.as_ref().is_none_or(|(s, _)| score > *s) {
                best = Some((score, x));
            }
        }
        best.map(|(_, x)| x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bad set as a plain walk over the whole history, newest first: the definition that
    /// `bad_observations` computes without walking back to old pending trials.
    fn bad_by_full_walk<'h>(tpe: &Tpe, history: &'h History, threshold: f64) -> Vec<&'h [f64]> {
        let (mut bad, mut pending) = (Vec::new(), 0);
        for t in history.trials().iter().rev().filter(|t| tpe.models(t)) {
            match t.outcome {
                Outcome::Complete(v) if v > threshold && bad.len() < MAX_BAD => bad.push(t.unit.as_slice()),
                Outcome::Failed if bad.len() < MAX_BAD => bad.push(t.unit.as_slice()),
                Outcome::Pending if pending < MAX_PENDING => {
                    pending += 1;
                    bad.push(t.unit.as_slice());
                }
                _ => {}
            }
        }
        bad
    }

    proptest::proptest! {
        #[test]
        fn bad_observations_are_the_newest_bad_and_pending_trials(
            trials in proptest::collection::vec((0u8..4, 0u8..3, 0u8..20), 0..400),
            threshold in 0u8..20,
        ) {
            let sources = [
                Source::Probe { index: 0 },
                Source::Strategy(StrategyKind::NelderMead),
                Source::Strategy(StrategyKind::Tpe),
                Source::External,
            ];
            let mut history = History::default();
            for (id, &(source, state, value)) in trials.iter().enumerate() {
                let outcome = match state {
                    0 => Outcome::Pending,
                    1 => Outcome::Failed,
                    _ => Outcome::Complete(value as f64),
                };
                let values = vec![crate::space::Value::Float(id as f64)];
                history.push(Trial { id: id as u64, unit: vec![id as f64], values, outcome, source: sources[source as usize] });
            }
            for tpe in [Tpe::new(1), Tpe::beside(1, StrategyKind::NelderMead)] {
                let threshold = threshold as f64;
                proptest::prop_assert_eq!(
                    tpe.bad_observations(&history, threshold),
                    bad_by_full_walk(&tpe, &history, threshold)
                );
            }
        }
    }

    #[test]
    fn gamma_adapts_and_is_capped() {
        assert_eq!(n_good(1), 1);
        assert_eq!(n_good(50), 5);
        assert_eq!(n_good(10_000), MAX_GOOD);
    }

    fn as_refs(points: &[Vec<f64>]) -> Vec<&[f64]> {
        points.iter().map(|v| v.as_slice()).collect()
    }

    #[test]
    fn scott_bandwidth_shrinks_with_n() {
        let axes = vec![Axis { categories: None, floor: 0.05 }];
        let few: Vec<Vec<f64>> = (0..10).map(|i| vec![i as f64 / 10.0]).collect();
        let many: Vec<Vec<f64>> = (0..1000).map(|i| vec![(i % 10) as f64 / 10.0]).collect();
        assert!(scott_bandwidth(&as_refs(&many), &axes)[0] < scott_bandwidth(&as_refs(&few), &axes)[0]);
    }

    #[test]
    fn clustered_kernels_are_narrow_and_isolated_ones_wide_with_a_floor() {
        let axes = vec![Axis { categories: None, floor: MIN_BANDWIDTH }];
        // 30 points packed around 0.3 and one far away at 0.95.
        let mut pts: Vec<Vec<f64>> = (0..30).map(|i| vec![0.3 + i as f64 * 0.002]).collect();
        pts.push(vec![0.95]);
        let h = kernel_bandwidths(&as_refs(&pts), &axes);
        assert!(h[15] < h[30], "{h:?}");
        assert!((h[15] - 1.0 / 33.0).abs() < 1e-12, "clustered kernels sit on the floor: {}", h[15]);
        let same: Vec<Vec<f64>> = (0..10).map(|_| vec![0.3]).collect();
        let floor = kernel_bandwidths(&as_refs(&same), &axes);
        assert!(floor.iter().all(|&b| (b - 1.0 / 12.0).abs() < 1e-12), "{floor:?}");
    }
}
