"""Incremental agg_events: a build that folds in new events equals a full rebuild."""

from __future__ import annotations

from datetime import datetime, timedelta

from polars.testing import assert_frame_equal

from features._agg import refresh
from features.build import build_features
from tests.features.conftest import EVENT_COLS, EVENTS, NOW

LATER = NOW + timedelta(days=1)


def _load(con, rows, at: datetime) -> None:
    con.executemany(
        f"INSERT INTO events ({EVENT_COLS}, _loaded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(*r, at) for r in rows],
    )


def _same(con, now: datetime) -> None:
    inc = build_features(con, now=now)
    full = build_features(con, now=now, full=True)
    assert inc.keys() == full.keys()
    for name in inc:
        a, b = inc[name], full[name]
        keys = [c for c in a.columns[:2]]
        assert_frame_equal(a.sort(keys), b.sort(keys), check_row_order=True)


def _store(con):
    con.execute(
        "INSERT INTO users (user_id, timezone) VALUES ('u1', 'America/New_York'), ('u2', NULL)"
    )
    con.execute(
        "INSERT INTO items (item_id, creator_id, created_at, duration_ms, topics) VALUES "
        "('i1', 'c1', '2024-01-01 00:00', 10000, ['cats', 'dogs']), "
        "('i2', 'c2', '2024-01-09 12:00', 20000, ['cats'])"
    )
    _load(con, EVENTS, datetime(2024, 1, 10, 12))
    return con


def test_new_and_late_events_fold_in_like_a_full_rebuild(con):
    _store(con)
    assert refresh(con)["mode"] == "full"
    build_features(con, now=NOW)
    _load(
        con,
        [
            ("n1", "u1", "2024-01-10 12:05:00", "view", "i2", None, 20000, None),
            ("n2", "u2", "2024-01-10 13:00:00", "report", "i1", None, None, "s2"),
            ("n3", "u1", "2024-01-05 12:10:00", "like", "i1", None, None, None),  # late, old day
            ("n4", "u3", "2024-01-10 14:00:00", "block", None, "c2", None, None),
        ],
        datetime(2024, 1, 11, 1),
    )
    out = refresh(con)
    assert out["mode"] == "incremental" and out["new_events"] == 4
    _same(con, LATER)
    _same(con, NOW)  # an older now still sees only events before it
    _same(con, datetime(2024, 1, 5, 12, 7))  # a cut inside the late event's bucket


def test_refresh_counts_only_new_events_and_reingest_adds_nothing(con):
    _store(con)
    refresh(con, full=True)
    _load(con, [("n1", "u1", "2024-01-10 12:05:00", "view", "i2", None, 1, None)],
          datetime(2024, 1, 11))
    first = refresh(con)
    assert (first["mode"], first["new_events"]) == ("incremental", 1)
    again = refresh(con)  # nothing new loaded since
    assert (again["mode"], again["new_events"]) == ("incremental", 0)
    _same(con, LATER)


def test_replaced_events_resets_and_duration_changes_stay_exact(con):
    _store(con)
    refresh(con, full=True)
    con.execute("DELETE FROM events WHERE event_id = 'e05'")  # a replaced event: full rebuild
    _load(con, [("e05", "u1", "2024-01-10 10:20:00", "view", "i2", None, 5000, None)],
          datetime(2024, 1, 11))
    assert refresh(con)["mode"] == "full"
    con.execute("UPDATE items SET duration_ms = 40000 WHERE item_id = 'i2'")
    con.execute("INSERT INTO user_resets VALUES ('u1', '2024-01-10 10:10:00')")
    _same(con, NOW)
    ue = build_features(con, now=NOW, sets=["user_engagement"])["user_engagement"]
    u1 = ue.filter(ue["user_id"] == "u1").row(0, named=True)
    assert u1["views_1d"] == 2 and u1["completion_rate_1d"] == 5000 / 40000 / 2 + 0.5
