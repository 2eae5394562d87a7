"""Optuna adapter: :class:`ArqonSampler`, an ``optuna.samplers.BaseSampler`` driven by the Rust engine.

    study = optuna.create_study(sampler=ArqonSampler(seed=0))

The adapter translates, nothing more; every decision about *where* to sample is the engine's.

How Optuna's concepts map onto the engine
-----------------------------------------
* **Relative search space.** The intersection of the distributions of all finished (COMPLETE or PRUNED)
  trials, kept incrementally. One engine ``ArqonSolver`` per relative search space samples it jointly.
* **Independent parameters** (define-by-run, conditional branches, ranges that changed): each
  ``(name, distribution)`` gets its own one-dimensional engine solver that is told the objective value of
  every trial containing that parameter, so it still learns from history instead of sampling uniformly.
* **Trial states.** COMPLETE -> its value (``direction="maximize"`` is negated, the engine minimizes);
  ``+inf``/``-inf``/NaN values are handed to the engine, which records non-finite values as failures.
  FAIL -> failure. PRUNED -> Optuna's own convention: the trial's last intermediate value is its value
  (a pessimistic estimate of where it would have finished, since intermediate values usually improve with
  steps); a pruned trial without intermediate values is a failure.
* **Constraints** (``trial.set_constraint`` / ``FrozenTrial.constraints``): a trial with any constraint
  value ``> 0`` is infeasible and is told to the engine as a *failure*, so only feasible trials ever
  count as good evidence.
* **Enqueued / added / other workers' trials** are learned from once finished via ``add_trial``, even
  when their values are out of the current range (the engine clamps them for modelling). Running trials
  of other workers are registered with ``add_pending`` so the engine does not propose them again.
* **Multi-objective studies are not supported**: like Optuna's single-objective samplers, the first
  sampling call raises ``ValueError``.

Cost per trial
--------------
Local trials are ingested in ``after_trial``; a cursor over trial numbers finds trials written by anyone
else (other processes, ``study.add_trial``, a resumed study), so each trial touches only what is new.
(Hyperband hands samplers a filtered per-bracket view whose trial numbers have gaps; there the sync scans
the view and skips the trials already ingested.) A fresh sampler on a stored study ingests its history once,
when its first trial starts, so resuming loses nothing.

Several processes on one storage
--------------------------------
Trial numbers are unique across workers, so every ask is reseeded with the trial number, and the engine
never proposes a point already in its history, pending points of other workers included. On a shared
storage (anything but ``InMemoryStorage``) each proposal is written to the trial's system attrs
(``arqon:proposal`` for the relative point, ``arqon:proposal:<name>`` for an independent value) before the
objective sees it; other workers read it for ``add_pending``. After writing, a worker re-reads the trials
its engines do not know yet and moves away if another worker raced it to the same point: both write before
they read, so at least one of two racing workers sees the other. It first asks the engine again; should
that collide too, it takes the probe-design point indexed by ``2**40 + trial number``, which no other trial
can hold.
"""

from __future__ import annotations

import random
import threading
import weakref
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler
from optuna.storages import InMemoryStorage
from optuna.study import Study, StudyDirection
from optuna.trial import FrozenTrial, TrialState

from ._errors import ArqonError
from ._space.optuna import SpaceCodec, sorted_space

__all__ = ["ArqonSampler"]

# System attr holding a trial's relative proposal in Optuna's internal representation.
PROPOSAL_ATTR = "arqon:proposal"
# System attr prefix holding an independently sampled value (internal representation) by parameter name.
_INDEPENDENT_ATTR_PREFIX = "arqon:proposal:"

_FINISHED_WITH_SPACE = (TrialState.COMPLETE, TrialState.PRUNED)
_MASK32 = 0xFFFFFFFF
_RACE_RETRIES = 1
# Probe-design index of a trial's collision-free fallback point: the design's own stream never gets there.
_UNIQUE_PROBE_BASE = 1 << 40


def _mix(*parts: int) -> int:
    """Deterministic 32-bit seed from integers (splitmix64 finalizer); Python's hash() is salted."""
    h = 0x9E3779B97F4A7C15
    for part in parts:
        h = (h ^ (part & 0xFFFFFFFFFFFFFFFF)) * 0xBF58476D1CE4E5B9 & 0xFFFFFFFFFFFFFFFF
        h ^= h >> 31
        h = h * 0x94D049BB133111EB & 0xFFFFFFFFFFFFFFFF
        h ^= h >> 29
    return h & _MASK32


