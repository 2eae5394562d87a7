"""Engine-native parameter types, and the package where each framework's distributions become engine
spaces (``_space.optuna``, ``_space.ray``, ``_space.sklearn``). Validation lives here so every front end
reports a bad definition the same way: ``SearchSpaceError`` naming the parameter."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .._errors import SearchSpaceError

__all__ = ["Categorical", "Float", "Int", "ParamSpec", "to_engine_specs"]


def _check_number(name: str, field: str, value: Any, *, integer: bool = False) -> None:
    kinds: tuple[type, ...] = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds):
        wanted = "an int" if integer else "a number"
        raise SearchSpaceError(f"parameter '{name}': {field} must be {wanted}, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise SearchSpaceError(f"parameter '{name}': {field} must be finite, got {value!r}")


@dataclass(frozen=True)
class Float:
    """A float in [low, high]; ``log=True`` samples on a log scale, ``step`` restricts to low + k*step."""

    low: float
    high: float
    log: bool = False
    step: float | None = None

    def spec(self, name: str) -> tuple[Any, ...]:
        _check_number(name, "low", self.low)
        _check_number(name, "high", self.high)
        if self.step is not None:
            _check_number(name, "step", self.step)
        return (
            "float",
            name,
            float(self.low),
            float(self.high),
            bool(self.log),
            None if self.step is None else float(self.step),
        )


@dataclass(frozen=True)
class Int:
    """An int in [low, high], both inclusive; ``log=True`` samples on a log scale; ``step`` spaces values."""

    low: int
    high: int
    log: bool = False
    step: int = 1

    def spec(self, name: str) -> tuple[Any, ...]:
        _check_number(name, "low", self.low, integer=True)
        _check_number(name, "high", self.high, integer=True)
        _check_number(name, "step", self.step, integer=True)
        for field, value in (("low", self.low), ("high", self.high), ("step", self.step)):
            if not -(2**63) <= value < 2**63:
                raise SearchSpaceError(f"parameter '{name}': {field} does not fit in 64 bits")
        return ("int", name, self.low, self.high, bool(self.log), self.step)


@dataclass(frozen=True)
class Categorical:
    """One of ``choices`` (any objects: None, bool, numbers, strings, mixed). The exact objects come back."""

    choices: Sequence[Any]

    def spec(self, name: str) -> tuple[Any, ...]:
        if isinstance(self.choices, (str, bytes)) or not isinstance(self.choices, Sequence):
            raise SearchSpaceError(
                f"parameter '{name}': choices must be a list or tuple, got {self.choices!r}"
            )
        return ("categorical", name, list(self.choices))


ParamSpec = Float | Int | Categorical


def to_engine_specs(space: Mapping[str, ParamSpec]) -> list[tuple[Any, ...]]:
    """Validates a name -> parameter mapping and returns the engine's spec tuples, in declaration order."""
    if not isinstance(space, Mapping):
        raise SearchSpaceError(
            f"the search space must be a mapping of name -> Float/Int/Categorical, got {space!r}"
        )
    specs = []
    for name, param in space.items():
        if not isinstance(name, str):
            raise SearchSpaceError(f"parameter names must be strings, got {name!r}")
        if not isinstance(param, (Float, Int, Categorical)):
            raise SearchSpaceError(
                f"parameter '{name}': expected Float, Int or Categorical, got {type(param).__name__}"
            )
        specs.append(param.spec(name))
    return specs
