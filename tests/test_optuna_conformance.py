"""ArqonSampler against Optuna's own sampler test kit (``optuna.testing.pytest_samplers``).

Multi-objective studies are deliberately unsupported (the engine is single-objective), so the sampler runs
Optuna's ``SingleOnlySamplerTestCase`` — a ``ValueError`` on first use — rather than the multi-objective kit.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from arqonhpo.optuna import ArqonSampler
from optuna.samplers import BaseSampler
from optuna.testing.pytest_samplers import (
    BasicSamplerTestCase,
    RelativeSamplerTestCase,
    SingleOnlySamplerTestCase,
)


class TestArqonSamplerConformance(BasicSamplerTestCase, RelativeSamplerTestCase, SingleOnlySamplerTestCase):
    @pytest.fixture
    def sampler(self) -> Callable[[], BaseSampler]:
        return lambda: ArqonSampler(seed=0)


class TestArqonSamplerUnseededConformance(BasicSamplerTestCase, RelativeSamplerTestCase):
    """The same kit with a random seed, so nothing in it passes only by the luck of seed 0."""

    @pytest.fixture
    def sampler(self) -> Callable[[], BaseSampler]:
        return lambda: ArqonSampler()
