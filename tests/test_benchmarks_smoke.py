"""The benchmark suite at smoke size: every benchmark completes and its invariants hold.

Never asserts a timing (the machine is shared and timings are noisy); asserts what must hold on any machine:
no engine errors, every suggestion within bounds, no regret below the known optimum, zero duplicate parameter
sets across parallel workers, reports and plots written.
"""

from __future__ import annotations

import math
import random
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `benchmarks` is a top-level package of the repository, not installed
    sys.path.insert(0, str(ROOT))

from benchmarks import __main__ as suite  # noqa: E402
from benchmarks import (  # noqa: E402
    categorical_choice,
    engine_latency,
    functions,
    parallel_workers,
    quality,
    time_to_target,
)
from benchmarks._common import average_ranks, md_table  # noqa: E402

CHEAP = [n for n in functions.suite_names() if n not in ("svc-digits", "knn-breast-cancer")]


# ---------------------------------------------------------------------------------------------- test problems


@pytest.mark.parametrize("name", CHEAP)
def test_problem_optimum_is_known_off_centre_and_seeded(name: str) -> None:
    a, b = functions.make(name, 0), functions.make(name, 1)
    for p in (a, b):
        assert p.x_opt is not None and p.f_opt is not None and p.target is not None
        assert p.in_bounds(p.x_opt)
        assert math.isclose(p.true_value(p.x_opt), p.f_opt, abs_tol=1e-9)
        assert p.target > p.f_opt
        centre = {n: (s.low + s.high) / 2 if s.kind != "cat" else p.x_opt[n] for n, s in p.space.items()}
        if all(s.kind == "float" for s in p.space.values()):
            assert p.true_value(centre) > p.f_opt + 1e-6, "the box centre must not be optimal"
    assert a.x_opt != b.x_opt, "the optimum must move with the seed"


@pytest.mark.parametrize("name", CHEAP)
def test_random_points_are_in_bounds_and_never_beat_the_optimum(name: str) -> None:
    p = functions.make(name, 3)
    rng = random.Random(0)
    for _ in range(200):
        x = functions.sample_random(p.space, rng)
        assert p.in_bounds(x)
        assert p.true_value(x) >= p.f_opt - 1e-9


def test_rotated_problems_differ_per_seed() -> None:
    x = {f"x{i}": 1.0 for i in range(5)}
    assert functions.make("ellipsoid-5d", 0).true_value(x) != functions.make("ellipsoid-5d", 1).true_value(x)


def test_noisy_variant_observes_noise_but_reports_true_value() -> None:
    p = functions.make("noisy-sphere-5d", 0)
    x = {f"x{i}": 0.5 for i in range(5)}
    assert p.noisy and p.evaluate(x) != p.true_value(x)


def test_ml_task_is_a_cross_validated_error_rate() -> None:
    p = functions.make("knn-breast-cancer", 0)
    value = p.evaluate({"n_neighbors": 5, "weights": "uniform", "p": 2, "scaler": "standard"})
    assert 0.0 <= value < 0.1  # 1 - ROC AUC of a reasonable k-NN on breast cancer


def test_average_ranks_share_ties() -> None:
    assert average_ranks([3.0, 1.0, 1.0, float("nan")]) == [3.0, 1.5, 1.5, 4.0]


def test_md_table_shape() -> None:
    lines = md_table(["a", "b"], [[1, 2]]).splitlines()
    assert lines == ["| a | b |", "| --- | ---: |", "| 1 | 2 |"]


# ---------------------------------------------------------------------------------------------- benchmarks


def test_engine_latency_smoke(tmp_path: Path) -> None:
    section = engine_latency.run("smoke", tmp_path)
    assert section.data["errors"] == [], section.data["errors"]
    preset = engine_latency.PRESETS["smoke"]
    cells = {(r["strategy"], r["dim"], r["history"]) for r in section.data["rows"]}
    expected = {(s, d, h) for s in engine_latency.STRATEGIES for d in preset.dims for h in preset.checkpoints}
    assert cells == expected
    assert all(r["fast"] > 0 and r["json"] > 0 for r in section.data["rows"])
    assert all(p.exists() for p in section.plots)


@pytest.mark.slow
def test_quality_smoke(tmp_path: Path) -> None:
    section = quality.run("smoke", tmp_path)
    assert section.data["errors"] == [], section.data["errors"]
    assert section.data["out_of_bounds"] == 0
    preset = quality.PRESETS["smoke"]
    opts = quality.optimizers()
    ranks = section.data["mean_ranks"]
    assert sorted(ranks) == sorted(preset.budgets)
    for by_opt in ranks.values():
        assert set(by_opt) == set(opts)
        # Mean ranks over n optimizers always sum to n(n+1)/2.
        assert math.isclose(sum(by_opt.values()), len(opts) * (len(opts) + 1) / 2)
    for cell in section.data["cells"]:
        assert cell.regret >= -1e-9, f"{cell} beat the known optimum"
    assert section.plots and all(p.exists() for p in section.plots)


