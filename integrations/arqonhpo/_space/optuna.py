"""Optuna distributions <-> engine search space.

The engine sees three kinds of parameter; every Optuna distribution maps onto one of them without loss:

* ``FloatDistribution(low, high)`` / ``log=True``  -> ``Float(low, high, log=...)``, values pass through;
* ``FloatDistribution(low, high, step=s)``         -> ``Int(0, n)`` over grid indices, ``value = low + k*s``.
  Indices rather than a stepped float because ``(high - low) / step`` is rarely an exact float
  (``20.4 / 0.1 == 203.99999999999997``), and Optuna's own on-grid test is relative to ``low``;
* ``IntDistribution(low, high)`` / ``log=True``    -> ``Int(low, high, log=...)``, values pass through;
* ``IntDistribution(low, high, step=s)``           -> ``Int(0, n)`` over grid indices, for the same reason;
* ``CategoricalDistribution(choices)``             -> ``Categorical([0, 1, ..., k-1])`` over choice indices.
  Indices keep the engine away from Python equality quirks (``1 == True``, ``nan != nan``) and Optuna's
  own internal representation of a choice *is* its index, so trials read back from any storage map
  exactly; the exact choice object is returned by looking it up in ``distribution.choices``.

Distributions with a single value (``low == high``, one choice) are left out: Optuna answers them itself
before asking the sampler, and the engine rejects empty ranges.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

__all__ = ["ParamCodec", "SpaceCodec", "UnsupportedDistributionError", "sorted_space"]

# Codec kinds; plain strings keep codecs picklable without closures.
_PASS_FLOAT = "float"
_GRID_FLOAT = "grid_float"
_PASS_INT = "int"
_GRID_INT = "grid_int"
_CATEGORY = "categorical"


class UnsupportedDistributionError(ValueError):
    """An Optuna distribution type this adapter does not know how to translate."""


class ParamCodec:
    """Translates one Optuna parameter to and from its engine representation."""

    __slots__ = ("distribution", "high", "kind", "low", "n_steps", "step")

    def __init__(self, distribution: BaseDistribution) -> None:
        self.distribution = distribution
        self.low: float = 0.0
        self.high: float = 0.0
        self.step: float = 1.0
        self.n_steps = 0
        if isinstance(distribution, FloatDistribution):
            self.low, self.high = float(distribution.low), float(distribution.high)
            if distribution.step is None:
                self.kind = _PASS_FLOAT
            else:
                self.kind = _GRID_FLOAT
                self.step = float(distribution.step)
                self.n_steps = round((self.high - self.low) / self.step)
        elif isinstance(distribution, IntDistribution):
            self.low, self.high = distribution.low, distribution.high
            self.step = distribution.step
            if distribution.step == 1 or distribution.log:
                self.kind = _PASS_INT
            else:
                self.kind = _GRID_INT
                self.n_steps = (distribution.high - distribution.low) // distribution.step
        elif isinstance(distribution, CategoricalDistribution):
            self.kind = _CATEGORY
            self.n_steps = len(distribution.choices) - 1
        else:
            raise UnsupportedDistributionError(
                f"ArqonSampler cannot translate {type(distribution).__name__}; "
                "use FloatDistribution, IntDistribution or CategoricalDistribution"
            )

    def __getstate__(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        for name, value in zip(self.__slots__, state, strict=True):
            setattr(self, name, value)

    def engine_param(self) -> Any:
        """The engine's parameter object (``arqonhpo.Float`` / ``Int`` / ``Categorical``)."""
        from arqonhpo import Categorical, Float, Int

        dist = self.distribution
        if self.kind == _PASS_FLOAT:
            assert isinstance(dist, FloatDistribution)
            return Float(self.low, self.high, log=dist.log)
        if self.kind == _PASS_INT:
            assert isinstance(dist, IntDistribution)
            return Int(int(self.low), int(self.high), log=dist.log)
        if self.kind == _CATEGORY:
            return Categorical(list(range(self.n_steps + 1)))
        return Int(0, self.n_steps)

    def decode(self, value: Any) -> Any:
        """Engine value -> the Optuna external value: a plain Python scalar on the distribution's grid."""
        kind = self.kind
        if kind == _PASS_FLOAT:
            # Clamp guards against the last ulp of a log/exp round trip leaving the range.
            return min(max(float(value), self.low), self.high)
        if kind == _PASS_INT:
            return min(max(int(value), int(self.low)), int(self.high))
        index = min(max(int(value), 0), self.n_steps)
        if kind == _CATEGORY:
            assert isinstance(self.distribution, CategoricalDistribution)
            return self.distribution.choices[index]
        if kind == _GRID_INT:
            return int(self.low) + index * int(self.step)
        return min(self.low + index * self.step, self.high)

    def encode(self, value: Any) -> Any:
        """Optuna external value -> engine value; ``None`` if it cannot be represented at all.

        Out-of-range numbers (enqueued trials, studies whose ranges changed) are passed on: the engine
        clamps them for modelling, which is better than forgetting the trial.
        """
        kind = self.kind
        try:
            if kind == _CATEGORY:
                assert isinstance(self.distribution, CategoricalDistribution)
                return _choice_index(self.distribution, value)
            number = float(value)
        except (ValueError, TypeError):
            return None
        if not math.isfinite(number):
            return None
        if kind == _PASS_FLOAT:
            return number
        if kind == _PASS_INT:
            return round(number)
        return round((number - self.low) / self.step)


