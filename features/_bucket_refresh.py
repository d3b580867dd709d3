"""Refreshing the kept per-bucket partial tables: what changed since the watermark, then a
delete and re-insert of exactly those buckets (and of the users whose reset changed)."""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb

from features._sql import ALL_TIME, inline_params, set_sql, stage_events
from features.catalog import Catalog, FeatureSet

__all__ = ["refresh_buckets"]


def _run(con: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None) -> list:
    return con.execute(sql, params or {}).fetchall()


def _mark_changes(con: duckdb.DuckDBPyConnection, wm: datetime, hours: int, resets: str
                  ) -> dict[str, int]:
    """TEMP tables ``_fw_dirty(bucket)``, ``_fw_reset(user_id)`` and ``_fw_whole_users``."""
    bucket = (f"time_bucket(to_hours({hours}), ts - interval 1 microsecond) "
              f"+ to_hours({hours})")
    p = {"wm": wm}
    _run(con, f"CREATE OR REPLACE TEMP TABLE _fw_dirty AS SELECT DISTINCT {bucket} AS bucket "
              "FROM events WHERE _loaded_at > $wm", p)
    new_events = _run(con, "SELECT count(*) FROM events WHERE _loaded_at > $wm", p)[0][0]
    # An item that arrived or changed since: its events' creator, duration or topics may differ.
    if _run(con, "SELECT count(*) FROM items WHERE _loaded_at > $wm", p)[0][0]:
        _run(con, f"INSERT INTO _fw_dirty SELECT DISTINCT {bucket} FROM events WHERE item_id IN "
                  "(SELECT item_id FROM items WHERE _loaded_at > $wm) "
                  "EXCEPT SELECT bucket FROM _fw_dirty", p)
    _run(con, f"""CREATE OR REPLACE TEMP TABLE _fw_reset AS
        SELECT coalesce(n.user_id, o.user_id) AS user_id
        FROM (SELECT user_id, max(ts) AS reset_ts FROM user_resets GROUP BY user_id) AS n
        FULL JOIN {resets} AS o ON o.user_id = n.user_id
        WHERE n.reset_ts IS DISTINCT FROM o.reset_ts""")
    # Sessions of these users are rebuilt whole: a reset changes `personal`, a user row may
    # change the time zone late night is measured in.
    _run(con, "CREATE OR REPLACE TEMP TABLE _fw_whole_users AS SELECT user_id FROM _fw_reset "
              "UNION SELECT user_id FROM users WHERE _loaded_at > $wm", p)
    dirty, resets_n = _run(con, "SELECT (SELECT count(*) FROM _fw_dirty), "
                                "(SELECT count(*) FROM _fw_reset)")[0]
    return {"new_events": new_events, "dirty_buckets": dirty, "reset_users": resets_n}


def _reinsert(con: duckdb.DuckDBPyConnection, catalog: Catalog, fs: FeatureSet, scope: str,
              where: str) -> None:
    """Delete the set's rows in ``scope`` and insert them again from the events ``where``."""
    _run(con, f"DELETE FROM {fs.name} WHERE {scope}")
    stage_events(con, catalog, ALL_TIME, where)
    sql, params = set_sql(catalog, fs, ALL_TIME)
    _run(con, f"INSERT INTO {fs.name} SELECT * FROM ({sql})", params)


def refresh_buckets(con: duckdb.DuckDBPyConnection, catalog: Catalog, sets: list[FeatureSet],
                    wm: datetime, resets: str) -> dict[str, int]:
    """Recompute the dirty buckets of every bucketed partial set; returns change counts."""
    hours = int(catalog.params["bucket_hours"])
    stats = _mark_changes(con, wm, hours, resets)
    lo, hi = _run(con, "SELECT min(bucket), max(bucket) FROM _fw_dirty")[0]
    in_dirty = "bucket IN (SELECT bucket FROM _fw_dirty)"
    if lo is not None:
        # The time bound lets the events scan skip row groups; the IN list is the exact test.
        span = inline_params("ts > $lo AND ts <= $hi",
                             {"lo": lo - timedelta(hours=hours), "hi": hi})
    not_reset = "user_id NOT IN (SELECT user_id FROM _fw_reset)"
    is_reset = "user_id IN (SELECT user_id FROM _fw_reset)"
    for fs in sets:
        if "bucket" not in fs.key:
            continue
        personal = fs.personal and stats["reset_users"]
        if lo is not None:
            scope = f"{in_dirty} AND {not_reset}" if personal else in_dirty
            _reinsert(con, catalog, fs, scope, f"{span} AND {scope}")
        if personal:
            _reinsert(con, catalog, fs, is_reset, is_reset)
    stage_events(con, catalog, ALL_TIME)
    return stats
