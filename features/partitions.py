"""Date-partitioned Parquet export of events, and per-day engagement counts computed per partition.

This is the scale-out half of the store: ``export_partitions`` writes the events table as
``<db stem>_parts/date=YYYY-MM-DD/*.parquet`` (hive layout, readable by DuckDB, polars, Dask,
Spark), and ``partition_counts`` reduces one partition on its own, so days can be counted in
parallel on any worker that sees the folder. ``daily_counts`` is the single-machine answer the
partitioned path must equal.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from features.errors import DataError

__all__ = ["partitions_root", "export_partitions", "list_partitions", "partition_counts",
           "combine_counts", "daily_counts", "store_daily_counts", "COUNTS_TABLE"]

COUNTS_TABLE = "agg_daily_engagement"

# One SQL text for both paths, so "equal" is a property of the data, not of two codings.
_COUNTS_SQL = """
    SELECT {day} AS day,
        count(*) AS events,
        count(DISTINCT user_id) AS active_users,
        count(*) FILTER (WHERE type = 'view') AS views,
        coalesce(sum(watch_ms) FILTER (WHERE type = 'view'), 0)::BIGINT AS watch_ms,
        count(*) FILTER (WHERE type = 'like') AS likes,
        count(*) FILTER (WHERE type = 'share') AS shares,
        count(*) FILTER (WHERE type = 'skip') AS skips,
        count(*) FILTER (WHERE type = 'hide') AS hides,
        count(*) FILTER (WHERE type = 'report') AS reports
    FROM {source} {group}
"""
_SCHEMA = {"day": pl.Date, "events": pl.Int64, "active_users": pl.Int64, "views": pl.Int64,
           "watch_ms": pl.Int64, "likes": pl.Int64, "shares": pl.Int64, "skips": pl.Int64,
           "hides": pl.Int64, "reports": pl.Int64}


def partitions_root(db_path: str | Path) -> Path:
    """The folder of day partitions for the database at ``db_path``."""
    p = Path(db_path)
    return p.with_name(f"{p.stem}_parts")


def export_partitions(con: duckdb.DuckDBPyConnection, root: str | Path) -> list[Path]:
    """Write the events table as one Parquet folder per UTC day (replacing earlier exports).

    Args:
        con: a store connection.
        root: the output folder (``partitions_root(db_path)``).

    Returns:
        The partition folders, sorted by day.
    """
    out = Path(root)
    out.mkdir(parents=True, exist_ok=True)
    # OVERWRITE clears the folder first: a re-export after new data never leaves stale days.
    con.execute(
        "COPY (SELECT * EXCLUDE (extra), CAST(ts AS DATE) AS date FROM events "
        "ORDER BY ts, event_id)"
        f" TO '{str(out).replace(chr(39), chr(39) * 2)}' (FORMAT parquet, PARTITION_BY (date), "
        "OVERWRITE)"
    ).fetchall()
    return list_partitions(out)


def list_partitions(root: str | Path) -> list[Path]:
    """The ``date=YYYY-MM-DD`` folders under ``root``, sorted by day."""
    return sorted(p for p in Path(root).glob("date=*") if p.is_dir())


def partition_counts(part: str | Path) -> pl.DataFrame:
    """Engagement counts of one day partition (one row), reading only that folder."""
    p = Path(part)
    if not p.name.startswith("date="):
        raise DataError(f"{p} is not a day partition (expected a folder named date=YYYY-MM-DD)")
    day = date.fromisoformat(p.name.split("=", 1)[1])
    glob = str(p / "*.parquet").replace("'", "''")
    con = duckdb.connect()
    try:
        sql = _COUNTS_SQL.format(day="$day::DATE", source=f"read_parquet('{glob}')", group="")
        return con.sql(sql, params={"day": day}).pl().cast(_SCHEMA)
    finally:
        con.close()


def combine_counts(frames: list[pl.DataFrame]) -> pl.DataFrame:
    """Concatenate per-partition counts into one frame ordered by day."""
    if not frames:
        return pl.DataFrame(schema=_SCHEMA)
    return pl.concat(frames).sort("day")


def daily_counts(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The same counts computed on one machine straight from the events table."""
    sql = _COUNTS_SQL.format(day="CAST(ts AS DATE)", source="events", group="GROUP BY 1")
    return con.sql(sql + " ORDER BY 1").pl().cast(_SCHEMA)


def store_daily_counts(con: duckdb.DuckDBPyConnection, counts: pl.DataFrame) -> int:
    """Replace ``agg_daily_engagement`` with ``counts`` (idempotent); returns the row count."""
    con.register("_counts", counts.to_arrow())
    try:
        con.execute(f"CREATE OR REPLACE TABLE {COUNTS_TABLE} AS SELECT * FROM _counts "
                    "ORDER BY day").fetchall()
    finally:
        con.unregister("_counts")
    return counts.height
