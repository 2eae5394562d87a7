"""``ArqonSolver``: the engine's own ask/tell API, in two faces over one compiled engine.

* The fast API (``ask_trials`` / ``tell_trial``) passes Python objects straight to the Rust engine: no JSON,
  no per-trial Python loops over the history.
* The seed API (``ArqonSolver(json_config)``, ``ask()``, ``tell(json_results)``) is kept verbatim from the
  original description for compatibility; its JSON is parsed in Rust.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from . import _core
from ._errors import ConfigError
from ._space import ParamSpec, to_engine_specs

__all__ = ["ArqonSolver", "BestTrial", "Trial", "replay"]

logger = logging.getLogger("arqonhpo")

Trial = _core.Trial

_DIRECTIONS = ("minimize", "maximize")
_STRATEGIES = ("auto", "probe", "nelder_mead", "tpe", "cmaes")


class BestTrial(NamedTuple):
    id: int
    params: dict[str, Any]
    value: float


def _check_seed(seed: int | None) -> int:
    if seed is None:
        # A fresh seed per solver, reported through ``solver.seed`` so the run can be reproduced.
        return int.from_bytes(os.urandom(8), "little")
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**64:
        raise ConfigError(f"seed must be an int in [0, 2**64), got {seed!r}")
    return seed


def _check_budget(budget: int | None) -> int | None:
    if budget is None:
        return None
    if isinstance(budget, bool) or not isinstance(budget, int) or budget < 0:
        raise ConfigError(f"budget must be a non-negative int or None, got {budget!r}")
    return budget


def _check_choice(name: str, value: str, allowed: Sequence[str]) -> str:
    if value not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")
    return value


def _check_probe_size(probe_size: int | None) -> int | None:
    if probe_size is not None and (
        isinstance(probe_size, bool) or not isinstance(probe_size, int) or probe_size < 1
    ):
        raise ConfigError(f"probe_size must be a positive int or None, got {probe_size!r}")
    return probe_size


def _trial_id(trial: Any) -> int:
    return trial if isinstance(trial, int) and not isinstance(trial, bool) else trial.id


class ArqonSolver:
    """Ask/tell hyperparameter optimizer backed by the Rust engine.

    ``ArqonSolver(space, seed=0, budget=100)`` with ``space`` a mapping of name -> ``Float`` / ``Int`` /
    ``Categorical``; or ``ArqonSolver(json.dumps(config))`` for the seed's JSON config.
    """

    __slots__ = ("_engine", "_sign")

    def __init__(
        self,
        space: str | Mapping[str, ParamSpec],
        *,
        seed: int | None = None,
        budget: int | None = None,
        direction: str = "minimize",
        strategy: str = "auto",
        probe_size: int | None = None,
    ) -> None:
        _check_choice("direction", direction, _DIRECTIONS)
        if isinstance(space, str):
            if seed is not None or budget is not None or probe_size is not None or strategy != "auto":
                raise ConfigError(
                    "with a JSON config, set seed, budget, strategy and probe_size inside the JSON"
                )
            if direction != "minimize":
                raise ConfigError("the JSON config API minimizes; negate values or use the Python space API")
            self._engine = _core.Engine.from_json(space)
        else:
            self._engine = _core.Engine(
                to_engine_specs(space),
                seed=_check_seed(seed),
                budget=_check_budget(budget),
                strategy=_check_choice("strategy", strategy, _STRATEGIES),
                probe_size=_check_probe_size(probe_size),
            )
        self._sign = 1.0 if direction == "minimize" else -1.0

    # ---- fast API

    def ask_trials(self, n: int = 1) -> list[_core.Trial]:
        """``n`` new trials (each with ``.id`` and ``.params``); fewer or none once the budget is spent."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ConfigError(f"n must be a non-negative int, got {n!r}")
        return self._engine.ask_trials(n)

    def tell_trial(self, trial: _core.Trial | int, value: float | None) -> None:
        """Records ``value`` for a trial (or trial id). None, NaN and +-inf record a failure."""
        self._engine.tell(_trial_id(trial), self._engine_value(value))

    def tell_trials(self, results: Iterable[tuple[_core.Trial | int, float | None]]) -> None:
        """Records many results at once; on an error, every result before it is kept."""
        self._engine.tell_many([(_trial_id(t), self._engine_value(v)) for t, v in results])

    def fail(self, trial: _core.Trial | int) -> None:
        """Records that a trial failed."""
        self._engine.tell(_trial_id(trial), None)

    def add_trial(self, params: Mapping[str, Any], value: float | None) -> int:
        """Adds a result for a point the solver did not propose; returns its trial id."""
        return self._engine.add_trial(dict(params), self._engine_value(value))

    def add_pending(self, params: Mapping[str, Any]) -> int:
        """Declares a point someone else is evaluating; tell its result later with ``tell_trial``."""
        return self._engine.add_pending(dict(params))

    def _engine_value(self, value: float | None) -> float | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            try:
                value = float(value)  # numpy scalars and other real numbers
            except (TypeError, ValueError):
                raise ConfigError(f"value must be a real number or None, got {value!r}") from None
        return self._sign * value if math.isfinite(value) else None

    # ---- seed API

    def ask(self, n: int | None = None) -> list[dict[str, Any]] | None:
        """A batch of param dicts (the phase's natural size unless ``n`` is given), or None when the budget is
        spent."""
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
            raise ConfigError(f"n must be a positive int or None, got {n!r}")
        return self._engine.ask_dicts(n)

    def tell(self, results: str | Sequence[Mapping[str, Any]]) -> list[int]:
        """Records results given as JSON text or a list of dicts with ``params`` (or ``id``), ``value`` and
        ``cost``; returns the trial id each result was recorded under."""
        if isinstance(results, str):
            if self._sign != 1.0:
                raise ConfigError(
                    "JSON results assume minimization; use tell_trial with direction='maximize'"
                )
            return self._engine.tell_json(results)
        if isinstance(results, Mapping) or not isinstance(results, Sequence):
            raise ConfigError("results must be JSON text or a list of dicts")
        items = []
        for r in results:
            if isinstance(r, Mapping) and "value" in r and self._sign != 1.0:
                r = {**r, "value": self._engine_value(r["value"])}
            items.append(dict(r) if isinstance(r, Mapping) else r)
        return self._engine.tell_results(items)

    # ---- introspection

    @property
    def seed(self) -> int:
        return self._engine.seed

    @property
    def budget(self) -> int | None:
        return self._engine.budget

    @property
    def remaining(self) -> int | None:
        return self._engine.remaining

    @property
    def n_asked(self) -> int:
        return self._engine.n_asked

    @property
    def n_told(self) -> int:
        return self._engine.n_told

    @property
    def direction(self) -> str:
        return "minimize" if self._sign == 1.0 else "maximize"

    @property
    def phase(self) -> str:
        return self._engine.phase

    @property
    def strategy(self) -> str:
        return self._engine.strategy

    @property
    def probe_size(self) -> int:
        return self._engine.probe_size

    @property
    def classification(self) -> dict[str, Any] | None:
        return self._engine.classification

    @property
    def param_names(self) -> list[str]:
        return list(self._engine.param_names)

    @property
    def best(self) -> BestTrial | None:
        found = self._engine.best
        if found is None:
            return None
        trial_id, params, value = found
        return BestTrial(trial_id, params, self._sign * value)

    def trials(self) -> list[dict[str, Any]]:
        """Every trial: id, params, state (pending/complete/failed), value, source."""
        return [
            {"id": i, "params": p, "state": s, "value": None if v is None else self._sign * v, "source": src}
            for i, p, s, v, src in self._engine.trials()
        ]

    def probe_point(self, index: int) -> dict[str, Any]:
        """The ``index``-th point of the seeded probe design: a pure function of (seed, index)."""
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < 2**64:
            raise ConfigError(f"index must be an int in [0, 2**64), got {index!r}")
        return self._engine.probe_point(index)

    def reseed(self, seed: int) -> None:
        """Reseeds the strategies' random stream (the probe design keeps the original seed)."""
        self._engine.reseed(_check_seed(seed))

    # ---- persistence and audit

    def run_record(self) -> str:
        """Every ask, tell and strategy decision as JSON lines (header first)."""
        return self._engine.run_record()

    def export_record(self, path: str | os.PathLike[str]) -> None:
        Path(path).write_text(self.run_record(), encoding="utf-8")

    def to_bytes(self) -> bytes:
        """The complete state; ``ArqonSolver.from_bytes`` continues exactly where this solver is."""
        import pickle

        return pickle.dumps(self)

    @classmethod
    def from_bytes(cls, data: bytes) -> ArqonSolver:
        import pickle

        from ._errors import SnapshotError

        try:
            solver = pickle.loads(data)
        except Exception as exc:  # unpickling arbitrary bytes can raise almost anything
            raise SnapshotError(f"invalid snapshot: {exc}") from exc
        if not isinstance(solver, cls):
            raise SnapshotError(f"invalid snapshot: holds a {type(solver).__name__}, not an ArqonSolver")
        return solver

    def __getstate__(self) -> dict[str, Any]:
        return {"engine": self._engine, "sign": self._sign}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._engine = state["engine"]
        self._sign = state["sign"]

    def __repr__(self) -> str:
        return (
            f"ArqonSolver(params={self.param_names}, seed={self.seed}, budget={self.budget}, "
            f"n_asked={self.n_asked}, phase={self.phase!r}, strategy={self.strategy!r})"
        )


def replay(record: str | os.PathLike[str]) -> dict[str, int]:
    """Rebuilds a solver from a run record (text or file path) and re-issues every call; raises
    ``ReplayMismatchError`` at the first suggestion or decision that differs. Returns what was checked."""
    text = record if isinstance(record, str) and "\n" in record else Path(record).read_text(encoding="utf-8")
    report = _core.replay(text)
    logger.debug("replayed run record: %s", report)
    return report
