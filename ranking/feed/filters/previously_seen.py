"""Remove videos the viewer has already watched (history and this session's live events)."""

from __future__ import annotations

from ranking.feed._frames import keep
from ranking.feed.types import FilterResult, RequestState


class PreviouslySeenFilter:
    name = "PreviouslySeen"

    def __call__(self, state: RequestState) -> FilterResult:
        seen = state.engine.seen_items(state.request.user_id, state.request.now)
        if not seen:
            return FilterResult(state.candidates, [])
        ids = state.candidates.get_column("item_id").to_list()
        if seen.isdisjoint(ids):
            return FilterResult(state.candidates, [])
        # Already-seen is not a wellbeing removal: it is not audited.
        return FilterResult(keep(state.candidates, [i not in seen for i in ids]), [])
