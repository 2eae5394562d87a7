"""Optuna sampler overhead: CPU time spent inside the sampler per trial as a study grows.

    python benchmarks/optuna_overhead.py --size full    # 100 / 1 000 / 3 000 trials (fast ones: 10 000)
    python benchmarks/optuna_overhead.py --size smoke   # 100 / 300 trials, well under a minute

Each sampler optimizes shifted Rastrigin (2-D and 10-D, benchmarks/functions.py) with ``study.optimize`` on
an in-memory study. A transparent proxy times every sampler call (``before_trial``,
``infer_relative_search_space``, ``sample_relative``, ``sample_independent``, ``after_trial``) with the
thread's CPU clock and charges it to the trial; a callback takes the process CPU clock at the end of each
trial for the total. Figures at N trials are means over trials N-99..N of one run, so they show the cost of
a trial when the study already holds N trials. Ratios are TPE's time divided by the sampler's (x faster).
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import optuna  # noqa: E402
from optuna.distributions import BaseDistribution  # noqa: E402
from optuna.samplers import BaseSampler  # noqa: E402
from optuna.study import Study  # noqa: E402
from optuna.trial import FrozenTrial, Trial, TrialState  # noqa: E402

from benchmarks._common import (  # noqa: E402
    command_line,
    machine_summary,
    md_table,
    quiet_libraries,
    report_dir,
    utc_now,
    versions_summary,
)
from benchmarks.functions import continuous, to_optuna  # noqa: E402

NAME = "optuna_overhead"
WINDOW = 100  # trials per measurement window
FUNCTION = "rastrigin"
DIMS = (2, 10)
SIZES: dict[str, dict[str, Any]] = {
    "smoke": {"checkpoints": (100, 300), "fast_checkpoints": (100, 300)},
    "full": {"checkpoints": (100, 1000, 3000), "fast_checkpoints": (100, 1000, 3000, 10000)},
}


def make_samplers(seed: int) -> dict[str, tuple[Callable[[], BaseSampler], bool]]:
    """name -> (factory, fast); fast samplers also run to 10 000 trials at full size."""
    from arqonhpo.optuna import ArqonSampler

    return {
        "ArqonSampler": (lambda: ArqonSampler(seed=seed), True),
        "RandomSampler": (lambda: optuna.samplers.RandomSampler(seed=seed), True),
        "TPESampler()": (lambda: optuna.samplers.TPESampler(seed=seed), False),
        "CmaEsSampler": (lambda: optuna.samplers.CmaEsSampler(seed=seed), False),
        "QMCSampler": (lambda: optuna.samplers.QMCSampler(seed=seed), True),
    }


class TimedSampler(BaseSampler):
    """Delegates to a sampler and charges the thread CPU time of every call to its trial number."""

    def __init__(self, inner: BaseSampler, n_trials: int) -> None:
        self.inner = inner
        self.cpu = [0.0] * n_trials

    def _timed(self, number: int, call: Callable[[], Any]) -> Any:
        start = time.thread_time()
        try:
            return call()
        finally:
            self.cpu[number] += time.thread_time() - start

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        self._timed(trial.number, lambda: self.inner.before_trial(study, trial))

    def infer_relative_search_space(self, study: Study, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        return self._timed(trial.number, lambda: self.inner.infer_relative_search_space(study, trial))

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        return self._timed(trial.number, lambda: self.inner.sample_relative(study, trial, search_space))

    def sample_independent(
        self, study: Study, trial: FrozenTrial, param_name: str, param_distribution: BaseDistribution
    ) -> Any:
        return self._timed(
            trial.number, lambda: self.inner.sample_independent(study, trial, param_name, param_distribution)
        )

    def after_trial(
        self, study: Study, trial: FrozenTrial, state: TrialState, values: Sequence[float] | None
    ) -> None:
        self._timed(trial.number, lambda: self.inner.after_trial(study, trial, state, values))

    def reseed_rng(self) -> None:
        self.inner.reseed_rng()


def run_one(factory: Callable[[], BaseSampler], dim: int, n_trials: int) -> dict[str, Any]:
    problem = continuous(FUNCTION, dim, seed=0)
    dists = to_optuna(problem.space)

    def objective(trial: Trial) -> float:
        params = {name: trial.suggest_float(name, d.low, d.high) for name, d in dists.items()}
        return problem.evaluate(params)

    sampler = TimedSampler(factory(), n_trials)
    ends = [0.0] * n_trials

    def clock(study: Study, trial: FrozenTrial) -> None:
        ends[trial.number] = time.process_time()

    study = optuna.create_study(sampler=sampler)
    start = time.process_time()
    study.optimize(objective, n_trials=n_trials, callbacks=[clock])
    totals = [ends[0] - start] + [b - a for a, b in itertools.pairwise(ends)]
    return {"sampler": sampler.cpu, "total": totals, "best": study.best_value - (problem.f_opt or 0.0)}


def window_ms(per_trial: list[float], n: int) -> float:
    window = per_trial[n - WINDOW : n]
    return 1000.0 * sum(window) / len(window)


def measure(size: str, seed: int) -> list[dict[str, Any]]:
    preset = SIZES[size]
    rows: list[dict[str, Any]] = []
    for dim in DIMS:
        for name, (factory, fast) in make_samplers(seed).items():
            checkpoints = preset["fast_checkpoints"] if fast else preset["checkpoints"]
            started = time.perf_counter()
            result = run_one(factory, dim, max(checkpoints))
            took = time.perf_counter() - started
            print(f"  {dim:>2}-D {name:<14} {max(checkpoints):>6} trials in {took:6.1f} s", flush=True)
            for n in checkpoints:
                rows.append(
                    {
                        "dim": dim,
                        "n": n,
                        "sampler": name,
                        "sampler_ms": window_ms(result["sampler"], n),
                        "total_ms": window_ms(result["total"], n),
                        "best_regret": result["best"] if n == max(checkpoints) else None,
                    }
                )
    return rows


def render(rows: list[dict[str, Any]], size: str, command: str, seconds: float) -> tuple[str, list[str]]:
    tpe = {(r["dim"], r["n"]): r for r in rows if r["sampler"] == "TPESampler()"}
    table = []
    for r in rows:
        ref = tpe.get((r["dim"], r["n"]))
        ratio = f"{ref['sampler_ms'] / r['sampler_ms']:.1f}x" if ref and r["sampler_ms"] > 0 else "-"
        total_ratio = f"{ref['total_ms'] / r['total_ms']:.1f}x" if ref and r["total_ms"] > 0 else "-"
        best = f"{r['best_regret']:.4g}" if r["best_regret"] is not None else ""
        table.append(
            [f"{r['dim']}-D", r["n"], r["sampler"], f"{r['sampler_ms']:.3f}", ratio, f"{r['total_ms']:.3f}",
             total_ratio, best]
        )  # fmt: skip
    verdicts = check_targets(rows)
    lines = [
        "# Optuna sampler overhead",
        "",
        f"Command: `{command}`  ",
        f"Size: `{size}`; run {utc_now()}; took {seconds:.0f} s  ",
        f"Machine: {machine_summary()}  ",
        f"Packages: {versions_summary()}",
        "",
        f"Shifted {FUNCTION} via `study.optimize` on an in-memory study. *sampler ms/trial*: CPU time",
        f"inside the sampler's methods per trial, mean over the last {WINDOW} trials before N;",
        "*total ms/trial*: process CPU time per trial over the same window (sampler + Optuna + objective).",
        "*vs TPE*: TPE's time divided by the sampler's. *best regret*: best value minus the optimum after",
        "the whole run (shown on the run's last row).",
        "",
        md_table(
            [
                "dim",
                "N",
                "sampler",
                "sampler ms/trial",
                "vs TPE",
                "total ms/trial",
                "total vs TPE",
                "best regret",
            ],
            table,
            align="lrlrrrrr",
        ),
        "",
        "## Targets",
        "",
        *[f"- {v}" for v in verdicts],
        "",
    ]
    return "\n".join(lines), verdicts


def check_targets(rows: list[dict[str, Any]]) -> list[str]:
    by_key = {(r["dim"], r["n"], r["sampler"]): r for r in rows}
    verdicts = []
    for (dim, n, name), r in sorted(by_key.items()):
        if name != "ArqonSampler":
            continue
        rand = by_key.get((dim, n, "RandomSampler"))
        if rand:
            ok = r["sampler_ms"] <= rand["sampler_ms"]
            verdicts.append(
                f"{'PASS' if ok else 'MISS'}: {dim}-D, N={n}: ArqonSampler {r['sampler_ms']:.3f} ms/trial "
                f"in the sampler vs RandomSampler {rand['sampler_ms']:.3f}"
            )
        tpe = by_key.get((dim, n, "TPESampler()"))
        if tpe and n >= 1000:
            speedup = tpe["sampler_ms"] / r["sampler_ms"]
            verdicts.append(
                f"{'PASS' if speedup >= 100 else 'MISS'}: {dim}-D, N={n}: {speedup:.0f}x faster than TPE "
                "in the sampler (target >= 100x)"
            )
    return verdicts


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", choices=tuple(SIZES), default="smoke")
    parser.add_argument("--out", type=Path, default=None, help="report path (default: by size)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    args.out = args.out or report_dir(args.size) / f"{NAME}.md"
    quiet_libraries()
    command = command_line()
    print(f"command: {command}")
    started = time.perf_counter()
    rows = measure(args.size, args.seed)
    text, _ = render(rows, args.size, command, time.perf_counter() - started)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)
    print(f"report written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
