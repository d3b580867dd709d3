"""Cut the ordered candidates to the requested page size."""

from __future__ import annotations

from ranking.feed.candidates import Candidates
from ranking.feed.query import Query
from ranking.feed.types import FilterResult


class TopKSelector:
    name = "TopK"

    def __call__(self, query: Query, candidates: Candidates) -> FilterResult:
        return FilterResult(candidates.head(query.limit), [])
