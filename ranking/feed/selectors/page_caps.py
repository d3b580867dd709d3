"""Sensitive-topic caps in a row, per page and per rolling day; doomscroll diversification.

The caps and whom they apply to are declared in ``wellbeing.selection.PAGE_CAPS``; each
removal names its cap as the rule.
"""

from __future__ import annotations

from ranking.feed.candidates import Candidates
from ranking.feed.query import Query
from ranking.feed.types import FilterResult, Removal
from wellbeing import ItemFacts, apply_page_caps
from wellbeing.selection import CAP_RULES, page_caps_in_force


class WellbeingPageCapsSelector:
    name = "WellbeingPageCaps"

    def __call__(self, query: Query, candidates: Candidates) -> FilterResult:
        c = candidates
        # The query's count of the day's sensitive views: worked out once per request.
        day = query.sensitive_views_24h
        if not len(c) or not page_caps_in_force(query.viewer, query.cfg, query.diversify,
                                                query.now, day):
            # No cap applies to this viewer (an adult, not diversifying): the page is as ranked.
            return FilterResult(c, [])
        facts = c.facts or [None] * len(c)
        # Only the head of the list can reach the page; capping it keeps the stage cheap.
        horizon = min(len(c), query.limit * 4 + 20)
        head = c.item_id[:horizon]
        ranked = [(i, f or ItemFacts(item_id=i, creator_id=""))
                  for i, f in zip(head, facts, strict=False)]
        kept, dropped = apply_page_caps(ranked, query.viewer, query.cfg,
                                        diversify=query.diversify, now=query.now,
                                        sensitive_views_24h=day)
        removed = [Removal(i, self.name, CAP_RULES[r.value], "drop", r.value) for i, r in dropped]
        if kept == head:
            return FilterResult(c, removed)
        # Candidate ids are unique (sources are de-duplicated), so ids map to positions.
        pos = {i: n for n, i in enumerate(head)}
        return FilterResult(c.take([pos[i] for i in kept] + list(range(horizon, len(c)))),
                            removed)
