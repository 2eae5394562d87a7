"""Searcher overhead and quality under Ray Tune: ArqonSearch vs OptunaSearch (TPE) vs BasicVariantGenerator.

For each searcher and trial count, a real ``tune.Tuner`` runs a trivial trainable (``reuse_actors=True``) on a
5-parameter mixed objective (uniform, loguniform, randint, choice) whose minimum is 0. Reported per trial:

* searcher time: wall time spent inside ``suggest`` + ``on_trial_complete`` (``next_trial`` +
  ``on_trial_complete`` for the BasicVariantGenerator, whose ``next_trial`` also builds the Trial object);
* Ray overhead: the experiment's wall time per trial minus the searcher time;
* quality: the best loss found, averaged over seeds.

Usage::

    python benchmarks/ray_overhead.py --size smoke   # ~1 minute: 100 trials, 3 seeds (CI)
    python benchmarks/ray_overhead.py --size full    # 100 and 1000 trials, 3 seeds

Writes a Markdown report to ``benchmarks/report/ray_overhead.md`` (``--out`` to change).
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import platform
import shlex
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("RAY_AUTH_MODE", "disabled")

import ray
from arqonhpo.ray import ArqonSearch
from ray import tune
from ray.tune.search import BasicVariantGenerator, Searcher
from ray.tune.search.optuna import OptunaSearch

SIZES = {
    "smoke": {"trials": [100], "seeds": 3},
    "full": {"trials": [100, 1000], "seeds": 3},
}
SEARCHERS = ("ArqonSearch", "OptunaSearch (TPE)", "BasicVariantGenerator")
DEFAULT_OUT = Path(__file__).resolve().parent / "report" / "ray_overhead.md"


# --------------------------------------------------------------------------------------------- objective

SPACE = {
    "x": tune.uniform(-5.0, 5.0),
    "y": tune.uniform(-5.0, 5.0),
    "lr": tune.loguniform(1e-5, 1e-1),
    "units": tune.randint(8, 257),
    "act": tune.choice(["relu", "tanh", "sigmoid"]),
}
_ACT_PENALTY = {"relu": 0.0, "tanh": 0.3, "sigmoid": 1.0}


def objective(c: dict[str, Any]) -> float:
    """Minimum 0 at x=0.7, y=-1.3, lr=1e-3, units=37, act=relu."""
    return (
        (c["x"] - 0.7) ** 2
        + (c["y"] + 1.3) ** 2
        + (math.log10(c["lr"]) + 3.0) ** 2
        + ((c["units"] - 37) / 50.0) ** 2
        + _ACT_PENALTY[c["act"]]
    )


def trainable(config: dict[str, Any]) -> None:
    tune.report({"loss": objective(config)})


# --------------------------------------------------------------------------------------------- timing


@dataclass
class Clock:
    """Time spent inside the search algorithm, and the best metric it was told."""

    seconds: float = 0.0
    completed: int = 0
    best: float = math.inf

    def observe(self, result: dict[str, Any] | None) -> None:
        if result and "loss" in result and math.isfinite(result["loss"]):
            self.best = min(self.best, float(result["loss"]))
        self.completed += 1


class TimedSearcher(Searcher):
    """Forwards to a Searcher, accumulating the wall time of suggest and on_trial_complete.

    A wrapper (like Ray's ConcurrencyLimiter) rather than patched methods, so checkpointing still works:
    Ray saves the wrapped searcher through the ``searcher`` attribute.
    """

    def __init__(self, searcher: Searcher, clock: Clock) -> None:
        self.searcher = searcher
        self.clock = clock
        super().__init__(metric=searcher.metric, mode=searcher.mode)

    def set_search_properties(self, metric: str | None, mode: str | None, config: dict, **spec: Any) -> bool:
        ok = self.searcher.set_search_properties(metric, mode, config, **spec)
        self._metric, self._mode = self.searcher.metric, self.searcher.mode
        return bool(ok)

    def set_max_concurrency(self, max_concurrent: int) -> bool:
        return bool(self.searcher.set_max_concurrency(max_concurrent))

    def suggest(self, trial_id: str) -> dict | str | None:
        start = time.perf_counter()
        config = self.searcher.suggest(trial_id)
        self.clock.seconds += time.perf_counter() - start
        return config

    def on_trial_result(self, trial_id: str, result: dict) -> None:
        self.searcher.on_trial_result(trial_id, result)

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False) -> None:
        start = time.perf_counter()
        self.searcher.on_trial_complete(trial_id, result=result, error=error)
        self.clock.seconds += time.perf_counter() - start
        self.clock.observe(result)

    def get_state(self) -> dict:
        return {}

    def set_state(self, state: dict) -> None:
        pass

    def save(self, checkpoint_path: str) -> None:
        self.searcher.save(checkpoint_path)

    def restore(self, checkpoint_path: str) -> None:
        self.searcher.restore(checkpoint_path)


class TimedVariantGenerator(BasicVariantGenerator):
    """Ray's default random search with the same accounting (next_trial includes Trial construction)."""

    def __init__(self, clock: Clock, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.clock = clock

    def next_trial(self) -> Any:
        start = time.perf_counter()
        trial = super().next_trial()
        self.clock.seconds += time.perf_counter() - start
        return trial

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False) -> None:
        start = time.perf_counter()
        super().on_trial_complete(trial_id, result=result, error=error)
        self.clock.seconds += time.perf_counter() - start
        self.clock.observe(result)


def make_search_alg(name: str, seed: int, clock: Clock) -> Any:
    if name == "ArqonSearch":
        return TimedSearcher(ArqonSearch(seed=seed), clock)
    if name == "OptunaSearch (TPE)":
        return TimedSearcher(OptunaSearch(seed=seed), clock)
    return TimedVariantGenerator(clock, random_state=seed)


# --------------------------------------------------------------------------------------------- runs


@dataclass
class Run:
    searcher: str
    trials: int
    seed: int
    wall: float
    clock: Clock


@dataclass
class Row:
    searcher: str
    trials: int
    runs: list[Run] = field(default_factory=list)

    @property
    def searcher_ms(self) -> float:
        return statistics.mean(r.clock.seconds / r.trials for r in self.runs) * 1e3

    @property
    def ray_ms(self) -> float:
        return statistics.mean((r.wall - r.clock.seconds) / r.trials for r in self.runs) * 1e3

    @property
    def bests(self) -> list[float]:
        return [r.clock.best for r in self.runs]


def run_once(name: str, trials: int, seed: int, storage: str) -> Run:
    clock = Clock()
    tuner = tune.Tuner(
        trainable,
        param_space=dict(SPACE),
        tune_config=tune.TuneConfig(
            search_alg=make_search_alg(name, seed, clock),
            metric="loss",
            mode="min",
            num_samples=trials,
            reuse_actors=True,
        ),
        run_config=tune.RunConfig(storage_path=storage, name=f"run_{len(os.listdir(storage))}", verbose=0),
    )
    start = time.perf_counter()
    results = tuner.fit()
    wall = time.perf_counter() - start
    if len(results) != trials or clock.completed != trials:
        raise RuntimeError(
            f"{name}: expected {trials} completed trials, got {len(results)} / {clock.completed}"
        )
    return Run(name, trials, seed, wall, clock)


def run_all(size: str) -> list[Row]:
    plan = SIZES[size]
    rows = {(s, n): Row(s, n) for n in plan["trials"] for s in SEARCHERS}
    storage = tempfile.mkdtemp(prefix="arqon_ray_overhead_")
    try:
        for n in plan["trials"]:
            for seed in range(plan["seeds"]):
                for name in SEARCHERS:  # interleaved, so machine drift hits every searcher alike
                    run = run_once(name, n, seed, storage)
                    rows[(name, n)].runs.append(run)
                    print(
                        f"  {name:<22} trials={n:<5} seed={seed}"
                        f"  searcher {run.clock.seconds / n * 1e3:8.3f} ms/trial"
                        f"  wall {run.wall / n * 1e3:7.1f} ms/trial  best {run.clock.best:.4g}",
                        flush=True,
                    )
    finally:
        shutil.rmtree(storage, ignore_errors=True)
    return list(rows.values())


# --------------------------------------------------------------------------------------------- report


def _fmt_best(values: list[float]) -> str:
    mean = statistics.mean(values)
    if len(values) == 1:
        return f"{mean:.4g}"
    return f"{mean:.4g} ({min(values):.3g}-{max(values):.3g})"


def render(rows: list[Row], command: str, size: str, elapsed: float, load: tuple[float, float]) -> str:
    by_key = {(r.searcher, r.trials): r for r in rows}
    lines = [
        "# Ray Tune searcher overhead",
        "",
        f"Command: `{command}`  ",
        f"Size: `{size}`; run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; total {elapsed:.0f} s; "
        f"1-min load average {load[0]:.1f} at start, {load[1]:.1f} at end (other work on the machine "
        "inflates both searcher and Ray times)  ",
        f"Machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, ray {ray.__version__}, "
        f"optuna {_optuna_version()}; `ray.init(num_cpus=2)`, `reuse_actors=True`, trivial trainable, "
        "default Tune loggers.",
        "",
        "Objective: 5 parameters (2 uniform, 1 loguniform, 1 randint, 1 choice), minimum 0. "
        "Searcher time = `suggest` + `on_trial_complete` (BasicVariantGenerator: `next_trial`, which also "
        "builds the Trial object, + `on_trial_complete`). Ray overhead = experiment wall time per trial "
        "minus searcher time. Best loss: mean over seeds (min-max).",
        "",
        "| searcher | trials | seeds | searcher ms/trial | Ray overhead ms/trial | searcher / Ray | "
        "x ArqonSearch | best loss |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        arqon = by_key[("ArqonSearch", row.trials)]
        lines.append(
            f"| {row.searcher} | {row.trials} | {len(row.runs)} | {row.searcher_ms:.4f} | {row.ray_ms:.1f} | "
            f"{row.searcher_ms / row.ray_ms:.3%} | {row.searcher_ms / arqon.searcher_ms:.1f} | "
            f"{_fmt_best(row.bests)} |"
        )
    lines += ["", "## Targets", ""] + [f"- {line}" for line in _targets(by_key)]
    return "\n".join(lines) + "\n"


def _targets(by_key: dict[tuple[str, int], Row]) -> list[str]:
    out = []
    largest = max(n for _, n in by_key)
    arqon, optuna = by_key[("ArqonSearch", largest)], by_key[("OptunaSearch (TPE)", largest)]
    share = arqon.searcher_ms / arqon.ray_ms
    out.append(
        f"ArqonSearch searcher time <= 1% of Ray's per-trial overhead at {largest} trials: "
        f"{_verdict(share <= 0.01)} ({share:.3%})"
    )
    speedup = optuna.searcher_ms / arqon.searcher_ms
    note = "" if largest >= 1000 else " (target is stated at 1000 trials; run --size full)"
    out.append(
        f"ArqonSearch >= 50x below OptunaSearch at {largest} trials: {_verdict(speedup >= 50)} "
        f"({speedup:.0f}x){note}"
    )
    for n in sorted({n for _, n in by_key}):
        a, o = by_key[("ArqonSearch", n)], by_key[("OptunaSearch (TPE)", n)]
        a_best, o_best = statistics.mean(a.bests), statistics.mean(o.bests)
        out.append(
            f"Quality at {n} trials no worse than OptunaSearch (mean best loss): "
            f"{_verdict(a_best <= o_best)} "
            f"({a_best:.4g} vs {o_best:.4g}, {len(a.runs)} seed(s))"
        )
    return out


def _verdict(ok: bool) -> str:
    return "**met**" if ok else "**NOT met**"


def _optuna_version() -> str:
    import optuna

    return optuna.__version__


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", choices=sorted(SIZES), default="smoke")
    parser.add_argument("--out", type=Path, default=None, help="Markdown report path (default: by size)")
    args = parser.parse_args(argv)
    # Smoke runs write under report/smoke/ (git-ignored) so they never overwrite the full-size report.
    args.out = args.out or (
        DEFAULT_OUT if args.size == "full" else DEFAULT_OUT.parent / args.size / DEFAULT_OUT.name
    )
    command = shlex.join([Path(sys.executable).name, *sys.argv]) if argv is None else shlex.join(argv)
    print(f"$ {command}", flush=True)

    logging.getLogger("ray").setLevel(logging.ERROR)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    start, load_start = time.perf_counter(), os.getloadavg()[0]
    try:
        rows = run_all(args.size)
    finally:
        ray.shutdown()
    load = (load_start, os.getloadavg()[0])
    report = render(rows, command, args.size, time.perf_counter() - start, load)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report, encoding="utf-8")
    print()
    print(report)
    print(f"report written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
