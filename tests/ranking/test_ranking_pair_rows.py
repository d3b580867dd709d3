"""The evaluation's shared rows read back what merging and featurising each pair alone gives."""

from __future__ import annotations

import numpy as np
import polars as pl

from ranking.candidates import merge_candidates
from ranking.interactions import build_interactions
from ranking.ltr import LtrConfig, LtrRanker, PairRows, pair_features
from tests.ranking._worlds import taste_world

FAST = LtrConfig(
    sources={"ease": {"reg": 50.0}, "itemknn": {}, "popular": {}},
    grid=[{"objective": "lambdarank", "num_leaves": 15, "min_data_in_leaf": 20}],
    max_rounds=20, n_per_source=30, n_candidates=60,
)


def test_pair_rows_equal_merging_and_featurising_alone():
    ranker = LtrRanker.fit(build_interactions(taste_world(n_users=50, n_items=70, per_user=12)),
                           FAST)
    d = ranker.data
    users = [f"u{n}" for n in range(0, 40, 3)]
    extra = pl.DataFrame({"user_id": ["u1", "u1", "nobody", "u4"],
                          "item_id": ["i3", "unknown", "i5", "i3"]})
    rows = PairRows(ranker, users, (extra,))
    cfg = ranker.config
    key = ["user_id", "item_id"]
    for some in (users[:3], users[2:5] + ["u2"]):  # given up front, and partly not
        got = rows.candidates(some).sort(key)
        want = merge_candidates(ranker.sources, some, cfg.n_per_source, cfg.n_candidates)
        assert got.equals(want.select(got.columns).sort(key))
    both = pl.concat([rows.cand.select(key), extra, pl.DataFrame({"user_id": ["u7", "u1"],
                                                                 "item_id": ["i9", "i3"]})])
    u, i = rows.index(both)
    assert (u[-4] == -1) and (i[-5] == -1)  # an unknown user and an unknown video
    got = rows.features(u, i)
    want = pair_features(ranker.sources, ranker.stats, u, i)
    np.testing.assert_array_equal(got, want)
    ids = [f"i{n}" for n in range(20)] + ["unknown"]
    view = ranker.served_as(ranker.serving)
    np.testing.assert_array_equal(rows.score(view)("u4", ids), ranker.score("u4", ids))
    assert rows.score(view)("u4", []).shape == (0,)
    assert d.user_index("nobody") == -1
