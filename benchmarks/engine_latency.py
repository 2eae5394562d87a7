"""Engine decision latency: ask + tell round trip per trial, by API, strategy, dimension and history size.

For each strategy (probe-only, TPE, TPE with one trial never told, CMA-ES, Nelder-Mead, and auto) and
dimension (2-D, 10-D), one solver is filled with history (a shifted sphere, asked and told in batches so
filling stays affordable) up to each checkpoint, then a window of trials is timed one at a time:

* fast API: ``ask_trials(1)`` -> objective (not timed) -> ``tell_trial(trial, value)``;
* JSON API: ``ask(1)`` -> objective (not timed) -> ``tell(json.dumps([{"params", "value", "cost"}]))``.

Both windows run on the same solver (built from the JSON config so both faces apply). The floor is a plain
Python loop doing the least any caller does per trial: build the same param dict with ``random.uniform`` and
``json.dumps`` the result. Figures are medians over the window; a ratio "x floor" is median / floor median.

Usage::

    python -m benchmarks.engine_latency --size smoke   # histories 100 and 1 000, 40-trial windows: ~5 s
    python -m benchmarks.engine_latency --size full    # histories 100 ... 10 000, 1 000-trial windows: ~1 min
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from arqonhpo import ArqonSolver

from benchmarks import functions
from benchmarks._common import (
    Section,
    describe_error,
    fmt_ratio,
    fmt_seconds,
    is_interrupt,
    md_image,
    md_table,
    median,
    progress,
    pyplot,
    save_figure,
    standalone,
)

STRATEGIES = ("probe", "tpe", "tpe-lost", "cmaes", "nelder_mead", "auto")
# "tpe-lost": TPE whose very first trial is asked and never told, as when a worker dies. The pending trial
# stays in the history for good; an ask must not walk back to it, so its cost must stay as flat as "tpe"'s.
LOST_SUFFIX = "-lost"
FILL_BATCH = 64  # history is filled in batches: a 10 000-trial TPE history one ask at a time takes minutes


@dataclass(frozen=True)
class Preset:
    dims: tuple[int, ...]
    checkpoints: tuple[int, ...]
    window: int
    floor_reps: int


PRESETS = {
    "smoke": Preset(dims=(2, 10), checkpoints=(100, 1000), window=40, floor_reps=2000),
    "full": Preset(dims=(2, 10), checkpoints=(100, 300, 1000, 3000, 10000), window=1000, floor_reps=20000),
}
TABLE_HISTORIES = (100, 1000, 10000)


@dataclass
class Row:
    strategy: str
    dim: int
    history: int
    phase: str
    fast_ask: list[float]
    fast_tell: list[float]
    fast_round: list[float]
    json_round: list[float]


def json_config(dim: int, strategy: str, seed: int) -> str:
    bounds = {f"x{i}": {"min": -functions.BOX, "max": functions.BOX} for i in range(dim)}
    return json.dumps({"seed": seed, "budget": None, "strategy": strategy, "bounds": bounds})


def fill(solver: ArqonSolver, problem: functions.Problem, n: int) -> None:
    while n > 0:
        trials = solver.ask_trials(min(FILL_BATCH, n))
        solver.tell_trials([(t, problem.evaluate(t.params)) for t in trials])
        n -= len(trials)


def time_fast(solver: ArqonSolver, problem: functions.Problem, window: int) -> tuple[list[float], ...]:
    ask, tell, both = [], [], []
    clock = time.perf_counter
    for _ in range(window):
        t0 = clock()
        trial = solver.ask_trials(1)[0]
        t1 = clock()
        value = problem.evaluate(trial.params)
        t2 = clock()
        solver.tell_trial(trial, value)
        t3 = clock()
        ask.append(t1 - t0)
        tell.append(t3 - t2)
        both.append(t1 - t0 + t3 - t2)
    return ask, tell, both


def time_json(solver: ArqonSolver, problem: functions.Problem, window: int) -> list[float]:
    both = []
    clock = time.perf_counter
    for _ in range(window):
        t0 = clock()
        batch = solver.ask(1)
        t1 = clock()
        assert batch is not None
        params = batch[0]
        value = problem.evaluate(params)
        t2 = clock()
        solver.tell(json.dumps([{"params": params, "value": value, "cost": 1.0}]))
        t3 = clock()
        both.append(t1 - t0 + t3 - t2)
    return both


def time_floor(dim: int, reps: int) -> list[float]:
    """Per trial: the same param dict built with random.uniform, and the result serialised with json.dumps."""
    names = [f"x{i}" for i in range(dim)]
    lo, hi = -functions.BOX, functions.BOX
    rng = random.Random(0)
    out = []
    clock = time.perf_counter
    for _ in range(reps):
        t0 = clock()
        params = {n: rng.uniform(lo, hi) for n in names}
        json.dumps([{"params": params, "value": 1.0, "cost": 1.0}])
        out.append(clock() - t0)
    return out


def measure_one(strategy: str, dim: int, preset: Preset, bar: Any) -> list[Row]:
    problem = functions.continuous("sphere", dim, seed=0)
    solver = ArqonSolver(json_config(dim, strategy.removesuffix(LOST_SUFFIX), seed=0))
    if strategy.endswith(LOST_SUFFIX):
        solver.ask_trials(1)  # never told
    rows = []
    for checkpoint in preset.checkpoints:
        bar.set_postfix_str(f"{strategy} {dim}-D @ {checkpoint}")
        fill(solver, problem, checkpoint - solver.n_told)
        label = f"{solver.phase}/{solver.strategy}"
        ask, tell, both = time_fast(solver, problem, preset.window)
        json_both = time_json(solver, problem, preset.window)
        if f"{solver.phase}/{solver.strategy}" != label:  # the auto-pilot switched during the window
            label += f" -> {solver.strategy}"
        rows.append(Row(strategy, dim, checkpoint, label, ask, tell, both, json_both))
        bar.update()
    return rows


def measure(preset: Preset) -> tuple[list[Row], dict[int, float], list[str]]:
    floors = {d: median(time_floor(d, preset.floor_reps)) for d in preset.dims}
    rows: list[Row] = []
    errors: list[str] = []
    bar = progress(len(STRATEGIES) * len(preset.dims) * len(preset.checkpoints), "engine latency")
    for strategy in STRATEGIES:
        for dim in preset.dims:
            try:
                rows += measure_one(strategy, dim, preset, bar)
            except BaseException as exc:  # an engine panic is a finding to report, not a reason to stop
                if is_interrupt(exc):
                    raise
                errors.append(f"strategy={strategy!r}, {dim}-D: {describe_error(exc)}")
    bar.close()
    return rows, floors, errors


# ---------------------------------------------------------------------------------------------- report


def _rng(xs: list[float]) -> str:
    return f"{fmt_seconds(min(xs))}-{fmt_seconds(max(xs))}"


def latency_table(rows: list[Row], floors: dict[int, float], histories: Sequence[int]) -> str:
    out = []
    for r in rows:
        if r.history not in histories:
            continue
        fast, js, floor = median(r.fast_round), median(r.json_round), floors[r.dim]
        out.append([
            r.strategy, f"{r.dim}-D", f"{r.history:,}", r.phase,
            fmt_seconds(fast), _rng(r.fast_round),
            fmt_seconds(median(r.fast_ask)), fmt_seconds(median(r.fast_tell)),
            fmt_seconds(js), fmt_ratio(fast / floor), fmt_ratio(js / floor),
        ])  # fmt: skip
    headers = [
        "strategy", "dim", "history", "phase/strategy", "fast round trip", "fast min-max", "fast ask",
        "fast tell", "JSON round trip", "fast / floor", "JSON / floor",
    ]  # fmt: skip
    return md_table(headers, out, "llrl" + "r" * 7)


def _find(rows: list[Row], strategy: str, dim: int, history: int) -> Row | None:
    return next((r for r in rows if (r.strategy, r.dim, r.history) == (strategy, dim, history)), None)


def targets(rows: list[Row], preset: Preset) -> list[str]:
    """The stated targets, reported (never asserted): measured value and whether it is met."""
    top = max(preset.checkpoints)
    mid = 1000 if 1000 in preset.checkpoints and top > 1000 else min(preset.checkpoints)
    note = "" if top >= 10000 else f" (measured at {top:,}: the target is stated at 10 000; run --size full)"
    lines = []
    for dim in preset.dims:
        r = _find(rows, "probe", dim, top)
        if r:
            v = median(r.fast_round)
            lines.append(f"- probe round trip ≤ 5 µs via the fast API, {dim}-D @ {top:,}: "
                         f"**{'met' if v <= 5e-6 else 'NOT met'}** ({fmt_seconds(v)}){note}")  # fmt: skip
        lines += _flat(rows, "probe", dim, (mid, top), "fast_round", "probe")
    for strategy, label in (("tpe", "TPE"), ("tpe-lost", "TPE with a trial never told")):
        r = _find(rows, strategy, 10, top)
        if r:
            v = median(r.fast_ask)
            met = "met" if v <= 200e-6 else "NOT met"
            lines.append(f"- {label}: ask ≤ 200 µs at 10 000 history in 10-D: **{met}** "
                         f"({fmt_seconds(v)}){note}")  # fmt: skip
        lines += _flat(rows, strategy, 10, (mid, top), "fast_ask", f"{label}: ask")
    return lines


def _flat(
    rows: list[Row], strategy: str, dim: int, span: tuple[int, int], field: str, what: str
) -> list[str]:
    """The flat-cost target: `field`'s median at the larger history over the smaller one, at most 1.5."""
    mid, top = span
    a, b = _find(rows, strategy, dim, mid), _find(rows, strategy, dim, top)
    if not (a and b) or a is b:
        return []
    ratio = median(getattr(b, field)) / median(getattr(a, field))
    return [f"- {what} flat from {mid:,} to {top:,} history, {dim}-D (ratio ≤ 1.5): "
            f"**{'met' if ratio <= 1.5 else 'NOT met'}** ({ratio:.2f}x)"]  # fmt: skip


