"""Score candidates with the published LightGBM ranker (source scores when there is none)."""

from __future__ import annotations

from ranking.feed.types import RequestState


class ModelScorer:
    name = "Model"

    def __call__(self, state: RequestState) -> list[float]:
        # No profile for users who chose a non-personalised feed (or reset it since training).
        if (state.engine.ranker is None or state.candidates.height == 0
                or not state.viewer.settings.personalized):
            return state.extra["scores"]
        return [float(s) for s in state.engine.model_score(state.request.user_id,
                                                           state.candidates, fast=True)]
