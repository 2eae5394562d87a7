"""The fast ask/tell API of ArqonSolver: spaces, typing, ids, failures, budget, persistence, threads."""

from __future__ import annotations

import copy
import json
import math
import pickle
import subprocess
import sys
import threading

import arqonhpo
import pytest
from arqonhpo import (
    ArqonError,
    ArqonSolver,
    Categorical,
    ConfigError,
    Float,
    Int,
    ParameterError,
    SearchSpaceError,
    TrialStateError,
    UnknownTrialError,
)

MIXED_SPACE = {
    "x": Float(-5.0, 5.0),
    "lr": Float(1e-5, 1e-1, log=True),
    "dropout": Float(0.0, 0.5, step=0.1),
    "layers": Int(1, 8),
    "units": Int(16, 1024, log=True),
    "batch": Int(16, 256, step=16),
    "act": Categorical(["relu", None, True, 3, 2.5]),
}


def sphere(params: dict) -> float:
    return (params["x"] - 1.3) ** 2 + math.log10(params["lr"] / 1e-3) ** 2 + (params["layers"] - 3) ** 2


def run(solver: ArqonSolver, n: int, batch: int = 1) -> list[tuple[int, dict]]:
    seen = []
    while len(seen) < n:
        trials = solver.ask_trials(batch)
        if not trials:
            break
        for t in trials:
            seen.append((t.id, t.params))
            solver.tell_trial(t, sphere(t.params))
    return seen


def check_in_space(params: dict) -> None:
    assert -5.0 <= params["x"] <= 5.0 and type(params["x"]) is float
    assert 1e-5 <= params["lr"] <= 1e-1
    assert params["dropout"] in {0.0, 0.1, 0.2, 0.30000000000000004, 0.4, 0.5} or any(
        abs(params["dropout"] - k / 10) < 1e-12 for k in range(6)
    )
    assert type(params["layers"]) is int and 1 <= params["layers"] <= 8
    assert type(params["units"]) is int and 16 <= params["units"] <= 1024
    assert type(params["batch"]) is int and params["batch"] % 16 == 0 and 16 <= params["batch"] <= 256
    assert any(
        params["act"] is c or (type(params["act"]) is type(c) and params["act"] == c)
        for c in ["relu", None, True, 3, 2.5]
    )


def test_suggestions_are_typed_in_bounds_and_on_grid() -> None:
    solver = ArqonSolver(MIXED_SPACE, seed=3, budget=120)
    seen = run(solver, 120, batch=4)
    assert len(seen) == 120
    for _, params in seen:
        assert list(params) == list(MIXED_SPACE)  # declaration order
        check_in_space(params)
    acts = {repr(p["act"]) for _, p in seen}
    assert acts == {"'relu'", "None", "True", "3", "2.5"}  # the exact objects, True kept apart from 1


def test_solver_improves_and_reports_best() -> None:
    solver = ArqonSolver({"x": Float(-5, 5), "y": Float(-5, 5)}, seed=0, budget=150)
    for t in iter(lambda: solver.ask_trials(1), []):
        solver.tell_trial(t[0], (t[0].params["x"] - 1.3) ** 2 + (t[0].params["y"] + 0.4) ** 2)
    best = solver.best
    assert best is not None and best.value < 1e-4
    assert abs(best.params["x"] - 1.3) < 0.01
    assert solver.phase == "refine" and solver.strategy in {"nelder_mead", "cmaes", "tpe"}
    assert solver.classification is not None and solver.classification["label"] == "structured"


def test_maximize_negates_consistently() -> None:
    solver = ArqonSolver({"x": Float(0, 1)}, seed=1, budget=60, direction="maximize")
    for t in iter(lambda: solver.ask_trials(1), []):
        solver.tell_trial(t[0], -((t[0].params["x"] - 0.8) ** 2))
    assert solver.best is not None and solver.best.value > -1e-3
    assert all(r["value"] is None or r["value"] <= 0 for r in solver.trials())


