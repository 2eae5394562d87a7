//! Property tests: for arbitrary valid spaces and arbitrary call sequences, suggestions stay in bounds and on
//! their grids, the budget is exact, runs are deterministic, snapshots continue identically, and no input
//! makes the engine panic.

use arqonhpo_core::config::{parse_config, parse_results};
use arqonhpo_core::{replay, Param, ParamKind, Solver, SolverConfig, Space, StrategyChoice, Value};
use proptest::prelude::*;

fn param_strategy(i: usize) -> impl Strategy<Value = Param> {
    let name = format!("p{i}");
    prop_oneof![
        (-1e6f64..1e6, 1e-3f64..1e6).prop_map({
            let name = name.clone();
            move |(low, width)| Param::float(&name, low, low + width, false, None).unwrap()
        }),
        (1e-8f64..1e3, 1.5f64..1e6).prop_map({
            let name = name.clone();
            move |(low, ratio)| Param::float(&name, low, low * ratio, true, None).unwrap()
        }),
        (-100i32..100, 1u32..50, prop_oneof![Just(0.1f64), Just(0.25), Just(0.5), Just(2.0)]).prop_map({
            let name = name.clone();
            move |(low, steps, step)| {
                let low = low as f64;
                Param::float(&name, low, low + steps as f64 * step, false, Some(step)).unwrap()
            }
        }),
        (-1000i64..1000, 1i64..500, 1i64..7).prop_map({
            let name = name.clone();
            move |(low, steps, step)| Param::int(&name, low, low + steps * step, false, step).unwrap()
        }),
        (1i64..100, 2i64..100_000).prop_map({
            let name = name.clone();
            move |(low, ratio)| Param::int(&name, low, low * ratio, true, 1).unwrap()
        }),
        (1usize..8).prop_map(move |k| Param::categorical(&name, k).unwrap()),
    ]
}

fn space_strategy() -> impl Strategy<Value = Space> {
    (1usize..7)
        .prop_flat_map(|dim| (0..dim).map(param_strategy).collect::<Vec<_>>())
        .prop_map(|params| Space::new(params).unwrap())
}

fn strategy_choice() -> impl Strategy<Value = StrategyChoice> {
    prop_oneof![
        Just(StrategyChoice::Auto),
        Just(StrategyChoice::Probe),
        Just(StrategyChoice::NelderMead),
        Just(StrategyChoice::Tpe),
        Just(StrategyChoice::Cmaes),
    ]
}

fn in_bounds_and_on_grid(param: &Param, value: &Value) -> bool {
    match (&param.kind, *value) {
        (ParamKind::Float { low, high, step, .. }, Value::Float(x)) => {
            let on_grid = step.is_none_or(|s| {
                let k = (x - low) / s;
                (k - k.round()).abs() < 1e-6
            });
            x >= *low && x <= *high && on_grid
        }
        (ParamKind::Int { low, high, step, .. }, Value::Int(i)) => {
            i >= *low && i <= *high && (i - low) % step == 0
        }
        (ParamKind::Categorical { n_choices }, Value::Choice(c)) => c < *n_choices,
        _ => false,
    }
}

/// A deterministic objective on decoded values, so that tells depend on what was suggested.
fn objective(values: &[Value]) -> f64 {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| match v {
            Value::Float(x) => (x.abs() + 1.0).ln() * (i + 1) as f64,
            Value::Int(k) => ((*k as f64).abs() + 1.0).ln(),
            Value::Choice(c) => *c as f64,
        })
        .sum()
}

