"""Attach each candidate's steering direction (more, less, never, or none) when the viewer
steers; the mute filter and the steering scorer read the same column."""

from __future__ import annotations

from dataclasses import replace

from ranking.feed.candidates import NO_STEER, Candidates
from ranking.feed.query import Query
from ranking.feed.resources import CandidateStore
from wellbeing.steering import steer_direction


class SteeringHydrator:
    name = "Steering"

    def __call__(self, query: Query, candidates: Candidates,
                 store: CandidateStore) -> Candidates:
        s = query.steering
        if s is None or s.empty:
            return candidates
        facts = candidates.facts or [store.item_facts.get(i) for i in candidates.item_id]
        return replace(candidates, facts=facts,
                       steer=[steer_direction(s, f) if f is not None else NO_STEER
                              for f in facts])
