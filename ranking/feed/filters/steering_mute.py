"""Remove what the viewer muted in words ("never"): counted and audited with a reason.

Runs after the wellbeing policy: a mute only ever removes more, and the policy's own reasons
keep precedence for what it already removed.
"""

from __future__ import annotations

from ranking.feed.candidates import Candidates
from ranking.feed.query import Query
from ranking.feed.types import FilterResult, Removal
from wellbeing.reasons import Reason


class SteeringMuteFilter:
    name = "SteeringMute"

    def __call__(self, query: Query, candidates: Candidates) -> FilterResult:
        if candidates.steer is None:
            return FilterResult(candidates, [])
        mask = [kind != "never" for kind, _, _ in candidates.steer]
        removed = [Removal(i, self.name, "steering_never", "drop",
                           f"{Reason.STEERING_NEVER.value}:{hit[0]}")
                   for i, (kind, _, hit) in zip(candidates.item_id, candidates.steer, strict=True)
                   if kind == "never"]
        return FilterResult(candidates.keep(mask), removed)
