"""At most ``max_per_author`` videos of one creator on a page; the rest move down, not out."""

from __future__ import annotations

from ranking.feed._frames import take
from ranking.feed.types import FilterResult, RequestState


class AuthorDiversitySelector:
    name = "AuthorDiversity"

    def __init__(self, max_per_author: int = 2) -> None:
        self.max_per_author = max_per_author

    def __call__(self, state: RequestState) -> FilterResult:
        c = state.candidates
        if c.height == 0 or "creator_id" not in c.columns:
            return FilterResult(c, [])
        counts: dict[str, int] = {}
        first: list[int] = []
        rest: list[int] = []
        ids = c.get_column("item_id").to_list()
        for n, creator in enumerate(c.get_column("creator_id").to_list()):
            key = creator if creator is not None else ids[n]
            k = counts.get(key, 0)
            counts[key] = k + 1
            (first if k < self.max_per_author else rest).append(n)
        if not rest:
            return FilterResult(c, [])
        return FilterResult(take(c, first + rest), [])
