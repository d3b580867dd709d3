"""A tiny closed store for driving the CLI: two users, three videos, a handful of events."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from features.store import connect

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def store(tmp_path) -> str:
    """The path of a small store (closed, so the CLI opens it itself)."""
    path = tmp_path / "cli.duckdb"
    con = connect(path)
    con.execute("""INSERT INTO users (user_id, birth_date, timezone) VALUES
                   ('u_adult', DATE '1990-01-01', 'UTC'), ('u_teen', DATE '2012-06-01', 'UTC')""")
    con.execute("""INSERT INTO items (item_id, creator_id, duration_ms, topics, labels, maturity,
                   status) VALUES ('i1', 'c1', 10000, ['comedy'], [], 'general', 'active'),
                   ('i2', 'c1', 20000, ['dance'], [], 'general', 'active'),
                   ('i3', 'c2', 10000, ['news'], [], 'mature', 'active')""")
    con.execute("""INSERT INTO events (event_id, user_id, ts, type, item_id, watch_ms) VALUES
                   ('e1', 'u_adult', TIMESTAMP '2026-10-20 10:00:00', 'view', 'i1', 5000),
                   ('e2', 'u_adult', TIMESTAMP '2026-10-20 10:01:00', 'like', 'i1', NULL),
                   ('e3', 'u_teen', TIMESTAMP '2026-10-20 11:00:00', 'view', 'i2', 20000)""")
    con.close()
    return str(path)


def feedwell(*args: str, stdin: str | None = None,
             timeout: float = 600) -> subprocess.CompletedProcess:
    """Run the real ``feedwell`` entry point in a new process (``timeout``: a guard against a
    hang, not a speed target: a loaded 2-core machine runs `evaluate` for minutes)."""
    return subprocess.run([sys.executable, "-m", "flows.cli", *args], cwd=ROOT, input=stdin,
                          capture_output=True, text=True, timeout=timeout)
