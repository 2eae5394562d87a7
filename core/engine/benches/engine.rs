//! Criterion benches for the engine's hot paths: one ask+tell round trip per strategy at a given history size.
//! Run: `cargo bench -p arqonhpo-core`.

use arqonhpo_core::{Param, Solver, SolverConfig, Space, StrategyChoice, Value};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};

fn space(dim: usize) -> Space {
    Space::new((0..dim).map(|i| Param::float(&format!("x{i}"), -5.0, 5.0, false, None).unwrap()).collect())
        .unwrap()
}

fn objective(values: &[Value]) -> f64 {
    values
        .iter()
        .map(|v| match v {
            Value::Float(x) => x * x - 10.0 * (std::f64::consts::TAU * x).cos(),
            _ => 0.0,
        })
        .sum()
}

/// A solver with `history` told trials, using `strategy` after a probe of 20 points.
fn filled(strategy: StrategyChoice, dim: usize, history: usize) -> Solver {
    let config = SolverConfig { seed: 1, budget: None, strategy, probe_size: Some(20) };
    let mut solver = Solver::new(space(dim), config).unwrap();
    for _ in 0..history {
        let s = solver.ask(1).pop().unwrap();
        solver.tell(s.id, Some(objective(&s.values))).unwrap();
    }
    solver
}

fn round_trip(c: &mut Criterion) {
    let mut group = c.benchmark_group("ask_tell_round_trip");
    for (name, strategy) in [
        ("probe", StrategyChoice::Probe),
        ("tpe", StrategyChoice::Tpe),
        ("cmaes", StrategyChoice::Cmaes),
        ("nelder_mead", StrategyChoice::NelderMead),
    ] {
        for history in [1_000usize, 10_000] {
            let mut solver = filled(strategy, 10, history);
            group.bench_with_input(BenchmarkId::new(name, history), &history, |b, _| {
                b.iter(|| {
                    let s = solver.ask(1).pop().unwrap();
                    solver.tell(s.id, Some(objective(&s.values))).unwrap();
                })
            });
        }
    }
    group.finish();
}

fn snapshot(c: &mut Criterion) {
    let solver = filled(StrategyChoice::Auto, 10, 1_000);
    c.bench_function("snapshot_round_trip_1000_trials", |b| {
        b.iter(|| Solver::from_bytes(&solver.to_bytes()).unwrap())
    });
}

criterion_group!(benches, round_trip, snapshot);
criterion_main!(benches);
