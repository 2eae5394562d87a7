"""Reuse of peers' runs across benchmark runs (opt-in: `--reuse-peers`).

A peer's run (Optuna, hyperopt, random search) does not depend on ArqonHPO's code, and with a fixed seed its
trajectory is a pure function of the problem, the seed, the budget and the peer's package version. While the
engine is being tuned, rerunning the peers every time costs hours (Optuna's TPE at 1 000 trials in 20-D is
seconds per run); reusing them makes an engine change cost minutes. A cached run is keyed by everything that
decides it: optimizer, problem, seed, budget, the versions of every benchmarked package, and a hash of the
suite's problem definitions — change any of these and the run is redone.

Decision times of a reused run were measured when the run was made, on this machine; reports say how many
runs were reused and when the oldest was made, so a reader can judge the timings.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from benchmarks._common import REPORT_DIR, Trace, package_versions, utc_now

CACHE_DIR = REPORT_DIR / "cache"
_DEFINITIONS = Path(__file__).resolve().parent / "functions.py"


def _fingerprint() -> str:
    """Versions of the peers and the problem definitions: what a cached run is only valid for."""
    versions = {k: v for k, v in package_versions().items() if k != "arqonhpo"}
    payload = json.dumps(versions, sort_keys=True) + _DEFINITIONS.read_text(encoding="utf-8")
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


class PeerCache:
    """One JSON file per (optimizer, problem, seed, budget) under `root/<fingerprint>/`."""

    def __init__(self, root: Path = CACHE_DIR) -> None:
        self.dir = root / _fingerprint()
        self.reused = 0
        self.oldest: str | None = None

    def _path(self, optimizer: str, problem: str, seed: int, budget: int) -> Path:
        slug = "".join(c if c.isalnum() or c in "-_" else "_" for c in optimizer)
        return self.dir / f"{slug}__{problem}__s{seed}__b{budget}.json"

    def load(self, optimizer: str, problem: str, seed: int, budget: int) -> Trace | None:
        path = self._path(optimizer, problem, seed, budget)
        if not path.exists():
            return None
        record = json.loads(path.read_text(encoding="utf-8"))
        trace = Trace(**{f.name: record["trace"][f.name] for f in fields(Trace) if f.name in record["trace"]})
        self.reused += 1
        made = record["made"]
        self.oldest = made if self.oldest is None else min(self.oldest, made)
        return trace

    def store(self, trace: Trace, budget: int) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        data: dict[str, Any] = asdict(trace)
        if not math.isfinite(data["_best_observed"]):
            data.pop("_best_observed")  # an empty run: loading falls back to the dataclass default
        record = {"made": utc_now(), "trace": data}
        path = self._path(trace.optimizer, trace.problem, trace.seed, budget)
        # Atomic: an interrupted run never leaves a half-written entry. The temporary name is per process,
        # so two runs filling the cache side by side (quality --only) never write into each other's file.
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(record), encoding="utf-8")
        tmp.replace(path)

    def summary(self) -> str:
        if not self.reused:
            return ""
        return (
            f"{self.reused} peer runs were reused from `benchmarks/report/cache/` (made on this machine "
            "with the same package versions and problem definitions; the oldest on "
            f"{self.oldest}); their decision times are from then."
        )
