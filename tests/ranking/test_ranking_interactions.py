"""Interaction weighting, negatives, resets."""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from ranking.interactions import build_interactions
from tests.ranking._worlds import T0, events_frame


def test_weights_order_and_hidden_items_are_not_positives():
    ev = events_frame([
        ("a", "full", "view", 30_000, 0), ("a", "full", "like", None, 1),
        ("a", "part", "view", 3_000, 2), ("a", "skipped", "view", 500, 3),
        ("a", "skipped", "skip", None, 3), ("a", "bad", "view", 30_000, 4),
        ("a", "bad", "hide", None, 5),
    ])
    items = pl.DataFrame({"item_id": ["full", "part", "skipped", "bad"],
                          "creator_id": ["c1", "c1", "c2", "c3"], "duration_ms": [30_000] * 4})
    d = build_interactions(ev, items)
    w = dict(d.frame.select("item_id", "weight").iter_rows())
    assert w["full"] > w["part"] > w["skipped"] > 0
    assert "bad" not in w
    assert d.negatives["item_id"].to_list() == ["bad"]
    assert d.seen_items("a") == {"full", "part", "skipped", "bad"}
    assert d.to_csr().shape == (1, 4)


def test_reset_forgets_earlier_events_and_now_cuts_the_future():
    ev = events_frame([("a", "old", "view", 9000, 0), ("a", "new", "view", 9000, 100),
                       ("a", "later", "view", 9000, 500)])
    resets = pl.DataFrame({"user_id": ["a"], "ts": [T0 + timedelta(minutes=50)]})
    d = build_interactions(ev, resets=resets, now=T0 + timedelta(minutes=200))
    assert d.frame["item_id"].to_list() == ["new"]


def test_load_interactions_from_store(con):
    from ranking.interactions import load_interactions

    con.execute("INSERT INTO events (event_id, user_id, ts, type, item_id, watch_ms) VALUES "
                "('e1', 'a', TIMESTAMP '2024-01-01', 'view', 'x', 1000)").fetchall()
    d = load_interactions(con)
    assert d.frame["item_id"].to_list() == ["x"]
