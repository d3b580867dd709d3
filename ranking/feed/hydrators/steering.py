"""Query hydration of the viewer's steering (from the live state or the store, never per item)."""

from __future__ import annotations

from ranking.feed.types import RequestState


class SteeringQueryHydrator:
    """Sets ``state.steering``: the steering in force at the request time (an expired mood is
    dropped), or None."""

    name = "Steering"

    def __call__(self, state: RequestState) -> None:
        s = state.engine.steering(state.request.user_id)
        state.steering = s.at(state.request.now) if s is not None else None