@pytest.mark.parametrize(
    ("space", "fragment"),
    [
        ({"x": Float(1.0, 1.0)}, "'x'"),
        ({"x": Float(2.0, 1.0)}, "low must be < high"),
        ({"lr": Float(0.0, 1.0, log=True)}, "log scale needs low > 0"),
        ({"x": Float(0.0, 1.0, step=0.3)}, "multiple of step"),
        ({"x": Float(0.0, 1.0, step=-0.1)}, "step must be"),
        ({"x": Float(0.0, math.inf)}, "finite"),
        ({"x": Float(0.0, math.nan)}, "finite"),
        ({"x": Float(1e-3, 1.0, log=True, step=0.1)}, "cannot be combined"),
        ({"n": Int(5, 1)}, "'n'"),
        ({"n": Int(0, 10, log=True)}, "log scale needs low > 0"),
        ({"n": Int(0, 10, step=3)}, "multiple of step"),
        ({"n": Int(0, 10, step=0)}, "step must be > 0"),
        ({"n": Int(0.5, 10)}, "must be an int"),  # type: ignore[arg-type]
        ({"n": Int(True, 10)}, "must be an int"),
        ({"c": Categorical([])}, "at least one choice"),
        ({"c": Categorical("abc")}, "list or tuple"),
        ({}, "at least one parameter"),
        ({"x": (0, 1)}, "expected Float, Int or Categorical"),
    ],
)
def test_bad_spaces_raise_search_space_error(space: dict, fragment: str) -> None:
    with pytest.raises(SearchSpaceError) as info:
        ArqonSolver(space, seed=0)
    assert isinstance(info.value, ArqonError) and isinstance(info.value, ValueError)
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"seed": -1},
        {"seed": 2**64},
        {"seed": "1"},
        {"budget": -5},
        {"budget": 1.5},
        {"direction": "up"},
        {"strategy": "magic"},
        {"probe_size": 0},
    ],
)
def test_bad_options_raise_config_error(kwargs: dict) -> None:
    with pytest.raises(ConfigError):
        ArqonSolver({"x": Float(0, 1)}, **kwargs)


def test_ids_not_positions_late_out_of_order_and_partial_tells() -> None:
    solver = ArqonSolver({"x": Float(0, 1), "y": Float(0, 1)}, seed=5, budget=None)
    first = solver.ask_trials(6)
    second = solver.ask_trials(6)  # asked before any tell: new, distinct points
    trials = first + second
    assert len({t.id for t in trials}) == 12
    assert len({tuple(t.params.values()) for t in trials}) == 12
    for t in reversed(trials[::2]):  # out of order, half of them
        solver.tell_trial(t.id, t.params["x"])
    assert solver.n_told == 6 and solver.n_asked == 12
    states = {r["id"]: r["state"] for r in solver.trials()}
    assert sum(s == "pending" for s in states.values()) == 6
    solver.tell_trials([(t, None) for t in trials[1::2]])
    assert solver.n_told == 12


def test_failures_are_recorded_and_never_crash() -> None:
    solver = ArqonSolver({"x": Float(0, 1)}, seed=2, budget=40)
    outcomes = [None, math.nan, math.inf, -math.inf]
    for i, t in enumerate(iter(lambda: solver.ask_trials(1), [])):
        if i % 5 < 4:
            solver.tell_trial(t[0], outcomes[i % 4])
        else:
            solver.fail(t[0])
    states = [r["state"] for r in solver.trials()]
    assert states == ["failed"] * 40 and solver.best is None


def test_told_twice_and_unknown_ids_raise_and_keep_the_first_result() -> None:
    solver = ArqonSolver({"x": Float(0, 1)}, seed=2)
    (t,) = solver.ask_trials(1)
    solver.tell_trial(t, 0.5)
    with pytest.raises(TrialStateError):
        solver.tell_trial(t, 0.1)
    with pytest.raises(UnknownTrialError) as info:
        solver.tell_trial(999, 0.1)
    assert isinstance(info.value, KeyError) and "999" in str(info.value)
    assert solver.best is not None and solver.best.value == 0.5


def test_points_never_proposed_are_used() -> None:
    solver = ArqonSolver({"x": Float(0, 10), "c": Categorical(["a", "b"])}, seed=0, budget=50)
    warm = solver.add_trial({"x": 7.25, "c": "b"}, 0.01)
    out_of_range = solver.add_trial({"x": 42.0, "c": "a"}, 5.0)  # enqueued trials may be out of bounds
    pending = solver.add_pending({"x": 3.0, "c": "a"})
    assert solver.best is not None and solver.best.id == warm
    solver.tell_trial(pending, 0.001)
    assert solver.best is not None and solver.best.id == pending
    assert {warm, out_of_range, pending} == {0, 1, 2}
    assert solver.remaining == 50  # external points do not consume budget


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"x": 1.0}, "'c': missing"),
        ({"x": 1.0, "c": "z"}, "not one of the choices"),
        ({"x": "1.0", "c": "a"}, "expected a number"),
        ({"x": 1.0, "c": "a", "extra": 1}, "'extra': not in the search space"),
        ({"x": math.nan, "c": "a"}, "finite"),
    ],
)
def test_bad_external_params_raise_parameter_error(params: dict, fragment: str) -> None:
    solver = ArqonSolver({"x": Float(0, 10), "c": Categorical(["a", "b"])}, seed=0)
    with pytest.raises(ParameterError) as info:
        solver.add_trial(params, 1.0)
    assert fragment in str(info.value)
    assert solver.trials() == []  # nothing half-recorded


