"""ArqonSearchCV vs RandomizedSearchCV (and optuna-integration's OptunaSearchCV) on bundled datasets.

Tasks: digits + SVC (log-uniform C and gamma), breast_cancer + HistGradientBoostingClassifier (mixed int and
float), wine + a pipeline choosing between an SVC and a k-NN (list of dicts; OptunaSearchCV cannot express
estimator choices, so it sits that task out). Every method gets the same estimator, the same train/test split,
the same CV folds, the same ``n_iter`` (``n_trials`` for Optuna) and ``n_jobs``, per seed.

Measured per run: best mean CV score (``best_score_``), held-out accuracy of ``best_estimator_``, wall time of
``fit`` (search + refit) and the summed fit+score time of all CV fits (what the candidates cost, independent
of scheduling). The report is a Markdown table written to benchmarks/report/sklearn_search.md. A last section
measures what one ``evaluate_candidates`` round costs beyond its fits, on a stand-in estimator whose fits all
take the same time, so that the wall-time target can be checked against what rounds cost at all.

    python benchmarks/sklearn_search.py --size smoke    # about a minute; what CI runs
    python benchmarks/sklearn_search.py --size full     # n_iter 20 and 50, 20 seeds, 5-fold CV

Differences of best CV score between methods are of the order of one sample of the CV folds, so the report
gives the paired difference per seed with its standard error, and the number of engine rounds ArqonSearchCV
used, from which the wall-time cost of a round is read.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import platform
import shlex
import statistics
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from arqonhpo.sklearn import ArqonSearchCV
from scipy.stats import loguniform, randint
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import RandomizedSearchCV, StratifiedKFold, train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

REPORT = Path(__file__).resolve().parent / "report" / "sklearn_search.md"


@dataclass(frozen=True)
class Size:
    n_iters: tuple[int, ...]
    seeds: int
    cv: int
    n_jobs: int
    # Cost of a round: fit times of the stand-in estimator (seconds) and repetitions per setting.
    fixed_costs: tuple[float, ...] = (0.0,)
    round_reps: int = 1


SIZES = {
    "smoke": Size(n_iters=(10,), seeds=2, cv=3, n_jobs=2, fixed_costs=(0.0,), round_reps=1),
    # 20 seeds: the standard error of the mean CV difference is about 0.001, the size of the differences.
    # With 10, two seeds decided the sign on HistGradientBoosting at n_iter=20 (-0.0014 +- 0.0014 over seeds
    # 0-9, +0.0003 over seeds 0-19); with 5, a single one-sample difference did.
    "full": Size(n_iters=(20, 50), seeds=20, cv=5, n_jobs=2, fixed_costs=(0.0, 0.03), round_reps=5),
}


@dataclass(frozen=True)
class Task:
    name: str
    load: Callable[[], tuple[np.ndarray, np.ndarray]]
    estimator: Any
    sklearn_space: Any  # RandomizedSearchCV / ArqonSearchCV param_distributions
    optuna_space: Callable[[], dict[str, Any]] | None  # None: not expressible with optuna distributions


def _digits_optuna() -> dict[str, Any]:
    from optuna.distributions import FloatDistribution

    return {"C": FloatDistribution(1e-2, 1e3, log=True), "gamma": FloatDistribution(1e-5, 1e-1, log=True)}


def _hgb_optuna() -> dict[str, Any]:
    from optuna.distributions import FloatDistribution, IntDistribution

    return {
        "learning_rate": FloatDistribution(1e-3, 1.0, log=True),
        "max_iter": IntDistribution(10, 199),
        "max_leaf_nodes": IntDistribution(2, 63),
        "min_samples_leaf": IntDistribution(2, 63),
        "l2_regularization": FloatDistribution(1e-6, 10.0, log=True),
    }


TASKS = [
    Task(
        "digits / SVC",
        lambda: load_digits(return_X_y=True),
        SVC(),
        {"C": loguniform(1e-2, 1e3), "gamma": loguniform(1e-5, 1e-1)},
        _digits_optuna,
    ),
    Task(
        "breast_cancer / HistGradientBoosting",
        lambda: load_breast_cancer(return_X_y=True),
        HistGradientBoostingClassifier(random_state=0),
        {
            "learning_rate": loguniform(1e-3, 1.0),
            "max_iter": randint(10, 200),
            "max_leaf_nodes": randint(2, 64),
            "min_samples_leaf": randint(2, 64),
            "l2_regularization": loguniform(1e-6, 10.0),
        },
        _hgb_optuna,
    ),
    Task(
        "wine / pipeline SVC or k-NN",
        lambda: load_wine(return_X_y=True),
        Pipeline([("scale", StandardScaler()), ("clf", SVC())]),
        [
            {"clf": [SVC()], "clf__C": loguniform(1e-2, 1e3), "clf__gamma": loguniform(1e-4, 1.0)},
            {
                "clf": [KNeighborsClassifier()],
                "clf__n_neighbors": randint(1, 40),
                "clf__weights": ["uniform", "distance"],
            },
        ],
        None,
    ),
]


@dataclass
class Run:
    best_cv: float
    held_out: float
    wall: float
    fit_cost: float | None
    rounds: int | None = None  # evaluate_candidates calls (ArqonSearchCV only)


@dataclass
class Cell:
    runs: list[Run] = field(default_factory=list)

    def mean(self, attr: str) -> float:
        values = [getattr(r, attr) for r in self.runs if getattr(r, attr) is not None]
        return statistics.fmean(values) if values else float("nan")

    def std(self, attr: str) -> float:
        values = [getattr(r, attr) for r in self.runs]
        return statistics.stdev(values) if len(values) > 1 else 0.0


def _make_search(method: str, task: Task, n_iter: int, cv: Any, seed: int, n_jobs: int) -> Any:
    common: dict[str, Any] = dict(cv=cv, n_jobs=n_jobs, random_state=seed)
    if method == "ArqonSearchCV":
        return ArqonSearchCV(clone(task.estimator), task.sklearn_space, n_iter=n_iter, **common)
    if method == "RandomizedSearchCV":
        return RandomizedSearchCV(clone(task.estimator), task.sklearn_space, n_iter=n_iter, **common)
    from optuna_integration import OptunaSearchCV

    assert task.optuna_space is not None
    return OptunaSearchCV(clone(task.estimator), task.optuna_space(), n_trials=n_iter, **common)


def _fit_cost(search: Any) -> float | None:
    """Summed fit + score seconds over all CV fits (None where cv_results_ lacks the timings)."""
    results = getattr(search, "cv_results_", None)
    if not results or "mean_fit_time" not in results:
        return None
    per_candidate = np.asarray(results["mean_fit_time"]) + np.asarray(results["mean_score_time"])
    return float(per_candidate.sum() * search.n_splits_)


def _run_once(method: str, task: Task, n_iter: int, seed: int, size: Size) -> Run:
    X, y = task.load()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=seed)
    cv = StratifiedKFold(size.cv, shuffle=True, random_state=seed)
    search = _make_search(method, task, n_iter, cv, seed, size.n_jobs)
    with _count_rounds() as rounds:
        start = time.perf_counter()
        search.fit(X_train, y_train)
        wall = time.perf_counter() - start
    held_out = float(search.best_estimator_.score(X_test, y_test))
    n_rounds = rounds[0] if method == "ArqonSearchCV" else None
    return Run(float(search.best_score_), held_out, wall, _fit_cost(search), n_rounds)


@contextlib.contextmanager
def _count_rounds() -> Iterator[list[int]]:
    """Counts ArqonSearchCV's evaluate_candidates calls (benchmark instrumentation, not part of the API)."""
    from arqonhpo import sklearn as arqon_sklearn

    count = [0]
    original = arqon_sklearn._Rounds.evaluate

    def counting(self: Any, candidates: list[dict[str, Any]]) -> list[float | None]:
        count[0] += 1
        return original(self, candidates)

    arqon_sklearn._Rounds.evaluate = counting  # type: ignore[method-assign]
    try:
        yield count
    finally:
        arqon_sklearn._Rounds.evaluate = original  # type: ignore[method-assign]


