"""Ray Tune adapter: ``ArqonSearch`` is a ``ray.tune.search.Searcher`` driven by the ArqonHPO engine.

One-line switch::

    from arqonhpo.ray import ArqonSearch

    tuner = tune.Tuner(
        trainable,
        param_space={"lr": tune.loguniform(1e-5, 1e-1), "layers": tune.randint(1, 8)},
        tune_config=tune.TuneConfig(
            search_alg=ArqonSearch(metric="loss", mode="min", seed=0), num_samples=200
        ),
    )

The adapter only translates: Ray trial ids <-> engine trial ids, Tune domains <-> engine parameters
(see :mod:`arqonhpo._space.ray` for the exact mapping and what is rejected), results -> engine values.
All search logic, including keeping concurrent suggestions distinct, lives in the engine.
"""

from __future__ import annotations

import copy
import logging
import math
import pickle
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from ray.tune.search import Searcher

from arqonhpo import ArqonSolver
from arqonhpo._space.ray import RaySpace, convert_space

__all__ = ["ArqonSearch"]

logger = logging.getLogger(__name__)

_STATE_VERSION = 1
_MISSING = object()


class ArqonSearch(Searcher):
    """Ray Tune searcher backed by the ArqonHPO engine.

    Args:
        space: Optional search space: a (nested) dict of Tune domains, ``arqonhpo.Float`` / ``Int`` /
            ``Categorical`` and constants. When given, ``param_space`` passed to the ``Tuner`` must not
            contain search domains (Ray's rule for searchers with their own space).
        metric: Result key to optimize; nested results can be addressed as ``"a/b"``. Defaults to the
            ``TuneConfig`` metric.
        mode: ``"min"`` or ``"max"``. Defaults to the ``TuneConfig`` mode.
        seed: Engine seed; ``None`` draws one (kept in checkpoints, readable as ``searcher.seed``).
        budget: Maximum number of engine suggestions; after that ``suggest`` returns ``Searcher.FINISHED``.
            ``None`` uses ``num_samples`` minus the number of ``points_to_evaluate`` when Tune provides it.
        points_to_evaluate: Configurations to run first, exactly as given, before any engine suggestion.
            Each must set every searched parameter (nested dicts or flat ``"a/b"`` keys).
        **solver_options: Passed verbatim to :class:`arqonhpo.ArqonSolver` (e.g. ``strategy``).

    Supported domains: uniform, quniform, loguniform, qloguniform, randint, qrandint, lograndint,
    qlograndint, choice, nested dicts and lists (flattened to ``"a/b"`` names and rebuilt), constants (passed
    through). ``tune.grid_search``, ``tune.sample_from`` and ``tune.randn`` / ``qrandn`` raise a
    ``ValueError`` naming the key (see :mod:`arqonhpo._space.ray` for why and for the exact bound mapping).

    Failed trials (``error=True``, no result, NaN or infinite metric) are recorded as failures. A second
    completion for the same trial is ignored. ``max_concurrent_trials`` / ``ConcurrencyLimiter`` are honoured
    through :meth:`set_max_concurrency`.
    """

    def __init__(
        self,
        space: Mapping[str, Any] | None = None,
        metric: str | None = None,
        mode: str | None = None,
        seed: int | None = None,
        budget: int | None = None,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
        **solver_options: Any,
    ) -> None:
        if mode is not None and mode not in ("min", "max"):  # before Ray's bare assert in super().__init__
            raise ValueError(f"ArqonSearch: mode must be 'min' or 'max', got {mode!r}.")
        super().__init__(metric=metric, mode=mode)
        if budget is not None and budget < 1:
            raise ValueError(f"ArqonSearch: budget must be a positive integer or None, got {budget!r}.")
        self._seed: int = secrets.randbits(32) if seed is None else int(seed)
        self._budget = budget
        self._solver_options = dict(solver_options)
        self._points: list[Mapping[str, Any]] = [copy.deepcopy(dict(p)) for p in points_to_evaluate or ()]
        self._queued: list[tuple[int, Any]] = []  # points declared to the engine, not yet handed to Ray
        self._space: RaySpace | None = convert_space(space) if space is not None else None
        self._space_from_ctor = space is not None
        self._num_samples: int | None = None
        self._solver: ArqonSolver | None = None
        self._live: dict[str, int] = {}  # Ray trial id -> engine trial id, for trials not yet completed
        self._done: set[str] = set()  # Ray trial ids already told, to ignore repeated completions
        self._max_concurrent: int | None = None

    # ------------------------------------------------------------------ introspection

    @property
    def seed(self) -> int:
        return self._seed

    @property
    def solver(self) -> ArqonSolver | None:
        """The engine, once created (first ``suggest`` or ``add_evaluated_point``); for introspection."""
        return self._solver

    # ------------------------------------------------------------------ Searcher contract

    def set_search_properties(
        self, metric: str | None, mode: str | None, config: dict[str, Any], **spec: Any
    ) -> bool:
        if spec.get("num_samples") is not None:
            self._num_samples = int(spec["num_samples"])  # only a planning hint for the engine's budget
        if self._space_from_ctor:
            # Ray's rule: a searcher with its own space refuses the config. Metric and mode still fill gaps.
            self._metric = self.metric or metric
            self._mode = self.mode or mode
            return False
        if metric:
            self._metric = metric
        if mode:
            self._mode = mode
        new_space = convert_space(config)
        if self._solver is not None and self._space is not None:
            # A searcher restored from a checkpoint is being attached to a Tuner again: keep its state.
            if list(new_space.params) != list(self._space.params):
                raise ValueError(
                    "ArqonSearch: this searcher already searches the parameters "
                    f"{list(self._space.params)}, but the Tuner's param_space defines "
                    f"{list(new_space.params)}."
                )
            return True
        self._space = new_space
        return True

    def set_max_concurrency(self, max_concurrent: int) -> bool:
        """Called by ``ConcurrencyLimiter`` (and so by ``max_concurrent_trials``): the searcher enforces the
        limit itself, since it tracks its in-flight trials anyway. The limiter's ``batch=True`` therefore has
        no effect: the engine already accounts for pending trials, so holding results back gains nothing."""
        self._max_concurrent = max_concurrent
        return True

    # Ray annotates suggest as Optional[Dict] but documents Searcher.FINISHED (a str) as a valid return.
    def suggest(self, trial_id: str) -> dict[str, Any] | str | None:  # type: ignore[override]
        solver = self._solver or self._create_solver()
        if self._max_concurrent is not None and len(self._live) >= self._max_concurrent:
            return None
        if self._queued:  # points_to_evaluate run first, exactly as given
            engine_id, config = self._queued.pop(0)
            self._live[trial_id] = engine_id
            return config
        trials = solver.ask_trials(1)
        if not trials:
            return Searcher.FINISHED
        trial = trials[0]
        self._live[trial_id] = trial.id
        return self._space.to_config(trial.params)  # type: ignore[union-attr]  # set with the solver

    def on_trial_result(self, trial_id: str, result: dict[str, Any]) -> None:
        # Intermediate results (possibly NaN) are not used: no pruning in this searcher.
        return None

    def on_trial_complete(
        self, trial_id: str, result: dict[str, Any] | None = None, error: bool = False
    ) -> None:
        engine_id = self._live.get(trial_id)
        if engine_id is None:
            self._complete_unknown(trial_id, result, error)
            return
        # Read the metric before changing any state, so a missing metric leaves the trial pending.
        value = None if error or result is None else self._engine_value(self._read_metric(result))
        del self._live[trial_id]
        self._done.add(trial_id)
        assert self._solver is not None
        self._solver.tell_trial(engine_id, value)

    def add_evaluated_point(
        self,
        parameters: dict[str, Any],
        value: float | None,
        error: bool = False,
        pruned: bool = False,
        intermediate_values: list[float] | None = None,
    ) -> None:
        """Warm start: record a configuration evaluated outside this searcher.

        A pruned trial's value is kept as an observation (it is the last value it reached);
        ``error=True`` or ``value=None`` records a failure.
        """
        solver = self._solver or self._create_solver()
        assert self._space is not None
        engine_params, _ = self._space.from_config(parameters)
        solver.add_trial(engine_params, None if error or value is None else self._engine_value(value))

    # ------------------------------------------------------------------ checkpointing

    def get_state(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_solver"] = self._solver.to_bytes() if self._solver is not None else None
        # Copy what this object keeps mutating so the snapshot stays a snapshot.
        state["_live"] = dict(self._live)
        state["_done"] = set(self._done)
        state["_points"] = copy.deepcopy(self._points)
        state["_queued"] = copy.deepcopy(self._queued)
        state["_state_version"] = _STATE_VERSION
        return state

    def set_state(self, state: dict[str, Any]) -> None:
        state = dict(state)
        version = state.pop("_state_version", None)
        if version != _STATE_VERSION:
            raise ValueError(f"ArqonSearch: unsupported checkpoint state version {version!r}.")
        raw_solver = state.pop("_solver")
        self.__dict__.update(state)
        self._solver = ArqonSolver.from_bytes(raw_solver) if raw_solver is not None else None

    def save(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, "wb") as f:
            pickle.dump(self.get_state(), f)

    def restore(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, "rb") as f:
            self.set_state(pickle.load(f))

    def __getstate__(self) -> dict[str, Any]:
        return self.get_state()

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.set_state(state)

    # ------------------------------------------------------------------ helpers

    def _create_solver(self) -> ArqonSolver:
        if self._space is None:
            raise RuntimeError(
                "ArqonSearch has no search space: "
                "pass `space=` to ArqonSearch or `param_space=` to the Tuner."
            )
        if not self._metric or not self._mode:
            raise RuntimeError(
                f"ArqonSearch needs a metric and a mode (got metric={self._metric!r}, mode={self._mode!r}): "
                "pass them to ArqonSearch or to tune.TuneConfig."
            )
        if self._mode not in ("min", "max"):
            raise ValueError(f"ArqonSearch: mode must be 'min' or 'max', got {self._mode!r}.")
        solver = ArqonSolver(
            self._space.params,
            seed=self._seed,
            budget=self._engine_budget(),
            direction="maximize" if self._mode == "max" else "minimize",
            **self._solver_options,
        )
        # points_to_evaluate are committed: declare them pending now, which also makes the engine validate
        # every point (missing keys, unknown choices, wrong types) before the first trial runs.
        self._queued = [self._queue_point(solver, self._space, point) for point in self._points]
        self._points = []
        self._solver = solver
        return solver

    def _engine_budget(self) -> int | None:
        if self._budget is not None:
            return self._budget
        if self._num_samples is None or self._num_samples < 0:  # num_samples=-1 means "until stopped"
            return None
        # points_to_evaluate are registered with add_pending, which does not consume engine budget.
        return max(self._num_samples - len(self._points), 0)

    @staticmethod
    def _queue_point(solver: ArqonSolver, space: RaySpace, point: Mapping[str, Any]) -> tuple[int, Any]:
        """(engine id, config to return): the config holds the user's values untouched."""
        engine_params, raw = space.from_config(point)
        return solver.add_pending(engine_params), space.config_from_values(raw)

    def _read_metric(self, result: Mapping[str, Any]) -> Any:
        metric = str(self._metric)  # set before the solver exists, so before any trial completes
        value = result.get(metric, _MISSING)
        if value is _MISSING and "/" in metric:
            value = _nested_get(result, metric.split("/"))
        if value is _MISSING:
            keys = sorted(str(k) for k in result)
            raise ValueError(
                f"ArqonSearch: the trial result has no metric {metric!r} (result keys: {keys[:30]}). "
                "Report it with tune.report({...}) or fix the metric name."
            )
        return value

    def _engine_value(self, value: Any) -> float | None:
        """User metric -> solver value (the solver applies the direction); NaN/inf become failures."""
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(
                f"ArqonSearch: metric {self._metric!r} must be a number, "
                f"got {type(value).__name__} {value!r}."
            ) from None
        if not math.isfinite(number):
            return None
        return number

    def _complete_unknown(self, trial_id: str, result: Mapping[str, Any] | None, error: bool) -> None:
        """A completion for a trial id this searcher has no pending trial for.

        Either a repeated completion (ignored), or a trial Ray created without asking, e.g. a trial
        restarted under a new id by ``Tuner.restore(..., restart_errored=True)``: its result carries the
        config, which is recorded as an external observation so the engine still learns from it.
        """
        if trial_id in self._done:
            logger.debug("ArqonSearch: ignoring a repeated completion of trial %s.", trial_id)
            return
        config = _result_config(result) if result else None
        if self._solver is None or self._space is None or not config:
            logger.warning("ArqonSearch: ignoring the completion of unknown trial %s (no config).", trial_id)
            return
        try:
            engine_params, _ = self._space.from_config(config)
        except ValueError as exc:
            logger.warning("ArqonSearch: ignoring the completion of unknown trial %s: %s", trial_id, exc)
            return
        assert result is not None
        value = None if error else self._engine_value(self._read_metric(result))
        self._solver.add_trial(engine_params, value)
        self._done.add(trial_id)


def _result_config(result: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The trial config carried by a result: Ray flattens results (``config/a/b`` keys) before calling
    ``on_trial_complete``; direct callers may pass it nested under ``config``."""
    nested = result.get("config")
    if isinstance(nested, Mapping):
        return nested
    prefix = "config/"
    flat = {key[len(prefix) :]: value for key, value in result.items() if key.startswith(prefix)}
    return flat or None


def _nested_get(result: Mapping[str, Any], parts: list[str]) -> Any:
    node: Any = result
    for part in parts:
        if not isinstance(node, Mapping) or part not in node:
            return _MISSING
        node = node[part]
    return node
