"""Point-in-time training sets: graded labels, request groups, features as of each example.

An example is a user's first exposure (impression, view or skip) to an item within one request
(``request_id`` = user x client session, or user x UTC hour when the session is unknown). Its
label grades what the user did with that item from the exposure until their next exposure to
it (or the end of the window):

    0 hide/report < 1 skip or impression only < 2 partial watch < 3 completed watch
    (watch_ms >= duration_ms) < 4 like/share/remix

Negative feedback wins over everything, and a skip wins over a partial watch (the user
swiped away). Features come from daily snapshots (``every``) built with the catalog runner:
each example gets the latest snapshot at or before its own time, and a snapshot only sees
events strictly before its ``as_of``, so nothing at or after the example leaks in.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb
import polars as pl

from features.build import build_features
from features.catalog import load_catalog
from features.errors import DataError

__all__ = ["GRADE_SQL", "label_events", "build_training_set"]

GRADE_SQL = """
    CASE
        WHEN bool_or(type IN ('hide', 'report')) THEN 0
        WHEN bool_or(type IN ('like', 'share', 'remix')) THEN 4
        WHEN bool_or(type = 'view' AND duration_ms > 0 AND watch_ms >= duration_ms) THEN 3
        WHEN bool_or(type = 'skip') THEN 1
        WHEN bool_or(type = 'view' AND watch_ms > 0) THEN 2
        ELSE 1
    END