def test_quality_only_runs_the_named_problems_in_order() -> None:
    smoke = quality.PRESETS["smoke"]
    restricted = quality.restrict(smoke, "rastrigin-5d, sphere-2d,rastrigin-5d")
    assert restricted.problems == ("rastrigin-5d", "sphere-2d")
    assert restricted.plot_problems == ("rastrigin-5d",)
    assert restricted.budgets == smoke.budgets and restricted.seeds == smoke.seeds
    for bad in ("sphere-3d", " , "):
        with pytest.raises(SystemExit, match="--only"):
            quality.restrict(smoke, bad)
    with pytest.raises(SystemExit, match="give --out"):
        quality.run("smoke", quality.report_dir("smoke"), only="sphere-2d")


def test_categorical_choice_smoke(tmp_path: Path) -> None:
    section = categorical_choice.run("smoke", tmp_path)
    preset = categorical_choice.PRESETS["smoke"]
    rows = section.data["rows"]
    assert len(rows) == len(preset.engine_budgets) + 2 * len(preset.optuna_budgets)
    for runs in rows.values():
        assert len(runs) == preset.seeds
        assert all(r.regret >= -1e-9 for r in runs), "a run beat the known optimum"
        assert all(r.best_choice for r in runs if r.regret < 0.5), (
            "under 0.5 above the optimum needs the best choice"
        )


@pytest.mark.slow
def test_time_to_target_smoke(tmp_path: Path) -> None:
    section = time_to_target.run("smoke", tmp_path)
    assert section.data["errors"] == [], section.data["errors"]
    assert section.data["out_of_bounds"] == 0
    preset = time_to_target.PRESETS["smoke"]
    assert (
        section.data["runs"] == len(time_to_target.PROBLEMS) * len(time_to_target.OPTIMIZERS) * preset.seeds
    )
    for by_opt in section.data["table"].values():
        assert all(0.0 <= row["share"] <= 1.0 and row["trials"] >= 1 for row in by_opt.values())


@pytest.mark.slow
def test_parallel_workers_smoke(tmp_path: Path) -> None:
    section = parallel_workers.run("smoke", tmp_path)
    assert section.data["errors"] == [], section.data["errors"]
    preset = parallel_workers.PRESETS["smoke"]
    results = section.data["results"]
    assert len(results) == len(preset.samplers) * len(preset.workers) * preset.seeds
    for r in results:
        assert r.failed_workers == 0
        assert r.completed == preset.trials
        assert r.out_of_bounds == 0
        if r.sampler == parallel_workers.ARQON:
            assert r.duplicates == 0, f"{r.workers} workers produced duplicate parameter sets"


def test_suite_cli_writes_one_report(tmp_path: Path) -> None:
    cmd = [
        sys.executable,
        "-m",
        "benchmarks",
        "--size",
        "smoke",
        "--only",
        "engine_latency",
        "--out",
        str(tmp_path),
    ]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    report = (tmp_path / "README.md").read_text()
    assert "python -m benchmarks --size smoke --only engine_latency" in report
    assert "Machine and packages" in report and "arqonhpo" in report
    assert "engine_latency_vs_history.png" in report
    assert (tmp_path / "plots" / "engine_latency_vs_history.png").exists()


def test_suite_reports_a_missing_adapter_benchmark(tmp_path: Path) -> None:
    section = suite.run_subprocess("no_such_benchmark", "smoke", tmp_path)
    assert section.data["status"] == "missing" and "does not exist" in section.markdown


def test_demote_headings() -> None:
    assert suite.demote_headings("# A\n## B\ntext # not") == "## A\n### B\ntext # not"


@pytest.mark.slow
def test_quickstart_runs_verbatim() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "quickstart.py")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "100 evaluations" in proc.stdout


@pytest.mark.slow
def test_demo_runs() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "demo.py"), "--trials", "5"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "ArqonSampler" in proc.stdout and "TPESampler" in proc.stdout


def test_a_failing_cell_is_rechecked_on_more_seeds_by_arqon_and_random_alone() -> None:
    preset = quality.Preset(("schwefel-2d",), (12,), (), 3, ())
    cells, _ = quality.collect(preset, ["ArqonHPO", "random"], [])
    row = quality.recheck("schwefel-2d", 12, 3)
    # The recheck's first seeds are the suite's own runs: same seeds, same deterministic optimizers.
    by_opt = {o: sorted(c.regret for c in cells if c.optimizer == o) for o in ("ArqonHPO", "random")}
    assert row.arqon_median == by_opt["ArqonHPO"][1] and row.random_median == by_opt["random"][1]
    assert 0 <= row.arqon_better <= 3
    failing = [("schwefel-2d", 12, 1.0, 0.5, False)]
    assert quality.recheck_failures(failing, 0) == []
    assert quality.recheck_failures(failing, 3) == [row]
    assert "ArqonHPO better on" in quality.recheck_text([row])


