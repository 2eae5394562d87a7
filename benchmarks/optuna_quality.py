"""Optuna sampler quality: best value after 50 / 200 / 1 000 trials, ranked against Optuna's own samplers.

    python benchmarks/optuna_quality.py --size full    # 5 seeds; budgets 50, 200, 1 000 (ML tasks: 50, 200)
    python benchmarks/optuna_quality.py --size smoke   # 2 seeds, 2 tasks, budgets 10 and 20

Peers: ``TPESampler()`` (Optuna 5's default, multivariate), ``CmaEsSampler`` and ``RandomSampler``, all seeded
like ArqonSampler. Tasks: seeded shifted test functions (benchmarks/functions.py) and scikit-learn models on
bundled datasets, one of them with a conditional search space (the parameters depend on the chosen model).
Each (task, seed) runs every sampler once to the largest budget; the best value seen after B trials is
ranked across samplers (1 = best, ties share the average rank) and the ranks are averaged over tasks and
seeds. The scikit-learn tasks stop at 200 trials: a 3-fold cross-validation per trial makes 1 000 trials of
every sampler and seed cost more than the rest of the benchmark together on 2 cores.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import optuna  # noqa: E402
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution  # noqa: E402
from optuna.samplers import BaseSampler  # noqa: E402
from optuna.trial import Trial  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from benchmarks._common import (  # noqa: E402
    average_ranks,
    command_line,
    machine_summary,
    md_table,
    quiet_libraries,
    report_dir,
    utc_now,
    versions_summary,
)
from benchmarks.functions import make, to_optuna  # noqa: E402

NAME = "optuna_quality"
SAMPLERS = ("ArqonSampler", "TPESampler()", "CmaEsSampler", "RandomSampler")
SIZES: dict[str, dict[str, Any]] = {
    "smoke": {
        "seeds": 2,
        "budgets": (10, 20),
        "ml_budgets": (10, 20),
        "tasks": ("rosenbrock-5d", "conditional-breast-cancer"),
    },
    "full": {
        "seeds": 5,
        "budgets": (50, 200, 1000),
        "ml_budgets": (50, 200),
        "tasks": (
            "sphere-2d",
            "rosenbrock-5d",
            "rastrigin-10d",
            "mixed-quadratic",
            "svc-breast-cancer",
            "conditional-breast-cancer",
        ),
    },
}


@dataclass
class Task:
    name: str
    objective: Callable[[Trial], float]
    offset: float  # subtracted from values in the report (the known optimum, 0 for ML tasks)
    ml: bool


def make_sampler(name: str, seed: int) -> BaseSampler:
    from arqonhpo.optuna import ArqonSampler

    factories: dict[str, Callable[[], BaseSampler]] = {
        "ArqonSampler": lambda: ArqonSampler(seed=seed),
        "TPESampler()": lambda: optuna.samplers.TPESampler(seed=seed),
        "CmaEsSampler": lambda: optuna.samplers.CmaEsSampler(seed=seed),
        "RandomSampler": lambda: optuna.samplers.RandomSampler(seed=seed),
    }
    return factories[name]()


# ---------------------------------------------------------------------------------------------- tasks


def _suggest(trial: Trial, name: str, dist: Any) -> Any:
    if isinstance(dist, FloatDistribution):
        return trial.suggest_float(name, dist.low, dist.high, log=dist.log)
    if isinstance(dist, IntDistribution):
        return trial.suggest_int(name, dist.low, dist.high, log=dist.log)
    assert isinstance(dist, CategoricalDistribution)
    return trial.suggest_categorical(name, dist.choices)


def function_task(name: str, seed: int) -> Task:
    problem = make(name, seed)
    dists = to_optuna(problem.space)

    def objective(trial: Trial) -> float:
        return problem.evaluate({n: _suggest(trial, n, d) for n, d in dists.items()})

    return Task(name, objective, problem.f_opt or 0.0, ml=False)


_DATA: dict[str, Any] = {}


def _breast_cancer() -> Any:
    if "bc" not in _DATA:
        from sklearn.datasets import load_breast_cancer

        _DATA["bc"] = load_breast_cancer(return_X_y=True)
    return _DATA["bc"]


def _cv_error(model: Any, seed: int) -> float:
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    X, y = _breast_cancer()
    cv = StratifiedKFold(3, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return 1.0 - float(cross_val_score(model, X, y, cv=cv).mean())


def svc_task(seed: int) -> Task:
    """RBF SVC on breast_cancer (bundled): 3-fold CV error over C, gamma and the scaler."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler, StandardScaler
    from sklearn.svm import SVC

    def objective(trial: Trial) -> float:
        c = trial.suggest_float("C", 1e-3, 1e3, log=True)
        gamma = trial.suggest_float("gamma", 1e-5, 1e1, log=True)
        scaler = trial.suggest_categorical("scaler", ["standard", "minmax"])
        scale = StandardScaler() if scaler == "standard" else MinMaxScaler()
        return _cv_error(make_pipeline(scale, SVC(C=c, gamma=gamma)), seed)

    return Task("svc-breast-cancer", objective, 0.0, ml=True)