"""

_EXAMPLES = f"""
WITH
window_events AS (
    SELECT e.user_id, e.item_id, e.ts, e.type, e.watch_ms, e.session_id, i.duration_ms
    FROM events e LEFT JOIN items i ON i.item_id = e.item_id
    WHERE e.ts >= $start AND e.ts < $end AND e.item_id IS NOT NULL
),
exposures AS (
    SELECT
        user_id, item_id,
        user_id || '|' || coalesce(
            's:' || session_id, 'h:' || strftime(date_trunc('hour', ts), '%Y%m%d%H')
        ) AS request_id,
        min(ts) AS ts
    FROM window_events
    WHERE type IN ('impression', 'view', 'skip')  -- a skip means it was shown
    GROUP BY ALL
),
spans AS (
    SELECT *, coalesce(lead(ts) OVER (PARTITION BY user_id, item_id ORDER BY ts), $end) AS until
    FROM exposures
),
graded AS (
    SELECT s.request_id, s.user_id, s.item_id, s.ts, {GRADE_SQL} AS label
    FROM spans s
    JOIN window_events w
      ON w.user_id = s.user_id AND w.item_id = s.item_id AND w.ts >= s.ts AND w.ts < s.until
    GROUP BY ALL
)
SELECT g.*, i.creator_id, i.topics FROM graded g LEFT JOIN items i ON i.item_id = g.item_id
"""

# How each key maps onto an example's columns; topic sets average over the item's topics.
_JOINABLE = {
    ("user_id",),
    ("item_id",),
    ("creator_id",),
    ("user_id", "item_id"),
    ("user_id", "creator_id"),
}


def label_events(con: duckdb.DuckDBPyConnection, start: datetime, end: datetime) -> pl.DataFrame:
    """Grade the best outcome per user x item over events in ``[start, end)``.

    Returns:
        ``(user_id, item_id, label)`` with the grades of this module's docstring, for every
        user-item pair with any item event in the window.
    """
    sql = f"""
        SELECT e.user_id, e.item_id, ({GRADE_SQL})::INTEGER AS label
        FROM events e LEFT JOIN items i ON i.item_id = e.item_id
        WHERE e.ts >= $start AND e.ts < $end AND e.item_id IS NOT NULL
        GROUP BY e.user_id, e.item_id ORDER BY e.user_id, e.item_id
    """
    return con.sql(sql, params={"start": start, "end": end}).pl()


def _snapshot_times(start: datetime, end: datetime, every: timedelta) -> list[datetime]:
    midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
    t = midnight + ((start - midnight) // every) * every  # on the grid, at or before start
    times = []
    while t < end:
        times.append(t)
        t += every
    return times


def build_training_set(
    con: duckdb.DuckDBPyConnection,
    start: datetime,
    end: datetime,
    feature_names: list[str] | None = None,
    every: timedelta = timedelta(days=1),
) -> pl.DataFrame:
    """Labelled, grouped examples from ``[start, end)`` with features as of each example.

    Args:
        con: a store connection.
        start: first example time (inclusive, naive UTC).
        end: end of the window (exclusive).
        feature_names: catalog feature names (``set.column``, a set, or a unique column);
            default: every feature joinable to a user x item example.
        every: snapshot cadence, on a grid from midnight; the first is at or before ``start``.

    Returns:
        Rows ``request_id, user_id, item_id, creator_id, ts, as_of, label`` plus one column
        per feature named ``set.column``, sorted by ``request_id`` then ``ts`` (contiguous
        groups for LambdaRank). ``as_of`` is the feature snapshot the example used.

    Raises:
        DataError: an empty or inverted window.
        ConfigError: unknown feature names.
    """
    if end <= start:
        raise DataError(f"training window is empty: start {start} is not before end {end}")
    catalog = load_catalog()
    wanted = catalog.resolve(feature_names or catalog.feature_names(), model="training set")
    wanted = {
        s: c
        for s, c in wanted.items()
        if tuple(catalog.sets[s].key) in _JOINABLE or catalog.sets[s].key == ["user_id", "topic"]
    }
    times = _snapshot_times(start, end, every)
    snaps: dict[str, list[pl.DataFrame]] = {s: [] for s in wanted}
    for t in times:
        frames = build_features(con, now=t, sets=list(wanted), materialize=False)
        for s in wanted:
            snaps[s].append(frames[s])
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _train_ex AS " + _EXAMPLES, {"start": start, "end": end}
    ).fetchall()
    con.register(
        "_train_times", pl.DataFrame({"as_of": times}, schema={"as_of": pl.Datetime("us")})
    )
    selects, joins = [], []
    for n, (s, cols) in enumerate(wanted.items()):
        key = catalog.sets[s].key
        view = f"_train_snap_{n}"
        con.register(view, pl.concat(snaps[s], how="vertical_relaxed"))
        if key == ["user_id", "topic"]:
            aggs = ", ".join(f'avg(f."{c}") AS "{c}"' for c in cols)
            joins.append(
                f"LEFT JOIN (SELECT x.user_id, x.item_id, x.as_of, {aggs} FROM "
                f"(SELECT DISTINCT user_id, item_id, as_of, topics FROM ex) x, "
                f"unnest(x.topics) t(topic) JOIN {view} f "
                f"ON f.user_id = x.user_id AND f.topic = t.topic AND f.as_of = x.as_of "
                f"GROUP BY ALL) j{n} ON j{n}.user_id = ex.user_id AND j{n}.item_id = ex.item_id "
                f"AND j{n}.as_of = ex.as_of"
            )
        else:
            on = " AND ".join(f"j{n}.{k} = ex.{k}" for k in key)
            joins.append(f"LEFT JOIN {view} j{n} ON {on} AND j{n}.as_of = ex.as_of")
        selects += [f'j{n}."{c}" AS "{s}.{c}"' for c in cols]
    sql = f"""
        WITH ex AS (
            SELECT e.*, t.as_of FROM _train_ex e ASOF JOIN _train_times t ON e.ts >= t.as_of
        )
        SELECT ex.request_id, ex.user_id, ex.item_id, ex.creator_id, ex.ts, ex.as_of,
               ex.label::INTEGER AS label{"".join(", " + s for s in selects)}
        FROM ex {" ".join(joins)}
        ORDER BY ex.request_id, ex.ts, ex.item_id
    """
    try:
        return con.sql(sql).pl()
    finally:
        con.execute("DROP TABLE IF EXISTS _train_ex").fetchall()
        for name in ["_train_times"] + [f"_train_snap_{n}" for n in range(len(wanted))]:
            con.unregister(name)
