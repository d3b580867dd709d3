"""The DuckDB store: one file, its connection helpers, and where model files sit beside it.

The tables themselves are declared in ``features/schema.py``.

DuckDB 2.0 notes: relations keep no result (use ``con.sql(q).pl()`` or
``con.execute(q).fetchall()``), and an unread ``execute()`` result blocks the next
query on that connection, so every helper here reads its result fully.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from features.errors import ConfigError
from features.schema import ensure_schema

__all__ = ["DEFAULT_DB", "VERSIONED_TABLES", "data_version", "MEMORY_ENV", "connect",
           "ensure_schema", "models_root", "query", "scalar", "table_exists"]

DEFAULT_DB = "feedwell.duckdb"
MEMORY_ENV = "FEEDWELL_MEMORY_LIMIT"
"""DuckDB ``memory_limit`` for every store connection (e.g. ``2GB``): aggregates, joins and sorts
beyond it spill to ``<db>.tmp`` instead of growing the process. Unset: DuckDB's default (80% of
RAM)."""


def connect(db_path: str | Path = DEFAULT_DB, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the DuckDB file and make sure the raw schema exists.

    Args:
        db_path: the database file (``:memory:`` for tests).
        read_only: open without write access (several readers may share the file).

    Raises:
        ConfigError: ``FEEDWELL_MEMORY_LIMIT`` is set to something DuckDB does not accept.
    """
    con = duckdb.connect(str(db_path), read_only=read_only)
    con.execute("SET TimeZone = 'UTC'")
    if limit := os.environ.get(MEMORY_ENV, "").strip():
        try:
            con.execute(f"SET memory_limit = '{limit.replace(chr(39), '')}'")
        except duckdb.Error as exc:
            con.close()
            raise ConfigError(f"{MEMORY_ENV}={limit!r} is not a DuckDB memory limit "
                              f"(e.g. 2GB, 512MB): {exc}") from exc
    if not read_only:
        ensure_schema(con)
    return con


def models_root(db_path: str | Path) -> Path:
    """The folder holding model versions for the database at ``db_path``."""
    p = Path(db_path)
    if str(db_path) == ":memory:":
        return Path("feedwell_models")
    return p.with_name(f"{p.stem}_models")


def query(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None
          ) -> pl.DataFrame:
    """Run a query and return a polars frame."""
    return con.sql(sql, params=params).pl() if params else con.sql(sql).pl()


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | dict | None = None) -> Any:
    """Run a query and return the first column of its first row (or None)."""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0][0] if rows else None


def table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        scalar(con, "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name])
    )


# Tables whose content the flows read; a load into any of them is a new data version.
VERSIONED_TABLES = ("events", "users", "items", "consents")


def data_version(con: duckdb.DuckDBPyConnection) -> str:
    """A short hash of (rows, latest ``_loaded_at``) per raw table plus the feed resets.

    Ingest is one transaction that stamps every row it writes with the same ``_loaded_at``, so
    a reload of the same files (nothing accepted) keeps the version and a real load changes it.
    The flows cache on it; the lifecycle keys a recorded evaluation on it.
    """
    parts = []
    for t in VERSIONED_TABLES:
        n, at = con.execute(f"SELECT count(*), max(_loaded_at) FROM {t}").fetchall()[0]
        parts.append(f"{t}:{n}:{at}")
    resets = con.execute("SELECT count(*), max(ts) FROM user_resets").fetchall()[0]
    parts.append(f"user_resets:{resets[0]}:{resets[1]}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]
