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
        mask = [i not in seen for i in state.candidates["item_id"].to_list()]
        if all(mask):
            return FilterResult(state.candidates, [])
        # Already-seen is not a wellbeing removal: it is not audited.
        return FilterResult(state.candidates.filter(pl.Series(mask, dtype=pl.Boolean)), [])
