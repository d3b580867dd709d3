"""Remove the ids the client asked never to receive on this request (``exclude_ids``)."""

from __future__ import annotations

from ranking.feed._frames import keep
from ranking.feed.types import FilterResult, RequestState


class ExcludedIdsFilter:
    name = "ExcludedIds"

    def __call__(self, state: RequestState) -> FilterResult:
        ex = state.request.exclude_ids
        if not ex or state.candidates.height == 0:
            return FilterResult(state.candidates, [])
        ids = state.candidates.get_column("item_id").to_list()
        if ex.isdisjoint(ids):
            return FilterResult(state.candidates, [])
        # The client's own request, not a wellbeing removal: not audited.
        return FilterResult(keep(state.candidates, [i not in ex for i in ids]), [])
