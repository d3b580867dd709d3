"""Store access for tasks: each task opens the DuckDB file, does one thing, and closes it.

Tasks never share a connection: a DuckDB file has one writer process at a time, and a task may
run in a retry, a later flow run or another process. ``data_version`` is the cache key of the
deterministic steps: it changes whenever a load lands (row counts and the latest load time);
it lives in ``features.store``, where the lifecycle reads it too.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from features.store import VERSIONED_TABLES, connect, data_version

__all__ = ["open_store", "data_version", "VERSIONED_TABLES"]


@contextmanager
def open_store(db_path: str | Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the store for the duration of one task, closing it even when the task fails."""
    con = connect(db_path)
    try:
        yield con
    finally:
        con.close()
