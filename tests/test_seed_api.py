"""The seed's JSON API, kept verbatim: ArqonSolver(json.dumps(config)), ask() -> list | None, tell(json)."""

from __future__ import annotations

import json
import math

import pytest
from arqonhpo import ArqonSolver, ConfigError, ParameterError, SearchSpaceError

SEED_CONFIG = {
    "seed": 42,
    "budget": 100,
    "bounds": {
        "learning_rate": {"min": 1e-5, "max": 1e-1, "scale": "Log"},
        "batch_size": {"min": 16, "max": 256},
    },
}


def my_objective_function(params: dict) -> float:
    return math.log10(params["learning_rate"] / 3e-3) ** 2 + ((params["batch_size"] - 64) / 100) ** 2


def test_the_seed_quickstart_runs_verbatim() -> None:
    # Copied from the seed document, only the objective is defined above.
    config = {
        "seed": 42,
        "budget": 100,
        "bounds": {
            "learning_rate": {"min": 1e-5, "max": 1e-1, "scale": "Log"},
            "batch_size": {"min": 16, "max": 256},
        },
    }

    solver = ArqonSolver(json.dumps(config))

    while True:
        batch = solver.ask()
        if batch is None:
            break

        results = []
        for params in batch:
            loss = my_objective_function(params)
            results.append({"params": params, "value": loss, "cost": 1.0})

        solver.tell(json.dumps(results))

    assert solver.n_asked == 100 and solver.n_told == 100
    best = solver.best
    assert best is not None and best.value < 1e-3
    assert all(1e-5 <= r["params"]["learning_rate"] <= 1e-1 for r in solver.trials())


def test_first_batch_is_the_probe_and_budget_ends_with_none() -> None:
    solver = ArqonSolver(json.dumps({**SEED_CONFIG, "budget": 12}))
    first = solver.ask()
    assert first is not None and len(first) == solver.probe_size
    solver.tell([{"params": p, "value": my_objective_function(p), "cost": 1.0} for p in first])
    rest = []
    while (batch := solver.ask()) is not None:
        rest.extend(batch)
        solver.tell(json.dumps([{"params": p, "value": my_objective_function(p)} for p in batch]))
    assert len(first) + len(rest) == 12 and solver.ask() is None


def test_extended_schema_int_step_and_categorical() -> None:
    config = {
        "seed": 1,
        "budget": 30,
        "strategy": "tpe",
        "probe_size": 8,
        "bounds": {
            "layers": {"type": "int", "min": 1, "max": 6},
            "width": {"type": "int", "min": 32, "max": 512, "step": 32},
            "dropout": {"min": 0.0, "max": 0.5, "step": 0.1},
            "units": {"type": "int", "min": 8, "max": 1024, "scale": "Log"},
            "optimizer": {"type": "categorical", "choices": ["adam", "sgd", None, 1, True]},
        },
    }
    solver = ArqonSolver(json.dumps(config))
    seen = []
    while (batch := solver.ask(3)) is not None:
        seen.extend(batch)
        solver.tell(json.dumps([{"params": p, "value": float(p["layers"])} for p in batch]))
    assert len(seen) == 30
    for p in seen:
        assert type(p["layers"]) is int and 1 <= p["layers"] <= 6
        assert type(p["width"]) is int and p["width"] % 32 == 0
        assert any(abs(p["dropout"] - k / 10) < 1e-12 for k in range(6))
        assert p["optimizer"] in ["adam", "sgd", None, 1, True]
    assert solver.strategy == "tpe" and solver.n_told == 30


def test_results_with_ids_unknown_points_and_failures() -> None:
    solver = ArqonSolver(json.dumps(SEED_CONFIG))
    batch = solver.ask(2)
    assert batch is not None
    ids = solver.tell(
        json.dumps(
            [
                {"id": 0, "value": 1.0, "cost": 1.0},
                {
                    "params": {"learning_rate": 0.01, "batch_size": 99.0},
                    "value": 0.5,
                },  # never proposed: external
                {"params": batch[1], "value": float("nan")},  # json.dumps writes NaN: a failed trial
            ]
        )
    )
    assert ids[0] == 0 and ids[2] == 1 and ids[1] == 2
    states = {r["id"]: r["state"] for r in solver.trials()}
    assert states == {0: "complete", 1: "failed", 2: "complete"}
    assert solver.best is not None and solver.best.value == 0.5


