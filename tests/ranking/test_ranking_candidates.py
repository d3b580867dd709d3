"""Candidate sources: the checkerboard contract, empty data, merge, new users."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from ranking.candidates import SOURCES, make_source, merge_candidates
from ranking.interactions import build_interactions
from tests.ranking._worlds import checkerboard, events_frame

PERSONALISED = ["ease", "itemknn", "als", "bpr"]


@pytest.fixture(scope="module")
def board():
    ev, best = checkerboard()
    return build_interactions(ev), best


@pytest.mark.parametrize("name", PERSONALISED)
def test_personalised_source_recovers_the_missing_item(board, name):
    data, best = board
    params = {"epochs": 200, "learning_rate": 0.05} if name == "bpr" else {}
    if name == "als":
        params = {"embedding_size": 8}
    src = make_source(name, params).fit(data)
    users = list(best)
    ids, scores = src.recommend(users, n=3)
    hits = np.mean([ids[k][0] == best[u] for k, u in enumerate(users)])
    assert hits >= 0.9, f"{name} recovered the known best item for {hits:.0%} of users"
    assert all(np.all(np.diff(s) <= 1e-6) for s in scores)
    # recommendations never include seen items
    assert all(not (set(ids[k]) & data.seen_items(u)) for k, u in enumerate(users))


@pytest.mark.parametrize("name", list(SOURCES))
def test_sources_survive_empty_and_single_event_data(name):
    empty = build_interactions(events_frame([]))
    src = make_source(name).fit(empty)
    ids, scores = src.recommend(["nobody"], n=5)
    assert len(ids) == 1 and len(ids[0]) == 0
    one = build_interactions(events_frame([("a", "x", "view", 5000, 0)]))
    src = make_source(name).fit(one)
    ids, _ = src.recommend(["a", "new"], n=5)
    assert "x" not in set(ids[0])
    assert src.score("a", ["x", "unknown"]).shape == (2,)


def test_merge_dedupes_keeps_sources_and_falls_back_to_popular(board):
    data, _ = board
    srcs = [make_source(n).fit(data) for n in ("ease", "itemknn", "popular")]
    m = merge_candidates(srcs, ["u0", "brand_new"], n_per_source=10, n_total=15)
    assert m.select("user_id", "item_id").is_unique().all()
    assert {"score_ease", "score_itemknn", "score_popular", "sources"} <= set(m.columns)
    assert m.filter(pl.col("user_id") == "u0").height <= 15
    new = m.filter(pl.col("user_id") == "brand_new")
    assert new.height > 0 and all(s == ["popular"] for s in new["sources"].to_list())
    assert not set(m.filter(pl.col("user_id") == "u0")["item_id"]) & data.seen_items("u0")


def test_similar_items_finds_same_group(board):
    data, _ = board
    src = make_source("ease").fit(data)
    ids, _ = src.similar_items("i0", n=5)
    assert all(int(i[1:]) % 2 == 0 for i in ids)
