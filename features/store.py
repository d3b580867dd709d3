"""The DuckDB store: one file, raw contract tables, quarantine, and connection helpers.

DuckDB 2.0 notes: relations keep no result (use ``con.sql(q).pl()`` or
``con.execute(q).fetchall()``), and an unread ``execute()`` result blocks the next
query on that connection, so every helper here reads its result fully.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from features.contract import CONTRACT
from features.errors import ConfigError

__all__ = ["DEFAULT_DB", "MEMORY_ENV", "connect", "ensure_schema", "query", "scalar",
           "table_exists"]

DEFAULT_DB = "feedwell.duckdb"
MEMORY_ENV = "FEEDWELL_MEMORY_LIMIT"
"""DuckDB ``memory_limit`` for every store connection (e.g. ``2GB``): aggregates, joins and sorts
beyond it spill to ``<db>.tmp`` instead of growing the process. Unset: DuckDB's default (80% of
RAM)."""


def _table_ddl(name: str) -> str:
    spec = CONTRACT[name]
    cols = [f"{c.name} {c.sql_type}" for c in spec.columns]
    # Unknown extra input columns are kept as JSON, never rejected.
    cols += ["extra JSON", "_source VARCHAR", "_loaded_at TIMESTAMP"]
    return f"CREATE TABLE IF NOT EXISTS {name} ({', '.join(cols)})"


_EXTRA_DDL = (
    """CREATE TABLE IF NOT EXISTS quarantine (
        table_name VARCHAR, source VARCHAR, row_number BIGINT, reason VARCHAR,
        record JSON, loaded_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS ingest_log (
        loaded_at TIMESTAMP, table_name VARCHAR, source VARCHAR, read BIGINT,
        accepted BIGINT, quarantined BIGINT, duplicates BIGINT)""",
    # A permanent feed reset forgets personalization signals before its time.
    "CREATE TABLE IF NOT EXISTS user_resets (user_id VARCHAR, ts TIMESTAMP)",
    # Steering in words, with history: the latest row per user is in force (cleared = none).
    """CREATE TABLE IF NOT EXISTS user_steering (
        user_id VARCHAR, ts TIMESTAMP, text VARCHAR, steering JSON, cleared BOOLEAN,
        source VARCHAR)""",
    # Wellbeing check-in answers and what each one changed.
    """CREATE TABLE IF NOT EXISTS user_checkins (
        user_id VARCHAR, ts TIMESTAMP, rating INTEGER, text VARCHAR, applied JSON)""",
)


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw tables if they do not exist (idempotent)."""
    for name in CONTRACT:
        con.execute(_table_ddl(name))
    for ddl in _EXTRA_DDL:
        con.execute(ddl)


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
