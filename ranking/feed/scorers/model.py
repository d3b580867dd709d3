"""Score candidates with the published LightGBM ranker (source scores when there is none)."""

from __future__ import annotations

from ranking.feed.types import RequestState


class ModelScorer:
    name = "Model"

    def __call__(self, state: RequestState) -> list[float]:
        if state.engine.ranker is None or state.candidates.height == 0:
            return state.extra["scores"]
        return [float(s) for s in state.engine.model_score(state.request.user_id,
                                                           state.candidates)]
