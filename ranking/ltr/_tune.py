"""Choose source hyperparameters by cross-validation inside the training data.

EASE's ``reg`` is tuned: it moves NDCG the most across data sets (the best value grows with
density and catalog size) and one fit costs a single item x item inversion, cheap on the small
catalogs where EASE is tuned at all. Item-kNN's similarity (``bm25`` or ``cosine``) is chosen
too: neither wins everywhere (binary BM25 against cosine NDCG@10 on a per-user random split:
0.380 vs 0.353 on MovieLens-100k, 0.163 vs 0.270 on MovieLens-latest-small, 0.086 vs 0.173 on a
simulated short-video world), and a kNN fit is a sparse product, cheap at any catalog size. It
is chosen on the same folds as EASE: on MovieLens-100k the ranker's own split alone preferred
cosine (by 2%), the three folds BM25, as the test split does.

One split decides badly: on MovieLens-100k the ranker's own split scored every reg from 400 to
1000 within noise and chose 1000, which lost 2% NDCG on the test split against 400. So ``reg``
is chosen on ``folds`` splits of the data (the ranker's own split first, then further seeded
splits of the same kind), by the mean over folds of each fold's NDCG relative to its best reg:
the reg the folds agree on, not the one a single split happens to favour.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import polars as pl

from ranking.candidates import make_source
from ranking.evaluation.metrics import ndcg_at_k
from ranking.interactions import Interactions

__all__ = ["tune_ease", "tune_itemknn", "agreed_reg", "EASE_GRID", "KNN_METHODS"]

log = logging.getLogger(__name__)

EASE_GRID = (50.0, 100.0, 150.0, 250.0, 400.0, 650.0, 1000.0, 1600.0, 2500.0)
"""Regs tried (about x1.6 apart: on MovieLens-100k x2.5 steps skipped the best)."""


KNN_METHODS = ("bm25", "cosine")
"""Item-kNN similarities tried."""
KNN_JUDGED_USERS = 1000
"""Users each fold judges the similarities on at most (EASE's finer grid keeps 3,000): the two
differ by 7% to 2x in NDCG wherever measured, and at 100k videos each judged user costs a
catalog row per similarity and fold (at 3,000, item-kNN's tuning was 35 of training's 466 s
at 5M events). Every public log in bench/README.md has fewer users."""


def tune_itemknn(folds: list[tuple[Interactions, pl.DataFrame]], params: dict[str, Any],
                 seed: int, max_users: int = KNN_JUDGED_USERS, k: int = 10
                 ) -> tuple[dict[str, Any], dict[str, float]]:
    """Best item-kNN ``method`` of ``KNN_METHODS`` over ``folds`` (as ``tune_ease``), judged
    on at most ``max_users`` users per fold."""
    return _tune("itemknn", "method", KNN_METHODS, folds, params, seed, None, max_users, k)


def tune_ease(folds: list[tuple[Interactions, pl.DataFrame]], params: dict[str, Any],
              seed: int, max_items: int = 5000, max_users: int = 3000, k: int = 10
              ) -> tuple[dict[str, Any], dict[str, float]]:
    """Best ``reg`` for EASE over ``folds``, each ``(history, held-out future)``.

    Each fold scores every reg of ``EASE_GRID`` by NDCG@k of history-trained lists against the
    future; a reg's figure is its mean over folds of NDCG relative to that fold's best (folds
    of different difficulty weigh alike). A reg that fails on any fold is out.

    Returns:
        (the EASE params to use, the mean relative NDCG per tried reg); params unchanged when
        tuning is skipped (a catalog above ``max_items``, or no fold with a future).
    """
    return _tune("ease", "reg", EASE_GRID, folds, params, seed, max_items, max_users, k)


def _tune(source: str, key: str, grid: tuple, folds: list[tuple[Interactions, pl.DataFrame]],
          params: dict[str, Any], seed: int, max_items: int | None, max_users: int, k: int
          ) -> tuple[dict[str, Any], dict[str, float]]:
    """``params`` with ``key`` set to the grid value the folds agree on (``agreed_reg``)."""
    folds = [(h, f) for h, f in folds
             if f.height and (max_items is None or h.n_items <= max_items)]
    if not folds:
        return params, {}
    per_fold = []
    for i, (hist, future) in enumerate(folds):
        users, rels = _judged(future, max_users, seed + i)
        scores: dict = {}
        for value in grid:
            try:
                src = make_source(source, {**params, key: value}).fit(hist)
                scores[value] = ndcg_at_k(src.recommend(users, k)[0], rels, k)
            except Exception:  # noqa: BLE001 - tuning is an optimisation, never a failure
                log.exception("%s tuning failed at %s=%s", source, key, value)
        if max(scores.values(), default=0.0) > 0:
            per_fold.append(scores)
    best, mean = agreed_reg(per_fold)
    if best is None:
        return params, {}
    return {**params, key: best}, {str(r): round(v, 5) for r, v in mean.items()}


def agreed_reg(per_fold: list[dict[float, float]]) -> tuple[float | None, dict[float, float]]:
    """The reg with the best mean over folds of NDCG relative to the fold's best (a reg
    missing from any fold is out; ties go to the smaller reg), and that mean per reg."""
    regs = sorted(r for r in set().union(*per_fold) if all(r in f for f in per_fold)
                  ) if per_fold else []
    mean = {r: float(np.mean([f[r] / max(f.values()) for f in per_fold])) for r in regs}
    return (max(regs, key=lambda r: mean[r]) if regs else None), mean


def _judged(future: pl.DataFrame, max_users: int, seed: int) -> tuple[list, list[set]]:
    """Users with a held-out item (a seeded sample of ``max_users``) and their items."""
    rel = future.group_by("user_id").agg("item_id").sort("user_id")
    users = rel["user_id"].to_list()
    if len(users) > max_users:
        keep = set(np.random.default_rng(seed).choice(users, max_users, replace=False).tolist())
        rel = rel.filter(pl.col("user_id").is_in(list(keep)))
        users = rel["user_id"].to_list()
    return users, [set(x) for x in rel["item_id"].to_list()]
