"""Cut the ordered candidates to the requested page size."""

from __future__ import annotations

from ranking.feed.types import FilterResult, RequestState


class TopKSelector:
    name = "TopK"

    def __call__(self, state: RequestState) -> FilterResult:
        return FilterResult(state.candidates.head(state.request.limit), [])
