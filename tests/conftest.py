"""Shared fixtures: a fresh DuckDB store per test, and one Prefect harness per session."""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import pytest  # noqa: E402

from features.store import connect  # noqa: E402


@pytest.fixture()
def con(tmp_path):
    """A fresh on-disk DuckDB store with the raw schema."""
    c = connect(tmp_path / "test.duckdb")
    yield c
    c.close()


@pytest.fixture(scope="session")
def prefect_harness():
    """One local Prefect test server for the whole session (each costs ~6-9 s to start)."""
    from prefect.testing.utilities import prefect_test_harness

    # The local test server can take a minute to start on a busy 2-core machine.
    with prefect_test_harness(server_startup_timeout=180):
        yield
