"""The feedback head: held-out hides stay out of the features, and liked rises above hidden."""

from __future__ import annotations

import numpy as np
import polars as pl

from ranking._feedback import split_negatives
from ranking._metrics import pair_auc
from ranking.interactions import build_interactions
from ranking.ltr import LtrConfig, LtrRanker
from tests.ranking._worlds import events_frame

FAST = LtrConfig(
    sources={"ease": {"reg": 50.0}, "itemknn": {}, "popular": {}},
    grid=[{"objective": "lambdarank", "num_leaves": 15, "min_data_in_leaf": 20}],
    max_rounds=60, n_per_source=50, n_candidates=120,
)


def mood_world(n_users: int = 200, n_items: int = 300, shown: int = 40, seed: int = 0
               ) -> pl.DataFrame:
    """Videos shown at random; each is watched, then liked or hidden by taste and quality."""
    rng = np.random.default_rng(seed)
    u, v = rng.normal(size=(n_users, 4)), rng.normal(size=(n_items, 4))
    quality = rng.normal(0, 0.8, n_items)
    rows = []
    for k in range(n_users):
        for j, i in enumerate(rng.choice(n_items, shown, replace=False)):
            a = u[k] @ v[i] * 0.6 + quality[i] + rng.normal(0, 0.5)
            rows.append((f"u{k}", f"i{i}", "view", int(20_000 / (1 + np.exp(-a))), j * 600))
            if a > 0.8:
                rows.append((f"u{k}", f"i{i}", "like", None, j * 600 + 5))
            elif a < -0.8:
                rows.append((f"u{k}", f"i{i}", "hide", None, j * 600 + 5))
    return events_frame(rows)


def test_split_negatives_is_seeded_and_disjoint():
    neg = pl.DataFrame({"user_id": [f"u{i % 7}" for i in range(500)],
                        "item_id": [f"i{i}" for i in range(500)]})
    hist, held = split_negatives(neg, 0.2, seed=3)
    assert hist.height + held.height == 500 and 60 < held.height < 140
    assert set(hist["item_id"]).isdisjoint(held["item_id"])
    again = split_negatives(neg, 0.2, seed=3)[1]
    assert held["item_id"].to_list() == again["item_id"].to_list()


def test_head_ranks_liked_above_hidden_on_later_pairs_and_survives_save_load(tmp_path):
    ev = mood_world(n_users=600)
    cut = ev["ts"].sort()[int(ev.height * 0.7)]
    train, test = ev.filter(pl.col("ts") < cut), ev.filter(pl.col("ts") >= cut)
    ranker = LtrRanker.fit(build_interactions(train), FAST)
    assert ranker.head is not None, ranker.report.get("feedback_weights")
    judged = (test.filter(pl.col("type").is_in(["like", "hide"]))
              .select("user_id", "item_id", (pl.col("type") == "like").alias("liked")))

    def auc() -> float:
        vals = []
        for (uid,), g in judged.group_by(["user_id"]):
            s = ranker.score(uid, g["item_id"].to_list())
            liked = g["liked"].to_numpy()
            vals.append(pair_auc(s[liked], s[~liked]))
        return float(np.nanmean(vals))

    with_head = auc()
    ids = judged["item_id"].unique().sort().to_list()[:50]
    loaded = LtrRanker.load(ranker.save(tmp_path / "m"))
    assert loaded.head is not None
    assert np.allclose(loaded.score("u1", ids), ranker.score("u1", ids))
    ranker.head = None
    without = auc()
    assert with_head > without + 0.03, (with_head, without)
