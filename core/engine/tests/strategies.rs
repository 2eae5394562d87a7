//! Behaviour of each refinement strategy through the public solver API.

use arqonhpo_core::{Param, Solver, SolverConfig, Space, StrategyChoice, Value};

fn continuous_space(dim: usize) -> Space {
    Space::new((0..dim).map(|i| Param::float(&format!("x{i}"), -5.0, 5.0, false, None).unwrap()).collect())
        .unwrap()
}

fn floats(values: &[Value]) -> Vec<f64> {
    values
        .iter()
        .map(|v| match v {
            Value::Float(x) => *x,
            other => panic!("expected a float, got {other:?}"),
        })
        .collect()
}

/// Runs `budget` sequential ask/tell steps; returns the best value.
fn run(strategy: StrategyChoice, dim: usize, budget: u64, seed: u64, f: impl Fn(&[f64]) -> f64) -> f64 {
    let config = SolverConfig { seed, budget: Some(budget), strategy, probe_size: None };
    let mut solver = Solver::new(continuous_space(dim), config).unwrap();
    loop {
        let batch = solver.ask(1);
        let Some(s) = batch.first() else { break };
        let y = f(&floats(&s.values));
        solver.tell(s.id, Some(y)).unwrap();
    }
    match solver.best().unwrap().outcome {
        arqonhpo_core::Outcome::Complete(v) => v,
        _ => unreachable!(),
    }
}

fn shifted_sphere(x: &[f64]) -> f64 {
    x.iter().enumerate().map(|(i, v)| (v - 1.3 + 0.4 * i as f64).powi(2)).sum()
}

#[test]
fn every_strategy_improves_on_a_sphere() {
    for strategy in
        [StrategyChoice::Tpe, StrategyChoice::Cmaes, StrategyChoice::NelderMead, StrategyChoice::Auto]
    {
        let best = run(strategy, 2, 100, 1, shifted_sphere);
        assert!(best < 0.05, "{strategy:?}: best {best}");
    }
}

/// Runs a solver and records every suggestion; `transform` is applied to each objective value.
fn trajectory(
    strategy: StrategyChoice,
    f: impl Fn(&[f64]) -> f64,
    transform: impl Fn(f64) -> f64,
) -> Vec<Vec<Value>> {
    let config = SolverConfig { seed: 9, budget: Some(150), strategy, probe_size: None };
    let mut solver = Solver::new(continuous_space(3), config).unwrap();
    let mut out = Vec::new();
    while let Some(s) = solver.ask(1).pop() {
        solver.tell(s.id, Some(transform(f(&floats(&s.values))))).unwrap();
        out.push(s.values);
    }
    out
}

#[test]
fn suggestions_are_invariant_to_affine_transforms_of_the_objective() {
    for strategy in
        [StrategyChoice::Auto, StrategyChoice::Tpe, StrategyChoice::Cmaes, StrategyChoice::NelderMead]
    {
        let plain = trajectory(strategy, shifted_sphere, |y| y);
        let scaled = trajectory(strategy, shifted_sphere, |y| 3.0 * y + 7.0);
        assert_eq!(plain, scaled, "{strategy:?}");
    }
}

#[test]
fn nelder_mead_converges_on_a_convex_quadratic() {
    let quadratic =
        |x: &[f64]| (x[0] - 1.7).powi(2) + 3.0 * (x[1] + 0.9).powi(2) + 0.5 * (x[0] - 1.7) * (x[1] + 0.9);
    for seed in 0..5 {
        let best = run(StrategyChoice::NelderMead, 2, 300, seed, quadratic);
        assert!(best < 1e-6, "seed {seed}: best {best}");
    }
}

