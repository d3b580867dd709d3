"""Candidates from the published model's merged sources (ALS, BPR, EASE, kNN, following, ...)."""

from __future__ import annotations

import polars as pl

from ranking.feed.types import RequestState


class ModelCandidateSource:
    """Personalised candidates; nothing for users who chose a non-personalised feed."""

    name = "Model"

    def __call__(self, state: RequestState, n: int) -> pl.DataFrame:
        ranker = state.engine.ranker
        if ranker is None or not state.viewer.settings.personalized:
            return pl.DataFrame()
        return state.engine.model_candidates(state.request.user_id, state.request.now, n)
