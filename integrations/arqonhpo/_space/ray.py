"""Ray Tune search spaces <-> the engine's search space.

A Ray ``param_space`` is a nested tree of dicts and lists whose leaves are Tune domains
(``tune.uniform`` ...), engine-native parameters (``arqonhpo.Float`` ...) or constants. The engine sees a
flat, ordered space whose parameter names are the leaf paths joined with ``/`` (``{"a": {"b": ...}}`` ->
``"a/b"``). :class:`RaySpace` keeps the tree as a template so that suggestions are rebuilt into the user's
nested shape, with constants passed through untouched.

Domain mapping (Ray's documented bounds are kept exactly):

==========================  ===============================================================
``uniform(l, u)``           ``Float(l, u)``
``quniform(l, u, q)``       ``Float(l, u, step=q)`` (bounds snapped inwards to the q-grid)
``loguniform(l, u)``        ``Float(l, u, log=True)``
``qloguniform(l, u, q)``    ``Int(ceil(l/q), floor(u/q), log=True)`` over grid indices, value = index * q
``randint(l, u)``           ``Int(l, u - 1)`` (Ray's upper bound is exclusive)
``qrandint(l, u, q)``       ``Int(ceil(l/q)*q, floor(u/q)*q, step=q)``; ``q == 1`` behaves like randint
``lograndint(l, u)``        ``Int(l, u - 1, log=True)``
``qlograndint(l, u, q)``    ``Int(ceil(l/q), floor(u/q), log=True)`` over grid indices, value = index * q
``choice(c)``               ``Categorical(c)`` (the exact objects come back)
==========================  ===============================================================

The engine cannot combine ``log`` with ``step``, so the two log-quantized domains search the log-spaced
grid *indices*; ``log(k * q) = log(k) + log(q)`` makes that the same distribution over values.
A domain with exactly one possible value is treated as a constant.

Rejected with a ``ValueError`` naming the key: ``tune.grid_search`` (an exhaustive grid is not a search
space; use ``tune.choice`` or the default ``BasicVariantGenerator``), ``tune.sample_from`` / ``{"eval": ...}``
(an arbitrary function cannot be modelled) and ``tune.randn`` / ``tune.qrandn`` (unbounded).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

from ray.tune.search import sample

import arqonhpo

_ENGINE_PARAMS = (arqonhpo.Float, arqonhpo.Int, arqonhpo.Categorical)

PathKey = tuple[Any, ...]


@dataclass(frozen=True)
class _Slot:
    """Template placeholder for the value of one engine parameter."""

    name: str


@dataclass
class RaySpace:
    """A converted Ray search space: engine parameters plus the template that rebuilds configs."""

    params: dict[str, Any]  # name -> arqonhpo.Float / Int / Categorical, in declaration order
    template: Any  # the user's tree with every parameter replaced by a _Slot
    paths: dict[str, PathKey] = field(default_factory=dict)  # name -> path in the tree
    scales: dict[str, float | int] = field(default_factory=dict)  # grid-index parameters: value = index * q

    def to_config(self, engine_params: Mapping[str, Any]) -> Any:
        """Engine suggestion (flat, engine values) -> the user's nested config."""
        values = dict(engine_params)
        for name, q in self.scales.items():
            values[name] = values[name] * q
        return _fill(self.template, values)

    def from_config(self, config: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """A user config (nested, user values) -> (flat engine params, flat user values).

        Used for warm starts and ``points_to_evaluate``; every parameter must be present.
        """
        raw: dict[str, Any] = {}
        for name, path in self.paths.items():
            raw[name] = _lookup(config, path, name)
        engine = dict(raw)
        for name, q in self.scales.items():
            engine[name] = round(raw[name] / q)
        return engine, raw

    def config_from_values(self, raw: Mapping[str, Any]) -> Any:
        """Flat user values (as given, unconverted) -> nested config; used to replay points exactly."""
        return _fill(self.template, raw)


def convert_space(config: Mapping[str, Any]) -> RaySpace:
    """Convert a Ray ``param_space`` (or an engine-native space dict) into a :class:`RaySpace`."""
    space = RaySpace(params={}, template=None)
    space.template = _convert_node(config, (), space)
    if not space.params:
        raise ValueError(
            "ArqonSearch: the search space has no tunable parameter (only constants); "
            "add at least one tune.uniform / tune.randint / tune.choice ... domain."
        )
    return space


def _convert_node(node: Any, path: PathKey, space: RaySpace) -> Any:
    """Recursively replace parameters with slots, registering them in ``space``."""
    if isinstance(node, sample.Domain) or isinstance(node, _ENGINE_PARAMS):
        return _register(node, path, space)
    if isinstance(node, Mapping):
        if len(node) == 1 and ("grid_search" in node or "eval" in node):
            _reject(path, "grid_search" if "grid_search" in node else "eval")
        return {key: _convert_node(value, (*path, key), space) for key, value in node.items()}
    if isinstance(node, (list, tuple)):
        items = [_convert_node(value, (*path, i), space) for i, value in enumerate(node)]
        return items if isinstance(node, list) else tuple(items)
    return node


def _register(node: Any, path: PathKey, space: RaySpace) -> Any:
    """Turn one leaf into an engine parameter; fold single-valued domains into constants."""
    name = "/".join(str(part) for part in path)
    if name in space.params:
        raise ValueError(f"ArqonSearch: two parameters flatten to the same name {name!r}; rename one key.")
    if isinstance(node, _ENGINE_PARAMS):
        param, scale = node, None
    else:
        leaf = _domain_to_param(name, node)
        if isinstance(leaf, _Constant):
            return leaf.value
        param, scale = leaf
    space.params[name] = param
    space.paths[name] = path
    if scale is not None:
        space.scales[name] = scale
    return _Slot(name)


@dataclass(frozen=True)
class _Constant:
    value: Any


def _domain_to_param(name: str, domain: sample.Domain) -> _Constant | tuple[Any, float | int | None]:
    if isinstance(domain, sample.Categorical):
        return _categorical(name, domain)
    if isinstance(domain, sample.Function):
        _reject_by_name(name, "sample_from")
    sampler = domain.get_sampler()
    q: float | int | None = None
    if isinstance(sampler, sample.Quantized):
        q = sampler.q
        sampler = sampler.get_sampler()
    if isinstance(sampler, sample.Normal):
        _reject_by_name(name, "randn")
    if not isinstance(sampler, (sample.Uniform, sample.LogUniform)):
        raise ValueError(f"ArqonSearch: parameter {name!r} uses an unsupported Ray sampler {sampler}.")
    log = isinstance(sampler, sample.LogUniform)
    if isinstance(domain, sample.Integer):
        return _integer(name, domain, log, q)
    if isinstance(domain, sample.Float):
        return _float(name, domain, log, q)
    raise ValueError(
        f"ArqonSearch: parameter {name!r} has an unsupported Ray domain {type(domain).__name__}."
    )


def _categorical(name: str, domain: sample.Categorical) -> _Constant | tuple[Any, None]:
    if domain.is_grid():
        _reject_by_name(name, "grid_search")
    if len(domain.categories) == 1:
        return _Constant(domain.categories[0])
    return arqonhpo.Categorical(list(domain.categories)), None


def _float(name: str, domain: sample.Float, log: bool, q: float | int | None) -> _Constant | tuple[Any, Any]:
    low, high = float(domain.lower), float(domain.upper)
    if q is None:
        if low == high:
            return _Constant(low)
        return arqonhpo.Float(low, high, log=log), None
    k_low, k_high = _grid_index(low, q, math.ceil), _grid_index(high, q, math.floor)
    if k_low == k_high:
        return _Constant(float(k_low * q))
    if log:
        # Grid indices, log-spaced; the adapter multiplies by q on the way out.
        return arqonhpo.Int(k_low, k_high, log=True), float(q)
    # Keep on-grid bounds verbatim so that q-multiples like 0.9 do not turn into 0.9000000000000001.
    lo = low if _on_grid(low, q) else k_low * q
    hi = high if _on_grid(high, q) else k_high * q
    return arqonhpo.Float(lo, hi, step=float(q)), None


def _integer(
    name: str, domain: sample.Integer, log: bool, q: float | int | None
) -> _Constant | tuple[Any, Any]:
    if q is None or q == 1:
        # Ray's upper bound is exclusive for randint / lograndint and for qrandint with q == 1.
        low, high = int(domain.lower), int(domain.upper) - 1
        if low == high:
            return _Constant(low)
        return arqonhpo.Int(low, high, log=log), None
    q = int(q)
    # With q > 1 Ray samples the multiples of q inside [lower, upper], both inclusive.
    k_low, k_high = _grid_index(domain.lower, q, math.ceil), _grid_index(domain.upper, q, math.floor)
    if k_high < k_low:
        raise ValueError(
            f"ArqonSearch: parameter {name!r} has no multiple of q={q} "
            f"between {domain.lower} and {domain.upper}."
        )
    if k_low == k_high:
        return _Constant(k_low * q)
    if log:
        return arqonhpo.Int(k_low, k_high, log=True), q
    return arqonhpo.Int(k_low * q, k_high * q, step=q), None


def _on_grid(bound: float, q: float | int) -> bool:
    return math.isclose(bound / q, round(bound / q))


def _grid_index(bound: float, q: float | int, round_inwards: Any) -> int:
    """Index of ``bound`` on the q-grid, rounded inwards when it is off-grid (as Ray does)."""
    if _on_grid(bound, q):
        return round(bound / q)
    return int(round_inwards(bound / q))


_REJECTION_HINTS = {
    "grid_search": "an exhaustive grid is not a search space; use tune.choice([...]) to let ArqonSearch "
    "pick among the values, or drop search_alg to run the grid with Ray's BasicVariantGenerator",
    "eval": "an eval-string function cannot be modelled; use a tune domain instead",
    "sample_from": "an arbitrary function cannot be modelled; use a tune domain (conditional spaces are not "
    "supported) or compute the value inside the trainable",
    "randn": "a normal distribution is unbounded; use tune.uniform over a finite range instead",
}


def _reject(path: PathKey, kind: str) -> NoReturn:
    _reject_by_name("/".join(str(part) for part in path), kind)


def _reject_by_name(name: str, kind: str) -> NoReturn:
    raise ValueError(f"ArqonSearch does not support {kind} (parameter {name!r}): {_REJECTION_HINTS[kind]}.")


def _fill(node: Any, values: Mapping[str, Any]) -> Any:
    """Rebuild the template with fresh containers; constants are shared, not copied (Ray deep-copies)."""
    if isinstance(node, _Slot):
        return values[node.name]
    if isinstance(node, dict):
        return {key: _fill(value, values) for key, value in node.items()}
    if isinstance(node, list):
        return [_fill(value, values) for value in node]
    if isinstance(node, tuple):
        return tuple(_fill(value, values) for value in node)
    return node


def _lookup(config: Any, path: PathKey, name: str) -> Any:
    """Value at ``path`` in a nested config; also accepts an already-flat ``{"a/b": v}`` config."""
    if isinstance(config, Mapping) and name in config and len(path) > 1:
        return config[name]
    node = config
    for part in path:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            raise ValueError(
                f"ArqonSearch: the point {config!r} has no value for parameter {name!r}; "
                "points must set every searched parameter."
            ) from None
    if isinstance(node, (sample.Domain, *_ENGINE_PARAMS)):
        raise ValueError(
            f"ArqonSearch: the point gives a search domain, not a value, for parameter {name!r}."
        )
    return node
