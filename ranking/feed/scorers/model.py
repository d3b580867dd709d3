"""Score candidates with the published LightGBM ranker (the previous scores when there is none).

Rows from the model's precomputed lists carry their ``model_score``; rows from fallback
sources rank after them in their given order. When no row carries one (a user the lists do
not cover), the ranker scores the candidates now.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from ranking.feed.candidates import Candidates
from ranking.feed.query import Query


class ModelScorer:
    name = "Model"

    def __call__(self, query: Query, candidates: Candidates) -> list[float]:
        prev = candidates.score or []
        # No profile for users who chose a non-personalised feed (or reset it since training).
        if not query.personalized or not len(candidates):
            return prev
        if candidates.model_score is None:
            return [float(s) for s in query.model.score(
                query.user_id, pl.DataFrame({"item_id": candidates.item_id}))]
        ms = np.array([np.nan if s is None else s for s in candidates.model_score], np.float64)
        ok = ~np.isnan(ms)
        if ok.all():
            return ms.tolist()
        floor = (float(ms[ok].min()) if ok.any() else 0.0) - 1.0
        return np.where(ok, ms, floor - 1e-3 * np.arange(len(ms))).tolist()

    def reasons(self, query: Query, page: Candidates) -> list[tuple[str, ...]]:
        # The predicted actions that carried a video under the served objective.
        if page.expected is None or not query.personalized:
            return [()] * len(page)
        return [tuple(f"expected:{a}" for a in e) if e else () for e in page.expected]
