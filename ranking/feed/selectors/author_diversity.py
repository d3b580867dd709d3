"""At most ``max_per_author`` videos of one creator on a page; the rest move down, not out."""

from __future__ import annotations

from ranking.feed.candidates import Candidates
from ranking.feed.query import Query
from ranking.feed.types import FilterResult


class AuthorDiversitySelector:
    name = "AuthorDiversity"

    def __init__(self, max_per_author: int = 2) -> None:
        self.max_per_author = max_per_author

    def __call__(self, query: Query, candidates: Candidates) -> FilterResult:
        c = candidates
        if not len(c) or c.facts is None:
            return FilterResult(c, [])
        counts: dict[str, int] = {}
        first: list[int] = []
        rest: list[int] = []
        for n, (item_id, f) in enumerate(zip(c.item_id, c.facts, strict=True)):
            # An unknown creator counts as its own author.
            key = f.creator_id if f is not None else item_id
            k = counts.get(key, 0)
            counts[key] = k + 1
            (first if k < self.max_per_author else rest).append(n)
        if not rest:
            return FilterResult(c, [])
        return FilterResult(c.take(first + rest), [])
