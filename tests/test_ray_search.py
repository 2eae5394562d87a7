"""ArqonSearch (Ray Tune Searcher) — contract tests, unit level and against a real local Ray session.

Ray is started once for the module (num_cpus=2); trainables are trivial so the module stays fast.
"""

from __future__ import annotations

import itertools
import math
import os
import pickle
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("RAY_AUTH_MODE", "disabled")

ray = pytest.importorskip("ray")
import arqonhpo  # noqa: E402
from arqonhpo.ray import ArqonSearch  # noqa: E402

# pytest imports this file under a name Ray's workers cannot import; ship the trainables by value instead.
ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
from ray import tune  # noqa: E402
from ray.tune.search import ConcurrencyLimiter, Searcher  # noqa: E402

# ---------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def ray_session() -> Iterator[None]:
    if ray.is_initialized():  # another module left a session running: reuse it
        yield
        return
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture
def storage(tmp_path: Path) -> str:
    return str(tmp_path / "ray_results")


def _run(
    trainable: Any,
    searcher: Any,
    storage: str,
    num_samples: int,
    param_space: dict[str, Any] | None = None,
    name: str = "exp",
    callbacks: list[Any] | None = None,
    **tune_config: Any,
) -> Any:
    tuner = tune.Tuner(
        trainable,
        param_space=param_space or {},
        tune_config=tune.TuneConfig(
            search_alg=searcher, num_samples=num_samples, reuse_actors=True, **tune_config
        ),
        run_config=tune.RunConfig(storage_path=storage, name=name, verbose=0, callbacks=callbacks),
    )
    return tuner.fit()


def _quadratic(config: dict[str, Any]) -> None:
    tune.report({"loss": (config["x"] - 1.0) ** 2 + (config["y"] + 2.0) ** 2, "reported_at": time.time()})


QUADRATIC_SPACE = {"x": tune.uniform(-5.0, 5.0), "y": tune.uniform(-5.0, 5.0)}


def _flat(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}/"))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _drive(searcher: ArqonSearch, n: int, objective: Any, prefix: str = "t") -> list[dict[str, Any]]:
    """Suggest/complete n trials sequentially without Ray's runtime; returns the configs."""
    configs = []
    for i in range(n):
        config = searcher.suggest(f"{prefix}{i}")
        assert isinstance(config, dict)
        configs.append(config)
        searcher.on_trial_complete(f"{prefix}{i}", {"loss": objective(config)})
    return configs


# ---------------------------------------------------------------------------------------------- domains

ALL_DOMAINS: dict[str, Any] = {
    "u": tune.uniform(-2.0, 3.0),
    "qu": tune.quniform(-1.0, 1.0, 0.25),
    "qu_tenths": tune.quniform(0.3, 0.9, 0.1),
    "lu": tune.loguniform(1e-4, 1e-1),
    "qlu": tune.qloguniform(1e-3, 1.0, 1e-3),
    "ri": tune.randint(0, 5),
    "qri": tune.qrandint(2, 20, 4),
    "qri1": tune.qrandint(0, 3, 1),
    "lri": tune.lograndint(1, 100),
    "qlri": tune.qlograndint(10, 1000, 10),
    "ch": tune.choice(["a", 2, None, 3.5]),
    "nested": {"lr": tune.loguniform(1e-5, 1e-2), "momentum": 0.9, "deeper": {"k": tune.randint(1, 3)}},
    "layers": [tune.randint(1, 4), 64],
    "name": "model",
}


def _check_float(value: Any, low: float, high: float, q: float | None = None) -> None:
    assert type(value) is float
    assert low <= value <= high, (value, low, high)
    if q is not None:
        assert math.isclose(value / q, round(value / q), abs_tol=1e-9), (value, q)


def _check_int(value: Any, allowed: set[int]) -> None:
    assert type(value) is int
    assert value in allowed, (value, sorted(allowed))


