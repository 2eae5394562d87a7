"""Behaviour of ArqonSampler beyond Optuna's kit: types, states, constraints, threads, persistence, sync."""

from __future__ import annotations

import copy
import json
import math
import pickle
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pytest
from arqonhpo._space.optuna import SpaceCodec
from arqonhpo.optuna import ArqonSampler
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import Trial, TrialState

optuna.logging.set_verbosity(optuna.logging.ERROR)
warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)

MIXED_CHOICES: tuple[Any, ...] = (None, True, False, 1, 2.5, "s")


def _sphere(trial: Trial) -> float:
    x = trial.suggest_float("x", -5.0, 5.0)
    y = trial.suggest_float("y", -5.0, 5.0)
    return (x - 1.3) ** 2 + (y + 0.7) ** 2


def _engines(sampler: ArqonSampler) -> list[Any]:
    return sampler._engines()


def _relative_solver(sampler: ArqonSampler) -> Any:
    assert sampler._current is not None
    return sampler._current.solver


def _best_value(solver: Any) -> float:
    best = solver.best
    assert best is not None
    return float(best[-1])


def _param_sets(study: optuna.Study) -> list[tuple[Any, ...]]:
    return [tuple(sorted(t.params.items())) for t in study.trials if t.params]


# --------------------------------------------------------------------------- distributions and types


def test_every_distribution_returns_plain_scalars_on_grid_and_exact_choices() -> None:
    seen: dict[str, list[Any]] = {}

    def objective(trial: Trial) -> float:
        values = {
            "f": trial.suggest_float("f", -2.0, 3.0),
            "flog": trial.suggest_float("flog", 1e-6, 1.0, log=True),
            "fstep": trial.suggest_float("fstep", -10.2, 10.2, step=0.1),
            "i": trial.suggest_int("i", -3, 7),
            "ilog": trial.suggest_int("ilog", 1, 1000, log=True),
            "istep": trial.suggest_int("istep", 0, 20, step=4),
            "cat": trial.suggest_categorical("cat", MIXED_CHOICES),
        }
        for name, value in values.items():
            seen.setdefault(name, []).append(value)
        return float(values["f"]) ** 2 + values["i"]

    study = optuna.create_study(sampler=ArqonSampler(seed=1))
    study.optimize(objective, n_trials=60)
    assert all(type(v) is float and -2.0 <= v <= 3.0 for v in seen["f"])
    assert all(type(v) is float and 1e-6 <= v <= 1.0 for v in seen["flog"])
    for v in seen["fstep"]:
        k = (v + 10.2) / 0.1
        assert type(v) is float and -10.2 <= v <= 10.2 and abs(k - round(k)) < 1e-8
    assert all(type(v) is int and -3 <= v <= 7 for v in seen["i"])
    assert all(type(v) is int and 1 <= v <= 1000 for v in seen["ilog"])
    assert all(type(v) is int and v in (0, 4, 8, 12, 16, 20) for v in seen["istep"])
    # The exact choice objects: identity for singletons, value and type for the rest.
    for v in seen["cat"]:
        assert any(v is c or (type(v) is type(c) and v == c) for c in MIXED_CHOICES)
    assert {repr(v) for v in seen["cat"]} == {repr(c) for c in MIXED_CHOICES}
    # From the second trial on, the whole space is sampled jointly by one engine.
    assert all(t.system_attrs == {} for t in study.trials)  # in-memory storage: nothing published
    assert len(_relative_solver(study.sampler).param_names) == 7  # type: ignore[arg-type]


def test_relative_sampling_covers_the_intersection_after_the_first_trial() -> None:
    relative_keys: list[set[str]] = []

    def objective(trial: Trial) -> float:
        value = _sphere(trial) + trial.suggest_int("n", 0, 3)
        relative_keys.append(set(trial._relative_params or {}))
        return value

    optuna.create_study(sampler=ArqonSampler(seed=0)).optimize(objective, n_trials=12)
    assert relative_keys[0] == set()  # nothing finished yet: sampled independently
    assert all(keys == {"x", "y", "n"} for keys in relative_keys[1:])


def test_space_codec_round_trips_grids_categories_and_out_of_range_values() -> None:
    codec = SpaceCodec(
        {
            "a": FloatDistribution(-10.2, 10.2, step=0.1),
            "b": IntDistribution(2, 20, step=3),
            "c": CategoricalDistribution([None, 1, True, "x", 1.5]),
            "d": FloatDistribution(1.0, 1.0),  # single-valued: left to Optuna
        }
    )
    assert codec.names == ("a", "b", "c")
    assert codec.encode({"a": 10.2, "b": 20, "c": True}) == {"a": 204, "b": 6, "c": 2}
    assert codec.decode({"a": 204, "b": 6, "c": 0}) == {"a": 10.2, "b": 20, "c": None}
    assert codec.decode({"a": 0, "b": 0, "c": 4})["c"] == 1.5
    # Out-of-range numbers stay representable (the engine clamps them); unknown choices do not.
    assert codec.encode({"a": 50.0, "b": 2, "c": "x"}) == {"a": 602, "b": 0, "c": 3}
    assert codec.encode({"a": 0.0, "b": 2, "c": "unknown"}) is None
    assert codec.encode({"a": 0.0, "b": 2}) is None


