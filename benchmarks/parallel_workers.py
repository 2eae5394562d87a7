"""Several worker processes on one Optuna journal file: throughput, duplicate parameter sets, best value.

1, 2 and 4 processes share a ``JournalStorage(JournalFileBackend(path))`` study; each runs ``study.optimize``
with its own sampler instance. The objective is the mixed integer/categorical problem of
benchmarks/functions.py (2 floats, a linear int, a log int, a categorical) plus a fixed sleep that stands in
for real evaluation work, so that workers overlap. Samplers:

* ``ArqonSampler(seed=s)`` with the *same* seed in every worker (the hard case: identical random streams, so
  only the engine's pending-point bookkeeping keeps workers apart);
* ``TPESampler(seed=s + worker)``, Optuna's default, with a distinct seed per worker (how it must be used);
* full size also runs ``TPESampler(seed=s)`` with the same seed in every worker, for comparison.

A duplicate is a completed trial whose full parameter set equals an earlier trial's. Throughput counts
completed trials per second of wall time between the moment every worker is ready and the last one's exit.
"In sampler per trial" is wall time inside the sampler's hooks (infer_relative_search_space,
sample_relative, sample_independent, before_trial, after_trial), summed over workers, per completed trial.

Usage::

    python -m benchmarks.parallel_workers --size smoke   # 60 trials per study, 1 seed: ~30 s
    python -m benchmarks.parallel_workers --size full    # 300 trials per study, 8 seeds, 3 samplers: ~5 min
"""

from __future__ import annotations

import multiprocessing as mp
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import functions
from benchmarks._common import (
    Section,
    describe_error,
    fmt_num,
    fmt_seconds,
    is_interrupt,
    md_table,
    median,
    progress,
    quiet_libraries,
    standalone,
)

PROBLEM = "mixed-quadratic"
ARQON = "ArqonSampler (same seed)"
TPE = "TPESampler (seed + worker)"
TPE_SAME = "TPESampler (same seed)"
TIMEOUT = 1800  # seconds a study may take before the benchmark gives up on it


@dataclass(frozen=True)
class Preset:
    workers: tuple[int, ...]
    trials: int  # per study, split evenly between the workers
    seeds: int
    sleep: float  # seconds of simulated work per trial
    samplers: tuple[str, ...]


PRESETS = {
    "smoke": Preset(workers=(1, 2, 4), trials=60, seeds=1, sleep=0.005, samplers=(ARQON, TPE)),
    # 8 seeds: the best regret is heavy-tailed (0.0006 to 1.05 across seeds with one worker) and, with several
    # workers, depends on timing (ArqonSampler, seed 0, 4 workers: 0.83 in one run, 0.072 in the next).
    "full": Preset(workers=(1, 2, 4), trials=300, seeds=8, sleep=0.005, samplers=(ARQON, TPE, TPE_SAME)),
}


def make_sampler(name: str, seed: int, worker: int) -> Any:
    import optuna

    if name == ARQON:
        from arqonhpo.optuna import ArqonSampler

        return ArqonSampler(seed=seed)
    if name == TPE:
        return optuna.samplers.TPESampler(seed=seed + worker)
    if name == TPE_SAME:
        return optuna.samplers.TPESampler(seed=seed)
    raise ValueError(name)


def storage(path: str) -> Any:
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    return JournalStorage(JournalFileBackend(path))