def _check_config(c: dict[str, Any]) -> None:
    _check_float(c["u"], -2.0, 3.0)
    _check_float(c["qu"], -1.0, 1.0, 0.25)
    _check_float(c["qu_tenths"], 0.3, 0.9, 0.1)
    _check_float(c["lu"], 1e-4, 1e-1)
    _check_float(c["qlu"], 1e-3, 1.0, 1e-3)
    _check_int(c["ri"], set(range(0, 5)))  # randint: upper bound exclusive
    _check_int(c["qri"], {4, 8, 12, 16, 20})  # multiples of 4 in [2, 20], upper inclusive
    _check_int(c["qri1"], {0, 1, 2})  # q == 1: upper exclusive, like randint
    _check_int(c["lri"], set(range(1, 100)))
    _check_int(c["qlri"], set(range(10, 1001, 10)))
    assert c["ch"] in ["a", 2, None, 3.5]
    assert type(c["ch"]) in (str, int, type(None), float)
    _check_float(c["nested"]["lr"], 1e-5, 1e-2)
    assert c["nested"]["momentum"] == 0.9
    _check_int(c["nested"]["deeper"]["k"], {1, 2})
    assert isinstance(c["layers"], list) and c["layers"][1] == 64
    _check_int(c["layers"][0], {1, 2, 3})
    assert c["name"] == "model"


def _mixed_objective(c: dict[str, Any]) -> float:
    return (
        (c["u"] - 0.5) ** 2
        + abs(c["ri"] - 3)
        + (0.0 if c["ch"] == "a" else 1.0)
        + abs(math.log10(c["lu"]) + 2)
    )


def test_every_domain_in_bounds_typed_and_quantized() -> None:
    searcher = ArqonSearch(space=ALL_DOMAINS, metric="loss", mode="min", seed=3)
    configs = _drive(searcher, 150, _mixed_objective)
    for c in configs:
        _check_config(c)
    # The inclusive/exclusive ends are reachable exactly as Ray documents them.
    assert {c["qri"] for c in configs} >= {4, 20}
    assert max(c["ri"] for c in configs) == 4
    assert max(c["qri1"] for c in configs) == 2
    assert {c["ch"] for c in configs} == {"a", 2, None, 3.5}


def test_discrete_values_are_a_subset_of_what_ray_samples() -> None:
    """Cross-check the bound conventions against Ray's own sampler for every discrete domain."""
    space = {k: ALL_DOMAINS[k] for k in ("ri", "qri", "qri1", "qu")}
    searcher = ArqonSearch(space=space, metric="loss", mode="min", seed=0)
    ours = {k: set() for k in space}  # type: dict[str, set[Any]]
    for c in _drive(searcher, 60, lambda c: c["ri"] + c["qri"] + c["qu"]):
        for k in space:
            ours[k].add(round(c[k], 9))
    for key, domain in space.items():
        ray_values = {round(v, 9) for v in domain.sample(size=3000, random_state=0)}
        assert ours[key] <= ray_values, key


@pytest.mark.parametrize(
    ("space", "key", "what"),
    [
        ({"a": tune.uniform(0, 1), "g": tune.grid_search([1, 2])}, "g", "grid_search"),
        ({"a": tune.uniform(0, 1), "n": {"g": {"grid_search": [1, 2]}}}, "n/g", "grid_search"),
        ({"a": tune.uniform(0, 1), "f": tune.sample_from(lambda _: 1)}, "f", "sample_from"),
        ({"a": tune.uniform(0, 1), "r": tune.randn(0.0, 1.0)}, "r", "randn"),
        ({"a": tune.uniform(0, 1), "r": tune.qrandn(0.0, 1.0, 0.5)}, "r", "randn"),
        ({"a": tune.uniform(0, 1), "e": {"eval": "1 + 1"}}, "e", "eval"),
    ],
)
def test_unsupported_domains_raise_naming_the_key(space: dict[str, Any], key: str, what: str) -> None:
    with pytest.raises(ValueError, match=rf"{what}.*'{key}'"):
        ArqonSearch(space=space, metric="loss", mode="min")
    searcher = ArqonSearch(metric="loss", mode="min")
    with pytest.raises(ValueError, match=f"'{key}'"):
        searcher.set_search_properties(None, None, space)


def test_constants_only_space_is_rejected() -> None:
    with pytest.raises(ValueError, match="no tunable parameter"):
        ArqonSearch(space={"a": 1, "b": {"c": "x"}}, metric="loss", mode="min")


