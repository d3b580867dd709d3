"""Candidates from the published model's sources (ALS, BPR, EASE, kNN, following, ...), run
on the viewer's history as of now (trained part plus the live events of the query)."""

from __future__ import annotations

import polars as pl

from ranking.feed.query import Query
from ranking.feed.resources import CandidateStore


class ModelCandidateSource:
    """Personalised candidates; nothing for users who chose a non-personalised feed."""

    name = "Model"
    fallback = False

    def __call__(self, query: Query, store: CandidateStore, n: int) -> pl.DataFrame:
        if not query.personalized:
            return pl.DataFrame()
        return store.model_candidates(query.user_id, n, query.recent, query.viewer.following)
