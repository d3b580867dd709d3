"""Sessions: client ids when present, 30-minute gaps otherwise, late night in the user's zone."""

from __future__ import annotations

from pytest import approx

from features.build import build_features
from tests.features.conftest import NOW, insert_events


def sessions(con):
    return build_features(con, now=NOW, sets=["user_sessions"])


def test_gap_sessions_and_timezone_late_night(world):
    out = sessions(world)
    st = {r["session_key"]: r for r in out["stg_sessions"].iter_rows(named=True)}
    assert sorted(st) == ["u1#g1", "u1#g2", "u1#g3", "u2#ss1"]
    g2 = st["u1#g2"]  # 10:00-10:20 UTC: a 19-minute gap stays in the session
    assert (g2["events"], g2["views"], g2["length_min"]) == (4, 2, approx(20.0))
    assert g2["videos_per_min"] == approx(0.1)
    # 10:00 UTC is 05:00 in New York (late night) but 11:00 at 06:00 local is not
    assert g2["late_night_share"] == 1.0 and st["u1#g3"]["late_night_share"] == 0.0
    s1 = st["u2#ss1"]  # NULL timezone = UTC, 03:00 is late night
    assert (s1["late_night_share"], s1["skip_rate"], s1["length_min"]) == (1.0, 1.0, approx(10.0))
    us = {r["user_id"]: r for r in out["user_sessions"].iter_rows(named=True)}
    u1 = us["u1"]
    assert (u1["sessions_1d"], u1["sessions_7d"]) == (2, 3)
    assert (u1["session_min_1d"], u1["avg_session_min_1d"], u1["max_session_min_1d"]) == (
        20.0,
        10.0,
        20.0,
    )
    assert u1["videos_per_min_1d"] == approx(3 / 21)
    assert u1["late_night_share_1d"] == approx(4 / 5)
    assert u1["late_night_share_7d"] == approx(4 / 6)
    assert u1["last_session_end_hours_ago"] == approx(1.0)


def test_gap_of_exactly_30_minutes_continues_and_31_splits(con):
    insert_events(
        con,
        [
            ("a", "x", "2024-01-10 08:00:00", "view", "i", None, 1, None),
            ("b", "x", "2024-01-10 08:30:00", "view", "i", None, 1, None),
            ("c", "x", "2024-01-10 09:01:00", "view", "i", None, 1, None),
            # a client session id wins over gaps, and ignores the derived sessions around it
            ("d", "x", "2024-01-10 08:10:00", "view", "i", None, 1, "abc"),
            ("e", "x", "2024-01-10 10:10:00", "view", "i", None, 1, "abc"),
        ],
    )
    st = sessions(con)["stg_sessions"].sort("session_key")
    assert st["session_key"].to_list() == ["x#g1", "x#g2", "x#sabc"]
    assert st["events"].to_list() == [2, 1, 2]
    assert st["length_min"].to_list() == [30.0, 0.0, 120.0]


def test_unknown_timezone_falls_back_to_utc(con):
    con.execute("INSERT INTO users (user_id, timezone) VALUES ('x', 'Mars/Olympus')")
    insert_events(con, [("a", "x", "2024-01-10 23:00:00", "view", "i", None, 1, None)])
    st = build_features(con, now=NOW.replace(day=11), sets=["stg_sessions"])["stg_sessions"]
    assert st["late_night_share"].to_list() == [1.0]
