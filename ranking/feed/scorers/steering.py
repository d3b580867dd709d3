"""Apply the viewer's "more" / "less" steering (and mood) as a bounded score shift.

Each candidate moves by ``steer_weight`` x the page's score range, up for what was asked more
of, down for what was asked less of (at most one step either way). It runs after the policy's
downranks on what the policy kept: steering reorders, it never brings back a removal.
"""

from __future__ import annotations

from ranking.feed.candidates import Candidates
from ranking.feed.query import Query
from ranking.feed.scorers._bounded import spread
from wellbeing.reasons import Reason


class SteeringScorer:
    name = "Steering"

    def __call__(self, query: Query, candidates: Candidates) -> list[float]:
        scores = candidates.score or []
        if candidates.steer is None or not scores:
            return scores
        step = query.cfg.steer_weight * spread(scores)
        return [s + step * d if kind in ("more", "less") else s
                for s, (kind, d, _) in zip(scores, candidates.steer, strict=True)]

    def reasons(self, query: Query, page: Candidates) -> list[tuple[str, ...]]:
        if page.steer is None:
            return [()] * len(page)
        out: list[tuple[str, ...]] = []
        for kind, d, hit in page.steer:
            if kind in ("more", "less"):
                reason = Reason.STEERING_MORE if d > 0 else Reason.STEERING_LESS
                out.append((f"{reason.value}:{hit[0]}",))
            else:
                out.append(())
        return out