def test_budget_is_exact_and_unbounded_is_allowed() -> None:
    solver = ArqonSolver({"x": Float(0, 1)}, seed=0, budget=10)
    sizes = [len(solver.ask_trials(n)) for n in (3, 4, 5, 2)]
    assert sizes == [3, 4, 3, 0] and solver.remaining == 0
    open_ended = ArqonSolver({"x": Float(0, 1)}, seed=0)
    assert len(open_ended.ask_trials(500)) == 500 and open_ended.remaining is None


def test_pickle_deepcopy_and_bytes_continue_exactly() -> None:
    solver = ArqonSolver(MIXED_SPACE, seed=11, budget=200)
    run(solver, 40, batch=3)
    pending = solver.ask_trials(2)  # pending trials survive the round trip
    clones = [
        pickle.loads(pickle.dumps(solver)),
        copy.deepcopy(solver),
        ArqonSolver.from_bytes(solver.to_bytes()),
    ]
    for t in pending:
        solver.tell_trial(t, 1.0)
    expected = run(solver, 60, batch=2)
    for clone in clones:
        for t in pending:
            clone.tell_trial(t.id, 1.0)
        assert run(clone, 60, batch=2) == expected


def test_from_bytes_rejects_garbage() -> None:
    with pytest.raises(arqonhpo.SnapshotError):
        ArqonSolver.from_bytes(b"not a snapshot")


def test_same_seed_same_suggestions_in_another_process() -> None:
    script = (
        "import json; from arqonhpo import ArqonSolver, Float, Int, Categorical\n"
        "space = {'x': Float(-5, 5), 'n': Int(1, 9), 'c': Categorical(['a', 'b', 'c'])}\n"
        "s = ArqonSolver(space, seed=123, budget=60)\n"
        "out = []\n"
        "for t in iter(lambda: s.ask_trials(2), []):\n"
        "    for tr in t:\n"
        "        out.append(tr.params); s.tell_trial(tr, (tr.params['x'] - 1) ** 2 + tr.params['n'])\n"
        "print(json.dumps(out))\n"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": str(h), "PATH": ""},
        ).stdout
        for h in (0, 1)
    ]
    assert runs[0] == runs[1] and len(json.loads(runs[0])) == 60
    other = ArqonSolver({"x": Float(-5, 5)}, seed=124)
    same = ArqonSolver({"x": Float(-5, 5)}, seed=123)
    assert other.probe_point(0) != same.probe_point(0)


def test_probe_point_is_a_pure_function_of_seed_and_index() -> None:
    a = ArqonSolver(MIXED_SPACE, seed=77)
    b = ArqonSolver(MIXED_SPACE, seed=77)
    run(b, 30)  # state does not matter
    assert [a.probe_point(i) for i in (0, 5, 10**12)] == [b.probe_point(i) for i in (0, 5, 10**12)]
    assert a.probe_point(0) == a.ask_trials(1)[0].params


def test_many_threads_hammering_one_solver() -> None:
    solver = ArqonSolver({"x": Float(-5, 5), "y": Float(-5, 5)}, seed=0, budget=2000)
    errors: list[BaseException] = []
    asked: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            while trials := solver.ask_trials(3):
                with lock:
                    asked.extend(t.id for t in trials)
                for t in trials:
                    solver.tell_trial(t, t.params["x"] ** 2 + t.params["y"] ** 2)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    assert sorted(asked) == list(range(2000))
    assert solver.n_told == 2000 and solver.remaining == 0


def test_run_record_replays_and_detects_tampering(tmp_path) -> None:
    solver = ArqonSolver(MIXED_SPACE, seed=8, budget=80)
    run(solver, 80, batch=3)
    record = solver.run_record()
    lines = [json.loads(line) for line in record.splitlines()]
    assert lines[0]["event"] == "header"
    assert {e["event"] for e in lines} >= {"ask", "tell", "decision"}
    report = arqonhpo.replay(record)
    assert report["suggestions"] == 80 and report["tells"] == 80 and report["decisions"] >= 1
    path = tmp_path / "run.jsonl"
    solver.export_record(path)
    assert arqonhpo.replay(path) == report
    ask = next(i for i, e in enumerate(lines) if e["event"] == "ask" and e["suggestions"])
    lines[ask]["suggestions"][0]["values"][0] = {"Float": 0.123}
    with pytest.raises(arqonhpo.ReplayMismatchError):
        arqonhpo.replay("\n".join(json.dumps(e) for e in lines) + "\n")


def test_library_never_prints(capfd) -> None:
    solver = ArqonSolver(MIXED_SPACE, seed=1, budget=50)
    run(solver, 50, batch=5)
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_lazy_adapters_do_not_import_frameworks() -> None:
    code = "import sys, arqonhpo; print(any(m in sys.modules for m in ('optuna', 'ray', 'sklearn')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