# ---------------------------------------------------------------------------------------------- peer cache


def test_reused_peer_runs_equal_fresh_ones_and_arqon_always_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from benchmarks import peer_cache
    from benchmarks.peer_cache import PeerCache

    preset = quality.Preset(("sphere-2d",), (20,), (), 1, ())
    opts = ["ArqonHPO", "random", "Optuna TPE"]
    fresh, _ = quality.collect(preset, opts, [], PeerCache(tmp_path))
    cache = PeerCache(tmp_path)
    reused, _ = quality.collect(preset, opts, [], cache)
    assert cache.reused == 2  # the two peers, not ArqonHPO
    assert [(c.optimizer, c.regret) for c in reused] == [(c.optimizer, c.regret) for c in fresh]
    assert cache.summary().startswith("2 peer runs were reused")
    # Keyed by the problem definitions (and package versions): edited definitions miss the old runs.
    edited = tmp_path / "functions.py"
    edited.write_text(peer_cache._DEFINITIONS.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    monkeypatch.setattr(peer_cache, "_DEFINITIONS", edited)
    stale = PeerCache(tmp_path)
    assert stale.dir != cache.dir
    assert stale.load("random", "sphere-2d", 0, 20) is None


@pytest.mark.slow
def test_sklearn_search_smoke(tmp_path: Path) -> None:
    pytest.importorskip("sklearn")
    report = tmp_path / "sklearn_search.md"
    cmd = [sys.executable, "benchmarks/sklearn_search.py", "--size", "smoke", "--out", str(report)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=540)
    assert proc.returncode == 0, proc.stderr
    text = report.read_text()
    assert "Command: `python benchmarks/sklearn_search.py --size smoke --out" in text
    results = [row for row in _table_rows(text) if len(row) > 2 and row[2].endswith("SearchCV")]
    tasks = {row[0] for row in results}
    assert len(tasks) == 3, tasks
    for task in tasks:
        methods = {row[2] for row in results if row[0] == task}
        assert {"RandomizedSearchCV", "ArqonSearchCV"} <= methods, (task, methods)
    for row in results:
        best_cv, held_out = float(row[3].split("±")[0]), float(row[4])
        assert 0.5 < best_cv <= 1.0 and 0.5 < held_out <= 1.0, row
        if row[2] == "ArqonSearchCV":
            assert float(row[-1]) >= 2, f"ArqonSearchCV learned nothing between rounds: {row}"
    round_costs = [line for line in text.splitlines() if line.startswith("| 0 ms | 10 |")]
    assert len(round_costs) == 1, "the cost-of-a-round table is missing"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("script", "arqon"),
    [
        ("optuna_quality", "ArqonSampler"),
        ("optuna_overhead", "ArqonSampler"),
        ("ray_overhead", "ArqonSearch"),
    ],
)
def test_adapter_benchmark_smoke(tmp_path: Path, script: str, arqon: str) -> None:
    pytest.importorskip("ray" if script.startswith("ray") else "optuna")
    report = tmp_path / f"{script}.md"
    cmd = [sys.executable, f"benchmarks/{script}.py", "--size", "smoke", "--out", str(report)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=540)
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = report.read_text()
    assert f"benchmarks/{script}.py --size smoke" in text
    assert _measured_cells(text, arqon), f"no measured value for {arqon}:\n{text}"


def _measured_cells(markdown: str, name: str) -> list[float]:
    """Numbers a Markdown report gives for `name`: in rows that name it, or in columns headed by it."""
    found: list[float] = []
    column = None
    for row in _table_rows(markdown):
        numbers = [_number(cell) for cell in row]
        if name in row and all(v is None for v in numbers):
            column = row.index(name)  # a header row
        elif name in row:
            found += [v for v in numbers if v is not None]
        elif column is not None and column < len(row):
            value = numbers[column]
            if value is not None:
                found.append(value)
    return found


def _table_rows(markdown: str) -> list[list[str]]:
    """Every Markdown table row of a report, as stripped cells (header and separator rows included)."""
    lines = [line for line in markdown.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in line.split("|")[1:-1]] for line in lines]


def _number(cell: str) -> float | None:
    try:
        return float(cell.replace("ms", "").rstrip("x%").strip())
    except ValueError:
        return None
