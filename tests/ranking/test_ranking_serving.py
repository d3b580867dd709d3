"""The served model is the evaluation's best, chosen the same way every time (issue 12)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl
import pytest

from ranking import registry
from ranking.evaluation.run import evaluate_models
from ranking.feed.engine import FeedEngine
from ranking.lifecycle import evaluate_version, publish_version, train_model
from ranking.ltr import LtrConfig, LtrRanker
from tests.ranking._worlds import T0

FAST = LtrConfig(
    sources={"ease": {"reg": 50.0}, "itemknn": {}, "popular": {}},
    grid=[{"objective": "lambdarank", "num_leaves": 15, "min_data_in_leaf": 20}],
    max_rounds=40, n_per_source=40, n_candidates=100,
)


def _world(drift: bool, n_users: int = 400, n_items: int = 150, per_user: int = 8,
           days: int = 400, seed: int = 0) -> pl.DataFrame:
    """Users arrive one at a time over ``days``, each active on one day, with taste.

    ``drift=False``: item popularity is the same all the time (recency says nothing).
    ``drift=True``: each item is popular only around its own moment in time.
    """
    rng = np.random.default_rng(seed)
    base = np.log(1.0 / np.arange(1, n_items + 1))
    peak = rng.uniform(0, days, n_items)
    rows = []
    for k in range(n_users):
        day = days * k / n_users
        logit = base.copy()
        if drift:
            logit = -np.abs(peak - day) / 15.0
        p = np.exp(logit - logit.max())
        p /= p.sum()
        for j, i in enumerate(rng.choice(n_items, per_user, replace=False, p=p)):
            ts = T0 + timedelta(days=day, minutes=j)
            rows.append((f"u{k:04d}", f"i{i:03d}", "view", 15_000, ts, f"e{k}_{j}"))
    return pl.DataFrame(rows, orient="row", schema={
        "user_id": pl.String, "item_id": pl.String, "type": pl.String, "watch_ms": pl.Int64,
        "ts": pl.Datetime("us"), "event_id": pl.String})


def _load(con, events: pl.DataFrame) -> None:
    con.register("_ev", events.to_arrow())
    con.execute("INSERT INTO events (event_id, user_id, ts, type, item_id, watch_ms) "
                "SELECT event_id, user_id, ts, type, item_id, watch_ms FROM _ev").fetchall()
    con.unregister("_ev")


def test_all_time_popularity_is_the_fallback_where_recency_does_not_matter(con):
    _load(con, _world(drift=False))
    sel = evaluate_models(con, config=FAST).selection
    assert sel.fallback == "popular", sel.fallback_scores


def test_a_recent_popularity_is_the_fallback_where_popularity_drifts(con):
    _load(con, _world(drift=True))
    sel = evaluate_models(con, config=FAST).selection
    assert sel.fallback != "popular", sel.fallback_scores
    scores = sel.fallback_scores
    assert scores[sel.fallback] == max(v for v in scores.values() if v == v)


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    from features.store import connect

    db = tmp_path_factory.mktemp("serving") / "s.duckdb"
    con = connect(db)
    _load(con, _world(drift=True, n_users=300))
    version = train_model(con, db, config=FAST).version
    res = evaluate_version(con, version)
    publish_version(con, res)
    yield con, db, version, res
    con.close()


def test_the_published_version_serves_the_evaluations_best(published):
    con, _, version, res = published
    sel = res.selection
    best = max((n for n, v in sel.pooled.items() if v["ndcg"] == v["ndcg"]),
               key=lambda n: sel.pooled[n]["ndcg"])
    assert sel.served == best
    ranker = LtrRanker.load(registry.get(con, version).path)
    assert ranker.serving.model == sel.served
    assert ranker.serving.fallback == sel.fallback
    assert ranker.serving.backoff_below == sel.backoff_below


def test_the_feeds_fallback_is_the_best_evaluated_popularity_list(published):
    con, db, version, res = published
    engine = FeedEngine(db, con=con)
    assert engine.model_version == version
    assert engine.served_kind["fallback"] == res.selection.fallback
    ranker = engine.ranker
    top = ranker.fallback.recommend(["nobody"], 20, exclude_seen=False)[0][0].tolist()
    assert engine.popular["item_id"].head(20).to_list() == top
    # a new user's model list is the fallback's list too
    assert ranker.live_candidates("nobody", n=20)["item_id"].to_list() == top


def test_same_data_same_decision_and_same_served_lists(published, tmp_path):
    from features.store import connect

    con, _, version, res = published
    events = con.sql("SELECT event_id, user_id, ts, type, item_id, watch_ms FROM events").pl()
    db2 = tmp_path / "again.duckdb"
    con2 = connect(db2)
    _load(con2, events.sample(fraction=1.0, shuffle=True, seed=3))  # same rows, other order
    v2 = train_model(con2, db2, config=FAST).version
    res2 = evaluate_version(con2, v2)
    publish_version(con2, res2)
    assert res2.selection.as_dict() == res.selection.as_dict()
    a = LtrRanker.load(registry.get(con, version).path)
    b = LtrRanker.load(registry.get(con2, v2).path)
    con2.close()
    for user in a.data.user_ids[:50].tolist():
        la, lb = a.live_candidates(user, n=50), b.live_candidates(user, n=50)
        assert la["item_id"].to_list() == lb["item_id"].to_list()
        assert np.allclose(la["model_score"].to_numpy(), lb["model_score"].to_numpy())
