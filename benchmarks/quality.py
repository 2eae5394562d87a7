"""Optimization quality: ArqonHPO (strategy="auto") against peers measured in the same run.

Peers: random search, Optuna TPESampler() (default, seeded), Optuna CmaEsSampler, hyperopt TPE (if
importable). Problems: the shifted / rotated suite of benchmarks/functions.py (optimum off-centre, offset per
seed), mixed integer/categorical problems and real scikit-learn CV tasks (full size).

Every optimizer is driven by the same ask -> evaluate -> tell loop (hyperopt by its own fmin). ArqonHPO is
given its budget (it plans its probe phase from it), so it runs once per budget; the peers do not use the
budget and run once at the largest budget, read at each smaller budget.

Reported: median regret (value - known optimum; CV error for ML tasks) per problem and budget, mean rank per
budget (1 = best; ties share their average rank), decision time per trial (wall time outside the objective),
and whether ArqonHPO's median is never worse than random search's. Cells where it is worse are rerun by
ArqonHPO and random search alone on 30 seeds (medium and full sizes), because a 5-seed median of random
search is itself noisy.

Usage::

    python -m benchmarks.quality --size smoke   # ~1 minute
    python -m benchmarks.quality --size medium  # 2/5/10-D, budgets to 1000, 3 seeds: ~25 min
    python -m benchmarks.quality --size full    # 2/5/10/20-D, budgets to 1000, 5 seeds: ~3 h
    python -m benchmarks.quality --size full --reuse-peers  # peers from the cache: minutes once it is filled
    python -m benchmarks.quality --size full --reuse-peers --only svc-digits,mixed-quadratic --out /tmp/q
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import functions
from benchmarks._common import (
    Section,
    Trace,
    average_ranks,
    describe_error,
    fmt_num,
    fmt_ratio,
    fmt_seconds,
    has_module,
    is_interrupt,
    md_image,
    md_table,
    median,
    progress,
    pyplot,
    quiet_libraries,
    report_dir,
    run_optimizer,
    save_figure,
    standalone,
)
from benchmarks.peer_cache import PeerCache

ARQON = "ArqonHPO"
RANDOM = "random"


@dataclass(frozen=True)
class Preset:
    problems: tuple[str, ...]
    budgets: tuple[int, ...]
    ml_budgets: tuple[int, ...]
    seeds: int
    plot_problems: tuple[str, ...]
    # Cells where ArqonHPO's median is worse than random's are rerun, by these two alone, on this many seeds.
    recheck_seeds: int = 0


PRESETS = {
    "smoke": Preset(
        problems=("sphere-2d", "rastrigin-5d", "rosenbrock-5d", "noisy-sphere-5d", "mixed-quadratic"),
        budgets=(30, 100),
        ml_budgets=(),
        seeds=2,
        plot_problems=("rosenbrock-5d", "rastrigin-5d"),
    ),
    # The full suite without 20-D and ML tasks, 3 seeds: about 25 minutes on 2 cores.
    "medium": Preset(
        problems=tuple(functions.suite_names(dims=(2, 5, 10), ml=False)),
        budgets=(50, 200, 1000),
        ml_budgets=(),
        seeds=3,
        plot_problems=("rosenbrock-10d", "rastrigin-10d", "ellipsoid-5d", "mixed-quadratic"),
        recheck_seeds=30,
    ),
    "full": Preset(
        problems=tuple(functions.suite_names()),
        budgets=(50, 200, 1000),
        ml_budgets=(50,),
        seeds=5,
        plot_problems=("rosenbrock-10d", "rastrigin-10d", "ellipsoid-5d", "mixed-quadratic"),
        recheck_seeds=30,
    ),
}


def optimizers() -> list[str]:
    names = [ARQON, RANDOM, "Optuna TPE", "Optuna CMA-ES"]
    if has_module("hyperopt"):
        names.append("hyperopt TPE")
    return names


# ---------------------------------------------------------------------------------------------- running


@dataclass
class Cell:
    """Results of one optimizer on one problem instance (seed) at one budget."""

    problem: str
    optimizer: str
    seed: int
    budget: int
    regret: float
    decision_per_trial: float  # seconds
    out_of_bounds: int
    info: dict


def budgets_for(problem: functions.Problem, preset: Preset) -> tuple[int, ...]:
    return preset.ml_budgets if problem.expensive else preset.budgets


def collect(
    preset: Preset, opts: Sequence[str], errors: list[str], peers: PeerCache | None = None
) -> tuple[list[Cell], dict[tuple[str, str, int], Trace]]:
    """Runs everything; returns cells and the largest-budget trace per (problem, optimizer, seed). With
    `peers`, a peer's run is taken from that cache when it holds it (ArqonHPO always runs)."""
    jobs = []
    for name in preset.problems:
        probe = functions.make(name, 0)
        budgets = budgets_for(probe, preset)
        if not budgets:
            continue
        for seed in range(preset.seeds):
            for opt in opts:
                # ArqonHPO plans with its budget: a run per budget. Peers ignore it: one run read at prefixes.
                for b in budgets if opt == ARQON else (max(budgets),):
                    jobs.append((name, seed, opt, b, budgets))
    cells: list[Cell] = []
    traces: dict[tuple[str, str, int], Trace] = {}
    bar = progress(len(jobs), "quality")
    for name, seed, opt, budget, budgets in jobs:
        problem = functions.make(name, seed)
        bar.set_postfix_str(f"{name} {opt} b={budget}")
        try:
            trace = run_or_reuse(opt, problem, seed, budget, peers)
        except BaseException as exc:  # an engine panic is a finding to report, not a reason to stop
            if is_interrupt(exc):
                raise
            errors.append(f"{opt} on {name} (seed {seed}, budget {budget}): {describe_error(exc)}")
            bar.update()
            continue
        reads = (budget,) if opt == ARQON else budgets
        for b in reads:
            cells.append(
                Cell(name, opt, seed, b, problem.regret(trace.best_at(b)),
                     trace.decision_time / max(trace.n, 1), trace.out_of_bounds, trace.info)
            )  # fmt: skip
        if budget == max(budgets):
            traces[(name, opt, seed)] = trace
        bar.update()
    bar.close()
    return cells, traces


