"""Time to target on cheap objectives: the seed's "speed is quality" headline, measured honestly.

The seed's "1.7 ms vs 330 ms" was a median *time to threshold*, not a decision latency. This benchmark
measures exactly that, with every optimizer in the same run and the same conditions:

* cheap objectives (a few µs each): shifted sphere (smooth) and shifted Rastrigin (rugged), 2-D and 10-D, with
  the optimum off-centre and offset per seed;
* a fixed wall-time horizon per run; each optimizer asks, evaluates and tells as fast as it can;
* reported: share of runs whose incumbent reaches the target (``f_opt + gap``, see benchmarks/functions.py),
  median time to target over the runs that reached it, trials completed within the horizon, final regret.

Usage::

    python -m benchmarks.time_to_target --size smoke   # 0.3 s horizon, 3 seeds: ~20 s
    python -m benchmarks.time_to_target --size full    # 2 s horizon, 10 seeds: ~6 min
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import functions
from benchmarks._common import (
    Section,
    Trace,
    describe_error,
    fmt_num,
    fmt_ratio,
    fmt_seconds,
    is_interrupt,
    md_image,
    md_table,
    median,
    progress,
    pyplot,
    quiet_libraries,
    run_optimizer,
    save_figure,
    standalone,
)

OPTIMIZERS = ("ArqonHPO", "Optuna TPE", "Optuna CMA-ES", "random")
PROBLEMS = ("sphere-2d", "rastrigin-2d", "sphere-10d", "rastrigin-10d")


@dataclass(frozen=True)
class Preset:
    horizon: float
    seeds: int


PRESETS = {"smoke": Preset(horizon=0.3, seeds=3), "full": Preset(horizon=2.0, seeds=10)}


def collect(preset: Preset, errors: list[str]) -> list[tuple[functions.Problem, Trace]]:
    jobs = [(p, o, s) for p in PROBLEMS for s in range(preset.seeds) for o in OPTIMIZERS]
    out = []
    bar = progress(len(jobs), "time to target")
    for name, opt, seed in jobs:
        problem = functions.make(name, seed)
        bar.set_postfix_str(f"{name} {opt} seed {seed}")
        try:
            out.append((problem, run_optimizer(opt, problem, seed, budget=None, horizon=preset.horizon)))
        except BaseException as exc:  # an engine panic is a finding to report, not a reason to stop
            if is_interrupt(exc):
                raise
            errors.append(f"{opt} on {name} seed {seed}: {describe_error(exc)}")
        bar.update()
    bar.close()
    return out


def table(runs: list[tuple[functions.Problem, Trace]]) -> tuple[str, dict]:
    rows = []
    data: dict[str, dict[str, dict[str, float]]] = {}
    for name in PROBLEMS:
        base = math.nan
        for opt in OPTIMIZERS:
            mine = [(p, t) for p, t in runs if p.name == name and t.optimizer == opt]
            if not mine:
                continue
            times = [t.time_to(p.target) for p, t in mine if p.target is not None]
            hit = [x for x in times if math.isfinite(x)]
            med = median(hit)
            if opt == OPTIMIZERS[0]:
                base = med
            gap = mine[0][0].target - (mine[0][0].f_opt or 0.0) if mine[0][0].target is not None else math.nan
            trials = median(float(t.n) for _, t in mine)
            final = median(p.regret(t.incumbent_true[-1]) for p, t in mine)
            rng = f"{fmt_seconds(min(hit))}-{fmt_seconds(max(hit))}" if hit else "-"
            share = len(hit) / len(mine)
            rows.append([
                name, fmt_num(gap), opt, f"{len(hit)}/{len(mine)} ({share:.0%})", fmt_seconds(med), rng,
                fmt_ratio(med / base) if hit else "-", f"{trials:,.0f}", fmt_num(final),
            ])  # fmt: skip
            data.setdefault(name, {})[opt] = {"share": share, "median_time": med, "trials": trials}
    headers = [
        "problem", "target gap", "optimizer", "reached", "median time to target", "min-max",
        "x ArqonHPO", "trials in horizon", "median final regret",
    ]  # fmt: skip
    return md_table(headers, rows, "lrl" + "r" * 6), data


def plot(runs: list[tuple[functions.Problem, Trace]], horizon: float, out: Path) -> Path:
    """Share of runs that reached the target by time t (an empirical CDF of time to target)."""
    plt = pyplot()
    fig, axes = plt.subplots(1, len(PROBLEMS), figsize=(4 * len(PROBLEMS), 3.6), sharey=True)
    for ax, name in zip(axes, PROBLEMS, strict=False):
        for opt in OPTIMIZERS:
            mine = [(p, t) for p, t in runs if p.name == name and t.optimizer == opt]
            if not mine:
                continue
            times = sorted(t.time_to(p.target) for p, t in mine if p.target is not None)
            xs = [x for x in times if math.isfinite(x)]
            ys = [(i + 1) / len(mine) for i in range(len(xs))]
            ax.step([1e-5, *xs, horizon], [0.0, *ys, ys[-1] if ys else 0.0], where="post", label=opt)
        ax.set_xscale("log")
        ax.set_title(name)
        ax.set_xlabel("wall time (s)")
    axes[0].set_ylabel("share of runs at target")
    axes[0].legend(fontsize=7)
    return save_figure(fig, out / "plots" / "time_to_target_cdf.png")


def run(size: str, out: Path) -> Section:
    quiet_libraries()
    start = time.perf_counter()
    preset = PRESETS[size]
    errors: list[str] = []
    runs = collect(preset, errors)
    text, data = table(runs)
    png = plot(runs, preset.horizon, out)
    oob = sum(t.out_of_bounds for _, t in runs)
    md = [
        f"Horizon {preset.horizon:g} s of wall time per run (objective included); {preset.seeds} seeds per "
        f"problem; target = known optimum + gap. Median time to target is over the runs that reached it. "
        f"Parameters out of bounds across all runs: {oob}.",
        "",
        text,
        "",
        md_image(png, out, "time to target"),
    ]
    if errors:
        md += ["", "### Errors (runs missing above)", "", *[f"- {e}" for e in errors]]
    section = Section("time_to_target", "Time to target on cheap objectives", "\n".join(md), [png])
    section.data = {"table": data, "errors": errors, "out_of_bounds": oob, "runs": len(runs)}
    section.seconds = time.perf_counter() - start
    return section


def main(argv: Sequence[str] | None = None) -> int:
    return standalone(run, __doc__, argv)


if __name__ == "__main__":
    raise SystemExit(main())
