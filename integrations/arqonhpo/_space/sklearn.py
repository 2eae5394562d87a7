"""scikit-learn ``param_distributions`` -> engine search space.

``RandomizedSearchCV`` accepts a dict (or a list of dicts) whose values are lists or objects with an ``rvs``
method. The engine wants bounded, typed parameters, so this module translates:

=====================================  ==========================================================
user value                             engine parameter
=====================================  ==========================================================
``scipy.stats.uniform(loc, scale)``    ``Float(loc, loc + scale)``
``scipy.stats.loguniform(a, b)``       ``Float(a * scale, b * scale, log=True)`` (also ``reciprocal``)
``scipy.stats.randint(low, high)``     ``Int(low + loc, high - 1 + loc)`` (scipy's upper bound is exclusive)
list / tuple / 1-d array / range       ``Categorical(values)`` (sampled uniformly, like sklearn)
``Float`` / ``Int`` / ``Categorical``  passed through unchanged (log, step and all)
=====================================  ==========================================================

A value with a single possible outcome (``[x]``, ``randint(3, 4)``) is a constant: it is added to every
candidate and never shown to the engine, which rejects zero-width ranges.

Any other distribution is rejected with a ``SearchSpaceError``: the engine searches bounded ranges and
would silently change the meaning of, say, ``norm()`` or ``expon()``.

A list of dicts is a choice between sub-spaces. It becomes one categorical parameter ``[subspace]`` whose
choices are the sub-space indices, plus every sub-space's parameters under the name ``[i]name``. The
prefix keeps ``clf__C`` of an SVC branch apart from ``clf__C`` of a LogisticRegression branch (different
meanings, different ranges). A decoded candidate contains only the chosen sub-space's parameters, so the
estimator never sees a parameter of a branch it did not pick; the engine's values for the other branches
are dropped. One shared solver (rather than one per sub-space) keeps the budget split a decision of the
engine, not of the adapter.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from arqonhpo import Categorical, Float, Int, SearchSpaceError

EngineParam = Float | Int | Categorical

# Engine parameter that selects the sub-space of a list of dicts. Brackets cannot occur in the name of a
# scikit-learn parameter, so neither this name nor the "[i]" prefixes can collide with user names.
SUBSPACE_PARAM = "[subspace]"

# scipy names of the distributions translated exactly; used in error messages too.
_SUPPORTED_SCIPY = ("uniform", "loguniform", "reciprocal", "randint")


@dataclass
class SubSpace:
    """One dict of ``param_distributions``: searched parameters plus constants."""

    params: dict[str, EngineParam] = field(default_factory=dict)
    constants: dict[str, Any] = field(default_factory=dict)


@dataclass
class SklearnSpace:
    """The engine's view of ``param_distributions`` and the way back to sklearn candidates."""

    subspaces: list[SubSpace]

    @property
    def engine_space(self) -> dict[str, EngineParam]:
        """The space handed to ``ArqonSolver``; empty when every value is a constant."""
        if len(self.subspaces) == 1:
            return dict(self.subspaces[0].params)
        space: dict[str, EngineParam] = {SUBSPACE_PARAM: Categorical(list(range(len(self.subspaces))))}
        for index, sub in enumerate(self.subspaces):
            for name, param in sub.params.items():
                space[_prefixed(index, name)] = param
        return space

    def decode(self, engine_params: Mapping[str, Any]) -> dict[str, Any]:
        """Engine suggestion -> sklearn candidate (keys sorted, as ``ParameterSampler`` yields them)."""
        if len(self.subspaces) == 1:
            index, names = 0, {name: name for name in self.subspaces[0].params}
        else:
            index = int(engine_params[SUBSPACE_PARAM])
            names = {name: _prefixed(index, name) for name in self.subspaces[index].params}
        sub = self.subspaces[index]
        candidate = dict(sub.constants)
        candidate.update({name: engine_params[engine_name] for name, engine_name in names.items()})
        return dict(sorted(candidate.items()))

    def constant_candidate(self) -> dict[str, Any] | None:
        """The single candidate of a space without searched parameters (``{}`` or all constants)."""
        if len(self.subspaces) == 1 and not self.subspaces[0].params:
            return dict(sorted(self.subspaces[0].constants.items()))
        return None

    def grid_size(self) -> int | None:
        """Number of distinct candidates if the space is finite, else None (continuous or unknown)."""
        total = 0
        for sub in self.subspaces:
            size = 1
            for param in sub.params.values():
                n = _n_values(param)
                if n is None:
                    return None
                size *= n
            total += size
        return total