class FixedCostClassifier(ClassifierMixin, BaseEstimator):
    """Stand-in estimator for the cost of a round: its fit keeps a core busy for `cost` seconds whatever the
    candidate, and it predicts the majority class. `c` is the searched parameter and changes nothing, so the
    two searches differ only in how they schedule their fits."""

    def __init__(self, c: float = 1.0, cost: float = 0.0) -> None:
        self.c = c
        self.cost = cost

    def fit(self, X: Any, y: Any) -> FixedCostClassifier:
        deadline = time.perf_counter() + self.cost
        while time.perf_counter() < deadline:  # busy, like a real fit, not asleep
            pass
        self.classes_, counts = np.unique(y, return_counts=True)
        self.majority_ = self.classes_[int(np.argmax(counts))]
        return self

    def predict(self, X: Any) -> np.ndarray:
        return np.full(len(X), self.majority_)


@dataclass(frozen=True)
class RoundCost:
    fit_seconds: float
    n_iter: int
    random_wall: float  # median over repetitions
    arqon_wall: float
    rounds: float  # median over repetitions (the schedule depends on n_iter, n_jobs and folds only)

    @property
    def per_extra_round(self) -> float:
        return (self.arqon_wall - self.random_wall) / (self.rounds - 1) if self.rounds > 1 else float("nan")


