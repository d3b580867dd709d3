"""Store access for tasks: each task opens the DuckDB file, does one thing, and closes it.

Tasks never share a connection: a DuckDB file has one writer process at a time, and a task may
run in a retry, a later flow run or another process. ``data_version`` is the cache key of the
deterministic steps: it changes whenever a load lands (row counts and the latest load time).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from features.store import connect

__all__ = ["open_store", "data_version", "VERSIONED_TABLES"]

# Tables whose content the flows read; a load into any of them is a new data version.
VERSIONED_TABLES = ("events", "users", "items", "consents")


@contextmanager
def open_store(db_path: str | Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the store for the duration of one task, closing it even when the task fails."""
    con = connect(db_path)
    try:
        yield con
    finally:
        con.close()


def data_version(con: duckdb.DuckDBPyConnection) -> str:
    """A short hash of (rows, latest ``_loaded_at``) per raw table plus the feed resets.

    Ingest is one transaction that stamps every row it writes with the same ``_loaded_at``, so
    a reload of the same files (nothing accepted) keeps the version and a real load changes it.
    """
    parts = []
    for t in VERSIONED_TABLES:
        n, at = con.execute(f"SELECT count(*), max(_loaded_at) FROM {t}").fetchall()[0]
        parts.append(f"{t}:{n}:{at}")
    resets = con.execute("SELECT count(*), max(ts) FROM user_resets").fetchall()[0]
    parts.append(f"user_resets:{resets[0]}:{resets[1]}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]