# --------------------------------------------------------------------------- learning


def _best_of(sampler: optuna.samplers.BaseSampler, objective: Callable[[Trial], float], n: int) -> float:
    study = optuna.create_study(sampler=sampler)
    study.optimize(objective, n_trials=n)
    return float(study.best_value)


def test_learns_faster_than_random_search() -> None:
    arqon = [_best_of(ArqonSampler(seed=s), _sphere, 120) for s in range(3)]
    rand = [_best_of(optuna.samplers.RandomSampler(seed=s), _sphere, 120) for s in range(3)]
    assert np.median(arqon) < np.median(rand) / 5


def test_conditional_parameters_learn_from_their_history() -> None:
    """Outside the intersection, each parameter is still sampled by an engine that learns."""
    branch_values: list[float] = []

    def objective(trial: Trial) -> float:
        kind = trial.suggest_categorical("kind", ["a", "b"])
        if kind == "a":
            u = trial.suggest_float("u", 0.0, 10.0)
            branch_values.append(u)
            return (u - 8.5) ** 2
        return 50.0 + trial.suggest_float("v", 0.0, 1.0)

    study = optuna.create_study(sampler=ArqonSampler(seed=3))
    study.optimize(objective, n_trials=150)
    assert set(study.sampler._space) == {"kind"}  # type: ignore[attr-defined]
    late = np.array(branch_values[-30:])
    # Uniform sampling on [0, 10] would put the median distance to 8.5 near 2.8.
    assert np.median(np.abs(late - 8.5)) < 1.0
    assert study.best_value < 0.05


# --------------------------------------------------------------------------- trial states


def test_every_trial_state_is_told_once_and_sampling_continues() -> None:
    def objective(trial: Trial) -> float:
        x = trial.suggest_float("x", -1.0, 1.0)
        kind = trial.number % 6
        if kind == 1:
            raise RuntimeError("boom")
        if kind == 2:
            return float("nan")
        if kind == 3:
            return math.inf
        if kind == 4:
            trial.report(x * x + 5.0, step=1)
            raise optuna.TrialPruned()
        if kind == 5:
            raise optuna.TrialPruned()  # pruned without any intermediate value
        return x * x

    sampler = ArqonSampler(seed=0)
    study = optuna.create_study(sampler=sampler)
    study.optimize(objective, n_trials=60, catch=(RuntimeError,))
    states = [t.state for t in study.trials]
    assert states.count(TrialState.COMPLETE) == 20 and states.count(TrialState.FAIL) == 20
    assert states.count(TrialState.PRUNED) == 20
    solver = _relative_solver(sampler)
    # Every trial told exactly once (failures included; trial 0 by backfill), nothing left pending.
    assert solver.n_told == 60
    assert _best_value(solver) == pytest.approx(min(t.value for t in study.trials if t.number % 6 == 0))


def test_pruned_trial_counts_with_its_last_intermediate_value() -> None:
    sampler = ArqonSampler(seed=0)
    study = optuna.create_study(sampler=sampler)
    study.optimize(_sphere, n_trials=5)
    trial = study.ask()
    trial.suggest_float("x", -5.0, 5.0)
    trial.suggest_float("y", -5.0, 5.0)
    trial.report(-3.0, step=4)
    trial.report(-7.0, step=9)  # the last step's value is the one that counts
    study.tell(trial, state=TrialState.PRUNED)
    assert _best_value(_relative_solver(sampler)) == -7.0


def test_infinite_values_complete_and_sampling_continues() -> None:
    sampler = ArqonSampler(seed=0)
    study = optuna.create_study(sampler=sampler)

    def objective(trial: Trial) -> float:
        value = _sphere(trial)
        return {4: -math.inf, 5: math.inf}.get(trial.number, value)

    study.optimize(objective, n_trials=20)
    assert all(t.state == TrialState.COMPLETE for t in study.trials)
    assert study.best_value == -math.inf  # Optuna's view; the engine records non-finite values as failures
    assert _relative_solver(sampler).n_told == 20
    assert len(set(_param_sets(study))) == 20


def test_maximize_is_negated_for_the_engine() -> None:
    sampler = ArqonSampler(seed=0)
    study = optuna.create_study(sampler=sampler, direction="maximize")
    study.optimize(lambda t: -_sphere(t), n_trials=40)
    assert _best_value(_relative_solver(sampler)) == pytest.approx(-study.best_value)


