"""Apply the policy's downrank factors (negative feedback, sensitive topics) to the scores.

Ranker scores are log-odds-like and may be negative, so a factor ``f`` subtracts
``-log(f)`` rather than multiplying: the order moves the same way whatever the sign.
"""

from __future__ import annotations

import math

from ranking.feed.types import RequestState


class WellbeingDownrankScorer:
    name = "WellbeingDownrank"

    def __call__(self, state: RequestState) -> list[float]:
        factors = state.extra.get("downrank", {})
        scores = state.extra["scores"]
        if not factors:
            return scores
        return [
            s + math.log(max(factors.get(i, 1.0), 1e-6))
            for i, s in zip(state.candidates.get_column("item_id").to_list(), scores,
                            strict=True)
        ]
