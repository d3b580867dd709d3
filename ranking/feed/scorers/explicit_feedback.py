"""Explicit feedback ("not interested", hides, reports) visibly changes the next page.

A hide weighs on the video's creator and, more lightly and briefly, on its topics (decayed
weights in the viewer's ``creator_penalties`` / ``topic_penalties``). Each candidate moves down
by ``feedback_weight`` x the page's score range x its penalty (capped at 1), so explicit
feedback outweighs the watch-time signals the ranker learned from (DSA Art. 28 guidelines).
"""

from __future__ import annotations

from ranking.feed.candidates import Candidates
from ranking.feed.query import Query
from ranking.feed.scorers._bounded import spread
from wellbeing import ItemFacts
from wellbeing.reasons import Reason


def _penalty(query: Query, item: ItemFacts | None) -> float:
    """The viewer's feedback weight on ``item`` (0 below the configured minimum)."""
    if item is None:
        return 0.0
    v = query.viewer
    p = v.creator_penalties.get(item.creator_id, 0.0)
    if v.topic_penalties and item.topics:
        p += max(v.topic_penalties.get(t, 0.0) for t in item.topics)
    return p if p >= query.cfg.creator_penalty_min_weight else 0.0


class ExplicitFeedbackScorer:
    name = "ExplicitFeedback"

    def __call__(self, query: Query, candidates: Candidates) -> list[float]:
        scores = candidates.score or []
        v = query.viewer
        if not (v.creator_penalties or v.topic_penalties) or not scores or not candidates.facts:
            return scores
        step = query.cfg.feedback_weight * spread(scores)
        return [s - step * min(1.0, p) if (p := _penalty(query, f)) else s
                for s, f in zip(scores, candidates.facts, strict=True)]

    def reasons(self, query: Query, page: Candidates) -> list[tuple[str, ...]]:
        v = query.viewer
        if not (v.creator_penalties or v.topic_penalties) or not page.facts:
            return [()] * len(page)
        why = (Reason.EXPLICIT_FEEDBACK.value,)
        return [why if _penalty(query, f) else () for f in page.facts]