def measure_round_cost(size: Size, log: Callable[[str], None]) -> list[RoundCost]:
    """Wall time of RandomizedSearchCV's one `evaluate_candidates` call against ArqonSearchCV's rounds on
    the stand-in estimator (digits-sized data, the benchmark's folds and n_jobs): what a round costs when
    every fit costs the same, so the difference is scheduling alone. Every candidate scores the same, so the
    engine sees a plateau; which candidates it picks does not matter here, only how many rounds it makes."""
    data = load_digits(return_X_y=True)
    out = []
    for fit_seconds in size.fixed_costs:
        for n_iter in size.n_iters:
            walls: dict[str, list[float]] = {"RandomizedSearchCV": [], "ArqonSearchCV": []}
            rounds: list[int] = []
            for rep in range(size.round_reps):
                order = list(walls) if rep % 2 == 0 else list(walls)[::-1]  # neither always runs first
                for method in order:
                    wall, n_rounds = _time_stand_in_search(data, method, fit_seconds, n_iter, rep, size)
                    walls[method].append(wall)
                    if method == "ArqonSearchCV":
                        rounds.append(n_rounds)
            cost = RoundCost(
                fit_seconds, n_iter, statistics.median(walls["RandomizedSearchCV"]),
                statistics.median(walls["ArqonSearchCV"]), statistics.median(rounds),
            )  # fmt: skip
            out.append(cost)
            log(
                f"round cost: fit {1000 * fit_seconds:.0f} ms, n_iter={n_iter}: "
                f"random {cost.random_wall:.3f} s, arqon {cost.arqon_wall:.3f} s in {cost.rounds:g} rounds, "
                f"{1000 * cost.per_extra_round:.1f} ms per extra round"
            )
    return out


def _time_stand_in_search(
    data: tuple[np.ndarray, np.ndarray], method: str, fit_seconds: float, n_iter: int, rep: int, size: Size
) -> tuple[float, int]:
    """Seconds of one search's `fit` on the stand-in estimator, and its `evaluate_candidates` calls."""
    X, y = data
    cls = ArqonSearchCV if method == "ArqonSearchCV" else RandomizedSearchCV
    search = cls(
        FixedCostClassifier(cost=fit_seconds), {"c": loguniform(1e-3, 1e3)}, n_iter=n_iter,
        cv=StratifiedKFold(size.cv, shuffle=True, random_state=rep), n_jobs=size.n_jobs,
        random_state=rep, refit=False,
    )  # fmt: skip
    with _count_rounds() as counted:
        start = time.perf_counter()
        search.fit(X, y)
        wall = time.perf_counter() - start
    return wall, counted[0] if method == "ArqonSearchCV" else 1


