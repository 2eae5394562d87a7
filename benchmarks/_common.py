"""Shared helpers of the benchmark suite: size presets, timing, machine facts, Markdown and plots.

Every figure in a report is computed in the run that writes it: nothing here holds a measured number.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import importlib.metadata
import logging
import math
import os
import platform
import shlex
import statistics
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
REPORT_DIR = Path(__file__).resolve().parent / "report"


def report_dir(size: str) -> Path:
    """Full (and medium) reports are the committed ones; smoke runs go to report/smoke/ (git-ignored), so
    a quick check never overwrites the figures the README quotes."""
    return REPORT_DIR if size != "smoke" else REPORT_DIR / size


SIZES = ("smoke", "full")

# Packages whose versions every report lists; missing ones are reported as such.
PACKAGES = (
    "arqonhpo",
    "optuna",
    "cmaes",
    "hyperopt",
    "scikit-learn",
    "numpy",
    "scipy",
    "matplotlib",
    "ray",
)


# ---------------------------------------------------------------------------------------------- sections


@dataclass
class Section:
    """One benchmark's result: Markdown body (tables, notes) and the plots it references."""

    name: str
    title: str
    markdown: str
    plots: list[Path] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


# ---------------------------------------------------------------------------------------------- CLI


def size_parser(description: str | None, sizes: Sequence[str] = SIZES) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", choices=sizes, default="smoke", help=f"preset: {', '.join(sizes)}")
    parser.add_argument(
        "--out", type=Path, default=None, help="directory for the .md report and plots (default: by size)"
    )
    return parser


def command_line() -> str:
    """The command that started this process, as a user would type it from the repository root."""
    argv = list(sys.argv)
    main_mod = sys.modules.get("__main__")
    spec = getattr(main_mod, "__spec__", None)
    if spec is not None and spec.name:
        # `python -m benchmarks` / `python -m benchmarks.quality`: sys.argv[0] is a full path.
        name = spec.name.removesuffix(".__main__")
        return shlex.join(["python", "-m", name, *argv[1:]])
    first = Path(argv[0]) if argv else Path("?")
    try:
        first = first.resolve().relative_to(REPO_ROOT)
    except ValueError:
        pass
    return shlex.join(["python", str(first), *argv[1:]])


def standalone(
    run: Callable[..., Section],
    doc: str | None,
    argv: Sequence[str] | None = None,
    sizes: Sequence[str] = SIZES,
    add_arguments: Callable[[argparse.ArgumentParser], None] | None = None,
) -> int:
    """`main()` of a benchmark script: parse --size/--out (and the script's own options, passed to `run` as
    keyword arguments), run, write `<name>.md`, print it."""
    parser = size_parser(doc, sizes)
    if add_arguments is not None:
        add_arguments(parser)
    args = parser.parse_args(argv)
    args.out = args.out or report_dir(args.size)
    quiet_libraries()
    command = command_line()
    options = {k: v for k, v in vars(args).items() if k not in ("size", "out")}
    section = run(args.size, args.out, **options)
    text = render_standalone(section, command, args.size)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"{section.name}.md"
    path.write_text(text, encoding="utf-8")
    print(text)
    print(f"report written to {path}")
    return 0


def render_standalone(section: Section, command: str, size: str) -> str:
    lines = [
        f"# {section.title}",
        "",
        f"Command: `{command}`  ",
        f"Size: `{size}`; run {utc_now()}; took {section.seconds:.0f} s  ",
        f"Machine: {machine_summary()}  ",
        f"Packages: {versions_summary()}",
        "",
        section.markdown,
        "",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- environment


def quiet_libraries() -> None:
    """Peers log every trial; their logs would drown the progress bar and slow the loops being timed."""
    try:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.ERROR)
    except ImportError:
        pass
    logging.getLogger("hyperopt").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=UserWarning, module="optuna")
    warnings.filterwarnings("ignore", message=".*ExperimentalWarning.*")
    try:
        from optuna.exceptions import ExperimentalWarning

        warnings.filterwarnings("ignore", category=ExperimentalWarning)
    except ImportError:
        pass


def utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024**2
    except OSError:
        pass
    return None


def machine_facts() -> dict[str, str]:
    mem = memory_gib()
    return {
        "CPUs (nproc)": str(os.cpu_count()),
        "CPU model": cpu_model(),
        "memory": f"{mem:.1f} GiB" if mem is not None else "unknown",
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
    }


def machine_summary() -> str:
    f = machine_facts()
    return f"{f['CPUs (nproc)']} CPUs ({f['CPU model']}), {f['memory']}, Python {f['Python']}"


def package_versions() -> dict[str, str]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def versions_summary() -> str:
    return ", ".join(f"{k} {v}" for k, v in package_versions().items())


def has_module(name: str) -> bool:
    try:
        __import__(name)
    except ImportError:
        return False
    return True


# ---------------------------------------------------------------------------------------------- statistics


def median(xs: Iterable[float]) -> float:
    vals = [x for x in xs if not math.isnan(x)]
    return statistics.median(vals) if vals else math.nan


def quantile(xs: Sequence[float], q: float) -> float:
    vals = sorted(x for x in xs if not math.isnan(x))
    if not vals:
        return math.nan
    pos = q * (len(vals) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return vals[lo] + (vals[hi] - vals[lo]) * (pos - lo)


def average_ranks(values: Sequence[float]) -> list[float]:
    """Ranks 1..n of `values` (lower value = better rank); ties share their average rank, NaN ranks last."""
    keyed = [(math.inf if math.isnan(v) else v, i) for i, v in enumerate(values)]
    keyed.sort()
    ranks = [0.0] * len(values)
    i = 0
    while i < len(keyed):
        j = i
        while j + 1 < len(keyed) and keyed[j + 1][0] == keyed[i][0]:
            j += 1
        for k in range(i, j + 1):
            ranks[keyed[k][1]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


class Stopwatch:
    """Accumulates time spent in a code region across many calls (`with sw: ...`)."""

    __slots__ = ("_start", "total")

    def __init__(self) -> None:
        self.total = 0.0
        self._start = 0.0

    def __enter__(self) -> Stopwatch:
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.total += time.perf_counter() - self._start


# ---------------------------------------------------------------------------------------------- formatting


def fmt_seconds(s: float) -> str:
    """Human time with 3 significant digits and a unit picked for the magnitude."""
    if math.isnan(s):
        return "-"
    if math.isinf(s):
        return "∞"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if abs(s) >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s / 1e-9:.3g} ns"


def fmt_num(x: float, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    if x == 0:
        return "0"
    if 1e-3 <= abs(x) < 1e5:
        return f"{x:.{digits}g}"
    return f"{x:.{max(digits - 1, 1)}e}"


def fmt_ratio(x: float) -> str:
    return "-" if math.isnan(x) else f"{x:.3g}x"


def md_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], align: str | None = None) -> str:
    """GitHub Markdown table; `align` is one char per column: l (left) or r (right)."""
    rows = [[str(c) for c in r] for r in rows]
    align = align or "l" + "r" * (len(headers) - 1)
    sep = ["---" if a == "l" else "---:" for a in align]
    out = ["| " + " | ".join(headers) + " |", "| " + " | ".join(sep) + " |"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def md_image(path: Path, relative_to: Path, alt: str) -> str:
    try:
        rel = path.resolve().relative_to(relative_to.resolve())
    except ValueError:
        rel = path
    return f"![{alt}]({rel.as_posix()})"


# ---------------------------------------------------------------------------------------------- plots


def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    pyplot().close(fig)
    return path


# ---------------------------------------------------------------------------------------------- progress


def progress(total: int, desc: str) -> Any:
    """A tqdm bar on stderr (a no-op stand-in without tqdm); nested bars of sub-benchmarks do not linger."""
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dev dependency

        class _Null:
            def update(self, n: int = 1) -> None: ...
            def set_postfix_str(self, s: str) -> None: ...
            def close(self) -> None: ...

        return _Null()
    return tqdm(total=total, desc=desc, leave=False, dynamic_ncols=True, file=sys.stderr)


# ---------------------------------------------------------------------------------------------- optimizers
#
# Every optimizer is driven through the same loop (ask -> evaluate -> tell) so that "decision time" means the
# same thing for all of them: wall time spent outside the objective. hyperopt has no ask/tell interface and is
# driven by its own fmin() with the objective timed from inside.


@dataclass
class Trace:
    """One optimizer run on one problem."""

    optimizer: str
    problem: str
    seed: int
    observed: list[float] = field(default_factory=list)  # value the optimizer was told, per evaluation
    incumbent_true: list[float] = field(default_factory=list)  # true value of the best-observed point so far
    elapsed: list[float] = field(default_factory=list)  # wall seconds since start, after each tell
    decision_time: float = 0.0  # wall seconds outside the objective (ask + tell + framework)
    objective_time: float = 0.0
    out_of_bounds: int = 0
    info: dict[str, Any] = field(default_factory=dict)  # e.g. the strategy ArqonHPO's auto-pilot picked
    _best_observed: float = math.inf

    @property
    def n(self) -> int:
        return len(self.observed)

    def best_at(self, k: int) -> float:
        """True value of the incumbent after `k` evaluations (the last one if the run was shorter)."""
        if not self.incumbent_true:
            return math.nan
        return self.incumbent_true[min(k, len(self.incumbent_true)) - 1]

    def time_to(self, target: float) -> float:
        """Wall seconds until the incumbent's true value first reached `target` (inf if never)."""
        for v, t in zip(self.incumbent_true, self.elapsed, strict=False):
            if v <= target:
                return t
        return math.inf

    def record(self, observed: float, true: float, elapsed: float) -> None:
        # O(1) per call: the harness must not add history-dependent cost to the loop being timed.
        prev = self.incumbent_true[-1] if self.incumbent_true else math.inf
        if observed < self._best_observed:
            self._best_observed, prev = observed, true
        self.observed.append(observed)
        self.incumbent_true.append(prev)
        self.elapsed.append(elapsed)


class AskTell:
    """Minimal ask/tell protocol shared by the adapters below."""

    name = "?"

    def ask(self) -> dict[str, Any] | None:
        raise NotImplementedError

    def tell(self, value: float) -> None:
        raise NotImplementedError


class ArqonAskTell(AskTell):
    def __init__(self, space: dict[str, Any], seed: int, budget: int | None, strategy: str = "auto") -> None:
        from arqonhpo import ArqonSolver

        from .functions import to_arqon

        self.name = "ArqonHPO" if strategy == "auto" else f"ArqonHPO[{strategy}]"
        self.solver = ArqonSolver(to_arqon(space), seed=seed, budget=budget, strategy=strategy)
        self._trial: Any = None

    def ask(self) -> dict[str, Any] | None:
        trials = self.solver.ask_trials(1)
        if not trials:
            return None
        self._trial = trials[0]
        return self._trial.params

    def tell(self, value: float) -> None:
        self.solver.tell_trial(self._trial, value)


class RandomAskTell(AskTell):
    name = "random"

    def __init__(self, space: dict[str, Any], seed: int) -> None:
        import random

        self.space = space
        self.rng = random.Random(seed)

    def ask(self) -> dict[str, Any] | None:
        from .functions import sample_random

        return sample_random(self.space, self.rng)

    def tell(self, value: float) -> None:
        pass


class OptunaAskTell(AskTell):
    """Optuna's ask/tell interface; `study.ask(fixed_distributions)` samples every parameter at ask time."""

    def __init__(self, space: dict[str, Any], sampler: Any, name: str) -> None:
        import optuna

        from .functions import to_optuna

        self.name = name
        self.dists = to_optuna(space)
        self.study = optuna.create_study(sampler=sampler)
        self._trial: Any = None

    def ask(self) -> dict[str, Any] | None:
        self._trial = self.study.ask(self.dists)
        return self._trial.params

    def tell(self, value: float) -> None:
        self.study.tell(self._trial, value)


def make_optimizer(name: str, space: dict[str, Any], seed: int, budget: int | None) -> AskTell:
    if name == "ArqonHPO":
        return ArqonAskTell(space, seed, budget)
    if name.startswith("ArqonHPO["):
        return ArqonAskTell(space, seed, budget, strategy=name[len("ArqonHPO[") : -1])
    if name == "random":
        return RandomAskTell(space, seed)
    if name == "Optuna TPE":
        import optuna

        return OptunaAskTell(space, optuna.samplers.TPESampler(seed=seed), name)
    if name == "Optuna CMA-ES":
        import optuna

        # CmaEsSampler samples categoricals independently (at random) and would warn about it.
        sampler = optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)
        return OptunaAskTell(space, sampler, name)
    raise ValueError(f"unknown optimizer {name!r}")