/// Runs `rounds` batches of asks of the given sizes, telling every other result (some as failures).
fn drive(solver: &mut Solver, batches: &[usize]) -> Vec<(u64, Vec<Value>)> {
    let mut seen = Vec::new();
    for (round, &n) in batches.iter().enumerate() {
        let batch = solver.ask(n);
        for (j, s) in batch.iter().enumerate() {
            seen.push((s.id, s.values.clone()));
            match (round + j) % 4 {
                0 => solver.tell(s.id, None).unwrap(),
                1 => {} // stays pending
                _ => solver.tell(s.id, Some(objective(&s.values))).unwrap(),
            }
        }
    }
    seen
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn suggestions_are_in_bounds_and_on_grid(
        space in space_strategy(), seed in any::<u64>(), strategy in strategy_choice(),
        batches in prop::collection::vec(1usize..6, 1..30),
    ) {
        let mut solver = Solver::new(space.clone(), SolverConfig { seed, budget: None, strategy, probe_size: None }).unwrap();
        for (_, values) in drive(&mut solver, &batches) {
            for (p, v) in space.params().iter().zip(&values) {
                prop_assert!(in_bounds_and_on_grid(p, v), "{:?} out of {:?}", v, p);
            }
        }
    }

    #[test]
    fn budget_is_exact(space in space_strategy(), budget in 0u64..60, batches in prop::collection::vec(1usize..9, 1..40)) {
        let mut solver = Solver::new(space, SolverConfig { seed: 1, budget: Some(budget), ..SolverConfig::default() }).unwrap();
        let asked = drive(&mut solver, &batches).len() as u64;
        let requested: u64 = batches.iter().map(|&n| n as u64).sum();
        prop_assert_eq!(asked, requested.min(budget));
        prop_assert_eq!(solver.remaining(), Some(budget - asked));
    }

    #[test]
    fn same_seed_same_suggestions_and_snapshots_continue_identically(
        space in space_strategy(), seed in any::<u64>(), strategy in strategy_choice(),
        before in prop::collection::vec(1usize..5, 1..20), after in prop::collection::vec(1usize..5, 1..20),
    ) {
        let config = SolverConfig { seed, budget: None, strategy, probe_size: None };
        let mut a = Solver::new(space.clone(), config.clone()).unwrap();
        let mut b = Solver::new(space, config).unwrap();
        prop_assert_eq!(drive(&mut a, &before), drive(&mut b, &before));
        let mut restored = Solver::from_bytes(&a.to_bytes()).unwrap();
        prop_assert_eq!(drive(&mut a, &after), drive(&mut restored, &after));
        prop_assert_eq!(a.to_bytes(), restored.to_bytes());
    }

    #[test]
    fn run_record_replays(space in space_strategy(), seed in any::<u64>(), batches in prop::collection::vec(1usize..5, 1..25)) {
        let mut solver = Solver::new(space, SolverConfig { seed, ..SolverConfig::default() }).unwrap();
        drive(&mut solver, &batches);
        let (_, report) = replay(&solver.record().to_jsonl()).unwrap();
        prop_assert_eq!(report.asks, batches.len());
    }

    #[test]
    fn distinct_suggestions_until_the_space_is_exhausted(space in space_strategy(), seed in any::<u64>(), n in 1usize..40) {
        let mut solver = Solver::new(space.clone(), SolverConfig { seed, ..SolverConfig::default() }).unwrap();
        let batch = solver.ask(n);
        let distinct: std::collections::HashSet<String> = batch.iter().map(|s| format!("{:?}", s.values)).collect();
        let expected = space.cardinality().map_or(n, |c| n.min(c as usize));
        prop_assert_eq!(distinct.len(), expected);
    }

    #[test]
    fn no_panic_on_arbitrary_calls(
        space in space_strategy(), seed in any::<u64>(), strategy in strategy_choice(),
        ops in prop::collection::vec((0u8..5, any::<u64>(), prop_oneof![any::<f64>(), Just(f64::NAN), Just(f64::INFINITY)]), 0..80),
    ) {
        let mut solver = Solver::new(space.clone(), SolverConfig { seed, budget: Some(50), strategy, probe_size: None }).unwrap();
        for (op, x, value) in ops {
            match op {
                0 => { solver.ask((x % 5) as usize); }
                1 => { let _ = solver.tell(x % (solver.history().len() as u64 + 2), Some(value)); }
                2 => { let _ = solver.add_result(solver.probe_point(x), Some(value)); }
                3 => { let _ = solver.add_pending(solver.probe_point(x)); }
                _ => solver.reseed(x),
            }
        }
    }

    #[test]
    fn no_panic_on_arbitrary_bytes_or_text(bytes in prop::collection::vec(any::<u8>(), 0..300), text in ".{0,200}") {
        let mut snapshot = b"ARQN\x01".to_vec();
        snapshot.extend(&bytes);
        let _ = Solver::from_bytes(&snapshot);
        let _ = Solver::from_bytes(&bytes);
        let _ = parse_config(&text);
        let _ = parse_results(&text);
        let _ = replay(&text);
    }
}

#[test]
fn corrupted_snapshot_is_an_error_not_a_panic() {
    let space = Space::new(vec![Param::float("x", 0.0, 1.0, false, None).unwrap()]).unwrap();
    let mut solver = Solver::new(space, SolverConfig::default()).unwrap();
    drive(&mut solver, &[3, 3, 3]);
    let bytes = solver.to_bytes();
    for cut in [6, bytes.len() / 2, bytes.len() - 1] {
        assert!(Solver::from_bytes(&bytes[..cut]).is_err());
    }
    let mut flipped = bytes.clone();
    for i in (5..flipped.len()).step_by(7) {
        flipped[i] ^= 0x5A;
        let _ = Solver::from_bytes(&flipped);
    }
}