#[test]
fn tpe_finds_the_best_arm_of_a_categorical_bandit() {
    // Ten arms with Gaussian rewards; arm 7 is best by a clear margin. The solver must pull it most.
    let space = Space::new(vec![Param::categorical("arm", 10).unwrap()]).unwrap();
    let config = SolverConfig { seed: 4, budget: Some(200), strategy: StrategyChoice::Tpe, probe_size: None };
    let mut solver = Solver::new(space, config).unwrap();
    let mut noise = arqonhpo_core::rng::Rng::new(17);
    let mut pulls = [0usize; 10];
    while let Some(s) = solver.ask(1).pop() {
        let Value::Choice(arm) = s.values[0] else { unreachable!() };
        pulls[arm] += 1;
        let mean = if arm == 7 { 0.0 } else { 1.0 + arm as f64 * 0.1 };
        solver.tell(s.id, Some(mean + 0.3 * noise.normal())).unwrap();
    }
    let most = (0..10).max_by_key(|&a| pulls[a]).unwrap();
    assert_eq!(most, 7, "pulls: {pulls:?}");
    assert!(pulls[7] > 100, "pulls: {pulls:?}");
}

#[test]
fn classifier_sends_smooth_problems_to_local_search_and_noise_to_tpe() {
    let noise = |x: &[f64]| {
        let h = x.iter().fold(0u64, |acc, v| arqonhpo_core::rng::splitmix64(acc ^ v.to_bits()));
        (h >> 11) as f64
    };
    let pick = |dim: usize, f: &dyn Fn(&[f64]) -> f64| {
        let config =
            SolverConfig { seed: 3, budget: Some(300), strategy: StrategyChoice::Auto, probe_size: Some(40) };
        let mut solver = Solver::new(continuous_space(dim), config).unwrap();
        for _ in 0..41 {
            let s = solver.ask(1).pop().unwrap();
            solver.tell(s.id, Some(f(&floats(&s.values)))).unwrap();
        }
        solver.pcr().active()
    };
    use arqonhpo_core::strategy::StrategyKind;
    assert_eq!(pick(2, &shifted_sphere), StrategyKind::NelderMead);
    assert_eq!(pick(6, &shifted_sphere), StrategyKind::Cmaes);
    assert_eq!(pick(2, &noise), StrategyKind::Tpe);
    assert_eq!(pick(6, &noise), StrategyKind::Tpe);
}

#[test]
fn a_batch_ask_in_refinement_gives_distinct_spread_points() {
    for strategy in [StrategyChoice::Tpe, StrategyChoice::Cmaes, StrategyChoice::NelderMead] {
        let config = SolverConfig { seed: 2, budget: None, strategy, probe_size: Some(10) };
        let mut solver = Solver::new(continuous_space(3), config).unwrap();
        for s in solver.ask(10) {
            solver.tell(s.id, Some(shifted_sphere(&floats(&s.values)))).unwrap();
        }
        let batch: Vec<Vec<f64>> = solver.ask(8).iter().map(|s| floats(&s.values)).collect();
        for (i, a) in batch.iter().enumerate() {
            for b in &batch[i + 1..] {
                let dist = a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f64>().sqrt();
                assert!(dist > 1e-3, "{strategy:?}: {a:?} and {b:?} nearly coincide");
            }
        }
    }
}

#[test]
fn a_result_that_never_arrives_does_not_stall_a_strategy() {
    // Every third suggestion is never told. The strategies must keep proposing points of their own rather
    // than wait forever (which would leave only the probe stream serving asks).
    for strategy in [StrategyChoice::Cmaes, StrategyChoice::NelderMead, StrategyChoice::Tpe] {
        let config = SolverConfig { seed: 5, budget: Some(300), strategy, probe_size: Some(10) };
        let mut solver = Solver::new(continuous_space(3), config).unwrap();
        let mut from_strategy_late = 0;
        for i in 0..300 {
            let s = solver.ask(1).pop().unwrap();
            if i >= 200 && matches!(s.source, arqonhpo_core::Source::Strategy(_)) {
                from_strategy_late += 1;
            }
            if i % 3 != 2 {
                solver.tell(s.id, Some(shifted_sphere(&floats(&s.values)))).unwrap();
            }
        }
        // A stalled strategy gives 0 here. Each lost result costs a few asks of patience (slow workers are not
        // lost ones), served from the probe stream.
        assert!(
            from_strategy_late > 25,
            "{strategy:?}: only {from_strategy_late} of the last 100 from the strategy"
        );
    }
}