def test_single_valued_domains_are_constants() -> None:
    space = {"x": tune.uniform(0, 1), "one": tune.randint(3, 4), "c": tune.choice(["only"])}
    searcher = ArqonSearch(space=space, metric="loss", mode="min", seed=0)
    config = searcher.suggest("t0")
    assert isinstance(config, dict) and config["one"] == 3 and config["c"] == "only"
    assert searcher.solver is not None and searcher.solver.param_names == ["x"]


def test_engine_native_space_and_mixed_definitions() -> None:
    space = {
        "x": arqonhpo.Float(-1.0, 1.0),
        "n": arqonhpo.Int(1, 8, step=1),
        "act": arqonhpo.Categorical(["relu", "tanh"]),
        "lr": tune.loguniform(1e-4, 1e-2),
    }
    searcher = ArqonSearch(space=space, metric="loss", mode="min", seed=1)
    for c in _drive(searcher, 20, lambda c: c["x"] ** 2 + c["n"]):
        assert -1.0 <= c["x"] <= 1.0 and type(c["n"]) is int and 1 <= c["n"] <= 8
        assert c["act"] in ("relu", "tanh") and 1e-4 <= c["lr"] <= 1e-2


# ---------------------------------------------------------------------------------------------- contract


def test_set_search_properties_is_false_when_space_came_from_constructor() -> None:
    searcher = ArqonSearch(space=QUADRATIC_SPACE, metric="loss", mode="min")
    assert searcher.set_search_properties("loss", "min", {"z": tune.uniform(0, 1)}) is False
    blank = ArqonSearch()
    assert blank.set_search_properties("loss", "min", dict(QUADRATIC_SPACE), num_samples=10) is True
    assert (blank.metric, blank.mode) == ("loss", "min")


def test_invalid_constructor_arguments_raise_value_errors() -> None:
    with pytest.raises(ValueError, match="mode"):
        ArqonSearch(metric="loss", mode="maximize")
    with pytest.raises(ValueError, match="budget"):
        ArqonSearch(metric="loss", mode="min", budget=0)


def test_suggest_without_space_or_metric_raises_clearly() -> None:
    with pytest.raises(RuntimeError, match="no search space"):
        ArqonSearch(metric="loss", mode="min").suggest("t0")
    with pytest.raises(RuntimeError, match="metric and a mode"):
        ArqonSearch(space=QUADRATIC_SPACE).suggest("t0")


def test_budget_then_finished_and_budget_from_num_samples() -> None:
    searcher = ArqonSearch(space=QUADRATIC_SPACE, metric="loss", mode="min", budget=3, seed=0)
    assert all(isinstance(searcher.suggest(f"t{i}"), dict) for i in range(3))
    assert searcher.suggest("t3") == Searcher.FINISHED
    derived = ArqonSearch(points_to_evaluate=[{"x": 0.0, "y": 0.0}], seed=0)
    derived.set_search_properties("loss", "min", dict(QUADRATIC_SPACE), num_samples=7)
    derived.suggest("t0")
    assert derived.solver is not None and derived.solver.budget == 6  # the point does not use engine budget


def test_failures_nan_inf_none_and_error_are_recorded_once() -> None:
    searcher = ArqonSearch(space=QUADRATIC_SPACE, metric="loss", mode="min", seed=0)
    for i in range(7):
        searcher.suggest(f"t{i}")
    searcher.on_trial_complete("t0", {"loss": float("nan")})
    searcher.on_trial_complete("t1", {"loss": float("inf")})
    searcher.on_trial_complete("t2", {"loss": float("-inf")})
    searcher.on_trial_complete("t3", None)
    searcher.on_trial_complete("t4", {"loss": 0.5}, error=True)
    searcher.on_trial_complete("t5", {"loss": 2.0})
    searcher.on_trial_complete("t5", {"loss": -100.0})  # a second completion is ignored
    searcher.on_trial_complete("never-suggested", {"loss": -100.0})
    solver = searcher.solver
    assert solver is not None
    assert solver.n_told == 6
    assert solver.best is not None and solver.best.value == 2.0
    assert isinstance(searcher.suggest("t7"), dict)  # still working after failures
    searcher.on_trial_complete("t6", {"loss": 1.0})
    assert solver.n_told == 7 and solver.best.value == 1.0


