"""Sensitive-topic caps in a row, per page and per rolling day; doomscroll diversification."""

from __future__ import annotations

from ranking.feed._frames import take
from ranking.feed.types import FilterResult, Removal, RequestState
from wellbeing import ItemFacts, apply_page_caps
from wellbeing.selection import caps_apply


class WellbeingPageCapsSelector:
    name = "WellbeingPageCaps"

    def __call__(self, state: RequestState) -> FilterResult:
        c = state.candidates
        if c.height == 0:
            return FilterResult(c, [])
        cfg = state.engine.cfg
        if not caps_apply(state.viewer) and not (state.diversify and cfg.diversify_max_in_row > 0):
            # No cap applies to this viewer (an adult, not diversifying): the page is as ranked.
            return FilterResult(c, [])
        facts = state.extra.get("facts", {})
        # Only the head of the list can reach the page; capping it keeps the stage cheap.
        horizon = min(c.height, state.request.limit * 4 + 20)
        head_ids = c.get_column("item_id").head(horizon).to_list()
        ranked = [(i, facts.get(i) or ItemFacts(item_id=i, creator_id="")) for i in head_ids]
        kept, dropped = apply_page_caps(ranked, state.viewer, cfg,
                                        diversify=state.diversify, now=state.request.now)
        removed = [Removal(i, self.name, self.name, "drop", r.value) for i, r in dropped]
        if kept == head_ids:
            return FilterResult(c, removed)
        # Candidate ids are unique (sources are de-duplicated), so ids map to positions.
        pos = {i: n for n, i in enumerate(head_ids)}
        order = [pos[i] for i in kept] + list(range(horizon, c.height))
        return FilterResult(take(c, order), removed)
