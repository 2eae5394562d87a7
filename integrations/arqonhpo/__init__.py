"""ArqonHPO: hyperparameter optimization with a Rust decision engine.

``ArqonSolver`` is the engine's own ask/tell API. The framework adapters are imported lazily, so importing
``arqonhpo`` never pulls in Optuna, Ray or scikit-learn:

* ``arqonhpo.ArqonSampler`` (``arqonhpo.optuna``) — an Optuna sampler;
* ``arqonhpo.ArqonSearch`` (``arqonhpo.ray``) — a Ray Tune searcher;
* ``arqonhpo.ArqonSearchCV`` (``arqonhpo.sklearn``) — a drop-in for scikit-learn's RandomizedSearchCV.
"""

from __future__ import annotations

import importlib
from typing import Any

from ._core import __version__
from ._errors import (
    ArqonError,
    ConfigError,
    ParameterError,
    ReplayMismatchError,
    SearchSpaceError,
    SnapshotError,
    TrialStateError,
    UnknownTrialError,
)
from ._solver import ArqonSolver, BestTrial, Trial, replay
from ._space import Categorical, Float, Int

_LAZY = {
    "ArqonSampler": "arqonhpo.optuna",
    "ArqonSearch": "arqonhpo.ray",
    "ArqonSearchCV": "arqonhpo.sklearn",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'arqonhpo' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "ArqonError",
    "ArqonSampler",
    "ArqonSearch",
    "ArqonSearchCV",
    "ArqonSolver",
    "BestTrial",
    "Categorical",
    "ConfigError",
    "Float",
    "Int",
    "ParameterError",
    "ReplayMismatchError",
    "SearchSpaceError",
    "SnapshotError",
    "Trial",
    "TrialStateError",
    "UnknownTrialError",
    "__version__",
    "replay",
]
