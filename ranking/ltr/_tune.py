"""Choose source hyperparameters on the ranker's internal split (history -> held-out future).

Only EASE's ``reg`` is tuned: it moves NDCG the most across data sets (the best value grows
with density and catalog size) and one fit costs a single item x item inversion, cheap on the
small catalogs where EASE is used at all.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import polars as pl

from ranking.candidates import make_source
from ranking.evaluation.metrics import ndcg_at_k
from ranking.interactions import Interactions

__all__ = ["tune_ease"]

log = logging.getLogger(__name__)

EASE_GRID = (50.0, 150.0, 400.0, 1000.0, 2500.0)


def tune_ease(hist: Interactions, future: pl.DataFrame, params: dict[str, Any], seed: int,
              max_items: int = 5000, max_users: int = 3000, k: int = 10
              ) -> tuple[dict[str, Any], dict[str, float]]:
    """Best ``reg`` for EASE by NDCG@k of history-trained lists against the future.

    Returns:
        (the EASE params to use, NDCG per tried reg); params unchanged when tuning is skipped.
    """
    if hist.n_items > max_items or future.height == 0:
        return params, {}
    rel = future.group_by("user_id").agg("item_id")
    users = rel["user_id"].to_list()
    if len(users) > max_users:
        keep = set(np.random.default_rng(seed).choice(users, max_users, replace=False).tolist())
        rel = rel.filter(pl.col("user_id").is_in(list(keep)))
        users = rel["user_id"].to_list()
    rels = [set(x) for x in rel["item_id"].to_list()]
    scores: dict[str, float] = {}
    for reg in EASE_GRID:
        try:
            src = make_source("ease", {**params, "reg": reg}).fit(hist)
            scores[str(reg)] = ndcg_at_k(src.recommend(users, k)[0], rels, k)
        except Exception:  # noqa: BLE001 - tuning is an optimisation, never a failure
            log.exception("EASE tuning failed at reg=%s", reg)
    if not scores:
        return params, {}
    best = max(scores, key=lambda r: scores[r])
    return {**params, "reg": float(best)}, scores
