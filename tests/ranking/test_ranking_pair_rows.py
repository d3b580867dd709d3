"""The evaluation's shared rows read back what merging and featurising each pair alone gives."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

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


@pytest.mark.parametrize("block", [None, 4])
def test_merged_with_features_is_the_merge_and_the_features_from_one_scoring(block, monkeypatch):
    from ranking.candidates import SOURCES
    from ranking.ltr import _rows
    from ranking.ltr._rows import merged_with_features

    if block is not None:  # several blocks of users, as at 100k videos
        monkeypatch.setattr(_rows, "feature_block_rows", lambda sources: block)

    # Sparse products only: a dense BLAS product (ALS) may round a row differently in
    # another block of users, so equality would test BLAS, not the pass.
    cfg = LtrConfig(sources={"ease": {"reg": 50.0}, "itemknn": {}, "popular": {},
                             "trending": {}},
                    grid=FAST.grid, max_rounds=20, n_per_source=30, n_candidates=60)
    ranker = LtrRanker.fit(build_interactions(taste_world(n_users=70, n_items=90, per_user=12)),
                           cfg)
    d = ranker.data
    users = [f"u{n}" for n in range(60, 0, -4)]  # not in index order
    extra = (pl.DataFrame({"user_id": ["u4", "u8", "u1", "nobody"],  # u1: not merged
                           "item_id": ["i3", "unknown", "i5", "i2"]}),
             pl.DataFrame({"user_id": ["u60"], "item_id": ["i7"]}),
             pl.DataFrame(schema={"user_id": pl.String, "item_id": pl.String}))
    calls = {s.name: 0 for s in ranker.sources}
    for src in ranker.sources:  # count each source's scoring of a block
        def counted(users_, f=src.score_rows, name=src.name):
            calls[name] += 1
            return f(users_)
        src.score_rows = counted
    try:
        cand, x, (x1, x2, x3) = merged_with_features(
            ranker.sources, ranker.stats, d, users, cfg.n_per_source, cfg.n_candidates, extra)
    finally:
        for src in ranker.sources:
            del src.score_rows
    # One scoring per source and block for the merge and the features together, and one
    # more for the extra pairs of users that were not merged.
    blocks = -(-len(users) // (block or len(users)))
    assert set(calls.values()) == {blocks + 1}
    assert len(calls) == len(SOURCES.keys() & calls.keys())
    want = merge_candidates(ranker.sources, users, cfg.n_per_source, cfg.n_candidates)
    assert cand.equals(want)
    u, i = PairRows(ranker, []).index(want)
    np.testing.assert_array_equal(x, pair_features(ranker.sources, ranker.stats, u, i))
    for got, frame in zip((x1, x2, x3), extra, strict=True):
        u, i = PairRows(ranker, []).index(frame)
        assert got.shape == (frame.height, x.shape[1])
        np.testing.assert_array_equal(got, pair_features(ranker.sources, ranker.stats, u, i))
