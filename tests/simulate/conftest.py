"""Tiny simulated worlds shared by the simulate tests (generated once per module)."""

from __future__ import annotations

import pytest

from features.simulator import simulate

TINY = {"users": 300, "items": 400, "events": 20_000, "seed": 11}


@pytest.fixture(scope="package")
def tiny_world(tmp_path_factory) -> tuple:
    """A parquet world and its summary."""
    out = tmp_path_factory.mktemp("sim_parquet")
    return out, simulate(out, **TINY)