def test_enqueued_out_of_range_trial_is_learned_once_complete() -> None:
    sampler = ArqonSampler(seed=0)
    study = optuna.create_study(sampler=sampler)
    study.optimize(_sphere, n_trials=5)
    study.enqueue_trial({"x": 50.0, "y": 0.0}, skip_if_exists=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Optuna warns that the fixed value is out of range
        study.optimize(lambda t: min(_sphere(t), -100.0), n_trials=1)
    assert study.trials[5].params["x"] == 50.0
    solver = _relative_solver(sampler)
    assert _best_value(solver) == -100.0
    study.optimize(_sphere, n_trials=5)
    assert solver.n_told == 11  # every trial told once, the enqueued one included


def test_infeasible_trials_are_told_as_failures() -> None:
    def objective(trial: Trial) -> float:
        x = trial.suggest_float("x", -5.0, 5.0)
        y = trial.suggest_float("y", -5.0, 5.0)
        trial.set_constraint("x_at_least_1", 1.0 - x)  # feasible when x >= 1
        return x * x + y * y

    sampler = ArqonSampler(seed=0)
    study = optuna.create_study(sampler=sampler)
    study.optimize(objective, n_trials=80)
    best_params, best_value = _relative_solver(sampler).best[-2:]
    assert best_params["x"] >= 1.0
    feasible = [t.value for t in study.trials if t.params["x"] >= 1.0]
    assert best_value == pytest.approx(min(feasible))
    late_feasible = np.mean([t.params["x"] >= 1.0 for t in study.trials[-30:]])
    assert late_feasible > 0.5  # feasible trials are preferred (random: 40 %)


def test_multi_objective_is_refused_with_a_value_error_on_first_use() -> None:
    study = optuna.create_study(sampler=ArqonSampler(seed=0), directions=["minimize", "minimize"])
    with pytest.raises(ValueError, match="multi-objective"):
        study.optimize(lambda t: (t.suggest_float("x", 0, 1), 1.0), n_trials=1)


# --------------------------------------------------------------------------- threads, seeds, persistence


def test_n_jobs_threads_share_one_sampler_without_duplicates() -> None:
    sampler = ArqonSampler(seed=0)
    study = optuna.create_study(sampler=sampler)
    study.optimize(_sphere, n_trials=80, n_jobs=2)
    assert len(study.trials) == 80 and all(t.state == TrialState.COMPLETE for t in study.trials)
    assert len(set(_param_sets(study))) == 80
    assert _relative_solver(sampler).n_told == 80


def test_reseed_rng_changes_the_engine_streams_but_not_the_design(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every ask reseeds the engine's strategy stream from (seed, salt, trial number); reseed_rng changes
    the salt. Whether that moves a suggestion is the engine's business (Nelder-Mead draws nothing)."""
    from arqonhpo import ArqonSolver

    seen: list[int] = []
    original = ArqonSolver.reseed

    def spy(self: Any, seed: int) -> None:
        seen.append(seed)
        original(self, seed)

    monkeypatch.setattr(ArqonSolver, "reseed", spy)

    def streams(reseed: bool) -> tuple[list[int], list[tuple[Any, ...]]]:
        seen.clear()
        sampler = ArqonSampler(seed=0)
        if reseed:
            sampler.reseed_rng()
        study = optuna.create_study(sampler=sampler)
        study.optimize(_sphere, n_trials=15)
        return list(seen), _param_sets(study)

    plain, plain_params = streams(False)
    again, again_params = streams(False)
    reseeded, reseeded_params = streams(True)
    assert plain == again and plain_params == again_params  # deterministic without reseed_rng
    assert len(plain) >= 15 and not set(plain) & set(reseeded)
    assert plain_params[:10] == reseeded_params[:10]  # the probe design does not move


def _continue(study: optuna.Study, n: int) -> list[tuple[Any, ...]]:
    study.optimize(_sphere, n_trials=n)
    return _param_sets(study)[-n:]


def test_pickle_and_deepcopy_continue_exactly_like_the_original() -> None:
    study = optuna.create_study(sampler=ArqonSampler(seed=5))
    study.optimize(_sphere, n_trials=30)
    pickled = pickle.loads(pickle.dumps(study))
    copied = copy.deepcopy(study)
    reference = _continue(study, 20)
    assert _continue(pickled, 20) == reference
    assert _continue(copied, 20) == reference
    # A sampler pickled on its own is fine too and keeps its seed.
    sampler = pickle.loads(pickle.dumps(ArqonSampler(seed=9)))
    assert sampler._seed == 9


_SUBPROCESS_RUN = """
import json, optuna
from arqonhpo.optuna import ArqonSampler
optuna.logging.set_verbosity(optuna.logging.ERROR)
study = optuna.create_study(sampler=ArqonSampler(seed=11))
def objective(t):
    c = t.suggest_categorical("c", ["a", "bb"])
    return (t.suggest_float("x", -5, 5) - 1) ** 2 + t.suggest_int("n", 0, 9) + len(c)
study.optimize(objective, n_trials=40)
print(json.dumps([t.params for t in study.trials]))
"""


def test_same_seed_gives_the_same_trials_in_another_process() -> None:
    runs = [
        subprocess.run([sys.executable, "-c", _SUBPROCESS_RUN], capture_output=True, text=True, check=True)
        for _ in range(2)
    ]
    first, second = (json.loads(r.stdout) for r in runs)
    assert first == second and len(first) == 40
    assert len({json.dumps(p, sort_keys=True) for p in first}) == 40


# --------------------------------------------------------------------------- incremental sync


def test_history_is_ingested_incrementally(monkeypatch: pytest.MonkeyPatch) -> None:
    sampler = ArqonSampler(seed=0)
    study = optuna.create_study(sampler=sampler)
    study.optimize(_sphere, n_trials=300)
    visits = 0
    original = ArqonSampler._visit

    def counting(self: ArqonSampler, trial: Any) -> None:
        nonlocal visits
        visits += 1
        original(self, trial)

    monkeypatch.setattr(ArqonSampler, "_visit", counting)
    study.optimize(_sphere, n_trials=100)
    assert visits <= 100  # one look at each new trial, never a re-read of the history
    assert _relative_solver(sampler).n_told == 400


def test_trials_added_outside_the_sampler_are_learned_exactly_once() -> None:
    sampler = ArqonSampler(seed=0)
    study = optuna.create_study(sampler=sampler)
    study.optimize(_sphere, n_trials=10)
    dists = {"x": FloatDistribution(-5.0, 5.0), "y": FloatDistribution(-5.0, 5.0)}
    study.add_trial(optuna.create_trial(params={"x": 1.3, "y": -0.7}, distributions=dists, value=-1.0))
    study.optimize(_sphere, n_trials=10)
    solver = _relative_solver(sampler)
    assert solver.n_told == 21
    assert _best_value(solver) == -1.0


def test_two_samplers_on_one_journal_learn_from_each_other_without_duplicates(tmp_path: Path) -> None:
    storage = optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(tmp_path / "journal.log"))
    )
    name = "shared"
    optuna.create_study(storage=storage, study_name=name)
    workers = [
        optuna.load_study(study_name=name, storage=storage, sampler=ArqonSampler(seed=0)) for _ in "ab"
    ]
    for _ in range(25):
        # Both workers hold a running trial at the same time, each sampled with the same seed.
        running = [(w, w.ask()) for w in workers]
        for w, trial in running:
            w.tell(trial, _sphere(trial))
    study = optuna.load_study(study_name=name, storage=storage)
    assert len(study.trials) == 50
    assert len(set(_param_sets(study))) == 50
    for w in workers:
        # Each worker's engine saw all finished trials after the first: its own and the other's.
        assert _relative_solver(w.sampler).n_told >= 48  # type: ignore[arg-type]


