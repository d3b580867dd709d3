"""Keep ``agg_events`` (see ``_agg_sql``) in step with ``events``, incrementally.

``agg_state`` remembers how many events were folded in, how many had no ``_loaded_at`` and the
latest ``_loaded_at`` seen. A refresh folds only events loaded after that watermark and appends
their rows (a late event for an old day is just one more row for its bucket); a re-ingest that
adds nothing costs three counts. Anything the watermark cannot explain (deleted or replaced
events, new rows without ``_loaded_at``, a new aggregate layout) triggers a full rebuild. Items
whose ``duration_ms`` changed (completion depends on it) have their rows recomputed.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime

import duckdb

from features._agg_sql import aggregate_sql, merge_sql

__all__ = ["refresh", "split", "VERSION"]

log = logging.getLogger(__name__)
VERSION = 1
_COMPACT_RATIO = 0.5  # merge duplicate keys once appended rows exceed half of the compacted ones


def _one(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> tuple:
    return con.execute(sql, params or []).fetchall()[0]


def _exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    sql = "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?"
    return bool(_one(con, sql, [name])[0])


def _full(con: duckdb.DuckDBPyConnection, temp: str) -> None:
    con.execute(f"CREATE OR REPLACE {temp} TABLE agg_events AS {aggregate_sql()}").fetchall()
    con.execute(
        f"CREATE OR REPLACE {temp} TABLE agg_items AS "
        "SELECT item_id, any_value(duration_ms) AS duration_ms FROM items GROUP BY item_id"
    ).fetchall()


def _fix_durations(con: duckdb.DuckDBPyConnection) -> int:
    """Recompute the rows of items whose duration changed since they were aggregated."""
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _agg_changed AS
        SELECT coalesce(i.item_id, s.item_id) AS item_id, i.duration_ms
        FROM (SELECT item_id, any_value(duration_ms) AS duration_ms FROM items GROUP BY 1) i
        FULL JOIN agg_items s ON s.item_id = i.item_id
        WHERE i.duration_ms IS DISTINCT FROM s.duration_ms
    """).fetchall()
    n = _one(con, "SELECT count(*) FROM _agg_changed")[0]
    if n:
        con.execute("""
            CREATE OR REPLACE TEMP TABLE _agg_redo AS
            SELECT DISTINCT a.item_id FROM agg_events a SEMI JOIN _agg_changed c USING (item_id)
        """).fetchall()
        if _one(con, "SELECT count(*) FROM _agg_redo")[0]:
            con.execute("DELETE FROM agg_events WHERE item_id IN (SELECT item_id FROM _agg_redo)")
            redo = aggregate_sql("item_id IN (SELECT item_id FROM _agg_redo)")
            con.execute(f"INSERT INTO agg_events BY NAME {redo}").fetchall()
        con.execute("DELETE FROM agg_items WHERE item_id IN (SELECT item_id FROM _agg_changed)")
        con.execute("INSERT INTO agg_items SELECT * FROM _agg_changed WHERE duration_ms "
                    "IS NOT NULL OR item_id IN (SELECT item_id FROM items)").fetchall()
        con.execute("DROP TABLE IF EXISTS _agg_redo").fetchall()
    con.execute("DROP TABLE IF EXISTS _agg_changed").fetchall()
    return n


