"""Explicit feedback ("not interested", hides, reports) visibly changes the next page.

A hide weighs on the video's creator and, more lightly and briefly, on its topics (decayed
weights in the viewer's ``creator_penalties`` / ``topic_penalties``). Each candidate moves down
by ``feedback_weight`` x the page's score range x its penalty (capped at 1), so explicit
feedback outweighs the watch-time signals the ranker learned from (DSA Art. 28 guidelines).
"""

from __future__ import annotations

from ranking.feed.scorers._bounded import spread
from ranking.feed.types import RequestState
from wellbeing.reasons import Reason


class ExplicitFeedbackScorer:
    name = "ExplicitFeedback"

    def __call__(self, state: RequestState) -> list[float]:
        v, scores = state.viewer, state.extra["scores"]
        creators, topics = v.creator_penalties, v.topic_penalties
        if not (creators or topics) or not scores:
            return scores
        cfg = state.engine.cfg
        step = cfg.feedback_weight * spread(scores)
        facts, catalog = state.extra.get("facts", {}), state.engine.item_facts
        out = list(scores)
        for n, item_id in enumerate(state.candidates.get_column("item_id").to_list()):
            item = facts.get(item_id) or catalog.get(item_id)
            if item is None:
                continue
            p = creators.get(item.creator_id, 0.0)
            if topics and item.topics:
                p += max(topics.get(t, 0.0) for t in item.topics)
            if p >= cfg.creator_penalty_min_weight:
                out[n] -= step * min(1.0, p)
                state.reasons.setdefault(item_id, []).append(Reason.EXPLICIT_FEEDBACK.value)
        return out
