"""mart_creation_connection (issue 15.2): creation and connection per day, hand-counted."""

from __future__ import annotations

from datetime import date

import pytest

from features.marts import create_marts
from features.report._charts import creation_connection
from features.report._data import load_report_data

ITEMS = [("a1", "ca"), ("a2", "ca"), ("b1", "cb"), ("b2", "cb"), ("d1", "cd")]
D1, D2 = "2026-10-20", "2026-10-21"
EVENTS = [  # user_id, ts, type, item_id, target_user_id
    ("u1", f"{D1} 10:00", "view", "a1", None),
    ("u1", f"{D1} 10:01", "remix", "a1", None),    # a creation after the view
    ("u1", f"{D1} 10:05", "view", "a2", None),     # connected: u1 remixed creator ca before
    ("u1", f"{D1} 11:00", "view", "b1", None),     # not connected yet
    ("u1", f"{D1} 11:01", "follow", None, "cb"),
    ("u1", f"{D1} 11:02", "view", "b2", None),     # connected: follows cb
    ("u1", f"{D1} 11:03", "comment", "b2", None),  # a creation after the view
    ("u2", f"{D2} 09:00", "share", "d1", None),    # a share before the view: no creation after
    ("u2", f"{D2} 09:05", "view", "d1", None),     # it, but connected (shared cd's video before)
    ("u2", f"{D2} 09:06", "follow", None, "ca"),
    ("u2", f"{D2} 09:07", "unfollow", None, "ca"),
    ("u2", f"{D2} 09:08", "view", "a1", None),     # not connected: unfollowed before the view
]


def test_creation_and_connection_per_day(con):
    con.executemany("INSERT INTO items (item_id, creator_id) VALUES (?, ?)", ITEMS)
    con.executemany(
        "INSERT INTO events (event_id, user_id, ts, type, item_id, target_user_id, watch_ms) "
        "VALUES (?, ?, ?, ?, ?, ?, 1000)", [(f"e{i}", *e) for i, e in enumerate(EVENTS)])
    create_marts(con)
    d1, d2 = con.sql("SELECT * FROM mart_creation_connection ORDER BY day").pl().to_dicts()
    assert d1 == pytest.approx({"day": date(2026, 10, 20), "views": 4, "created_views": 2,
                                "connected_views": 2, "creation_rate": 0.5,
                                "connection_share": 0.5})
    # u2's share precedes its view (no creation after a view), and an unfollow ends a follow.
    assert (d2["views"], d2["created_views"], d2["connected_views"]) == (2, 0, 1)


def test_report_charts_creation_and_connection_over_time(world):
    # The shared tiny world: on 2026-10-20 five views, u_adult shares i1 after viewing it, and
    # u_teen views i2 after liking c1's i1 (a connection).
    create_marts(world)
    d = load_report_data(world)
    assert d.creation["creation_rate"].to_list()[0] == pytest.approx(1 / 5)
    assert d.creation["connection_share"].to_list()[0] == pytest.approx(1 / 5)
    chart = creation_connection(d)
    assert chart.id == "chart-creation" and chart.fig is not None
    assert [t.name.split(" (")[0] for t in chart.fig.data] == ["Creation rate",
                                                               "Connection share"]