@pytest.mark.parametrize(
    ("config", "error", "fragment"),
    [
        ("{not json", ConfigError, "invalid config"),
        (json.dumps({**SEED_CONFIG, "sed": 1}), ConfigError, "unknown field `sed`"),
        (json.dumps({**SEED_CONFIG, "budget": -1}), ConfigError, "budget"),
        (json.dumps({**SEED_CONFIG, "strategy": "magic"}), ConfigError, "strategy"),
        (json.dumps({"seed": 1}), ConfigError, "bounds"),
        (json.dumps({"bounds": {}}), SearchSpaceError, "at least one parameter"),
        (json.dumps({"bounds": {"x": {"min": 1, "max": 0}}}), SearchSpaceError, "'x'"),
        (json.dumps({"bounds": {"x": {"min": 0, "max": 1, "scale": "Log"}}}), SearchSpaceError, "'x'"),
        (
            json.dumps({"bounds": {"x": {"min": 0, "max": 1, "scal": "Log"}}}),
            SearchSpaceError,
            "unknown field",
        ),
        (json.dumps({"bounds": {"x": {"min": 0, "max": 1, "scale": "Cubic"}}}), SearchSpaceError, "Cubic"),
        (json.dumps({"bounds": {"x": {"max": 1}}}), SearchSpaceError, "min"),
        (json.dumps({"bounds": {"n": {"type": "int", "min": 0.5, "max": 3}}}), SearchSpaceError, "integer"),
        (json.dumps({"bounds": {"c": {"type": "categorical", "choices": []}}}), SearchSpaceError, "choice"),
        (json.dumps({"bounds": {"c": {"type": "categorical"}}}), SearchSpaceError, "choices"),
        (json.dumps({"bounds": {"c": {"type": "enum", "choices": [1]}}}), SearchSpaceError, "enum"),
    ],
)
def test_bad_configs_raise_clear_errors(config: str, error: type, fragment: str) -> None:
    with pytest.raises(error) as info:
        ArqonSolver(config)
    assert fragment in str(info.value), str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("results", "error", "fragment"),
    [
        ("[{]", ConfigError, "invalid results JSON"),
        (
            '[{"params": {"learning_rate": 0.01, "batch_size": 20}, "value": 1, "colour": 1}]',
            ConfigError,
            "unknown field",
        ),
        ('[{"value": 1}]', ConfigError, "params"),
        ('[{"params": {"learning_rate": 0.01}, "value": 1}]', ConfigError, "batch_size"),
        ('[{"params": {"learning_rate": "x", "batch_size": 20}, "value": 1}]', ConfigError, "learning_rate"),
        ('"text"', ConfigError, "list of objects"),
        ([{"params": {"learning_rate": 0.01, "batch_size": 20}}], ConfigError, "value"),
        (
            [{"params": {"learning_rate": 0.01, "batch_size": 20}, "value": 1, "extra": 2}],
            ConfigError,
            "extra",
        ),
        (
            [{"params": {"learning_rate": 0.01, "oops": 1, "batch_size": 3}, "value": 1}],
            ParameterError,
            "oops",
        ),
    ],
)
def test_bad_results_raise_clear_errors(results: object, error: type, fragment: str) -> None:
    solver = ArqonSolver(json.dumps(SEED_CONFIG))
    solver.ask()
    with pytest.raises(error) as info:
        solver.tell(results)  # type: ignore[arg-type]
    assert fragment in str(info.value), str(info.value)


def test_json_options_are_not_mixed_with_keywords() -> None:
    with pytest.raises(ConfigError):
        ArqonSolver(json.dumps(SEED_CONFIG), seed=1)
