"""Refreshing the kept ``stg_sessions`` table where new events land, not for every user.

A user's client sessions (``session_id``) with new events are rebuilt from all their events.
For gap-derived sessions, events at or after ``t`` (the user's earliest new id-less event) can
only change the sessions that end less than a gap before ``t``: those are dropped and the
user's id-less events from the first dropped start (or ``t``) on are sessionized again; the
sessions kept before them are untouched, and the new ones are numbered after them, so keys are
the ones a full build gives. Users whose reset or settings changed are rebuilt whole.
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from features._sql import ALL_TIME, inline_params, set_sql
from features.catalog import Catalog

__all__ = ["refresh_sessions"]

_SOURCE = "from events as e"


def _run(con: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None) -> list:
    return con.execute(sql, params or {}).fetchall()


def refresh_sessions(con: duckdb.DuckDBPyConnection, catalog: Catalog, wm: datetime) -> int:
    """Bring ``stg_sessions`` up to date with events loaded after ``wm``.

    Expects ``_fw_whole_users(user_id)``: users to rebuild whole (reset or settings changed).

    Returns:
        The number of sessions written.
    """
    fs = catalog.sets["stg_sessions"]
    gap = int(catalog.params["session_gap_minutes"])
    p = {"wm": wm}
    _run(con, """CREATE OR REPLACE TEMP TABLE _fw_new_ev AS
        SELECT user_id, session_id, min(ts) AS t FROM events
        WHERE _loaded_at > $wm AND user_id NOT IN (SELECT user_id FROM _fw_whole_users)
        GROUP BY user_id, session_id""", p)
    _run(con, f"""CREATE OR REPLACE TEMP TABLE _fw_gap AS
        SELECT g.user_id, g.t,
               min(s.session_start) FILTER (WHERE s.session_end >= g.t - to_minutes({gap}))
                   AS first_dropped,
               count(s.session_key) FILTER (WHERE s.session_end < g.t - to_minutes({gap}))
                   AS kept
        FROM (SELECT user_id, t FROM _fw_new_ev WHERE session_id IS NULL) AS g
        LEFT JOIN stg_sessions AS s
            ON s.user_id = g.user_id AND starts_with(s.session_key, g.user_id || '#g')
        GROUP BY g.user_id, g.t""")
    _run(con, "DELETE FROM stg_sessions WHERE user_id IN (SELECT user_id FROM _fw_whole_users)")
    _run(con, """DELETE FROM stg_sessions WHERE session_key IN (
        SELECT user_id || '#s' || session_id FROM _fw_new_ev WHERE session_id IS NOT NULL)""")
    _run(con, f"""DELETE FROM stg_sessions AS s USING _fw_gap AS g
        WHERE s.user_id = g.user_id AND starts_with(s.session_key, g.user_id || '#g')
          AND s.session_end >= g.t - to_minutes({gap})""")
    since = _run(con, "SELECT min(least(t, coalesce(first_dropped, t))) FROM _fw_gap")[0][0]
    # Only the events those sessions are made of; the time bound lets the scan skip row groups.
    _run(con, f"""CREATE OR REPLACE TEMP VIEW _fw_session_events AS
        SELECT e.* FROM events AS e WHERE e.user_id IN (SELECT user_id FROM _fw_whole_users)
        UNION ALL
        SELECT e.* FROM events AS e
        JOIN (SELECT DISTINCT user_id, session_id FROM _fw_new_ev WHERE session_id IS NOT NULL)
            AS n ON n.user_id = e.user_id AND n.session_id = e.session_id
        UNION ALL
        SELECT e.* FROM events AS e JOIN _fw_gap AS g ON g.user_id = e.user_id
        WHERE e.session_id IS NULL AND e.ts >= least(g.t, coalesce(g.first_dropped, g.t))
          AND e.ts >= {inline_params('$since', {'since': since or ALL_TIME})}""")
    sql, params = set_sql(catalog, fs, ALL_TIME)
    if sql.count(_SOURCE) != 1:
        raise AssertionError(f"stg_sessions.sql must read events once as '{_SOURCE}'")
    sql = sql.replace(_SOURCE, "from _fw_session_events as e")
    _run(con, f"CREATE OR REPLACE TEMP TABLE _fw_sessions AS {sql}", params)
    # Renumber gap sessions after the ones kept (the key is the user's running session count).
    n = _run(con, """INSERT INTO stg_sessions
        SELECT s.* REPLACE (CASE
            WHEN g.user_id IS NOT NULL AND starts_with(s.session_key, s.user_id || '#g')
            THEN s.user_id || '#g' || (
                CAST(substr(s.session_key, length(s.user_id) + 3) AS BIGINT) + g.kept)
            ELSE s.session_key END AS session_key)
        FROM _fw_sessions AS s LEFT JOIN _fw_gap AS g ON g.user_id = s.user_id""")[0][0]
    for name in ("_fw_sessions", "_fw_gap", "_fw_new_ev"):
        _run(con, f"DROP TABLE IF EXISTS temp.{name}")
    _run(con, "DROP VIEW IF EXISTS temp._fw_session_events")
    return n
