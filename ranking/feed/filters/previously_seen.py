"""Remove videos the viewer has already watched (history and this session's live events)."""

from __future__ import annotations

from ranking.feed.candidates import Candidates
from ranking.feed.query import Query
from ranking.feed.types import FilterResult, Removal
from wellbeing.reasons import Reason


class PreviouslySeenFilter:
    name = "PreviouslySeen"

    def __call__(self, query: Query, candidates: Candidates) -> FilterResult:
        seen = query.seen
        if not seen or seen.isdisjoint(candidates.item_id):
            return FilterResult(candidates, [])
        # Already-seen is not a wellbeing removal: counted and named, not audited.
        removed = [Removal(i, self.name, "already_seen", "filter", Reason.ALREADY_SEEN.value)
                   for i in candidates.item_id if i in seen]
        return FilterResult(candidates.keep([i not in seen for i in candidates.item_id]),
                            removed)
