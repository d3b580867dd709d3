"""Trending and popular videos: the cold-start, non-personalised and model-less source."""

from __future__ import annotations

import polars as pl

from ranking.feed.types import RequestState


class PopularCandidateSource:
    """Recent popularity with velocity; uses no profile of the viewer (DSA Art. 38 option)."""

    name = "Popular"

    def __call__(self, state: RequestState, n: int) -> pl.DataFrame:
        # A fallback: the model's merged sources already weigh popularity, trending and fresh.
        if state.extra.get("gathered", 0) >= n:
            return state.engine.popular.head(0)
        return state.engine.popular.head(n)
