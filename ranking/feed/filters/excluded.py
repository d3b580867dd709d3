"""Remove the ids the client asked never to receive on this request (``exclude_ids``)."""

from __future__ import annotations

from ranking.feed.candidates import Candidates
from ranking.feed.query import Query
from ranking.feed.types import FilterResult, Removal
from wellbeing.reasons import Reason


class ExcludedIdsFilter:
    name = "ExcludedIds"

    def __call__(self, query: Query, candidates: Candidates) -> FilterResult:
        ex = query.request.exclude_ids
        if not ex or ex.isdisjoint(candidates.item_id):
            return FilterResult(candidates, [])
        # The client's own request, not a wellbeing removal: counted, not audited.
        removed = [Removal(i, self.name, "excluded_by_client", "filter",
                           Reason.EXCLUDED_BY_CLIENT.value)
                   for i in candidates.item_id if i in ex]
        return FilterResult(candidates.keep([i not in ex for i in candidates.item_id]), removed)