def test_fresh_sampler_resumes_a_stored_study_with_nothing_lost(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'resume.db'}"
    first = optuna.create_study(storage=url, study_name="r", sampler=ArqonSampler(seed=0))
    first.optimize(_sphere, n_trials=30)
    best_before = first.best_value
    sampler = ArqonSampler(seed=0)
    resumed = optuna.load_study(study_name="r", storage=url, sampler=sampler)
    resumed.optimize(_sphere, n_trials=10)
    assert len(resumed.trials) == 40
    solver = _relative_solver(sampler)
    assert solver.n_told == 40  # the 30 stored trials and the 10 new ones
    assert _best_value(solver) <= best_before
    assert len(set(_param_sets(resumed))) == 40


def test_hyperband_bracket_studies_and_the_lazy_top_level_export() -> None:
    from arqonhpo import ArqonSampler as Exported

    def objective(trial: Trial) -> float:
        x = trial.suggest_float("x", -5.0, 5.0)
        n = trial.suggest_int("n", 0, 10)
        for step in range(10):
            trial.report((x - 1.0) ** 2 + n + 10.0 / (step + 1), step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return (x - 1.0) ** 2 + n

    sampler = Exported(seed=0)
    assert isinstance(sampler, ArqonSampler)
    pruner = optuna.pruners.HyperbandPruner(min_resource=1, max_resource=10)
    study = optuna.create_study(sampler=sampler, pruner=pruner)
    study.optimize(objective, n_trials=60)
    states = {t.state for t in study.trials}
    assert states == {TrialState.COMPLETE, TrialState.PRUNED}
    # Hyperband hands the sampler a filtered view per bracket; every trial is still learned once.
    assert _relative_solver(sampler).n_told == 60
    assert study.best_value < 0.5