def plot(rows: list[Row], out: Path) -> Path:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for strategy in STRATEGIES:
        for dim, style in ((2, "--"), (10, "-")):
            pts = sorted(
                (r.history, median(r.fast_round)) for r in rows if (r.strategy, r.dim) == (strategy, dim)
            )
            if pts:
                ax.plot(*zip(*pts, strict=False), style, marker="o", label=f"{strategy} {dim}-D")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("history size (trials told)")
    ax.set_ylabel("ask + tell round trip, fast API (s, median)")
    ax.set_title("ArqonHPO per-trial decision time vs history size")
    ax.legend(fontsize=7, ncol=2)
    return save_figure(fig, out / "plots" / "engine_latency_vs_history.png")


def render(
    rows: list[Row], floors: dict[int, float], errors: list[str], preset: Preset, out: Path
) -> Section:
    png = plot(rows, out)
    shown = [h for h in TABLE_HISTORIES if h in preset.checkpoints] or list(preset.checkpoints)
    floor_rows = [[f"{d}-D", fmt_seconds(v)] for d, v in floors.items()]
    md = [
        f"Window: {preset.window} trials per cell, timed one at a time (median; min-max over the window). "
        f"History filled in batches of {FILL_BATCH} on a shifted sphere; seed 0; budget unbounded.",
        "",
        "### Floor: plain Python per trial (param dict with random.uniform + json.dumps of the result)",
        "",
        md_table(["dim", "floor median"], floor_rows),
        "",
        "### Round trip per trial",
        "",
        latency_table(rows, floors, shown),
        "",
        "### Targets (reported, not asserted)",
        "",
        *targets(rows, preset),
        "",
        md_image(png, out, "decision time vs history size"),
    ]
    if errors:
        md += ["", "### Engine errors (these cells are missing above)", "", *[f"- {e}" for e in errors]]
    data: dict[str, Any] = {
        "floors": floors,
        "rows": [
            {"strategy": r.strategy, "dim": r.dim, "history": r.history, "fast": median(r.fast_round),
             "fast_ask": median(r.fast_ask), "json": median(r.json_round)}
            for r in rows
        ],
    }  # fmt: skip
    return Section("engine_latency", "Engine decision latency", "\n".join(md), [png], data)


def run(size: str, out: Path) -> Section:
    start = time.perf_counter()
    preset = PRESETS[size]
    rows, floors, errors = measure(preset)
    section = render(rows, floors, errors, preset, out)
    section.data["errors"] = errors
    section.seconds = time.perf_counter() - start
    return section


def main(argv: Sequence[str] | None = None) -> int:
    return standalone(run, __doc__, argv)


if __name__ == "__main__":
    raise SystemExit(main())
