"""The exception hierarchy. The Rust bindings raise these classes by name, so they live in pure Python
where multiple inheritance (``ArqonError`` plus the matching builtin) is natural."""

from __future__ import annotations


class ArqonError(Exception):
    """Root of every error raised by arqonhpo."""


class SearchSpaceError(ArqonError, ValueError):
    """A parameter definition is invalid; the message names the parameter."""


class ConfigError(ArqonError, ValueError):
    """A JSON config or result payload is malformed, has unknown keys or wrong types."""


class UnknownTrialError(ArqonError, KeyError):
    """A result was told for a trial id this solver does not know."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class TrialStateError(ArqonError, ValueError):
    """A trial was told twice, or is otherwise in the wrong state for the call."""


class ParameterError(ArqonError, ValueError):
    """A parameter value does not fit the search space (unknown or missing name, wrong type, not finite)."""


class SnapshotError(ArqonError, ValueError):
    """Bytes handed to ``from_bytes`` are not a valid solver snapshot."""


class ReplayMismatchError(ArqonError):
    """Replaying a run record produced a different suggestion than the one recorded."""


__all__ = [
    "ArqonError",
    "ConfigError",
    "ParameterError",
    "ReplayMismatchError",
    "SearchSpaceError",
    "SnapshotError",
    "TrialStateError",
    "UnknownTrialError",
]
