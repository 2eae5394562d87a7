//! Shared geometry for strategies that move freely in the unit cube.

/// Mirrors a coordinate back into [0, 1]. Mirroring (rather than clamping) keeps proposals that overshoot a
/// bound distinct from each other instead of piling them up on the wall.
pub fn mirror_into_unit(x: f64) -> f64 {
    if !x.is_finite() {
        return 0.5;
    }
    // Reduce to one period [0, 2) of the reflection pattern, then fold.
    let period = x.rem_euclid(2.0);
    if period > 1.0 {
        2.0 - period
    } else {
        period
    }
}

pub fn mirror_point(x: &[f64]) -> Vec<f64> {
    x.iter().map(|&v| mirror_into_unit(v)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirrors_fold_back_into_the_box() {
        assert_eq!(mirror_into_unit(0.25), 0.25);
        assert!((mirror_into_unit(1.25) - 0.75).abs() < 1e-12);
        assert!((mirror_into_unit(-0.25) - 0.25).abs() < 1e-12);
        assert!((mirror_into_unit(2.5) - 0.5).abs() < 1e-12);
        assert_eq!(mirror_into_unit(f64::NAN), 0.5);
    }
}