def _name_hash(kind: str, names: Sequence[str]) -> int:
    return zlib.crc32("\x00".join((kind, *names)).encode())


class _Engine:
    """One engine solver plus the bookkeeping that ties its trial ids to Optuna trial numbers."""

    __slots__ = ("codec", "pending", "solver")

    def __init__(self, codec: SpaceCodec, seed: int) -> None:
        from arqonhpo import ArqonSolver

        self.codec = codec
        self.solver: Any = ArqonSolver(codec.engine_space(), seed=seed, budget=None)
        # Optuna trial number -> (engine trial id, engine params of that point).
        self.pending: dict[int, tuple[int, dict[str, Any]]] = {}

    def __getstate__(self) -> tuple[Any, ...]:
        return (self.codec, self.pending, self.solver)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        self.codec, self.pending, self.solver = state

    def propose(self, number: int, seed: int) -> dict[str, Any]:
        """Engine params for Optuna trial ``number`` (idempotent for a trial already proposed)."""
        known = self.pending.get(number)
        if known is not None:
            return known[1]
        engine_id, params = self.ask(seed)
        self.pending[number] = (engine_id, params)
        return params

    def ask(self, seed: int) -> tuple[int, dict[str, Any]]:
        # Reseeding with the trial number makes refinement draws differ between workers that share
        # a seed and a history; the probe design skips points already in the engine's history.
        self.solver.reseed(seed)
        (trial,) = self.solver.ask_trials(1)
        return trial.id, trial.params

    def replace(self, number: int, engine_id: int, params: dict[str, Any], owner: int | None) -> None:
        """Give trial ``number`` a new point; its old point now belongs to trial ``owner`` (or is dropped)."""
        old_id, old_params = self.pending.pop(number)
        if owner is not None and owner not in self.pending:
            self.pending[owner] = (old_id, old_params)
        else:
            self.solver.fail(old_id)
        self.pending[number] = (engine_id, params)

    def add_pending(self, number: int, encoded: dict[str, Any]) -> None:
        """Someone else is evaluating ``encoded`` as trial ``number``."""
        try:
            self.pending[number] = (self.solver.add_pending(encoded), encoded)
        except ArqonError:  # a point the engine cannot represent only loses the dedup hint
            pass

    def finish(self, number: int, params: Mapping[str, Any], value: float | None) -> None:
        """Tell the engine how Optuna trial ``number`` ended."""
        encoded = self.codec.encode(params)
        known = self.pending.pop(number, None)
        if known is not None:
            engine_id, proposed = known
            # The second test catches engine values that Optuna saw clamped onto the range or grid.
            if encoded == proposed or encoded == self.codec.encode(self.codec.decode(proposed)):
                self.solver.tell_trial(engine_id, value)
                return
            # The trial did not evaluate the proposed point (fixed params, off-grid fallback,
            # a branch that skipped some parameters): retire the proposal, record what really ran.
            self.solver.fail(engine_id)
        if encoded is not None:
            self._add_trial(encoded, value)

    def _add_trial(self, encoded: dict[str, Any], value: float | None) -> None:
        # A foreign value the engine cannot represent is skipped rather than failing the user's study.
        try:
            self.solver.add_trial(encoded, value)
        except ArqonError:
            pass

    def backfill(self, history: Sequence[tuple[dict[str, Any], float | None]]) -> None:
        for params, value in history:
            encoded = self.codec.encode(params)
            if encoded is not None:
                self._add_trial(encoded, value)


