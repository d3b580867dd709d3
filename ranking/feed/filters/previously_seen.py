"""Remove videos the viewer has already watched (history and this session's live events)."""

from __future__ import annotations

import polars as pl

from ranking.feed.types import FilterResult, RequestState


class PreviouslySeenFilter:
    name = "PreviouslySeen"

    def __call__(self, state: RequestState) -> FilterResult:
        seen = state.engine.seen_items(state.request.user_id, state.request.now)
        if not seen:
            return FilterResult(state.candidates, [])
        mask = ~pl.col("item_id").is_in(list(seen))
        # Already-seen is not a wellbeing removal: it is not audited.
        return FilterResult(state.candidates.filter(mask), [])
