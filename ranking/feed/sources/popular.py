"""Trending and popular videos: the cold-start, non-personalised and model-less source."""

from __future__ import annotations

import polars as pl

from ranking.feed.query import Query
from ranking.feed.resources import CandidateStore


class PopularCandidateSource:
    """Recent popularity with velocity; uses no profile of the viewer (DSA Art. 38 option).

    A fallback: the model's merged sources already weigh popularity, trending and fresh, so
    it runs only while they gathered too few."""

    name = "Popular"
    fallback = True

    def __call__(self, query: Query, store: CandidateStore, n: int) -> pl.DataFrame:
        return store.popular_candidates(n)
