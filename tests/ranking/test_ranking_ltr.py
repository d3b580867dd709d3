"""The two-stage ranker: beats its baselines, negative feedback sinks, save/load round trip."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from ranking.candidates import make_source
from ranking.evaluation.metrics import ndcg_at_k
from ranking.evaluation.run import random_holdout
from ranking.interactions import build_interactions
from ranking.ltr import LtrConfig, LtrRanker
from tests.ranking._worlds import events_frame, taste_world

FAST = LtrConfig(
    sources={"ease": {"reg": 50.0}, "itemknn": {}, "popular": {}, "following": {}},
    grid=[{"objective": "lambdarank", "num_leaves": 15, "min_data_in_leaf": 20}],
    max_rounds=50, n_per_source=50, n_candidates=120,
)


@pytest.fixture(scope="module")
def split():
    train, test = random_holdout(taste_world(), 0.25, seed=1)
    return build_interactions(train), build_interactions(test)


@pytest.fixture(scope="module")
def ranker(split):
    return LtrRanker.fit(split[0], FAST)


def test_ranker_beats_popularity_and_als(split, ranker):
    train, test = split
    rel = dict(test.frame.group_by("user_id").agg("item_id").iter_rows())
    users = list(rel)
    rels = [set(rel[u]) for u in users]
    ours = ndcg_at_k(ranker.recommend(users, 10)[0], rels)
    for name in ("popular", "als"):
        src = make_source(name, {"embedding_size": 16} if name == "als" else {}).fit(train)
        base = ndcg_at_k(src.recommend(users, 10)[0], rels)
        assert ours > base, f"ranker {ours:.3f} <= {name} {base:.3f}"


def test_serving_api_shapes(ranker):
    cand = ranker.candidates("u3", n=50)
    assert {"item_id", "source", "sources"} <= set(cand.columns) and 0 < cand.height <= 50
    s = ranker.score("u3", cand)
    assert s.shape == (cand.height,) and np.isfinite(s).all()
    rev = ranker.score("u3", cand.reverse())
    assert np.allclose(rev[::-1], s)
    ids, _ = ranker.recommend(["u3", "stranger"], k=5)
    assert len(ids[0]) == 5 and len(ids[1]) == 5  # new users get the popular fallback


def test_save_load_round_trip_gives_identical_scores(ranker, tmp_path):
    cand = ranker.candidates("u7")
    before = ranker.score("u7", cand)
    loaded = LtrRanker.load(ranker.save(tmp_path / "m"))
    assert np.array_equal(loaded.score("u7", cand), before)
    again = ranker.recommend(["u7"], 10)[0][0].tolist()
    assert loaded.recommend(["u7"], 10)[0][0].tolist() == again


def test_hidden_item_never_recommended_and_its_creator_sinks():
    base = taste_world(n_users=60, n_items=80, per_user=20, seed=3)
    items = pl.DataFrame({"item_id": [f"i{k}" for k in range(80)],
                          "creator_id": [f"c{k % 10}" for k in range(80)]})
    # every user loves i1..; user u0 hides i0, a popular video by creator c0
    hide = events_frame([("u0", "i0", "hide", None, 10_000)])
    others = events_frame([(f"u{k}", "i0", "like", None, 9_000) for k in range(1, 60)])
    ev = pl.concat([base, others, hide])
    r = LtrRanker.fit(build_interactions(ev, items), FAST)
    assert "i0" not in set(r.recommend(["u0"], 30)[0][0].tolist())
    assert r.score("u0", ["i0"])[0] < -1e5
    c0 = [f"i{k}" for k in range(80) if k % 10 == 0 and k != 0]
    penalised = r.score("u0", c0)
    # the same model without the hide's creator penalty (the catalog's fatigue_creator.fatigue)
    assert r.stats.serving.names[2] == "fatigue_creator.fatigue"
    r.stats.serving.pairs[2] = r.stats.serving.pairs[2] * 0
    assert np.all(penalised < r.score("u0", c0) - 1.0)
