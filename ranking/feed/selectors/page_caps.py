"""Sensitive-topic caps in a row, per page and per rolling day; doomscroll diversification."""

from __future__ import annotations

import polars as pl

from wellbeing import ItemFacts, apply_page_caps

from ranking.feed.types import FilterResult, Removal, RequestState


class WellbeingPageCapsSelector:
    name = "WellbeingPageCaps"

    def __call__(self, state: RequestState) -> FilterResult:
        c = state.candidates
        if c.height == 0:
            return FilterResult(c, [])
        facts = state.extra.get("facts", {})
        # Only the head of the list can reach the page; capping it keeps the stage cheap.
        horizon = min(c.height, state.request.limit * 4 + 20)
        head = c.head(horizon)
        ranked = [
            (i, facts.get(i) or ItemFacts(item_id=i, creator_id=""))
            for i in head["item_id"]
        ]
        kept, dropped = apply_page_caps(ranked, state.viewer, state.engine.cfg,
                                        diversify=state.diversify, now=state.request.now)
        order = {i: n for n, i in enumerate(kept)}
        out = (
            head.filter(pl.col("item_id").is_in(kept))
            .with_columns(_o=pl.col("item_id").replace_strict(order, default=None))
            .sort("_o").drop("_o")
        )
        removed = [Removal(i, self.name, self.name, "drop", r.value) for i, r in dropped]
        return FilterResult(pl.concat([out, c.slice(horizon)]), removed)