def test_completion_of_a_trial_ray_created_itself_is_recorded_from_its_config() -> None:
    # Tuner.restore(restart_errored=True) reruns a trial under a new id without calling suggest.
    searcher = ArqonSearch(space={"opt": {"x": tune.uniform(0, 1)}}, metric="loss", mode="min", seed=0)
    searcher.suggest("t0")
    searcher.on_trial_complete("restarted", {"loss": 0.125, "config": {"opt": {"x": 0.5}}})
    searcher.on_trial_complete("restarted", {"loss": -9.0, "config": {"opt": {"x": 0.5}}})  # counted once
    searcher.on_trial_complete("foreign", {"loss": -9.0, "config": {"other": 1}})  # not this space: ignored
    # What Ray really passes: the flattened result.
    searcher.on_trial_complete("restarted2", {"loss": 0.5, "config/opt/x": 0.25, "config/const": 1})
    solver = searcher.solver
    assert solver is not None and solver.n_told == 2 and solver.best is not None
    assert solver.best.value == 0.125 and solver.best.params == {"opt/x": 0.5}


def test_missing_metric_raises_and_leaves_the_trial_pending() -> None:
    searcher = ArqonSearch(space=QUADRATIC_SPACE, metric="val_loss", mode="min", seed=0)
    searcher.suggest("t0")
    with pytest.raises(ValueError, match="'val_loss'"):
        searcher.on_trial_complete("t0", {"loss": 1.0, "training_iteration": 1})
    searcher.on_trial_complete("t0", {"val_loss": 3.0})
    assert searcher.solver is not None and searcher.solver.n_told == 1


def test_nested_metric_path_and_non_numeric_metric() -> None:
    searcher = ArqonSearch(space=QUADRATIC_SPACE, metric="eval/loss", mode="min", seed=0)
    searcher.suggest("t0")
    searcher.on_trial_complete("t0", {"eval": {"loss": 0.25}})
    assert searcher.solver is not None and searcher.solver.best is not None
    assert searcher.solver.best.value == 0.25
    searcher.suggest("t1")
    with pytest.raises(ValueError, match="must be a number"):
        searcher.on_trial_complete("t1", {"eval/loss": "oops"})


def test_mode_max_prefers_larger_values() -> None:
    searcher = ArqonSearch(space=QUADRATIC_SPACE, metric="acc", mode="max", seed=0)
    configs = [searcher.suggest(f"t{i}") for i in range(3)]
    for i, acc in enumerate([0.1, 0.9, 0.5]):
        searcher.on_trial_complete(f"t{i}", {"acc": acc})
    solver = searcher.solver
    assert solver is not None and solver.best is not None
    assert solver.direction == "maximize" and solver.best.value == 0.9
    assert solver.best.params == _flat(configs[1])  # type: ignore[arg-type]


def test_concurrent_suggestions_are_distinct_and_spread() -> None:
    searcher = ArqonSearch(space={"x": tune.uniform(0.0, 1.0)}, metric="loss", mode="min", seed=5)
    xs = sorted(searcher.suggest(f"t{i}")["x"] for i in range(4))  # type: ignore[index]
    assert len(set(xs)) == 4
    assert min(b - a for a, b in itertools.pairwise(xs)) > 0.05  # spread, not clustered
    # A small discrete space: 16 trials in flight never repeat a configuration.
    discrete = ArqonSearch(
        space={"a": tune.randint(0, 6), "b": tune.choice(["p", "q", "r"])}, metric="loss", mode="min", seed=2
    )
    configs = [discrete.suggest(f"d{i}") for i in range(16)]
    assert len({(c["a"], c["b"]) for c in configs}) == 16  # type: ignore[index]


def test_concurrency_limiter_is_owned_by_the_searcher() -> None:
    inner = ArqonSearch(space=QUADRATIC_SPACE, metric="loss", mode="min", seed=0)
    limited = ConcurrencyLimiter(inner, max_concurrent=2)
    assert isinstance(limited.suggest("t0"), dict)
    assert isinstance(limited.suggest("t1"), dict)
    assert limited.suggest("t2") is None
    limited.on_trial_complete("t0", {"loss": 1.0})
    assert isinstance(limited.suggest("t3"), dict)
    assert inner.solver is not None and inner.solver.n_asked == 3