class ArqonSampler(BaseSampler):
    """Optuna sampler backed by the ArqonHPO engine.

    Args:
        seed: Seed of every engine solver. The same seed and the same sequence of trials give the same
            suggestions in any process. ``None`` draws a random seed.
    """

    def __init__(self, *, seed: int | None = None) -> None:
        self._seed = random.SystemRandom().getrandbits(32) if seed is None else int(seed) & _MASK32
        self._salt = 0  # changed by reseed_rng(); mixed into every refinement reseed
        self._lock = threading.RLock()
        self._study_ref: weakref.ReferenceType[Study] | None = None
        self._reset_study_state(None)

    # ------------------------------------------------------------------ state and persistence

    def _reset_study_state(self, key: tuple[int, str] | None) -> None:
        self._study_key = key
        self._sign = 1.0
        self._multi_objective = False
        self._shared_storage = False
        self._cursor = 0  # every trial number below it has been visited at least once
        self._open: set[int] = set()  # visited but unfinished trial numbers, re-checked on sync
        self._done: set[int] = set()  # finished trial numbers already told to the engines
        self._local: set[int] = set()  # unfinished trial numbers this sampler is sampling
        self._history: list[tuple[dict[str, Any], float | None]] = []  # finished trials, for new engines
        self._intersection: dict[str, BaseDistribution] | None = None
        self._space: dict[str, BaseDistribution] = {}  # intersection without single-valued params
        self._current: _Engine | None = None  # engine of self._space
        self._relative: dict[tuple[tuple[str, BaseDistribution], ...], _Engine] = {}  # other spaces
        self._independent: dict[tuple[str, BaseDistribution], _Engine] = {}

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_lock"], state["_study_ref"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()
        self._study_ref = None

    def reseed_rng(self) -> None:
        # Optuna calls this in every n_jobs worker thread. Only the strategies' random streams change
        # (the salt is mixed into every per-trial reseed); the probe design is a function of the seed.
        with self._lock:
            self._salt = random.SystemRandom().getrandbits(32)

    # ------------------------------------------------------------------ BaseSampler interface

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        with self._lock:
            self._bind(study)
            if not self._multi_objective:
                self._register(study, trial.number)

    def infer_relative_search_space(self, study: Study, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        with self._lock:
            self._bind(study)
            self._check_single_objective(study)
            self._register(study, trial.number)
            if self._shared_storage:
                self._sync(study, fresh=True)
            # Returned as is (Optuna only reads it); a changed intersection is always a new dict.
            return self._space

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        with self._lock:
            self._bind(study)
            self._check_single_objective(study)
            if not search_space:
                return {}
            self._register(study, trial.number)
            engine = self._relative_engine(search_space)
            if engine is None:
                return {}
            params = engine.propose(trial.number, self._refine_seed(trial.number, 0))
            if self._shared_storage:
                params = self._publish(study, trial, engine, params, PROPOSAL_ATTR)
            return engine.codec.decode(params)

    def sample_independent(
        self, study: Study, trial: FrozenTrial, param_name: str, param_distribution: BaseDistribution
    ) -> Any:
        with self._lock:
            self._bind(study)
            self._check_single_objective(study)
            if param_distribution.single():
                return _single_value(param_distribution)
            self._register(study, trial.number)
            if self._shared_storage:
                self._sync(study, fresh=True)
            engine = self._independent_engine(param_name, param_distribution)
            params = engine.propose(trial.number, self._refine_seed(trial.number, 0))
            if self._shared_storage:
                key = _INDEPENDENT_ATTR_PREFIX + param_name
                params = self._publish(study, trial, engine, params, key)
            return engine.codec.decode(params)[param_name]

    def after_trial(
        self, study: Study, trial: FrozenTrial, state: TrialState, values: Sequence[float] | None
    ) -> None:
        with self._lock:
            self._bind(study)
            if self._multi_objective or trial.number in self._done:
                return
            self._finish(trial, state, values)

    # ------------------------------------------------------------------ study binding and sync

    def _bind(self, study: Study) -> None:
        """Attach to ``study``; a different study (not merely a new handle on it) starts afresh."""
        if self._study_ref is not None and self._study_ref() is study:
            return
        key = (study._study_id, study.study_name)
        if key != self._study_key:
            self._reset_study_state(key)
        directions = study.directions
        self._multi_objective = len(directions) > 1
        self._sign = -1.0 if directions[0] == StudyDirection.MAXIMIZE else 1.0
        self._shared_storage = not isinstance(study._storage, InMemoryStorage)
        try:
            self._study_ref = weakref.ref(study)
        except TypeError:  # pragma: no cover - Study objects support weakrefs
            self._study_ref = None

    def _check_single_objective(self, study: Study) -> None:
        if self._multi_objective:
            self._raise_error_if_multi_objective(study)

    def _register(self, study: Study, number: int) -> None:
        """First contact with a trial of this sampler: sync what others wrote, then own the trial."""
        if number in self._local or number in self._done:
            return
        self._local.add(number)
        self._sync(study)

    def _sync(self, study: Study, fresh: bool = False) -> None:
        """Ingest trials this sampler has not seen finish: cost grows with what is new, not with history.

        ``fresh`` bypasses the per-trial cache of ``study._get_trials`` so that a worker on a shared
        storage sees what the others wrote while its own trial was starting.
        """
        if isinstance(study._storage, InMemoryStorage):
            self._sync_in_memory(study)
            return
        if fresh:
            trials = study._storage.get_all_trials(study._study_id, deepcopy=False)
        else:
            trials = study._get_trials(deepcopy=False, use_cache=True)
        for trial in self._unsettled(trials):
            self._visit(trial)
        self._cursor = max(self._cursor, len(trials))

    def _sync_in_memory(self, study: Study) -> None:
        # Even a shallow list of all trials costs O(history) per trial (tens of microseconds at 10 000
        # trials); the in-memory storage looks single trials up by number in O(1).
        storage, study_id = study._storage, study._study_id
        for number in sorted(self._open):
            self._visit(storage.get_trial(storage.get_trial_id_from_study_id_trial_number(study_id, number)))
        while True:
            try:
                trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, self._cursor)
            except KeyError:
                return
            self._visit(storage.get_trial(trial_id))
            self._cursor += 1

    def _unsettled(self, trials: list[FrozenTrial]) -> list[FrozenTrial]:
        """Trials not yet known to be finished and ingested: the new ones and the open ones."""
        n = len(trials)
        if n and trials[-1].number == n - 1:
            out = trials[self._cursor :]
            out.extend(trials[number] for number in sorted(self._open) if number < min(n, self._cursor))
            return out
        # A filtered view (e.g. a Hyperband bracket): numbers are not positions.
        return [trial for trial in trials if trial.number not in self._done]

    def _visit(self, trial: FrozenTrial) -> None:
        number = trial.number
        if number in self._done:
            self._open.discard(number)
            return
        state = trial.state
        if state.is_finished():
            self._open.discard(number)
            self._finish(trial, state, trial.values)
            return
        self._open.add(number)
        if state == TrialState.RUNNING and number not in self._local:
            self._note_foreign_running(trial)

    def _note_foreign_running(self, trial: FrozenTrial) -> None:
        """Another worker is evaluating this trial: keep the engines from proposing it again."""
        for engine in self._engines():
            if trial.number not in engine.pending:
                encoded = _foreign_point(trial, engine.codec)
                if encoded is not None:
                    engine.add_pending(trial.number, encoded)

    # ------------------------------------------------------------------ ingestion

    def _objective(
        self, trial: FrozenTrial, state: TrialState, values: Sequence[float] | None
    ) -> float | None:
        """The number the engine minimizes, or ``None`` for a failure (see the module docstring)."""
        if state not in _FINISHED_WITH_SPACE or not values:
            return None
        if any(c > 0 for c in _constraint_values(trial)):
            return None
        return self._sign * float(values[0])

    def _finish(self, trial: FrozenTrial, state: TrialState, values: Sequence[float] | None) -> None:
        number = trial.number
        value = self._objective(trial, state, values)
        params = trial.params
        for engine in self._engines():
            engine.finish(number, params, value)
        self._history.append((params, value))
        self._done.add(number)
        self._local.discard(number)
        self._open.discard(number)
        if state in _FINISHED_WITH_SPACE:
            self._intersect(trial.distributions)

    def _intersect(self, distributions: dict[str, BaseDistribution]) -> None:
        """Optuna's intersection search space, updated by one finished trial."""
        old = self._intersection
        if old is None:
            new = sorted_space(distributions.items())
        else:
            new = {name: dist for name, dist in old.items() if distributions.get(name) == dist}
            if len(new) == len(old):
                return
        self._intersection = new
        self._space = {name: dist for name, dist in new.items() if not dist.single()}
        self._current = None  # built lazily for the new space
        for key in [key for key in self._independent if key[0] in self._space]:
            del self._independent[key]

    # ------------------------------------------------------------------ engines

    def _engines(self) -> list[_Engine]:
        engines = list(self._relative.values())
        if self._current is not None:
            engines.append(self._current)
        engines.extend(self._independent.values())
        return engines

    def _new_engine(self, kind: str, space: Mapping[str, BaseDistribution]) -> _Engine | None:
        codec = SpaceCodec(space)
        if not len(codec):
            return None
        engine = _Engine(codec, _mix(self._seed, _name_hash(kind, codec.names)))
        engine.backfill(self._history)
        return engine

    def _relative_engine(self, search_space: dict[str, BaseDistribution]) -> _Engine | None:
        if search_space is self._space:
            if self._current is None:
                self._current = self._new_engine("relative", search_space)
            return self._current
        key = tuple(sorted(search_space.items(), key=lambda item: item[0]))
        engine = self._relative.get(key)
        if engine is None:
            engine = self._new_engine("relative", dict(key))
            if engine is None:
                return None
            self._relative[key] = engine
        return engine

    def _independent_engine(self, name: str, distribution: BaseDistribution) -> _Engine:
        key = (name, distribution)
        engine = self._independent.get(key)
        if engine is None:
            engine = self._new_engine("independent", {name: distribution})
            assert engine is not None  # single-valued distributions never get here
            self._independent[key] = engine
        return engine

    def _refine_seed(self, number: int, attempt: int) -> int:
        return _mix(self._seed, self._salt, number, attempt)

    # ------------------------------------------------------------------ shared storages

    def _publish(
        self, study: Study, trial: FrozenTrial, engine: _Engine, params: dict[str, Any], key: str
    ) -> dict[str, Any]:
        """Write the proposal where other workers see it; move away if another worker holds the point.

        Both racing workers write before they read, so at least one of them sees the other. The first
        retry asks the engine again (reseeded); should that collide too (workers with one seed and one
        history walk the same probe stream), the trial takes the design point indexed by its own trial
        number far beyond any stream position, which no other trial can hold.
        """
        codec = engine.codec
        for attempt in range(_RACE_RETRIES + 1):
            self._write_proposal(study, trial, codec, params, key)
            owner = self._racing_trial(study, trial.number, codec, params)
            if owner is None:
                return params
            if attempt < _RACE_RETRIES:
                engine_id, params = engine.ask(self._refine_seed(trial.number, attempt + 1))
            else:
                params = engine.solver.probe_point(_UNIQUE_PROBE_BASE + trial.number)
                engine_id = engine.solver.add_pending(params)
            engine.replace(trial.number, engine_id, params, owner)
        self._write_proposal(study, trial, codec, params, key)
        return params

    @staticmethod
    def _write_proposal(
        study: Study, trial: FrozenTrial, codec: SpaceCodec, params: dict[str, Any], key: str
    ) -> None:
        internal = codec.to_internal(codec.decode(params))
        value: Any = internal if key == PROPOSAL_ATTR else internal[codec.names[0]]
        study._storage.set_trial_system_attr(trial._trial_id, key, value)

    def _racing_trial(
        self, study: Study, number: int, codec: SpaceCodec, params: dict[str, Any]
    ) -> int | None:
        """Another trial holding the same point that this sampler's engines may not know about yet."""
        trials = study._storage.get_all_trials(study._study_id, deepcopy=False)
        for other in self._unsettled(trials):
            if other.number != number and _foreign_point(other, codec) == params:
                return other.number
        return None


