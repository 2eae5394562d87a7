//! Landscape classifier: structured (a global trend a model-free local search can ride) vs rugged, deceptive
//! or noisy.
//!
//! The score is the Spearman rank correlation between each point's value and its distance to the centroid of
//! the best fifth of the points. On a structured landscape the good points cluster and quality falls off with
//! distance from the cluster (score near 1); on a rugged, deceptive or noise-dominated one, distance says little
//! about value (score near 0). Being a rank statistic it is invariant to any strictly increasing transform of
//! the objective, in particular f -> a*f + b with a > 0. The centroid of several good points, rather than the
//! single best, keeps one lucky or noisy point from deciding. Calibration: `cargo run --release -p
//! arqonhpo-core --example calibrate_classifier` (numbers in docs/algorithm.md).

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub enum Landscape {
    Structured,
    Rugged,
}

impl Landscape {
    pub fn name(self) -> &'static str {
        match self {
            Landscape::Structured => "structured",
            Landscape::Rugged => "rugged",
        }
    }
}

/// At or above this score the landscape counts as structured: the good points are at least as close to
/// each other as the rest is to them. A decision threshold set by measured cost, not a calibrated boundary:
/// with probes of `d + 4` points the score of a rotated ill-conditioned ellipsoid (median 0.17-0.23) overlaps
/// that of noise and Schwefel (0.0-0.16), and sending the ellipsoid to TPE costs orders of magnitude while
/// sending noise to CMA-ES costs little (docs/algorithm.md has the figures).
pub const STRUCTURED_THRESHOLD: f64 = 0.0;

/// Fewer finished points than this cannot support a decision; the caller keeps probing.
pub const MIN_POINTS: usize = 6;

/// Classifies from unit-cube points and their values (lower is better). Returns (label, score).
pub fn classify(points: &[&[f64]], values: &[f64]) -> Option<(Landscape, f64)> {
    let n = points.len();
    if n < MIN_POINTS || values.len() != n {
        return None;
    }
    let elite = (n / 5).max(2);
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]).then(a.cmp(&b)));
    let dim = points[0].len();
    let centre: Vec<f64> =
        (0..dim).map(|j| order[..elite].iter().map(|&i| points[i][j]).sum::<f64>() / elite as f64).collect();
    // The elite points sit near their own centroid by construction; correlating them would reward noise.
    let rest = &order[elite..];
    let distances: Vec<f64> = rest.iter().map(|&i| distance(points[i], &centre)).collect();
    let rest_values: Vec<f64> = rest.iter().map(|&i| values[i]).collect();
    let score = spearman(&distances, &rest_values);
    let label = if score >= STRUCTURED_THRESHOLD { Landscape::Structured } else { Landscape::Rugged };
    Some((label, score))
}

fn distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>().sqrt()
}

/// Average ranks (ties share the mean rank), 0-based.
pub fn ranks(xs: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..xs.len()).collect();
    order.sort_by(|&a, &b| xs[a].total_cmp(&xs[b]).then(a.cmp(&b)));
    let mut out = vec![0.0; xs.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && xs[order[j + 1]] == xs[order[i]] {
            j += 1;
        }
        let mean_rank = (i + j) as f64 / 2.0;
        for &k in &order[i..=j] {
            out[k] = mean_rank;
        }
        i = j + 1;
    }
    out
}

fn spearman(a: &[f64], b: &[f64]) -> f64 {
    pearson(&ranks(a), &ranks(b))
}

fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    if n < 2.0 {
        return 0.0;
    }
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
    if va <= 0.0 || vb <= 0.0 {
        return 0.0;
    }
    cov / (va * vb).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::ProbeDesign;

    fn scores(f: impl Fn(&[f64]) -> f64, dim: usize, n: u64) -> (Landscape, f64) {
        scores_with_seed(f, dim, n, 3)
    }

    fn scores_with_seed(f: impl Fn(&[f64]) -> f64, dim: usize, n: u64, seed: u64) -> (Landscape, f64) {
        let design = ProbeDesign::new(dim, seed);
        let pts: Vec<Vec<f64>> = (0..n).map(|i| design.point(i)).collect();
        let vals: Vec<f64> = pts.iter().map(|p| f(p)).collect();
        let refs: Vec<&[f64]> = pts.iter().map(|p| p.as_slice()).collect();
        classify(&refs, &vals).unwrap()
    }

    fn sphere(x: &[f64]) -> f64 {
        x.iter().map(|v| (v - 0.37).powi(2)).sum()
    }

    /// Deterministic white noise: no structure at any scale.
    fn noise(x: &[f64]) -> f64 {
        let h = x.iter().fold(0u64, |acc, v| crate::rng::splitmix64(acc ^ v.to_bits()));
        (h >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Good points on opposite sides of the box: their centroid is where the worst values are.
    fn inverted_bowl(x: &[f64]) -> f64 {
        -x.iter().map(|v| (v - 0.5).powi(2)).sum::<f64>()
    }

    #[test]
    fn smooth_is_structured_and_anti_structured_is_rugged() {
        for dim in [3, 10] {
            let (label, score) = scores(sphere, dim, 14);
            assert_eq!(label, Landscape::Structured, "sphere {dim}-D: {score}");
            assert!(score > 0.5, "sphere {dim}-D: {score}");
            let (label, score) = scores(inverted_bowl, dim, 30);
            assert_eq!(label, Landscape::Rugged, "inverted bowl {dim}-D: {score}");
        }
    }

    #[test]
    fn white_noise_scores_near_zero_far_below_smooth_functions() {
        // One design's score on noise is a Spearman correlation of ~50 points (sd ~0.14): average over designs.
        for dim in [3, 10] {
            let mean =
                |f: fn(&[f64]) -> f64| (0..10).map(|s| scores_with_seed(f, dim, 60, s).1).sum::<f64>() / 10.0;
            let (noise_score, sphere_score) = (mean(noise), mean(sphere));
            assert!(noise_score.abs() < 0.1, "noise {dim}-D: {noise_score}");
            assert!(sphere_score - noise_score > 0.4, "{dim}-D: sphere {sphere_score}, noise {noise_score}");
        }
    }

    #[test]
    fn score_is_affine_invariant() {
        let (_, a) = scores(sphere, 4, 16);
        let (_, b) = scores(|x| 3.0 * sphere(x) + 7.0, 4, 16);
        assert_eq!(a, b);
    }

    #[test]
    fn ranks_share_ties() {
        assert_eq!(ranks(&[3.0, 1.0, 3.0]), vec![1.5, 0.0, 1.5]);
    }
}