def drive(opt: AskTell, problem: Any, seed: int, budget: int | None, horizon: float | None = None) -> Trace:
    """Runs ask -> evaluate -> tell until `budget` evaluations or `horizon` wall seconds, whichever first."""
    trace = Trace(opt.name, problem.name, seed)
    objective = Stopwatch()  # the objective alone
    decision = Stopwatch()  # ask + tell: the optimizer's (and its framework's) time
    clock = time.perf_counter
    start = clock()
    while budget is None or trace.n < budget:
        with decision:
            params = opt.ask()
        if params is None:
            break
        with objective:
            observed = problem.evaluate(params)
        # Noise-free value and bounds check are the harness's bookkeeping, timed by neither stopwatch.
        true = problem.true_value(params) if problem.noisy else observed
        trace.out_of_bounds += not problem.in_bounds(params)
        with decision:
            opt.tell(observed)
        elapsed = clock() - start
        trace.record(observed, true, elapsed)
        if horizon is not None and elapsed >= horizon:
            break
    trace.objective_time = objective.total
    trace.decision_time = decision.total
    if isinstance(opt, ArqonAskTell):
        cls = opt.solver.classification or {}
        trace.info = {"strategy": opt.solver.strategy, "label": cls.get("label")}
    return trace


def drive_hyperopt(problem: Any, seed: int, budget: int) -> Trace:
    """hyperopt TPE via fmin() (no ask/tell API); decision time = wall time minus the objective's time."""
    import numpy as np
    from hyperopt import STATUS_OK, Trials, fmin, tpe

    from .functions import clamp_hyperopt, to_hyperopt

    trace = Trace("hyperopt TPE", problem.name, seed)
    objective = Stopwatch()
    start = time.perf_counter()

    def fn(raw: dict[str, Any]) -> dict[str, Any]:
        params = clamp_hyperopt(problem.space, raw)
        with objective:  # here the harness's bookkeeping is charged to the objective, not to hyperopt
            observed = problem.evaluate(params)
            true = problem.true_value(params) if problem.noisy else observed
            trace.out_of_bounds += not problem.in_bounds(params)
            trace.record(observed, true, time.perf_counter() - start)
        return {"loss": observed, "status": STATUS_OK}

    fmin(
        fn,
        to_hyperopt(problem.space),
        algo=tpe.suggest,
        max_evals=budget,
        trials=Trials(),
        rstate=np.random.default_rng(seed),
        show_progressbar=False,
    )
    total = time.perf_counter() - start
    trace.objective_time = objective.total
    trace.decision_time = total - objective.total
    return trace


def run_optimizer(
    name: str, problem: Any, seed: int, budget: int | None, horizon: float | None = None
) -> Trace:
    if name == "hyperopt TPE":
        if budget is None:
            raise ValueError("hyperopt is driven with a budget")
        return drive_hyperopt(problem, seed, budget)
    return drive(make_optimizer(name, problem.space, seed, budget), problem, seed, budget, horizon)


def is_interrupt(exc: BaseException) -> bool:
    """Errors a benchmark must not swallow. Everything else (a pyo3 PanicException is a BaseException) is
    recorded in the report as a finding instead of aborting the whole suite."""
    return isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit))


def describe_error(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}"[:200]
