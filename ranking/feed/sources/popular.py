"""Trending and popular videos: the cold-start, non-personalised and model-less source."""

from __future__ import annotations

import polars as pl

from ranking.feed.types import RequestState


class PopularCandidateSource:
    """Recent popularity with velocity; uses no profile of the viewer (DSA Art. 38 option)."""

    name = "Popular"

    def __call__(self, state: RequestState, n: int) -> pl.DataFrame:
        return state.engine.popular.head(n)
