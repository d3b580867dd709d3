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


def _random_session(rng, n_events: int) -> list[dict]:
    types = ["view", "view", "like", "unlike", "share", "remix", "comment", "skip", "hide",
             "report", "impression", "follow"]
    out = []
    for k in range(n_events):
        t = types[rng.integers(len(types))]
        watch = None
        if t == "view" and rng.random() < 0.8:
            watch = float(rng.choice([0, 500, 3_000, 12_345, 30_000, 90_000]))
        out.append({"user_id": "v", "ts": T0 + timedelta(seconds=k), "type": t,
                    "item_id": None if rng.random() < 0.05 else f"i{rng.integers(6)}",
                    "target_user_id": "c1" if t == "follow" else None, "watch_ms": watch})
    return out


def test_the_live_fold_weighs_a_viewer_exactly_as_build_interactions():
    import numpy as np

    from ranking.interactions import fold_viewer_events

    # i0-i2 have a duration, i3 none, i4 is removed from the catalog, i5 is not in it
    items = pl.DataFrame({"item_id": ["i0", "i1", "i2", "i3", "i4"],
                          "creator_id": ["c1", "c1", "c2", "c3", "c3"],
                          "duration_ms": [30_000.0, 10_000.0, 60_000.0, None, 20_000.0],
                          "status": ["active", None, "active", "active", "removed"]})
    rng = np.random.default_rng(3)
    for n in (1, 2, 4, 9, 30, 80):
        for _ in range(25):
            evs = _random_session(rng, n)
            frame = pl.DataFrame(evs, schema={"user_id": pl.String, "ts": pl.Datetime("us"),
                                              "type": pl.String, "item_id": pl.String,
                                              "target_user_id": pl.String,
                                              "watch_ms": pl.Float64})
            batch = build_interactions(frame, items)
            live = fold_viewer_events(evs, batch.durations())
            assert live.positives == dict(batch.frame.select("item_id", "weight").iter_rows())
            assert live.negatives == set(batch.negatives["item_id"].to_list())


def test_regression_a_lone_unlike_counted_as_a_like():
    # likes minus unlikes was an unsigned difference: -1 wrapped round and clipped to 1
    ev = events_frame([("a", "x", "view", 3_000, 0), ("a", "x", "unlike", None, 1),
                       ("a", "y", "view", 3_000, 2)])
    d = build_interactions(ev)
    w = dict(d.frame.select("item_id", "weight").iter_rows())
    assert w["x"] == w["y"]