def convert_param_distributions(param_distributions: Any) -> SklearnSpace:
    """Translate ``param_distributions`` (dict or list of dicts) as ``RandomizedSearchCV`` accepts it."""
    if isinstance(param_distributions, Mapping):
        dicts: list[Any] = [param_distributions]
    elif isinstance(param_distributions, Iterable) and not isinstance(param_distributions, (str, bytes)):
        dicts = list(param_distributions)
    else:
        raise TypeError(
            "param_distributions must be a dict or a list of dicts, got "
            f"{param_distributions!r} of type {type(param_distributions).__name__}"
        )
    if not dicts:
        raise ValueError("param_distributions is an empty list; give at least one dict")
    for entry in dicts:
        if not isinstance(entry, Mapping):
            raise TypeError(f"param_distributions entry is not a dict: {entry!r}")
    return SklearnSpace([_convert_dict(entry) for entry in dicts])


def _convert_dict(distributions: Mapping[str, Any]) -> SubSpace:
    sub = SubSpace()
    for name, value in distributions.items():
        if not isinstance(name, str):
            raise TypeError(f"parameter names must be strings, got {name!r}")
        param, constant = convert_value(name, value)
        if param is None:
            sub.constants[name] = constant
        else:
            sub.params[name] = param
    return sub


def convert_value(name: str, value: Any) -> tuple[EngineParam | None, Any]:
    """One ``param_distributions`` value -> (engine parameter, None) or (None, constant)."""
    if isinstance(value, (Float, Int, Categorical)):
        return value, None
    if hasattr(value, "rvs"):
        return _convert_distribution(name, value)
    if isinstance(value, (str, bytes)) or isinstance(value, Mapping) or not isinstance(value, Iterable):
        raise TypeError(
            f"Parameter {name!r}: expected a list of values, a scipy.stats distribution or an arqonhpo "
            f"Float/Int/Categorical, got {value!r} (of type {type(value).__name__}). "
            "Wrap a single value in a list."
        )
    if isinstance(value, np.ndarray) and value.ndim != 1:
        raise ValueError(
            f"Parameter {name!r}: array of values must be 1-dimensional, got shape {value.shape}"
        )
    choices = list(value)
    if not choices:
        raise ValueError(f"Parameter {name!r}: the list of values is empty")
    if len(choices) == 1:
        return None, choices[0]
    return Categorical(choices), None


def _convert_distribution(name: str, dist: Any) -> tuple[EngineParam | None, Any]:
    """scipy frozen distribution -> engine parameter; only exact translations are accepted."""
    scipy_name = getattr(getattr(dist, "dist", None), "name", None)
    if scipy_name not in _SUPPORTED_SCIPY or not hasattr(dist, "support"):
        shown = f"scipy.stats.{scipy_name}" if scipy_name else type(dist).__name__
        raise SearchSpaceError(
            f"Parameter {name!r}: {shown} cannot be translated to a bounded engine parameter. "
            f"Supported: scipy.stats {', '.join(_SUPPORTED_SCIPY)}; lists; arqonhpo Float(low, high, "
            "log=..., step=...), Int(...), Categorical([...])."
        )
    low, high = (float(bound) for bound in dist.support())
    if not (math.isfinite(low) and math.isfinite(high)) or low > high:
        raise SearchSpaceError(f"Parameter {name!r}: invalid scipy.stats.{scipy_name} bounds ({low}, {high})")
    if scipy_name == "randint":
        # support() already applies loc and makes the upper end inclusive, as Int expects.
        if low == high:
            return None, int(low)
        return Int(int(low), int(high)), None
    if low == high:
        raise SearchSpaceError(f"Parameter {name!r}: scipy.stats.{scipy_name} has zero width")
    if scipy_name == "uniform":
        return Float(low, high), None
    return _log_uniform(name, scipy_name, dist, low, high), None


def _log_uniform(name: str, scipy_name: str, dist: Any, low: float, high: float) -> Float:
    # A scale keeps the distribution log-uniform on the scaled interval; a loc shift does not. The median
    # of a true log-uniform law on [low, high] is sqrt(low * high), which detects a shift without reading
    # scipy's private argument parsing.
    median = float(dist.ppf(0.5))
    if low <= 0 or not math.isclose(median, math.sqrt(low * high), rel_tol=1e-9):
        raise SearchSpaceError(
            f"Parameter {name!r}: scipy.stats.{scipy_name} with a non-zero loc is not log-uniform on an "
            "interval; use loguniform(a, b) or arqonhpo Float(low, high, log=True)"
        )
    return Float(low, high, log=True)


def _n_values(param: EngineParam) -> int | None:
    """How many distinct values a parameter can take; None if infinite or not introspectable."""
    if isinstance(param, Categorical):
        choices = getattr(param, "choices", None)
        return len(choices) if isinstance(choices, Sequence) else None
    low, high = getattr(param, "low", None), getattr(param, "high", None)
    step = getattr(param, "step", None)
    if low is None or high is None:
        return None
    if isinstance(param, Int):
        return int((high - low) // (step or 1)) + 1
    if step:
        return round((high - low) / step) + 1
    return None


def _prefixed(index: int, name: str) -> str:
    return f"[{index}]{name}"


__all__ = ["SUBSPACE_PARAM", "SklearnSpace", "SubSpace", "convert_param_distributions", "convert_value"]
