"""Apply the policy's downrank factors (negative feedback, sensitive topics) to the scores.

Ranker scores are log-odds-like and may be negative, so a factor ``f`` subtracts
``-log(f)`` rather than multiplying: the order moves the same way whatever the sign.
"""

from __future__ import annotations

import math

from ranking.feed.candidates import Candidates
from ranking.feed.query import Query


class WellbeingDownrankScorer:
    name = "WellbeingDownrank"

    def __call__(self, query: Query, candidates: Candidates) -> list[float]:
        scores = candidates.score or []
        if candidates.verdict is None:
            return scores
        return [s + math.log(max(v.factor, 1e-6)) if v.factor != 1.0 else s
                for v, s in zip(candidates.verdict, scores, strict=True)]

    def reasons(self, query: Query, page: Candidates) -> list[tuple[str, ...]]:
        if page.verdict is None:
            return [()] * len(page)
        return [v.downrank_reasons if v.factor != 1.0 else () for v in page.verdict]
