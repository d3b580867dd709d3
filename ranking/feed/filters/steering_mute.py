"""Remove what the viewer muted in words ("never"): counted and audited with a reason.

Runs after the wellbeing policy: a mute only ever removes more, and the policy's own reasons
keep precedence for what it already removed.
"""

from __future__ import annotations

from ranking.feed._frames import keep
from ranking.feed.types import FilterResult, Removal, RequestState
from wellbeing.reasons import Reason
from wellbeing.steering import steer_direction


class SteeringMuteFilter:
    name = "SteeringMute"

    def __call__(self, state: RequestState) -> FilterResult:
        s = state.steering
        if s is None or s.empty or state.candidates.height == 0:
            return FilterResult(state.candidates, [])
        facts = state.extra.get("facts", {})
        catalog = state.engine.item_facts
        # Every candidate's direction, worked out once: the steering scorer reads it too.
        directions = state.extra["steer"] = {}
        mask, removed = [], []
        for item_id in state.candidates.get_column("item_id").to_list():
            item = facts.get(item_id) or catalog.get(item_id)
            kind, d, hit = steer_direction(s, item) if item is not None else (None, 0.0, ())
            if kind is not None:
                directions[item_id] = (kind, d, hit)
            mask.append(kind != "never")
            if kind == "never":
                removed.append(Removal(item_id, self.name, "steering_never", "drop",
                                       f"{Reason.STEERING_NEVER.value}:{hit[0]}"))
        if not removed:
            return FilterResult(state.candidates, [])
        return FilterResult(keep(state.candidates, mask), removed)
