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
