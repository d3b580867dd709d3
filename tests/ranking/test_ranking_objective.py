"""Creation-first objective (issue 15.2): label weights, creation-first metrics, config."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime

import numpy as np
import polars as pl
import pytest

import ranking.evaluation.objective_metrics as om
from ranking.interactions import build_interactions
from ranking.ltr import LtrConfig, ObjectiveConfig
from ranking.ltr._train import connected_pairs, grade_labels

T0 = datetime(2026, 10, 1)


def _events(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(
        [(u, T0.replace(hour=h), t, i, tgt, w) for u, h, t, i, tgt, w in rows],
        schema={"user_id": pl.String, "ts": pl.Datetime("us"), "type": pl.String,
                "item_id": pl.String, "target_user_id": pl.String, "watch_ms": pl.Int64},
        orient="row")


ITEMS = pl.DataFrame({"item_id": ["full", "remixed", "partial_c", "partial", "old"],
                      "creator_id": ["x", "y", "z", "w", "z"],
                      "duration_ms": [10_000] * 5})
HIST = _events([("u", 1, "view", "old", None, 10_000), ("u", 1, "like", "old", None, None)])
FUTURE = _events([
    ("u", 5, "view", "full", None, 10_000),          # a passive full watch
    ("u", 5, "view", "remixed", None, 3_000),        # a partial watch, then a remix
    ("u", 5, "remix", "remixed", None, None),
    ("u", 5, "view", "partial_c", None, 3_000),      # partial watch of a creator liked before
    ("u", 5, "view", "partial", None, 3_000),        # partial watch, no creation, no connection
])
CAND = pl.DataFrame({"user_id": ["u"] * 6,
                     "item_id": ["full", "remixed", "partial_c", "partial", "unseen", "old"]})


def _grades(objective: ObjectiveConfig | None) -> dict[str, int]:
    hist = build_interactions(HIST, ITEMS)
    fut = build_interactions(FUTURE, ITEMS).frame
    y = grade_labels(CAND, fut, hist.negatives.clear(), objective, connected_pairs(hist, CAND))
    return dict(zip(CAND["item_id"].to_list(), y.tolist(), strict=True))


def test_creation_and_connection_outrank_a_passive_full_watch():
    g = _grades(ObjectiveConfig())
    assert g["remixed"] > g["full"] and g["partial_c"] > g["full"]
    assert g["full"] > g["partial"] > g["unseen"] == 0
    assert g["remixed"] == 1 + ObjectiveConfig().creation
    assert g["partial_c"] == 1 + ObjectiveConfig().connection


def test_creation_first_off_grades_watching_only():
    off = _grades(ObjectiveConfig(creation_first=False))
    assert off == _grades(None)
    assert off["full"] == 2 and off["remixed"] == off["partial_c"] == off["partial"] == 1


def test_followed_creator_is_connected_and_hidden_stays_zero():
    hist = build_interactions(_events([("u", 1, "follow", None, "x", None)]), ITEMS)
    assert connected_pairs(hist, CAND)["item_id"].to_list() == ["full"]
    fut = build_interactions(FUTURE, ITEMS).frame
    neg = pl.DataFrame({"user_id": ["u"], "item_id": ["remixed"]})
    y = grade_labels(CAND, fut, neg, ObjectiveConfig(), connected_pairs(hist, CAND))
    assert y.tolist()[:2] == [2 + ObjectiveConfig().connection, 0]


def test_objective_config_round_trips_through_ranker_json():
    cfg = LtrConfig(objective=ObjectiveConfig(creation_first=False, creation=5, connection=1))
    back = LtrConfig(**json.loads(json.dumps(asdict(cfg))))
    assert back == cfg and isinstance(back.objective, ObjectiveConfig)
    assert LtrConfig().objective.creation_first


def test_creation_first_metrics_on_hand_made_lists():
    recs = [["a", "b", "c", "d"], ["e", "f"], []]
    created = [{"a", "c"}, set(), {"z"}]
    assert om.creation_rate(recs, created, k=4) == pytest.approx((2 / 4 + 0 + 0) / 3)
    creator = {"a": "x", "b": "y", "c": "x", "d": "w", "e": "x", "f": "v"}
    connected = [{"x"}, {"v"}, {"x"}]
    # Empty lists carry no share: (2/4 + 1/2) / 2.
    assert om.connection_share(recs, connected, creator, k=4) == pytest.approx(0.5)
    watch = [{"a": 30.0, "q": 70.0}, {}, {"z": 5.0}]
    # Users without test watch time are left out: (0.3 + 0) / 2.
    assert om.watch_share(recs, watch, k=4) == pytest.approx(0.15)
    assert om.creation_rate(recs, created, k=1) == pytest.approx(1 / 3)


def test_holdout_outcomes_from_test_events():
    train = build_interactions(_events([("u", 1, "view", "old", None, 10_000),
                                        ("v", 1, "follow", None, "y", None)]), ITEMS)
    out = om.holdout_outcomes(FUTURE, train, ["u", "v", "nobody"])
    assert out.created == [{"remixed"}, set(), set()]
    assert out.connected == [{"z"}, {"y"}, set()]
    assert out.watch_ms[0] == {"full": 10_000, "remixed": 3_000, "partial_c": 3_000,
                               "partial": 3_000}
    m = om.objective_metrics([["full", "remixed"], ["remixed"], []], out, k=2)
    assert m["creation_rate@2"] == pytest.approx((1 / 2) / 3)
    assert m["connection_share@2"] == pytest.approx((0 + 1) / 2)
    assert m["watch_share@2"] == pytest.approx(13 / 19)
    assert np.isfinite(list(m.values())).all()