def conditional_task(seed: int) -> Task:
    """Model choice with per-model parameters (a conditional space) on breast_cancer, 3-fold CV error."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC
    from sklearn.tree import DecisionTreeClassifier

    def objective(trial: Trial) -> float:
        kind = trial.suggest_categorical("model", ["svc", "tree", "logreg"])
        model: Any
        if kind == "svc":
            c = trial.suggest_float("svc_C", 1e-3, 1e3, log=True)
            gamma = trial.suggest_float("svc_gamma", 1e-5, 1e1, log=True)
            model = make_pipeline(StandardScaler(), SVC(C=c, gamma=gamma))
        elif kind == "tree":
            model = DecisionTreeClassifier(
                max_depth=trial.suggest_int("tree_depth", 1, 20),
                min_samples_leaf=trial.suggest_int("tree_leaf", 1, 64, log=True),
                criterion=trial.suggest_categorical("tree_criterion", ["gini", "entropy"]),
                random_state=0,
            )
        else:
            c = trial.suggest_float("logreg_C", 1e-4, 1e3, log=True)
            model = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=500))
        return _cv_error(model, seed)

    return Task("conditional-breast-cancer", objective, 0.0, ml=True)


def make_task(name: str, seed: int) -> Task:
    if name == "svc-breast-cancer":
        return svc_task(seed)
    if name == "conditional-breast-cancer":
        return conditional_task(seed)
    return function_task(name, seed)


# ---------------------------------------------------------------------------------------------- runs


def best_after(task: Task, sampler: BaseSampler, budgets: Sequence[int]) -> dict[int, float]:
    study = optuna.create_study(sampler=sampler)
    study.optimize(task.objective, n_trials=max(budgets))
    best, out = math.inf, {}
    for trial in study.trials:
        if trial.value is not None:
            best = min(best, trial.value)
        if trial.number + 1 in budgets:
            out[trial.number + 1] = best - task.offset
    return out


def measure(size: str) -> list[dict[str, Any]]:
    preset = SIZES[size]
    rows = []
    for name in preset["tasks"]:
        for seed in range(preset["seeds"]):
            task = make_task(name, seed)
            budgets = preset["ml_budgets"] if task.ml else preset["budgets"]
            for sampler in SAMPLERS:
                started = time.perf_counter()
                best = best_after(task, make_sampler(sampler, seed), budgets)
                took = time.perf_counter() - started
                print(f"  {name:<26} seed {seed} {sampler:<14} {took:6.1f} s", flush=True)
                rows.extend(
                    {"task": name, "seed": seed, "sampler": sampler, "budget": b, "best": v}
                    for b, v in best.items()
                )
    return rows


def mean_ranks(rows: list[dict[str, Any]]) -> dict[int, dict[str, float]]:
    """budget -> sampler -> mean rank over every (task, seed) that reached the budget."""
    groups: dict[tuple[str, int, int], dict[str, float]] = {}
    for r in rows:
        groups.setdefault((r["task"], r["seed"], r["budget"]), {})[r["sampler"]] = r["best"]
    ranks: dict[int, dict[str, list[float]]] = {}
    for (_, _, budget), values in groups.items():
        names = list(values)
        for name, rank in zip(names, average_ranks([values[n] for n in names]), strict=True):
            ranks.setdefault(budget, {}).setdefault(name, []).append(rank)
    return {b: {s: statistics.fmean(v) for s, v in per.items()} for b, per in sorted(ranks.items())}


def render(rows: list[dict[str, Any]], size: str, command: str, seconds: float) -> str:
    ranks = mean_ranks(rows)
    rank_table = [[b, *(f"{ranks[b].get(s, math.nan):.2f}" for s in SAMPLERS)] for b in ranks]
    values: dict[tuple[str, int], dict[str, list[float]]] = {}
    for r in rows:
        values.setdefault((r["task"], r["budget"]), {}).setdefault(r["sampler"], []).append(r["best"])
    task_table = [
        [task, budget, *(f"{statistics.median(per[s]):.4g}" if s in per else "-" for s in SAMPLERS)]
        for (task, budget), per in values.items()
    ]
    verdicts = []
    for b, per in ranks.items():
        ok = per["ArqonSampler"] <= per["TPESampler()"]
        verdicts.append(
            f"{'PASS' if ok else 'MISS'}: budget {b}: ArqonSampler mean rank {per['ArqonSampler']:.2f} vs "
            f"TPESampler() {per['TPESampler()']:.2f} (target: at or better than TPE)"
        )
    seeds = SIZES[size]["seeds"]
    lines = [
        "# Optuna sampler quality",
        "",
        f"Command: `{command}`  ",
        f"Size: `{size}`; run {utc_now()}; took {seconds:.0f} s  ",
        f"Machine: {machine_summary()}  ",
        f"Packages: {versions_summary()}",
        "",
        f"Tasks: {', '.join(SIZES[size]['tasks'])}; {seeds} seeds each; samplers seeded with the task seed.",
        "",
        "## Mean rank by budget (1 = best; lower is better)",
        "",
        md_table(["budget", *SAMPLERS], rank_table),
        "",
        "## Median best value after B trials (regret for test functions, CV error for ML tasks)",
        "",
        md_table(["task", "budget", *SAMPLERS], task_table, align="lr" + "r" * len(SAMPLERS)),
        "",
        "## Target",
        "",
        *[f"- {v}" for v in verdicts],
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", choices=tuple(SIZES), default="smoke")
    parser.add_argument("--out", type=Path, default=None, help="report path (default: by size)")
    args = parser.parse_args(argv)
    args.out = args.out or report_dir(args.size) / f"{NAME}.md"
    quiet_libraries()
    command = command_line()
    print(f"command: {command}")
    started = time.perf_counter()
    # One BLAS thread: on 2 cores a threaded BLAS inside each small fit costs 10-50x more than it saves.
    with threadpool_limits(1):
        rows = measure(args.size)
    text = render(rows, args.size, command, time.perf_counter() - started)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)
    print(f"report written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
