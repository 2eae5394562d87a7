//! Prints the classifier's score distribution on shifted test functions, to calibrate
//! `classify::STRUCTURED_THRESHOLD`. Run: `cargo run --release -p arqonhpo-core --example calibrate_classifier`.

use arqonhpo_core::classify::classify;
use arqonhpo_core::pcr::default_probe_size;
use arqonhpo_core::probe::ProbeDesign;
use arqonhpo_core::rng::Rng;

type TestFn = fn(&[f64]) -> f64;

fn sphere(z: &[f64]) -> f64 {
    z.iter().map(|v| v * v).sum()
}
/// Condition number 1e6, as in the benchmark suite; `main` rotates its argument, so no axis is special.
fn ellipsoid(z: &[f64]) -> f64 {
    z.iter()
        .enumerate()
        .map(|(i, v)| 10f64.powf(6.0 * i as f64 / (z.len() as f64 - 1.0).max(1.0)) * v * v)
        .sum()
}

/// A random orthogonal matrix: Gram-Schmidt on Gaussian rows.
fn rotation(dim: usize, rng: &mut Rng) -> Vec<Vec<f64>> {
    let mut rows: Vec<Vec<f64>> = Vec::with_capacity(dim);
    while rows.len() < dim {
        let mut v: Vec<f64> = (0..dim).map(|_| rng.normal()).collect();
        for r in &rows {
            let dot: f64 = v.iter().zip(r).map(|(a, b)| a * b).sum();
            v.iter_mut().zip(r).for_each(|(a, b)| *a -= dot * b);
        }
        let norm = v.iter().map(|a| a * a).sum::<f64>().sqrt();
        if norm > 1e-9 {
            rows.push(v.into_iter().map(|a| a / norm).collect());
        }
    }
    rows
}
fn rosenbrock(z: &[f64]) -> f64 {
    z.windows(2).map(|w| 100.0 * (w[1] - w[0] * w[0]).powi(2) + (1.0 - w[0]).powi(2)).sum()
}
fn rastrigin(z: &[f64]) -> f64 {
    z.iter().map(|v| v * v - 10.0 * (std::f64::consts::TAU * v).cos() + 10.0).sum()
}
fn ackley(z: &[f64]) -> f64 {
    let n = z.len() as f64;
    let a = (z.iter().map(|v| v * v).sum::<f64>() / n).sqrt();
    let b = z.iter().map(|v| (std::f64::consts::TAU * v).cos()).sum::<f64>() / n;
    -20.0 * (-0.2 * a).exp() - b.exp() + 20.0 + std::f64::consts::E
}
fn schwefel(z: &[f64]) -> f64 {
    z.iter()
        .map(|v| {
            let x = v * 100.0;
            -x * x.abs().sqrt().sin()
        })
        .sum()
}

/// Deterministic white noise: no structure at any scale.
fn white_noise(z: &[f64]) -> f64 {
    let h = z.iter().fold(0u64, |acc, v| arqonhpo_core::rng::splitmix64(acc ^ v.to_bits()));
    (h >> 11) as f64 / (1u64 << 53) as f64
}

fn main() {
    let functions: [(&str, TestFn, f64); 7] = [
        ("noise", sphere, 1.0),
        ("sphere", sphere, 5.0),
        ("ellipsoid", ellipsoid, 5.0),
        ("rosenbrock", rosenbrock, 2.0),
        ("rastrigin", rastrigin, 5.12),
        ("ackley", ackley, 32.0),
        ("schwefel", schwefel, 5.0),
    ];
    for dim in [2usize, 5, 10, 20] {
        for (name, f, scale) in functions {
            for noisy in [false, true] {
                let mut scores = Vec::new();
                for seed in 0..20u64 {
                    let mut rng = Rng::new(seed + 100);
                    let shift: Vec<f64> = (0..dim).map(|_| 0.6 * (rng.uniform() - 0.5)).collect();
                    let rot = rotation(dim, &mut rng);
                    let design = ProbeDesign::new(dim, seed);
                    let n = default_probe_size(dim, Some(200)) as u64;
                    let pts: Vec<Vec<f64>> = (0..n).map(|i| design.point(i)).collect();
                    let vals: Vec<f64> = pts
                        .iter()
                        .map(|p| {
                            let z: Vec<f64> =
                                p.iter().zip(&shift).map(|(u, s)| (2.0 * u - 1.0 - s) * scale).collect();
                            let z: Vec<f64> = if name == "ellipsoid" {
                                rot.iter().map(|r| r.iter().zip(&z).map(|(a, b)| a * b).sum()).collect()
                            } else {
                                z
                            };
                            let y = if name == "noise" { white_noise(&z) } else { f(&z) };
                            if noisy {
                                y + (1.0 + y.abs()) * 0.5 * rng.normal()
                            } else {
                                y
                            }
                        })
                        .collect();
                    let refs: Vec<&[f64]> = pts.iter().map(|p| p.as_slice()).collect();
                    scores.push(classify(&refs, &vals).map_or(f64::NAN, |(_, s)| s));
                }
                scores.sort_by(f64::total_cmp);
                println!(
                    "d={dim:2} {name:10} noisy={noisy:5}  min {:+.2}  q1 {:+.2}  median {:+.2}  q3 {:+.2}  max {:+.2}",
                    scores[0], scores[5], scores[10], scores[15], scores[19]
                );
            }
        }
    }
}
