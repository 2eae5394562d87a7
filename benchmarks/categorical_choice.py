"""Does the search find the best categorical choice? Mixed-quadratic, one seed per problem instance.

`mixed-quadratic` (benchmarks/functions.py) adds a seeded penalty of 0, 0.5, 1, 2 or 4 per activation to a
smooth function of two floats and two ints, so the activation the probe happens to favour differs per seed.
A search that settles on the first activation that did well ends 0.5 or more above the optimum however well it
tunes the rest. Reported per budget: how many seeds end with their best trial on a worse activation than the
best one, and the median and mean regret. Engine runs use `ArqonSolver` with the budget; the Optuna rows run
`ArqonSampler` and Optuna's default `TPESampler` (same seed) for the largest Optuna budget and read the
smaller ones as prefixes.

Usage::

    python -m benchmarks.categorical_choice --size smoke   # 4 seeds: seconds
    python -m benchmarks.categorical_choice --size full    # 40 seeds: ~3 minutes
"""

from __future__ import annotations

import math
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import functions
from benchmarks._common import ArqonAskTell, Section, md_table, progress, quiet_libraries, standalone

PROBLEM = "mixed-quadratic"


@dataclass(frozen=True)
class Preset:
    seeds: int
    engine_budgets: tuple[int, ...]
    optuna_budgets: tuple[int, ...]


PRESETS = {
    "smoke": Preset(seeds=4, engine_budgets=(50, 150), optuna_budgets=(50,)),
    "full": Preset(seeds=40, engine_budgets=(150, 300, 1000), optuna_budgets=(100, 200)),
}


@dataclass(frozen=True)
class Outcome:
    """Best trial of one run: its regret and whether it holds the best activation."""

    regret: float
    best_choice: bool


def engine_run(problem: functions.Problem, seed: int, budget: int) -> Outcome:
    solver = ArqonAskTell(problem.space, seed, budget)
    best: tuple[float, dict[str, Any]] = (math.inf, {})
    while (params := solver.ask()) is not None:
        value = problem.evaluate(params)
        solver.tell(value)
        best = min(best, (value, params), key=lambda b: b[0])
    return outcome(problem, *best)


def optuna_runs(problem: functions.Problem, seed: int, sampler: str, budgets: Sequence[int]) -> list[Outcome]:
    """One study to the largest budget; the best trial within each budget's prefix."""
    import optuna
    from arqonhpo.optuna import ArqonSampler

    from benchmarks.parallel_workers import suggest

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    chosen = ArqonSampler(seed=seed) if sampler == "ArqonSampler" else optuna.samplers.TPESampler(seed=seed)
    study = optuna.create_study(sampler=chosen)
    study.optimize(lambda trial: problem.evaluate(suggest(trial, problem.space)), n_trials=max(budgets))
    trials = study.trials
    out = []
    for budget in budgets:
        best = min(trials[:budget], key=lambda t: t.value if t.value is not None else math.inf)
        out.append(outcome(problem, float(best.value), best.params))
    return out


def outcome(problem: functions.Problem, value: float, params: dict[str, Any]) -> Outcome:
    assert problem.x_opt is not None
    return Outcome(problem.regret(value), params.get("act") == problem.x_opt["act"])


def run(size: str, out: Path) -> Section:
    quiet_libraries()
    preset = PRESETS[size]
    rows: dict[tuple[str, int], list[Outcome]] = {}
    bar = progress(preset.seeds, PROBLEM)
    for seed in range(preset.seeds):
        problem = functions.make(PROBLEM, seed)
        for budget in preset.engine_budgets:
            rows.setdefault(("ArqonSolver (engine)", budget), []).append(engine_run(problem, seed, budget))
        for sampler in ("ArqonSampler", "TPESampler"):
            runs = optuna_runs(problem, seed, sampler, preset.optuna_budgets)
            for budget, result in zip(preset.optuna_budgets, runs, strict=True):
                rows.setdefault((f"{sampler} (Optuna)", budget), []).append(result)
        bar.update()
    bar.close()
    title = "Finding the best categorical choice"
    return Section("categorical_choice", title, render(rows, preset), data={"rows": rows})


def render(rows: dict[tuple[str, int], list[Outcome]], preset: Preset) -> str:
    header = ["optimizer", "budget", "seeds ending on a worse activation", "median regret", "mean regret"]
    table = []
    for (who, budget), runs in rows.items():
        regrets = [r.regret for r in runs]
        missed = sum(not r.best_choice for r in runs)
        table.append(
            [who, str(budget), f"{missed} / {len(runs)}", f"{statistics.median(regrets):.3g}",
             f"{statistics.fmean(regrets):.3g}"]
        )  # fmt: skip
    intro = (
        f"Problem `{PROBLEM}`, seeds 0..{preset.seeds - 1} (the problem instance and the optimizer's seed)."
    )
    return "\n".join([intro, "", md_table(header, table)])


def main(argv: Sequence[str] | None = None) -> int:
    return standalone(run, __doc__, argv, sizes=tuple(PRESETS))


if __name__ == "__main__":
    raise SystemExit(main())