def _methods(task: Task) -> list[str]:
    methods = ["RandomizedSearchCV", "ArqonSearchCV"]
    if task.optuna_space is not None and _optuna_available():
        methods.append("OptunaSearchCV")
    return methods


def _optuna_available() -> bool:
    try:
        import optuna
        import optuna_integration  # noqa: F401
    except ImportError:
        return False
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return True


def _warm_up(size: Size) -> None:
    """Start the joblib worker pool before timing, so the first timed search does not pay for it."""
    X, y = load_wine(return_X_y=True)
    RandomizedSearchCV(SVC(), {"C": [1.0, 2.0]}, n_iter=2, cv=size.cv, n_jobs=size.n_jobs).fit(X, y)


def run(size: Size, seeds: int, log: Callable[[str], None]) -> dict[tuple[str, int, str], Cell]:
    cells: dict[tuple[str, int, str], Cell] = {}
    _warm_up(size)
    for task in TASKS:
        methods = _methods(task)
        for n_iter in size.n_iters:
            for seed in range(seeds):
                # Rotate the order so no method always runs first (warm caches, thermal state).
                order = methods[seed % len(methods) :] + methods[: seed % len(methods)]
                for method in order:
                    result = _run_once(method, task, n_iter, seed, size)
                    cells.setdefault((task.name, n_iter, method), Cell()).runs.append(result)
                    log(
                        f"{task.name:38s} n_iter={n_iter:3d} seed={seed} {method:19s} "
                        f"cv={result.best_cv:.4f} test={result.held_out:.4f} wall={result.wall:6.2f}s"
                    )
    return cells


def _fmt(value: float | None, digits: int = 4) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