def test_points_to_evaluate_first_exactly_and_validated() -> None:
    points = [{"x": 0.123456789, "y": -4.5}, {"x": 1, "y": 2.0}]
    searcher = ArqonSearch(
        space=QUADRATIC_SPACE, metric="loss", mode="min", seed=0, points_to_evaluate=points
    )
    first, second = searcher.suggest("t0"), searcher.suggest("t1")
    assert first == points[0] and second == points[1] and type(second["x"]) is int  # type: ignore[index]
    searcher.on_trial_complete("t1", {"loss": 0.0})
    assert searcher.solver is not None and searcher.solver.best is not None
    assert searcher.solver.best.value == 0.0
    with pytest.raises(ValueError, match="'y'"):
        ArqonSearch(
            space=QUADRATIC_SPACE, metric="loss", mode="min", points_to_evaluate=[{"x": 0.5}]
        ).suggest("t0")
    # Every point is checked before the first trial runs, not when its turn comes.
    space = {"x": tune.uniform(0, 1), "c": tune.choice(["a", "b"])}
    bad_second = [{"x": 0.1, "c": "a"}, {"x": 0.2, "c": "z"}]
    with pytest.raises(ValueError, match="'c'"):
        ArqonSearch(space=space, metric="loss", mode="min", points_to_evaluate=bad_second).suggest("t0")


def test_add_evaluated_point_warm_starts() -> None:
    space = {"opt": {"lr": tune.loguniform(1e-4, 1e-1)}, "n": tune.qlograndint(10, 1000, 10)}
    searcher = ArqonSearch(space=space, metric="acc", mode="max", seed=0)
    searcher.add_evaluated_point({"opt": {"lr": 1e-3}, "n": 120}, 0.97)
    searcher.add_evaluated_point({"opt": {"lr": 1e-2}, "n": 50}, None, error=True)
    searcher.add_evaluated_point({"opt/lr": 5e-2, "n": 20}, 0.5, pruned=True)
    solver = searcher.solver
    assert solver is not None and solver.n_told == 3 and solver.n_asked == 0
    assert solver.best is not None and solver.best.value == 0.97
    assert math.isclose(solver.best.params["opt/lr"], 1e-3) and solver.best.params["n"] == 12  # grid index


def test_save_restore_and_get_set_state_continue_identically(tmp_path: Path) -> None:
    def run_to_midpoint() -> ArqonSearch:
        s = ArqonSearch(space=ALL_DOMAINS, metric="loss", mode="min", seed=11)
        _drive(s, 12, _mixed_objective, prefix="a")
        for i in range(3):
            s.suggest(f"p{i}")  # three trials in flight at checkpoint time
        s.on_trial_complete("p1", {"loss": 0.7})
        return s

    def finish(s: ArqonSearch) -> list[Any]:
        s.on_trial_complete("p0", {"loss": 0.3})
        s.on_trial_complete("p2", None)
        s.on_trial_complete("p1", {"loss": -5.0})  # already completed before the checkpoint: ignored
        return _drive(s, 8, _mixed_objective, prefix="b")

    original = run_to_midpoint()
    path = str(tmp_path / "searcher.pkl")
    original.save(path)
    from_file = ArqonSearch()  # a blank instance, as Ray does on restore
    from_file.restore(path)
    via_state = ArqonSearch()
    via_state.set_state(original.get_state())
    via_pickle = pickle.loads(pickle.dumps(original))

    expected = finish(original)
    for clone in (from_file, via_state, via_pickle):
        assert finish(clone) == expected
        assert clone.solver is not None and clone.solver.n_told == original.solver.n_told  # type: ignore[union-attr]


# ---------------------------------------------------------------------------------------------- real Ray