def _foreign_point(trial: FrozenTrial, codec: SpaceCodec) -> dict[str, Any] | None:
    """The engine point another worker's trial holds in ``codec``'s space, from its proposals or params."""
    internal: dict[str, Any] = {}
    for key, value in trial.system_attrs.items():
        if key == PROPOSAL_ATTR and isinstance(value, dict):
            internal.update(value)
        elif key.startswith(_INDEPENDENT_ATTR_PREFIX):
            internal[key[len(_INDEPENDENT_ATTR_PREFIX) :]] = value
    if internal:
        encoded = codec.encode_internal(internal)
        if encoded is not None:
            return encoded
    return codec.encode(trial.params)


def _constraint_values(trial: FrozenTrial) -> list[float]:
    """Constraint values, feasible when all are <= 0 (``FrozenTrial.constraints`` since Optuna 5.0)."""
    constraints = getattr(trial, "constraints", None)
    if isinstance(constraints, dict):
        return list(constraints.values())
    legacy = trial.system_attrs.get("constraints")  # Optuna 4.x: a list set by constraints_func
    return list(legacy) if isinstance(legacy, (list, tuple)) else []


def _single_value(distribution: BaseDistribution) -> Any:
    from optuna.distributions import CategoricalDistribution, FloatDistribution

    if isinstance(distribution, CategoricalDistribution):
        return distribution.choices[0]
    if isinstance(distribution, FloatDistribution):
        return float(distribution.low)
    return int(distribution.low)  # type: ignore[attr-defined]
