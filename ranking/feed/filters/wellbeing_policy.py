"""Remove what the viewer's wellbeing policy drops; each drop is audited with its reason.

The verdicts are a column (``WellbeingVerdictHydrator``, one function for every path); this
filter only reads it. A candidate without a verdict is removed: wellbeing never fails open.
"""

from __future__ import annotations

from ranking.feed.candidates import Candidates
from ranking.feed.query import Query
from ranking.feed.types import FilterResult, Removal


class WellbeingPolicyFilter:
    name = "WellbeingPolicy"

    def __call__(self, query: Query, candidates: Candidates) -> FilterResult:
        verdicts = candidates.verdict
        if verdicts is None:
            raise RuntimeError("no wellbeing verdicts hydrated: nothing can be shown")
        mask = [v.kept for v in verdicts]
        removed = [Removal(i, self.name, v.rule, v.action, v.reason)
                   for i, v in zip(candidates.item_id, verdicts, strict=True) if not v.kept]
        return FilterResult(candidates.keep(mask), removed)