def test_tuner_converges_on_a_known_function(ray_session: None, storage: str) -> None:
    searcher = ArqonSearch(metric="loss", mode="min", seed=0)
    results = _run(_quadratic, searcher, storage, num_samples=60, param_space=dict(QUADRATIC_SPACE))
    losses = [r.metrics["loss"] for r in results]
    assert len(losses) == 60 and not results.errors
    assert min(losses) < 0.02  # optimum 0 at (1, -2); random search gets below 0.02 in 60 trials ~4% of runs
    solver = searcher.solver
    assert solver is not None and solver.n_told == 60 and not searcher._live
    # Every result reached the engine under the right trial: the engine's best is Tune's best.
    best = results.get_best_result(metric="loss", mode="min")
    assert solver.best is not None and solver.best.value == best.metrics["loss"]
    assert solver.best.params == {"x": best.config["x"], "y": best.config["y"]}


def _barrier_trainable(config: dict[str, Any]) -> None:
    """Waits (bounded) until 4 trials have started, so 4 really are in flight together."""
    barrier = Path(config["barrier"])
    (barrier / f"{config['x']!r}").touch()
    deadline = time.time() + 30.0
    while len(list(barrier.iterdir())) < 4 and time.time() < deadline:
        time.sleep(0.05)
    start = time.time()
    time.sleep(0.3)
    tune.report({"loss": config["x"] ** 2, "start": start, "end": time.time()})


def _max_overlap(intervals: list[tuple[float, float]]) -> int:
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
    depth = peak = 0
    for _, step in events:
        depth += step
        peak = max(peak, depth)
    return peak


def test_four_trials_in_flight_get_distinct_configs(ray_session: None, storage: str, tmp_path: Path) -> None:
    searcher = ArqonSearch(metric="loss", mode="min", seed=4)
    # 8 slots of 0.25 CPU: only max_concurrent_trials keeps the run at 4 in flight.
    trainable = tune.with_resources(_barrier_trainable, {"cpu": 0.25})
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    results = _run(
        trainable,
        searcher,
        storage,
        num_samples=8,
        param_space={"x": tune.uniform(-1.0, 1.0), "k": tune.randint(0, 1000), "barrier": str(barrier)},
        max_concurrent_trials=4,
    )
    assert len(results) == 8 and not results.errors
    configs = [(r.config["x"], r.config["k"]) for r in results]
    assert len(set(configs)) == 8
    assert searcher._max_concurrent == 4  # max_concurrent_trials reached the searcher
    overlap = _max_overlap([(r.metrics["start"], r.metrics["end"]) for r in results])
    assert overlap == 4  # the barrier forces 4 together; the limit (not the resources) caps it at 4


def _flaky(config: dict[str, Any]) -> None:
    if config["x"] > 4.0:
        raise RuntimeError("trial crashed")
    tune.report({"loss": float("nan") if config["x"] < -3.0 else config["x"] ** 2})


def test_errors_and_nan_metrics_in_a_real_run(ray_session: None, storage: str) -> None:
    searcher = ArqonSearch(metric="loss", mode="min", seed=1)
    results = _run(_flaky, searcher, storage, num_samples=20, param_space={"x": tune.uniform(-5.0, 5.0)})
    n_errors = len(results.errors)
    assert n_errors > 0 and any(math.isnan(r.metrics.get("loss", 0.0)) for r in results if r.error is None)
    solver = searcher.solver
    assert solver is not None and solver.n_told == 20
    assert (
        solver.best is not None
        and math.isfinite(solver.best.value)
        and -3.0 <= solver.best.params["x"] <= 4.0
    )


def test_points_to_evaluate_run_first_in_a_real_run(ray_session: None, storage: str) -> None:
    points = [{"x": 0.987654321, "y": -1.5}, {"x": -4, "y": 4.25}]
    searcher = ArqonSearch(metric="loss", mode="min", seed=0, points_to_evaluate=points)
    results = _run(
        _quadratic,
        searcher,
        storage,
        num_samples=5,
        param_space=dict(QUADRATIC_SPACE),
        max_concurrent_trials=1,
    )
    ordered = sorted(results, key=lambda r: r.metrics["reported_at"])  # one trial at a time
    assert [ordered[0].config, ordered[1].config] == points
    assert type(ordered[1].config["x"]) is int