def refresh(con: duckdb.DuckDBPyConnection, full: bool = False) -> dict:
    """Bring ``agg_events`` up to date with ``events``; returns what was done.

    Args:
        con: a store connection (read-only stores get TEMP aggregates, rebuilt every call).
        full: rebuild from every event instead of folding in the new ones.
    """
    t0 = time.perf_counter()
    total, nulls, wm = _one(
        con, "SELECT count(*), count(*) FILTER (WHERE _loaded_at IS NULL), max(_loaded_at) "
        "FROM events")
    temp = ""
    try:
        con.execute("CREATE TABLE IF NOT EXISTS agg_state (version INTEGER, n_events BIGINT, "
                    "n_null BIGINT, watermark TIMESTAMP, rows_compacted BIGINT)").fetchall()
    except duckdb.Error:  # a read-only store: aggregate into TEMP tables for this connection
        temp, full = "TEMP", True
        con.execute("CREATE OR REPLACE TEMP TABLE agg_state (version INTEGER, n_events BIGINT, "
                    "n_null BIGINT, watermark TIMESTAMP, rows_compacted BIGINT)").fetchall()
    state = con.execute("SELECT version, n_events, n_null, watermark, rows_compacted "
                        "FROM agg_state").fetchall()
    mode, new = "full", total
    if not full and state and state[0][0] == VERSION and _exists(con, "agg_events"):
        _, n_done, n_null, mark, compacted = state[0]
        new = _one(con, "SELECT count(*) FROM events WHERE _loaded_at > ?", [mark])[0] if mark \
            else total - nulls
        if nulls == n_null and total == n_done + new:
            mode = "incremental"
    if mode == "full":
        _full(con, temp)
        compacted = _one(con, "SELECT count(*) FROM agg_events")[0]
    else:
        if new:
            where = (f"_loaded_at > TIMESTAMP '{mark.isoformat(sep=' ')}'" if mark
                     else "_loaded_at IS NOT NULL")
            sql = f"INSERT INTO agg_events BY NAME {aggregate_sql(where)}"
            con.execute(sql).fetchall()
        _fix_durations(con)
        rows = _one(con, "SELECT count(*) FROM agg_events")[0]
        if rows > compacted * (1 + _COMPACT_RATIO):
            con.execute(f"CREATE OR REPLACE TABLE agg_events AS {merge_sql('agg_events')}")
            compacted = _one(con, "SELECT count(*) FROM agg_events")[0]
    con.execute("DELETE FROM agg_state").fetchall()
    con.execute("INSERT INTO agg_state VALUES (?, ?, ?, ?, ?)",
                [VERSION, total, nulls, wm, compacted]).fetchall()
    out = {"mode": mode, "new_events": new, "seconds": time.perf_counter() - t0}
    log.info("agg_events refreshed: %s", out)
    return out


def split(con: duckdb.DuckDBPyConnection, now: datetime) -> None:
    """TEMP tables for one as-of build: ``_agg_cut`` and ``_agg_split``.

    ``_agg_cut`` is each user's latest reset at or before ``now`` and its bucket. The buckets
    that a cut falls inside (``now``, ``now`` minus 1, 7 and 28 days, a user's reset) cannot be
    read from ``agg_events``; ``_agg_split`` re-aggregates their raw events (``ts < now``) by
    side of each cut (``personal`` and ``side``), so every stored row lies wholly in one window.
    """
    lit = f"TIMESTAMP '{now.isoformat(sep=' ')}'"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _agg_cut AS
        SELECT user_id, max(ts) AS reset_ts, time_bucket(interval 15 minutes, max(ts)) AS reset_q
        FROM user_resets WHERE ts <= {lit} GROUP BY user_id
    """).fetchall()
    ranges = []
    for days in (0, 1, 7, 28):
        start = f"time_bucket(interval 15 minutes, {lit} - interval {days} day)"
        ranges.append(f"(ts >= {start} AND ts < {start} + interval 15 minutes)")
    if _one(con, "SELECT count(*) FROM _agg_cut")[0]:
        ranges.append(
            "EXISTS (SELECT 1 FROM _agg_cut c WHERE c.user_id = events.user_id "
            "AND events.ts >= c.reset_q AND events.ts < c.reset_q + interval 15 minutes)"
        )
    where = f"ts < {lit} AND ({' OR '.join(ranges)})"
    side = " + ".join(f"(e.ts >= {lit} - interval {d} day)::integer" for d in (1, 7, 28))
    sql = aggregate_sql(
        where,
        extra_keys=(("r.reset_ts IS NULL OR e.ts >= r.reset_ts", "personal"), (side, "side")),
        extra_join="left join _agg_cut as r on r.user_id = e.user_id",
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE _agg_split AS {sql}").fetchall()
