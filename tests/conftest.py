"""Shared pytest configuration. Framework-specific fixtures live in each adapter's own test module."""

from __future__ import annotations

import os

# Ray reads these at import time; set them before any test module imports it.
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("RAY_AUTH_MODE", "disabled")