def run_or_reuse(
    opt: str, problem: functions.Problem, seed: int, budget: int, peers: PeerCache | None
) -> Trace:
    if peers is None or opt == ARQON:
        return run_optimizer(opt, problem, seed, budget)
    trace = peers.load(opt, problem.name, seed, budget)
    if trace is None:
        trace = run_optimizer(opt, problem, seed, budget)
        peers.store(trace, budget)
    return trace


# ---------------------------------------------------------------------------------------------- analysis


def index(cells: list[Cell]) -> dict[tuple[str, int, str], list[Cell]]:
    """(problem, budget, optimizer) -> cells over seeds."""
    out: dict[tuple[str, int, str], list[Cell]] = defaultdict(list)
    for c in cells:
        out[(c.problem, c.budget, c.optimizer)].append(c)
    return out


def mean_ranks(cells: list[Cell], opts: Sequence[str]) -> dict[int, dict[str, float]]:
    """Mean rank per budget over every (problem, seed) in which all optimizers ran."""
    groups: dict[tuple[str, int, int], dict[str, float]] = defaultdict(dict)
    for c in cells:
        groups[(c.problem, c.seed, c.budget)][c.optimizer] = c.regret
    sums: dict[int, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for (_, _, budget), by_opt in groups.items():
        if set(by_opt) != set(opts):
            continue
        for opt, r in zip(opts, average_ranks([by_opt[o] for o in opts]), strict=False):
            sums[budget][opt].append(r)
    return {b: {o: sum(v) / len(v) for o, v in d.items()} for b, d in sorted(sums.items())}


def never_worse_than_random(
    idx: dict[tuple[str, int, str], list[Cell]],
) -> list[tuple[str, int, float, float, bool]]:
    rows = []
    for (problem, budget, opt), cs in sorted(idx.items()):
        if opt != ARQON:
            continue
        arq = median(c.regret for c in cs)
        rnd = median(c.regret for c in idx.get((problem, budget, RANDOM), []))
        rows.append((problem, budget, arq, rnd, arq <= rnd))
    return rows


@dataclass(frozen=True)
class Recheck:
    problem: str
    budget: int
    seeds: int
    arqon_median: float
    random_median: float
    arqon_better: int  # seeds on which ArqonHPO's regret is strictly lower


def recheck(problem: str, budget: int, seeds: int) -> Recheck:
    """Reruns one cell with ArqonHPO and random search only, on `seeds` seeds. With 5 seeds the median of
    random search is itself noisy (a lucky draw decides it); both optimizers are cheap enough to settle
    whether a failure is real."""
    regrets: dict[str, list[float]] = {ARQON: [], RANDOM: []}
    for seed in range(seeds):
        for opt, out in regrets.items():
            instance = functions.make(problem, seed)
            out.append(instance.regret(run_optimizer(opt, instance, seed, budget).best_at(budget)))
    better = sum(a < r for a, r in zip(regrets[ARQON], regrets[RANDOM], strict=True))
    return Recheck(problem, budget, seeds, median(regrets[ARQON]), median(regrets[RANDOM]), better)


def recheck_failures(failures: list[tuple[str, int, float, float, bool]], seeds: int) -> list[Recheck]:
    """Rechecks the failing cells of cheap problems (ML tasks would take hours)."""
    if seeds <= 0:
        return []
    cheap = [(p, b) for p, b, *_ in failures if not functions.make(p, 0).expensive]
    return [recheck(p, b, seeds) for p, b in cheap]


def recheck_text(rows: list[Recheck]) -> str:
    if not rows:
        return ""
    return (
        f"Rechecked on {rows[0].seeds} seeds, ArqonHPO and random search only: "
        + "; ".join(
            f"{r.problem} @ {r.budget}: median {fmt_num(r.arqon_median)} vs {fmt_num(r.random_median)}, "
            f"ArqonHPO better on {r.arqon_better} of {r.seeds} seeds"
            for r in rows
        )
        + "."
    )


# ---------------------------------------------------------------------------------------------- report


def _cell_text(cs: list[Cell]) -> str:
    vals = [c.regret for c in cs]
    if len(vals) == 1:
        return fmt_num(vals[0])
    return f"{fmt_num(median(vals))} ({fmt_num(min(vals))}-{fmt_num(max(vals))})"


def regret_tables(
    idx: dict[tuple[str, int, str], list[Cell]], opts: Sequence[str], problems: Sequence[str]
) -> str:
    budgets = sorted({b for (_, b, _) in idx})
    parts = []
    for budget in budgets:
        rows = []
        for p in problems:
            if (p, budget, ARQON) not in idx:
                continue
            arq = median(c.regret for c in idx[(p, budget, ARQON)])
            cells = [_cell_text(idx.get((p, budget, o), [])) for o in opts]
            meds = {o: median(c.regret for c in idx.get((p, budget, o), [])) for o in opts}
            best = min(opts, key=lambda o: math.inf if math.isnan(meds[o]) else meds[o])
            strategies = sorted({str(c.info.get("strategy")) for c in idx[(p, budget, ARQON)]})
            rnd = median(c.regret for c in idx.get((p, budget, RANDOM), []))
            rows.append([p, *cells, best, "yes" if arq <= rnd else "**NO**", "/".join(strategies)])
        if rows:
            headers = ["problem", *opts, "best median", "ArqonHPO ≤ random", "ArqonHPO strategy"]
            parts.append(
                f"#### Budget {budget}: median regret (min-max over seeds)\n\n" + md_table(headers, rows)
            )
    return "\n\n".join(parts)


def rank_table(ranks: dict[int, dict[str, float]], opts: Sequence[str]) -> str:
    headers = ["optimizer", *[f"budget {b}" for b in ranks]]
    rows = [[o, *[f"{ranks[b].get(o, math.nan):.2f}" for b in ranks]] for o in opts]
    return md_table(headers, rows)


def decision_table(cells: list[Cell], opts: Sequence[str]) -> str:
    """Median decision time per trial at the largest budget of each problem, grouped by dimension."""
    groups: dict[tuple[str, str], list[float]] = defaultdict(list)
    top: dict[str, int] = {}
    for c in cells:
        top[c.problem] = max(top.get(c.problem, 0), c.budget)
    for c in cells:
        if c.budget == top[c.problem]:
            dim = functions.make(c.problem, 0).dim
            groups[(f"{dim}-D", c.optimizer)].append(c.decision_per_trial)
    dims = sorted({g for g, _ in groups}, key=lambda s: int(s.split("-")[0]))
    rows = []
    for o in opts:
        row = [o]
        for d in dims:
            v = median(groups.get((d, o), []))
            a = median(groups.get((d, ARQON), []))
            row.append(f"{fmt_seconds(v)} ({fmt_ratio(v / a)})" if a else fmt_seconds(v))
        rows.append(row)
    return md_table(["optimizer", *[f"{d} (x ArqonHPO)" for d in dims]], rows)


def plot_problem(
    problem: str, traces: dict[tuple[str, str, int], Trace], opts: Sequence[str], out: Path
) -> list[Path]:
    plt = pyplot()
    paths = []
    f_opt = {s: functions.make(problem, s).f_opt or 0.0 for (p, _, s) in traces if p == problem}
    for axis in ("evaluations", "wall time"):
        fig, ax = plt.subplots(figsize=(6.4, 4.2))
        for opt in opts:
            runs = [t for (p, o, _), t in traces.items() if p == problem and o == opt]
            if not runs:
                continue
            n = min(t.n for t in runs)
            curves = [[v - f_opt[t.seed] for v in t.incumbent_true[:n]] for t in runs]
            med = [median(col) for col in zip(*curves, strict=False)]
            if axis == "evaluations":
                xs: list[float] = list(range(1, n + 1))
            else:
                xs = [median(col) for col in zip(*(t.elapsed[:n] for t in runs), strict=False)]
            ax.plot(xs, [max(m, 1e-12) for m in med], label=opt)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("evaluations" if axis == "evaluations" else "wall time incl. objective (s, median)")
        ax.set_ylabel("best-so-far regret (median over seeds)")
        ax.set_title(f"{problem}: best-so-far vs {axis}")
        ax.legend(fontsize=8)
        slug = "evals" if axis == "evaluations" else "time"
        paths.append(save_figure(fig, out / "plots" / f"quality_{problem}_{slug}.png"))
    return paths


def render(cells: list[Cell], traces: dict, preset: Preset, opts: Sequence[str], out: Path) -> Section:
    idx = index(cells)
    ranks = mean_ranks(cells, opts)
    nwr = never_worse_than_random(idx)
    failures = [r for r in nwr if not r[4]]
    rechecked = recheck_failures(failures, preset.recheck_seeds)
    oob = sum(c.out_of_bounds for c in cells)
    plots: list[Path] = []
    for p in preset.plot_problems:
        if any(k[0] == p for k in traces):
            plots += plot_problem(p, traces, opts, out)
    md = [
        f"Optimizers: {', '.join(opts)}. Problems: {len({c.problem for c in cells})}; seeds: {preset.seeds}; "
        f"budgets: {', '.join(map(str, preset.budgets))}"
        + (f" (ML tasks: {', '.join(map(str, preset.ml_budgets))})" if preset.ml_budgets else "")
        + ". Regret = best true value found - known optimum (ML tasks: CV error). Noisy problems: the true "
        "value of the point with the best *observed* value.",
        "",
        "### Mean rank per budget (1 = best; ties averaged; over every problem x seed)",
        "",
        rank_table(ranks, opts),
        "",
        "### Decision time per trial (median over runs at each problem's largest budget; wall time "
        "outside the objective, framework included)",
        "",
        decision_table(cells, opts),
        "",
        "### Never worse than random search? (ArqonHPO median regret ≤ random's, per problem and budget)",
        "",
        f"{len(nwr) - len(failures)} of {len(nwr)} problem x budget cells hold."
        + (" Failures: " + "; ".join(f"{p} @ {b}: {fmt_num(a)} vs {fmt_num(r)}" for p, b, a, r, _ in failures)
           if failures else ""),
        "",
        recheck_text(rechecked),
        "",
        f"Parameters out of bounds across all runs: {oob}.",
        "",
        "### Median regret per problem",
        "",
        regret_tables(idx, opts, list(dict.fromkeys(c.problem for c in cells))),
        "",
    ]  # fmt: skip
    if plots:
        md += ["### Plots", ""] + [md_image(p, out, p.stem) for p in plots]
    data = {"mean_ranks": ranks, "never_worse_than_random": nwr, "rechecked": rechecked, "out_of_bounds": oob}
    return Section("quality", "Optimization quality vs peers", "\n".join(md), plots, data)


def run(size: str, out: Path, reuse_peers: bool = False, only: str | None = None) -> Section:
    quiet_libraries()
    start = time.perf_counter()
    preset = PRESETS[size]
    if only:
        if out.resolve() == report_dir(size).resolve():
            raise SystemExit("--only: give --out, so a partial run does not overwrite the suite's report")
        preset = restrict(preset, only)
    opts = optimizers()
    errors: list[str] = []
    peers = PeerCache() if reuse_peers else None
    cells, traces = collect(preset, opts, errors, peers)
    section = render(cells, traces, preset, opts, out)
    if peers is not None and peers.reused:
        section.markdown = peers.summary() + "\n\n" + section.markdown
    if errors:
        section.markdown += "\n\n### Errors (runs missing above)\n\n" + "\n".join(f"- {e}" for e in errors)
    section.data["errors"] = errors
    section.data["cells"] = cells
    section.seconds = time.perf_counter() - start
    return section


def restrict(preset: Preset, only: str) -> Preset:
    """The preset on the comma-separated problems of `only`, in that order (their report covers only them).

    With --reuse-peers, a second process on other problems fills the peer cache beside a full run, which
    reads what it finds there when it gets to them: the full suite's peers on two cores at once."""
    names = list(dict.fromkeys(name.strip() for name in only.split(",") if name.strip()))
    unknown = sorted(set(names) - set(preset.problems))
    if unknown or not names:
        raise SystemExit(f"--only: not in this size's suite: {', '.join(unknown) or repr(only)}")
    plots = tuple(p for p in preset.plot_problems if p in names)
    return dataclasses.replace(preset, problems=tuple(names), plot_problems=plots)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--reuse-peers",
        action="store_true",
        help="take the peers' seeded runs from benchmarks/report/cache/ if there (see peer_cache.py)",
    )
    parser.add_argument(
        "--only",
        metavar="PROBLEMS",
        help="comma-separated problem names to run, in that order, instead of the whole suite",
    )


def main(argv: Sequence[str] | None = None) -> int:
    return standalone(run, __doc__, argv, sizes=tuple(PRESETS), add_arguments=add_arguments)


if __name__ == "__main__":
    raise SystemExit(main())