def render(
    cells: dict[tuple[str, int, str], Cell],
    round_costs: list[RoundCost],
    size_name: str,
    size: Size,
    seeds: int,
    command: str,
) -> str:
    lines = [
        "# ArqonSearchCV vs RandomizedSearchCV vs OptunaSearchCV",
        "",
        f"Command: `{command}`",
        "",
        f"Size `{size_name}`: n_iter {list(size.n_iters)}, {seeds} seeds (0..{seeds - 1}), "
        f"{size.cv}-fold stratified shuffled CV (seeded, identical for every method), n_jobs={size.n_jobs}, "
        "75/25 stratified train/test split per seed.",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"{_versions()}; load average at the end {_load()}.",
        "",
        "Best CV = mean over seeds of `best_score_` (accuracy, ± std); held-out = accuracy of"
        " `best_estimator_` on the 25 % test split; wall = seconds of `fit` incl. refit;"
        " fit cost = summed seconds of all CV fits and scorings (what the chosen candidates cost);"
        " sched = wall / (fit cost / n_jobs), the scheduling factor (1 = both cores busy fitting all the"
        " time; it includes the refit and everything outside the fits). ΔCV, wall ratio and sched ratio"
        " compare with RandomizedSearchCV on the same task and n_iter: a wall ratio above the sched ratio"
        " means the chosen candidates were dearer to fit, not that the search wasted time. ΔCV is the mean"
        " of the per-seed differences ± its standard error; rounds = ArqonSearchCV's `evaluate_candidates`"
        " calls (RandomizedSearchCV makes one).",
        "",
        "| task | n_iter | method | best CV | held-out | wall s | fit cost s | sched | ΔCV vs random "
        "| wall / random | sched / random | rounds |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for (task, n_iter, method), cell in cells.items():
        ref = cells.get((task, n_iter, "RandomizedSearchCV"))
        delta, delta_se = _paired(cell, ref) if ref else (float("nan"), float("nan"))
        rounds = cell.mean("rounds")
        ratio = cell.mean("wall") / ref.mean("wall") if ref else float("nan")
        sched = _sched(cell, size.n_jobs)
        sched_ratio = sched / _sched(ref, size.n_jobs) if ref else float("nan")
        score = f"{_fmt(cell.mean('best_cv'))} ± {_fmt(cell.std('best_cv'))}"
        times = f"{_fmt(cell.mean('wall'), 2)} | {_fmt(cell.mean('fit_cost'), 2)} | {_fmt(sched, 2)}"
        lines.append(
            f"| {task} | {n_iter} | {method} | {score} | {_fmt(cell.mean('held_out'))} | {times} "
            f"| {delta:+.4f} ± {_fmt(delta_se)} | {_fmt(ratio, 3)} | {_fmt(sched_ratio, 3)} "
            f"| {_fmt(rounds, 1)} |"
        )
    lines += ["", *_verdicts(cells, size.n_jobs), "", *_round_cost_section(round_costs, size), ""]
    return "\n".join(lines)


def _round_cost_section(costs: list[RoundCost], size: Size) -> list[str]:
    """What one `evaluate_candidates` call costs beyond its fits, measured on the stand-in estimator."""
    if not costs:
        return []
    lines = [
        "### Cost of a round",
        "",
        f"`FixedCostClassifier` (in this script) keeps a core busy for a fixed time per fit, whatever the"
        f" candidate; digits-sized data, {size.cv}-fold CV, n_jobs={size.n_jobs}, no refit, median of"
        f" {size.round_reps} repetition(s). Both searches fit the same number of times at the same cost, so"
        " the difference is what ArqonSearchCV's extra `evaluate_candidates` calls cost: joblib's dispatch,"
        " its result loop (which polls every 10 ms) and, with fits that take time, the wait at the end of"
        " each round for the slowest fit while the other worker idles.",
        "",
        "| fit | n_iter | RandomizedSearchCV s | ArqonSearchCV s | rounds | per extra round |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for c in costs:
        lines.append(
            f"| {1000 * c.fit_seconds:.0f} ms | {c.n_iter} | {c.random_wall:.3f} | {c.arqon_wall:.3f} "
            f"| {c.rounds:g} | {_fmt(1000 * c.per_extra_round, 1)} ms |"
        )
    measured = [c.per_extra_round for c in costs if c.per_extra_round > 0]
    if not measured:
        return [*lines, "", "The difference is within the noise at this size: no cost per round measured."]
    lines += [
        "",
        f"A round costs about {1000 * min(measured):.0f} ms or more here. Wall time within 5 % of"
        " RandomizedSearchCV's needs the extra rounds together to cost under 5 % of its wall time (the"
        ' "allows" figure in the targets above): a search that learns between rounds cannot meet that'
        " where the figure is below this cost, unless the candidates it picks are cheaper to fit.",
    ]
    return lines


def _paired(cell: Cell, ref: Cell) -> tuple[float, float]:
    """Mean and standard error of the per-seed difference of best CV scores (same seeds, same folds)."""
    diffs = [a.best_cv - b.best_cv for a, b in zip(cell.runs, ref.runs, strict=False)]
    if len(diffs) < 2:
        return (diffs[0] if diffs else float("nan")), float("nan")
    return statistics.fmean(diffs), statistics.stdev(diffs) / len(diffs) ** 0.5


def _round_cost(cell: Cell, ref: Cell, n_jobs: int) -> float:
    """Wall seconds outside the fits (wall - fit cost / n_jobs) that each extra round adds, compared with
    RandomizedSearchCV's single round; the candidates' own fit costs cancel out."""
    rounds = [r.rounds for r in cell.runs if r.rounds is not None]
    if not rounds or statistics.fmean(rounds) <= 1:
        return float("nan")
    outside = cell.mean("wall") - cell.mean("fit_cost") / n_jobs
    ref_outside = ref.mean("wall") - ref.mean("fit_cost") / n_jobs
    return (outside - ref_outside) / (statistics.fmean(rounds) - 1)


def _allowed_per_round(cell: Cell, ref: Cell) -> float:
    """Seconds each extra round may cost for the wall time to stay within 5 % of RandomizedSearchCV's, if
    the candidates cost what random ones do."""
    rounds = cell.mean("rounds")
    return 0.05 * ref.mean("wall") / (rounds - 1) if rounds > 1 else float("nan")


def _sched(cell: Cell, n_jobs: int) -> float:
    return cell.mean("wall") / (cell.mean("fit_cost") / n_jobs)


def _load() -> str:
    try:
        return ", ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def _verdicts(cells: dict[tuple[str, int, str], Cell], n_jobs: int) -> list[str]:
    """The issue's targets, checked on the measured means (not asserted: the table is the result)."""
    out = ["Targets (ArqonSearchCV vs RandomizedSearchCV, same task and n_iter):", ""]
    for (task, n_iter, method), cell in cells.items():
        if method != "ArqonSearchCV":
            continue
        ref = cells[(task, n_iter, "RandomizedSearchCV")]
        delta, delta_se = _paired(cell, ref)
        score_ok = delta >= 0
        within_noise = abs(delta) < 2 * delta_se
        ratio = cell.mean("wall") / ref.mean("wall")
        sched_ratio = _sched(cell, n_jobs) / _sched(ref, n_jobs)
        out.append(
            f"- {task}, n_iter={n_iter}: mean best CV {'≥' if score_ok else '<'} random "
            f"({'met' if score_ok else 'MISSED'}; ΔCV {delta:+.4f} ± {delta_se:.4f}"
            f"{', within 2 standard errors of 0' if within_noise else ''}); wall ratio {ratio:.3f} "
            f"({'met' if ratio <= 1.05 else 'MISSED'}: target ≤ 1.05); scheduling ratio {sched_ratio:.3f}; "
            f"{_fmt(cell.mean('rounds'), 1)} rounds, "
            f"{_fmt(1000 * _round_cost(cell, ref, n_jobs), 0)} ms outside the fits per extra round "
            f"(5 % of RandomizedSearchCV's wall allows {_fmt(1000 * _allowed_per_round(cell, ref), 1)} ms)"
        )
    return out


def _versions() -> str:
    import sklearn

    parts = [f"scikit-learn {sklearn.__version__}"]
    try:
        import optuna

        parts.append(f"optuna {optuna.__version__}")
    except ImportError:
        pass
    return ", ".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--seeds", type=int, default=None, help="override the number of seeds of --size")
    parser.add_argument("--out", type=Path, default=None, help="Markdown report path (default: by size)")
    args = parser.parse_args(argv)
    # Smoke runs write under report/smoke/ (git-ignored) so they never overwrite the full-size report.
    args.out = args.out or (REPORT if args.size == "full" else REPORT.parent / args.size / REPORT.name)
    size = SIZES[args.size]
    seeds = args.seeds or size.seeds
    given = list(sys.argv[1:] if argv is None else argv)
    command = shlex.join(["python", "benchmarks/sklearn_search.py", *given])
    print(f"command: {command}", flush=True)
    logging.getLogger("optuna").setLevel(logging.WARNING)
    with warnings.catch_warnings():
        # Optuna marks OptunaSearchCV experimental; HGB/SVC convergence chatter is not the subject here.
        warnings.simplefilter("ignore")
        cells = run(size, seeds, lambda line: print(line, flush=True))
        round_costs = measure_round_cost(size, lambda line: print(line, flush=True))
    report = render(cells, round_costs, args.size, size, seeds, command)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report, encoding="utf-8")
    print(report)
    print(f"report written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
