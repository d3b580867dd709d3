"""Apply the viewer's "more" / "less" steering (and mood) as a bounded score shift.

Each candidate moves by ``steer_weight`` x the page's score range, up for what was asked more
of, down for what was asked less of (at most one step either way). It runs after the policy's
downranks on what the policy kept: steering reorders, it never brings back a removal.
"""

from __future__ import annotations

from ranking.feed.scorers._bounded import spread
from ranking.feed.types import RequestState
from wellbeing.reasons import Reason
from wellbeing.steering import steer_direction

_NONE: tuple[None, float, tuple[str, ...]] = (None, 0.0, ())


class SteeringScorer:
    name = "Steering"

    def __call__(self, state: RequestState) -> list[float]:
        s, scores = state.steering, state.extra["scores"]
        if s is None or not (s.more or s.less or s.mood_more or s.mood_less) or not scores:
            return scores
        step = state.engine.cfg.steer_weight * spread(scores)
        facts, catalog = state.extra.get("facts", {}), state.engine.item_facts
        known = state.extra.get("steer")  # the mute filter's directions, when it ran
        out = list(scores)
        for n, item_id in enumerate(state.candidates.get_column("item_id").to_list()):
            if known is not None:
                kind, d, hit = known.get(item_id, _NONE)
            else:
                item = facts.get(item_id) or catalog.get(item_id)
                if item is None:
                    continue
                kind, d, hit = steer_direction(s, item)
            if kind in ("more", "less"):
                out[n] += step * d
                reason = Reason.STEERING_MORE if d > 0 else Reason.STEERING_LESS
                state.reasons.setdefault(item_id, []).append(f"{reason.value}:{hit[0]}")
        return out
