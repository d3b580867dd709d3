"""Partial aggregates kept between runs: built whole, or refreshed where new events land.

The ``partial`` sets of the catalog (per entity and hour ``bucket``, and ``stg_sessions``) are
kept as tables over every event in the store. ``part_state`` records what they cover: the
latest ``_loaded_at`` seen (the watermark of ingested rows), the event count, and a fingerprint
of their SQL and parameters; ``part_resets`` the latest reset per user. A refresh recomputes
the buckets that hold events loaded after the watermark (late, out-of-order and re-delivered
events included: an exact re-delivery is stored once by ingest and adds nothing) and the
buckets of events on items loaded since; a user whose reset changed gets their personal
partials rebuilt whole. Anything the watermark cannot account for (rows written outside
ingest, a changed catalog, a missing table) makes it a full rebuild, logged with the reason.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime

import duckdb

from features._bucket_refresh import refresh_buckets
from features._session_refresh import refresh_sessions
from features._sql import ALL_TIME, set_sql, stage_events
from features.catalog import Catalog, FeatureSet

__all__ = ["PartialUpdate", "partial_sets", "stage_events", "build_partials",
           "kept_partials_apply", "kept_partials_current", "update_partials"]

log = logging.getLogger(__name__)
_STATE = "part_state"
_RESETS = "part_resets"
_LATEST_RESETS = "SELECT user_id, max(ts) AS reset_ts FROM user_resets GROUP BY user_id"


@dataclass(frozen=True)
class PartialUpdate:
    """What an update of the kept partials did."""

    mode: str
    """``full`` (rebuilt from every event) or ``refresh``."""
    reason: str
    new_events: int = 0
    dirty_buckets: int = 0
    reset_users: int = 0
    seconds: float = 0.0


def _run(con: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None) -> list:
    return con.execute(sql, params or {}).fetchall()


def partial_sets(catalog: Catalog, names: list[str] | None = None) -> list[FeatureSet]:
    """The partial sets the named sets need (all of them by default), dependencies first."""
    return [fs for fs in catalog.order(names) if fs.materialized == "partial"]


def build_partials(con: duckdb.DuckDBPyConnection, catalog: Catalog, sets: list[FeatureSet],
                   now: datetime, temp: bool) -> None:
    """Build partial sets from every event before ``now`` (TEMP tables for an as-of build)."""
    stage_events(con, catalog, now)
    for fs in sets:
        t0 = time.perf_counter()
        sql, params = set_sql(catalog, fs, now)
        kind = "TEMP TABLE" if temp else "TABLE"
        _run(con, f"CREATE OR REPLACE {kind} {fs.name} AS {sql}", params)
        log.info("feature set %s built in %.3fs", fs.name, time.perf_counter() - t0)


def kept_partials_apply(con: duckdb.DuckDBPyConnection, now: datetime) -> bool:
    """Whether partials over every event give the sets as of ``now``: it is after every event
    and every reset (an as-of time in the past needs partials cut at that time)."""
    latest, reset = _run(con, "SELECT (SELECT max(ts) FROM events), "
                              "(SELECT max(ts) FROM user_resets)")[0]
    return (latest is None or now > latest) and (reset is None or now >= reset)


def _fingerprint(catalog: Catalog, sets: list[FeatureSet]) -> str:
    h = hashlib.sha256(json.dumps(catalog.params, sort_keys=True).encode())
    for fs in [catalog.sets["stg_events"], *sets]:
        h.update(fs.name.encode() + fs.sql_path.read_bytes() + repr(fs.params).encode())
    return h.hexdigest()[:16]


def _snapshot(con: duckdb.DuckDBPyConnection) -> dict:
    wm, events, items, users = _run(con, """SELECT
        greatest((SELECT max(_loaded_at) FROM events), (SELECT max(_loaded_at) FROM items),
                 (SELECT max(_loaded_at) FROM users)),
        (SELECT count(*) FROM events),
        (SELECT count(*) FROM items WHERE _loaded_at IS NULL),
        (SELECT count(*) FROM users WHERE _loaded_at IS NULL)""")[0]
    return {"wm": wm or datetime(1, 1, 1), "events": events, "untracked_items": items,
            "untracked_users": users}


def _full_reason(con: duckdb.DuckDBPyConnection, fp: str, sets: list[FeatureSet]
                 ) -> tuple[str, dict | None]:
    tables = {r[0] for r in _run(con, "SELECT table_name FROM duckdb_tables() "
                                      "WHERE NOT temporary")}
    if _STATE not in tables or _RESETS not in tables:
        return "no kept partials yet", None
    rows = _run(con, f"SELECT fingerprint, wm, events, untracked_items, untracked_users "
                     f"FROM {_STATE}")
    if not rows:
        return "no kept partials yet", None
    fingerprint, wm, events, items, users = rows[0]
    state = {"wm": wm, "events": events, "untracked_items": items, "untracked_users": users}
    if fingerprint != fp:
        return "the partial sets' SQL or parameters changed", state
    if missing := [fs.name for fs in sets if fs.name not in tables]:
        return f"partial table(s) {missing} missing", state
    now_events, new, now_items, now_users = _run(con, """SELECT count(*),
        count(*) FILTER (WHERE _loaded_at > $wm),
        (SELECT count(*) FROM items WHERE _loaded_at IS NULL),
        (SELECT count(*) FROM users WHERE _loaded_at IS NULL) FROM events""", {"wm": wm})[0]
    if now_events != events + new or (now_items, now_users) != (items, users):
        return "rows were written or removed outside ingest (no _loaded_at after the watermark)", \
            state
    return "", state


def kept_partials_current(con: duckdb.DuckDBPyConnection, catalog: Catalog) -> bool:
    """Whether the kept partial tables cover exactly the store's rows: built by this catalog's
    SQL, and nothing ingested, written outside ingest or reset since (no refresh is due)."""
    sets = partial_sets(catalog)
    reason, state = _full_reason(con, _fingerprint(catalog, sets), sets)
    if reason or state != _snapshot(con):
        return False
    changed = _run(con, f"""SELECT count(*) FROM ({_LATEST_RESETS}) AS n
        FULL JOIN {_RESETS} AS o ON o.user_id = n.user_id
        WHERE n.reset_ts IS DISTINCT FROM o.reset_ts""")[0][0]
    return not changed


def update_partials(con: duckdb.DuckDBPyConnection, catalog: Catalog, full: bool = False
                    ) -> PartialUpdate:
    """Bring the kept partial tables up to date with the store, in one transaction.

    Args:
        con: a store connection.
        catalog: the feature catalog.
        full: rebuild from every event even when a refresh would do.
    """
    t0 = time.perf_counter()
    sets = partial_sets(catalog)
    fp = _fingerprint(catalog, sets)
    snap = _snapshot(con)
    reason, state = ("--full", None) if full else _full_reason(con, fp, sets)
    _run(con, "BEGIN TRANSACTION")
    try:
        if reason:
            build_partials(con, catalog, sets, ALL_TIME, temp=False)
            out = PartialUpdate("full", reason)
        else:
            stats = refresh_buckets(con, catalog, sets, state["wm"], _RESETS)
            refresh_sessions(con, catalog, state["wm"])
            out = PartialUpdate("refresh", "", **stats)
        _run(con, f"CREATE OR REPLACE TABLE {_RESETS} AS {_LATEST_RESETS}")
        _run(con, f"CREATE OR REPLACE TABLE {_STATE} AS SELECT $fp AS fingerprint, $wm AS wm, "
                  "$events AS events, $untracked_items AS untracked_items, "
                  "$untracked_users AS untracked_users, now() AS updated_at",
             {"fp": fp, **snap})
        _run(con, "COMMIT")
    except BaseException:
        _run(con, "ROLLBACK")
        raise
    seconds = time.perf_counter() - t0
    log.info("partials %s%s in %.3fs", out.mode, f" ({out.reason})" if out.reason else "",
             seconds)
    return PartialUpdate(out.mode, out.reason, out.new_events, out.dirty_buckets,
                         out.reset_users, seconds)