class SpaceCodec:
    """An ordered set of parameters that one engine solver optimizes jointly."""

    __slots__ = ("codecs", "names")

    def __init__(self, distributions: Mapping[str, BaseDistribution]) -> None:
        # Optuna's single-valued distributions never reach a sampler; drop them here too.
        items = [(name, dist) for name, dist in distributions.items() if not dist.single()]
        self.names: tuple[str, ...] = tuple(name for name, _ in items)
        self.codecs: tuple[ParamCodec, ...] = tuple(ParamCodec(dist) for _, dist in items)

    def __getstate__(self) -> tuple[Any, ...]:
        return (self.names, self.codecs)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        self.names, self.codecs = state

    def __len__(self) -> int:
        return len(self.names)

    def engine_space(self) -> dict[str, Any]:
        return {name: codec.engine_param() for name, codec in zip(self.names, self.codecs, strict=True)}

    def decode(self, engine_params: Mapping[str, Any]) -> dict[str, Any]:
        return {
            name: codec.decode(engine_params[name])
            for name, codec in zip(self.names, self.codecs, strict=True)
        }

    def encode(self, params: Mapping[str, Any]) -> dict[str, Any] | None:
        """External params -> engine params, or ``None`` if a parameter is missing or unrepresentable."""
        out: dict[str, Any] = {}
        for name, codec in zip(self.names, self.codecs, strict=True):
            if name not in params:
                return None
            value = codec.encode(params[name])
            if value is None:
                return None
            out[name] = value
        return out

    def encode_internal(self, internal: Mapping[str, Any]) -> dict[str, Any] | None:
        """Optuna *internal* representation (floats, category indices) -> engine params."""
        external: dict[str, Any] = {}
        for name, codec in zip(self.names, self.codecs, strict=True):
            if name not in internal:
                return None
            try:
                external[name] = codec.distribution.to_external_repr(internal[name])
            except (ValueError, TypeError, IndexError):
                return None
        return self.encode(external)

    def to_internal(self, params: Mapping[str, Any]) -> dict[str, float]:
        """External params -> Optuna internal representation, JSON-safe for storage system attrs."""
        return {
            name: float(codec.distribution.to_internal_repr(params[name]))
            for name, codec in zip(self.names, self.codecs, strict=True)
            if name in params
        }

    def same_point(self, a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
        """Whether two external param dicts are the same point of this space (categoricals by index)."""
        encoded = self.encode(a)
        return encoded is not None and encoded == self.encode(b)


def _choice_index(distribution: CategoricalDistribution, value: Any) -> int:
    """Index of ``value`` among the choices, telling ``True`` from ``1`` (which ``list.index`` does not)."""
    for index, choice in enumerate(distribution.choices):
        if choice is value or (type(choice) is type(value) and choice == value):
            return index
    return int(distribution.to_internal_repr(value))  # NaN choices, numpy scalars: Optuna's own rule


def sorted_space(items: Iterable[tuple[str, BaseDistribution]]) -> dict[str, BaseDistribution]:
    """Name-sorted copy, the order Optuna's own intersection search space uses."""
    return dict(sorted(items, key=lambda item: item[0]))