def suggest(trial: Any, space: dict[str, functions.Param]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, p in space.items():
        if p.kind == "float":
            out[name] = trial.suggest_float(name, p.low, p.high, log=p.log)
        elif p.kind == "int":
            out[name] = trial.suggest_int(name, int(p.low), int(p.high), log=p.log)
        else:
            out[name] = trial.suggest_categorical(name, list(p.choices))
    return out


HOOKS = (
    "infer_relative_search_space",
    "sample_relative",
    "sample_independent",
    "before_trial",
    "after_trial",
)


def time_hooks(sampler: Any, spent: list[float]) -> None:
    """Accumulates wall time spent inside the sampler's hooks into spent[0] (wrapping this instance only)."""

    def wrap(method: Any) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - start

        return timed

    for hook in HOOKS:
        setattr(sampler, hook, wrap(getattr(sampler, hook)))


def worker(
    path: str, sampler_name: str, seed: int, index: int, n_trials: int, sleep: float, barrier: Any, queue: Any
) -> None:
    """One worker process: joins the shared study, waits for the others, optimizes, reports sampler time."""
    import optuna

    quiet_libraries()
    problem = functions.make(PROBLEM, seed)
    sampler = make_sampler(sampler_name, seed, index)
    spent = [0.0]
    time_hooks(sampler, spent)
    study = optuna.load_study(study_name="bench", storage=storage(path), sampler=sampler)

    def objective(trial: Any) -> float:
        params = suggest(trial, problem.space)
        time.sleep(sleep)
        return problem.evaluate(params)

    barrier.wait()
    study.optimize(objective, n_trials=n_trials)
    queue.put(spent[0])


@dataclass
class Result:
    sampler: str
    workers: int
    seed: int
    completed: int
    seconds: float
    duplicates: int
    out_of_bounds: int
    best_regret: float
    failed_workers: int
    sampler_seconds: float  # summed over workers: wall time inside the sampler's hooks


def drain(queue: Any, procs: list[Any]) -> list[float]:
    """One sampler-time report per worker that exits cleanly; read before join (a full pipe would block)."""
    out: list[float] = []
    deadline = time.monotonic() + TIMEOUT
    while len(out) < len(procs) and time.monotonic() < deadline:
        try:
            out.append(queue.get(timeout=1.0))
        except Exception:  # queue.Empty: a crashed worker never reports; stop waiting once all have exited
            if not any(p.is_alive() for p in procs) and queue.empty():
                break
    return out


def run_study(sampler_name: str, n_workers: int, seed: int, preset: Preset, tmp: Path) -> Result:
    import optuna

    slug = "".join(c if c.isalnum() else "_" for c in sampler_name)
    path = str(tmp / f"journal-{slug}-{n_workers}-{seed}.log")  # a fresh journal per study
    optuna.create_study(study_name="bench", storage=storage(path), direction="minimize")
    ctx = mp.get_context("spawn")  # fork would share the parent's imported state and RNGs; spawn is honest
    barrier = ctx.Barrier(n_workers + 1)
    queue = ctx.Queue()
    share = [preset.trials // n_workers + (i < preset.trials % n_workers) for i in range(n_workers)]
    procs = [
        ctx.Process(target=worker, args=(path, sampler_name, seed, i, share[i], preset.sleep, barrier, queue))
        for i in range(n_workers)
    ]
    for p in procs:
        p.start()
    barrier.wait(timeout=300)  # every worker has imported everything and loaded the study
    start = time.perf_counter()
    sampler_seconds = drain(queue, procs)
    for p in procs:
        p.join()
    seconds = time.perf_counter() - start
    problem = functions.make(PROBLEM, seed)
    trials = optuna.load_study(study_name="bench", storage=storage(path)).get_trials(
        deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)
    )
    keys = [tuple(sorted(t.params.items())) for t in trials]
    return Result(
        sampler=sampler_name,
        workers=n_workers,
        seed=seed,
        completed=len(trials),
        seconds=seconds,
        duplicates=len(keys) - len(set(keys)),
        out_of_bounds=sum(not problem.in_bounds(t.params) for t in trials),
        best_regret=problem.regret(min(float(t.value or 0.0) for t in trials)) if trials else float("nan"),
        failed_workers=sum(p.exitcode != 0 for p in procs),
        sampler_seconds=sum(sampler_seconds),
    )


def collect(preset: Preset, errors: list[str]) -> list[Result]:
    jobs = [(s, w, seed) for seed in range(preset.seeds) for s in preset.samplers for w in preset.workers]
    results = []
    bar = progress(len(jobs), "parallel workers")
    with tempfile.TemporaryDirectory(prefix="arqon-journal-") as tmp:
        for sampler_name, n_workers, seed in jobs:
            bar.set_postfix_str(f"{sampler_name} x {n_workers}")
            try:
                results.append(run_study(sampler_name, n_workers, seed, preset, Path(tmp)))
            except BaseException as exc:
                if is_interrupt(exc):
                    raise
                errors.append(f"{sampler_name} with {n_workers} workers, seed {seed}: {describe_error(exc)}")
            bar.update()
    bar.close()
    return results


def table(results: list[Result], preset: Preset) -> str:
    rows = []
    for s in preset.samplers:
        base = None
        for w in preset.workers:
            rs = [r for r in results if (r.sampler, r.workers) == (s, w)]
            if not rs:
                continue
            tput = median(r.completed / r.seconds for r in rs)
            in_sampler = median(r.sampler_seconds / max(r.completed, 1) for r in rs)
            base = base or tput
            rows.append([
                s, w, f"{sum(r.completed for r in rs)}/{preset.trials * len(rs)}", f"{tput:.1f}",
                f"{tput / base:.2f}x", fmt_seconds(in_sampler),
                sum(r.duplicates for r in rs), sum(r.out_of_bounds for r in rs),
                fmt_num(median(r.best_regret for r in rs)),
                f"{fmt_num(min(r.best_regret for r in rs))}-{fmt_num(max(r.best_regret for r in rs))}",
                sum(r.failed_workers for r in rs),
            ])  # fmt: skip
    headers = [
        "sampler", "workers", "completed", "trials/s (median)", "x 1 worker", "in sampler per trial",
        "duplicates", "out of bounds",
        "best regret (median)", "min-max", "failed workers",
    ]  # fmt: skip
    return md_table(headers, rows)


def run(size: str, out: Path) -> Section:
    quiet_libraries()
    start = time.perf_counter()
    preset = PRESETS[size]
    errors: list[str] = []
    results = collect(preset, errors)
    arqon_dups = sum(r.duplicates for r in results if r.sampler == ARQON)
    md = [
        f"Problem: `{PROBLEM}` (seeded; regret = value - known optimum) with {preset.sleep * 1e3:g} ms of "
        f"simulated work per trial; {preset.trials} trials per study split between the workers; "
        f"{preset.seeds} seed(s); "
        f"storage `JournalStorage(JournalFileBackend(path))`; worker processes started with `spawn`; "
        f"{mp.cpu_count()} CPUs (4 workers oversubscribe a 2-CPU machine).",
        "",
        table(results, preset),
        "",
        f"ArqonSampler duplicate parameter sets across all runs: **{arqon_dups}** (must be 0).",
    ]
    if errors:
        md += ["", "### Errors", "", *[f"- {e}" for e in errors]]
    section = Section("parallel_workers", "Parallel workers on a shared Optuna journal", "\n".join(md))
    section.data = {"results": results, "errors": errors, "arqon_duplicates": arqon_dups}
    section.seconds = time.perf_counter() - start
    return section


def main(argv: Sequence[str] | None = None) -> int:
    return standalone(run, __doc__, argv)


if __name__ == "__main__":
    raise SystemExit(main())
