"""At most ``max_per_author`` videos of one creator on a page; the rest move down, not out."""

from __future__ import annotations

import polars as pl

from ranking.feed.types import FilterResult, RequestState


class AuthorDiversitySelector:
    name = "AuthorDiversity"

    def __init__(self, max_per_author: int = 2) -> None:
        self.max_per_author = max_per_author

    def __call__(self, state: RequestState) -> FilterResult:
        c = state.candidates
        if c.height == 0 or "creator_id" not in c.columns:
            return FilterResult(c, [])
        n = (
            pl.int_range(pl.len()).over(pl.col("creator_id").fill_null(pl.col("item_id")))
        )
        ranked = c.with_columns(_n=n, _pos=pl.int_range(pl.len()))
        first = ranked.filter(pl.col("_n") < self.max_per_author)
        rest = ranked.filter(pl.col("_n") >= self.max_per_author)
        return FilterResult(pl.concat([first, rest]).drop("_n", "_pos"), [])