def test_budget_finishes_the_experiment(ray_session: None, storage: str) -> None:
    searcher = ArqonSearch(metric="loss", mode="min", seed=0, budget=4)
    results = _run(_quadratic, searcher, storage, num_samples=20, param_space=dict(QUADRATIC_SPACE))
    assert len(results) == 4


def test_constructor_space_with_domains_in_param_space_is_refused_by_ray(
    ray_session: None, storage: str
) -> None:
    searcher = ArqonSearch(space=QUADRATIC_SPACE, metric="loss", mode="min")
    with pytest.raises(ValueError, match="unresolved parameters"):
        _run(_quadratic, searcher, storage, num_samples=2, param_space={"z": tune.uniform(0, 1)})
    # Constants in param_space are fine and reach the trainable next to the searcher's values.
    results = _run(_quadratic, searcher, storage, num_samples=3, param_space={"tag": "t"}, name="ok")
    assert len(results) == 3 and all(r.config["tag"] == "t" for r in results)


class _InterruptAfter(tune.Callback):
    """Sends the driver the signal Tune treats as Ctrl+C, once per marker file."""

    def __init__(self, n: int, marker: str) -> None:
        self.n, self.marker, self.done = n, marker, 0

    def on_trial_complete(self, iteration: int, trials: list[Any], trial: Any, **info: Any) -> None:
        self.done += 1
        if self.done == self.n and not os.path.exists(self.marker):
            Path(self.marker).touch()
            os.kill(os.getpid(), signal.SIGUSR1)


def _slow_quadratic(config: dict[str, Any]) -> None:
    time.sleep(0.2)
    _quadratic(config)


@pytest.mark.slow
def test_restore_of_an_interrupted_experiment_continues(
    ray_session: None, storage: str, tmp_path: Path
) -> None:
    searcher = ArqonSearch(metric="loss", mode="min", seed=7)
    callback = _InterruptAfter(4, str(tmp_path / "interrupted"))
    first = _run(
        _slow_quadratic,
        searcher,
        storage,
        12,
        param_space=dict(QUADRATIC_SPACE),
        name="resume",
        callbacks=[callback],
    )
    completed_before = {r.metrics["trial_id"] for r in first if r.metrics and "loss" in r.metrics}
    assert 4 <= len(completed_before) < 12  # really interrupted

    restored = tune.Tuner.restore(first.experiment_path, trainable=_slow_quadratic)
    results = restored.fit()
    assert len(results) == 12 and not results.errors
    assert all("loss" in r.metrics for r in results)
    configs = [(r.config["x"], r.config["y"]) for r in results]
    assert len(set(configs)) == 12  # a searcher that forgot its state would re-suggest the first configs

    # The checkpointed searcher knows every completed trial and has nothing left in flight.
    final = ArqonSearch()
    final.restore_from_dir(first.experiment_path)
    assert final.solver is not None and final.solver.n_told == 12 and final._live == {}
    assert final.solver.best is not None
    assert final.solver.best.value == min(r.metrics["loss"] for r in results)


def _fails_until_restored(config: dict[str, Any]) -> None:
    if config["x"] > 2.0 and not os.path.exists(config["fixed_marker"]):
        raise RuntimeError("fails in the first run")
    _quadratic(config)


@pytest.mark.slow
def test_restart_errored_trials_are_learned_from(ray_session: None, storage: str, tmp_path: Path) -> None:
    marker = str(tmp_path / "fixed")
    space = {**QUADRATIC_SPACE, "fixed_marker": marker}
    searcher = ArqonSearch(metric="loss", mode="min", seed=3)
    first = _run(_fails_until_restored, searcher, storage, 8, param_space=space, name="restart")
    n_errors = len(first.errors)
    assert 0 < n_errors < 8
    Path(marker).touch()
    # Ray reruns the errored trials under new trial ids, without asking the searcher.
    results = tune.Tuner.restore(
        first.experiment_path, trainable=_fails_until_restored, restart_errored=True
    ).fit()
    assert len(results) == 8 and not results.errors
    final = ArqonSearch()
    final.restore_from_dir(first.experiment_path)
    solver = final.solver
    assert solver is not None and solver.n_told == 8 + n_errors  # failures + rerun results
    assert solver.best is not None
    assert solver.best.value == min(r.metrics["loss"] for r in results)
