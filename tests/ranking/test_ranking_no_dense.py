"""Nothing in the scaling candidate sources densifies a users x items matrix.

A 200k users x 400k videos world with ~300k interactions, built directly as ``Interactions``
(no simulator): a dense float32 users x items matrix would be 320 GB (``toarray`` fails at
once). The sources that must scale (following, popular, trending, item-kNN, EASE's head +
sparse tail) and the merge fit and recommend for a handful of users while the traced
allocations stay bounded by what grows with the catalog alone.
"""

from __future__ import annotations

import tracemalloc
from datetime import datetime, timedelta

import numpy as np
import polars as pl
import pytest

from ranking.candidates import make_source, merge_candidates
from ranking.interactions import Interactions

N_USERS, N_ITEMS, N_CREATORS, N_PAIRS = 200_000, 400_000, 20_000, 300_000
NOW = datetime(2024, 3, 29)
FIT_PEAK = 1536 * 2**20
"""Allocation ceiling while fitting: item-kNN's neighbour lists, as implicit builds them, are
the largest (K=100 per video in COO and then CSR, ~1.1 GB at 400k videos: O(videos), not
users x videos)."""
SERVE_PEAK = 128 * 2**20
"""Allocation ceiling while recommending and merging for the handful of users."""


def _ago(days: np.ndarray) -> np.ndarray:
    return np.datetime64(NOW, "us") - (days * 86400e6).astype("timedelta64[us]")


def _world(seed: int = 0) -> Interactions:
    rng = np.random.default_rng(seed)
    # Power-law videos (so EASE has a head and a long tail), uniform users.
    item_p = 1.0 / np.arange(1, N_ITEMS + 1) ** 0.9
    u = rng.integers(0, N_USERS, N_PAIRS)
    i = rng.choice(N_ITEMS, N_PAIRS, p=item_p / item_p.sum())
    pairs = np.unique(u.astype(np.int64) * N_ITEMS + i)
    u, i = pairs // N_ITEMS, pairs % N_ITEMS
    uid = np.char.add("u", np.char.zfill(u.astype(str), 6))
    iid = np.char.add("i", np.char.zfill(i.astype(str), 6))
    frame = pl.DataFrame({
        "user_id": uid, "item_id": iid,
        "weight": rng.uniform(0.5, 3.0, len(u)),
        "last_ts": _ago(rng.uniform(0, 14, len(u))),
        "n_views": np.ones(len(u), np.int64), "liked": rng.integers(0, 2, len(u)),
        "watch_frac": rng.uniform(0, 1, len(u)), "created": np.zeros(len(u), np.int64),
    }).sort("user_id", "item_id")
    item_ids = np.char.add("i", np.char.zfill(np.arange(N_ITEMS).astype(str), 6))
    items = pl.DataFrame({
        "item_id": item_ids,
        "creator_id": np.char.add("c", (np.arange(N_ITEMS) % N_CREATORS).astype(str)),
        "created_at": _ago(rng.uniform(0, 30, N_ITEMS)),
        "duration_ms": np.full(N_ITEMS, 15_000.0),
    })
    fu = rng.integers(0, N_USERS, 50_000)
    follows = pl.DataFrame({
        "user_id": np.char.add("u", np.char.zfill(fu.astype(str), 6)),
        "creator_id": np.char.add("c", rng.integers(0, N_CREATORS, len(fu)).astype(str)),
        "ts": [NOW - timedelta(days=20)] * len(fu),
    }).unique(["user_id", "creator_id"])
    negatives = frame.head(1000).select(
        "user_id", "item_id", pl.lit("c0").alias("creator_id"), pl.col("last_ts").alias("ts"))
    frame = frame.slice(1000)
    user_ids = np.char.add("u", np.char.zfill(np.arange(N_USERS).astype(str), 6))
    return Interactions(frame, negatives, items, follows, user_ids.astype(object),
                        item_ids.astype(object), NOW)


@pytest.mark.slow
def test_scaling_sources_fit_and_recommend_on_200k_by_400k_without_a_dense_matrix():
    data = _world()
    assert (data.n_users, data.n_items) == (N_USERS, N_ITEMS)
    followers = data.follows["user_id"].unique().sort().head(3).to_list()
    users = [*followers, *data.frame["user_id"].unique().sort().head(3).to_list(), "new-user"]
    tracemalloc.start()
    try:
        sources = [make_source("following"), make_source("popular"), make_source("trending"),
                   make_source("itemknn"), make_source("ease", {"max_items": 1000})]
        for src in sources:
            src.fit(data)
            assert src.fitted, src.name
        _, fit_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        merged = merge_candidates(sources, users, n_per_source=50, n_total=150)
        _, serve_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sources[-1].tail is not None  # the sparse tail path, not exact EASE
    assert fit_peak < FIT_PEAK, f"peak allocation while fitting {fit_peak / 2**20:.0f} MB"
    assert serve_peak < SERVE_PEAK, f"peak allocation while serving {serve_peak / 2**20:.0f} MB"
    per_user = merged.explode("sources").group_by("user_id").agg(pl.col("sources").unique())
    got = dict(zip(per_user["user_id"], per_user["sources"].to_list(), strict=True))
    assert set(got) == set(users)
    assert all("following" in got[u] for u in followers)
    assert all({"itemknn", "ease"} <= set(got[u]) for u in users[3:6])
    assert set(got["new-user"]) <= {"popular", "trending"}
