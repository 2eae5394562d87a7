"""Several processes sharing one study: JournalFileStorage and SQLite, same seed everywhere, plus resume.

Every worker uses ``ArqonSampler(seed=0)`` on purpose: identical samplers on one history are the worst case
for duplicate suggestions, so 0 duplicates here means the storage-level coordination works.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import optuna
import pytest
from optuna.trial import TrialState

optuna.logging.set_verbosity(optuna.logging.ERROR)

N_WORKERS = 4
TRIALS_PER_WORKER = 100

_WORKER = r"""
import json, sys, time
import optuna
from arqonhpo.optuna import ArqonSampler

optuna.logging.set_verbosity(optuna.logging.ERROR)
kind, location, n_trials, delay = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
start_at = float(sys.argv[5])
if kind == "journal":
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(location))
else:
    storage = optuna.storages.RDBStorage(location, engine_kwargs={"connect_args": {"timeout": 120}})
sampler = ArqonSampler(seed=0)
study = optuna.load_study(study_name="shared", storage=storage, sampler=sampler)
time.sleep(max(0.0, start_at - time.time()))  # all workers start together, imports done
finished_at_start = sum(t.state.is_finished() for t in study.get_trials(deepcopy=False))

def objective(trial):
    xs = [trial.suggest_float(f"x{i}", -5.0, 5.0) for i in range(4)]
    n = trial.suggest_int("n", 0, 1000)
    if delay:
        time.sleep(delay)
    return sum((x - 0.5 * i) ** 2 for i, x in enumerate(xs)) + abs(n - 300) / 100.0

study.optimize(objective, n_trials=n_trials)
finished_at_end = sum(t.state.is_finished() for t in study.get_trials(deepcopy=False))
engine = sampler._current
report = {"finished_at_start": finished_at_start, "finished_at_end": finished_at_end}
print(json.dumps({**report, "n_told": engine.solver.n_told if engine else 0}))
"""


def _storage(kind: str, tmp_path: Path) -> tuple[str, Any]:
    if kind == "journal":
        location = str(tmp_path / "study.log")
        backend = optuna.storages.journal.JournalFileBackend(location)
        return location, optuna.storages.JournalStorage(backend)
    location = f"sqlite:///{tmp_path / 'study.db'}"
    return location, optuna.storages.RDBStorage(location)


def _spawn(
    kind: str, location: str, n_trials: int, delay: float = 0.0, start_at: float = 0.0
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", _WORKER, kind, location, str(n_trials), str(delay), str(start_at)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(proc: subprocess.Popen[str], timeout: float = 300) -> dict[str, int]:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


def _param_sets(trials: list[optuna.trial.FrozenTrial]) -> list[tuple[Any, ...]]:
    return [tuple(sorted(t.params.items())) for t in trials]


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["journal", "sqlite"])
def test_four_processes_share_a_study_without_duplicates(kind: str, tmp_path: Path) -> None:
    location, storage = _storage(kind, tmp_path)
    optuna.create_study(study_name="shared", storage=storage)
    start_at = time.time() + 6.0  # after every worker has imported optuna (about 1.5 s each on 2 cores)
    # A short objective (20 ms) lets the workers interleave instead of taking turns on the storage lock.
    workers = [_spawn(kind, location, TRIALS_PER_WORKER, 0.02, start_at) for _ in range(N_WORKERS)]
    reports = [_finish(w) for w in workers]

    trials = optuna.load_study(study_name="shared", storage=storage).get_trials(deepcopy=False)
    assert len(trials) == N_WORKERS * TRIALS_PER_WORKER
    assert all(t.state == TrialState.COMPLETE for t in trials)
    param_sets = _param_sets(trials)
    assert len(set(param_sets)) == len(param_sets), "duplicate parameter sets across workers"
    # Every worker learned from the others: its engine was told every trial finished before its last one
    # started (at most one per other worker can finish in between), far more than its own 100.
    for r in reports:
        assert r["n_told"] > TRIALS_PER_WORKER + 10, reports
        assert r["n_told"] >= r["finished_at_end"] - N_WORKERS, reports


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["journal", "sqlite"])
def test_resume_after_a_killed_worker_loses_nothing(kind: str, tmp_path: Path) -> None:
    location, storage = _storage(kind, tmp_path)
    optuna.create_study(study_name="shared", storage=storage)
    doomed = _spawn(kind, location, 10_000, delay=0.02)
    study = optuna.load_study(study_name="shared", storage=storage)
    deadline = time.monotonic() + 120
    while sum(t.state == TrialState.COMPLETE for t in study.get_trials(deepcopy=False)) < 30:
        assert time.monotonic() < deadline and doomed.poll() is None
        time.sleep(0.05)
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.wait()

    before = study.get_trials(deepcopy=False)
    finished_before = sum(t.state.is_finished() for t in before)
    report = _finish(_spawn(kind, location, 20))

    after = optuna.load_study(study_name="shared", storage=storage).get_trials(deepcopy=False)
    assert report["finished_at_start"] == finished_before
    # The fresh sampler's engine learned every stored result and its own 20: nothing lost.
    assert report["n_told"] == finished_before + 20
    assert sum(t.state == TrialState.COMPLETE for t in after) == finished_before + 20
    by_number = {t.number: t for t in after}
    assert all(by_number[t.number].params == t.params for t in before if t.state.is_finished())
    param_sets = _param_sets([t for t in after if t.params])
    assert len(set(param_sets)) == len(param_sets)
