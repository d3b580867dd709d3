"""Training-set construction and LambdaRank fitting for the two-stage ranker."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, NamedTuple

import lightgbm as lgb
import numpy as np
import polars as pl

from ranking.interactions import Interactions
from ranking.ltr._boost import BLEND_DATASET, Part, blend_params, train_booster

if TYPE_CHECKING:
    from ranking.ltr.config import ObjectiveConfig

__all__ = ["split_history", "grade_labels", "connected_pairs", "fit_lambdarank", "LtrFit"]

log = logging.getLogger(__name__)


def split_history(frame: pl.DataFrame, fraction: float, seed: int,
                  min_items: int = 3, temporal: bool = True) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per-user temporal cutoff: each user's latest ``fraction`` of items become the future.

    Users with fewer than ``min_items`` positives keep everything in the history. Ties in time
    are broken randomly (seeded) so data with coarse timestamps still splits.
    """
    if frame.height == 0:
        return frame, frame.clear()
    rng = np.random.default_rng(seed)
    f = frame.with_columns(pl.Series("_r", rng.random(frame.height)))
    f = f.with_columns(pl.len().over("user_id").alias("_n"))
    f = f.sort(["user_id", "last_ts", "_r"] if temporal else ["user_id", "_r"]).with_columns(
        pl.int_range(pl.len()).over("user_id").alias("_k"))
    n_future = (pl.col("_n") * fraction).ceil()
    is_future = (pl.col("_n") >= min_items) & (pl.col("_k") >= pl.col("_n") - n_future)
    cols = frame.columns
    return f.filter(~is_future).select(cols), f.filter(is_future).select(cols)


def connected_pairs(history: Interactions, cand: pl.DataFrame) -> pl.DataFrame:
    """Candidate ``(user_id, item_id)`` pairs whose creator the user follows or had interacted
    with in ``history`` (a positive on any of the creator's videos)."""
    creator = history.items.select("item_id", "creator_id").drop_nulls()
    touched = history.frame.select("user_id", "item_id").join(creator, on="item_id")
    known = pl.concat([touched.select("user_id", "creator_id"),
                       history.follows.select("user_id", "creator_id")]).unique()
    return (cand.select("user_id", "item_id").join(creator, on="item_id")
            .join(known, on=["user_id", "creator_id"], how="semi")
            .select("user_id", "item_id").unique())


def grade_labels(cand: pl.DataFrame, future: pl.DataFrame, negatives: pl.DataFrame,
                 objective: ObjectiveConfig | None = None,
                 connected: pl.DataFrame | None = None) -> np.ndarray:
    """Graded outcome per candidate, in candidate order.

    The watch grade is 0 unseen/hidden, 1 partial watch, 2 full watch, 3 liked. With a
    creation-first ``objective`` a watched video also gains ``objective.creation`` when the user
    remixed, shared or commented on it, and ``objective.connection`` when its pair is in
    ``connected`` (see ``connected_pairs``).

    Args:
        cand: candidates ``(user_id, item_id, ...)``.
        future: the label period's positives (``Interactions.frame`` columns).
        negatives: hides and reports ``(user_id, item_id, ...)``; always 0.
        objective: label weights; None (or ``creation_first`` off) grades watching only.
        connected: ``(user_id, item_id)`` pairs from a followed or interacted creator.
    """
    base = (pl.when(pl.col("liked") > 0).then(3)
            .when(pl.col("watch_frac") >= 0.8).then(2)
            .when(pl.col("weight") >= 0.5).then(1).otherwise(0))
    on = objective is not None and objective.creation_first
    if on and "created" in future.columns:
        base = base + pl.when(base > 0).then(
            (pl.col("created") > 0).cast(pl.Int32) * objective.creation).otherwise(0)
    g = future.select("user_id", "item_id", base.alias("y"))
    neg = negatives.select("user_id", "item_id", pl.lit(0).alias("_neg"))
    lab = (cand.select("user_id", "item_id")
           .join(g, on=["user_id", "item_id"], how="left", maintain_order="left")
           .join(neg, on=["user_id", "item_id"], how="left", maintain_order="left")
           .with_columns(pl.when(pl.col("_neg").is_not_null()).then(0)
                         .otherwise(pl.col("y").fill_null(0)).alias("y")))
    if on and connected is not None and connected.height:
        con = connected.select("user_id", "item_id", pl.lit(True).alias("_c")).unique()
        lab = lab.join(con, on=["user_id", "item_id"], how="left", maintain_order="left")
        lab = lab.with_columns(pl.when((pl.col("y") > 0) & pl.col("_c").is_not_null())
                               .then(pl.col("y") + objective.connection)
                               .otherwise(pl.col("y")).alias("y"))
    if on:
        lab = lab.with_columns(pl.col("y").clip(0, objective.max_label))
    return lab["y"].to_numpy().astype(np.int32)


def _groups(users: np.ndarray) -> np.ndarray:
    # Candidates arrive grouped by user (merge sorts by user); LightGBM wants run lengths.
    change = np.flatnonzero(users[1:] != users[:-1]) + 1
    return np.diff(np.concatenate([[0], change, [len(users)]]))


def _keep_informative(y: np.ndarray, users: np.ndarray) -> np.ndarray:
    """Rows of users with at least one positive (others carry no ranking signal)."""
    pos = pl.DataFrame({"u": users, "y": y}).with_columns(
        (pl.col("y").max().over("u") > 0).alias("k"))["k"].to_numpy()
    return pos


def _grade_weights(y: np.ndarray, cfg: Any) -> np.ndarray | None:
    """Sample weights of the pointwise fit: a positive weighs its grade over a full watch's
    (2), a negative 1; None when the creation-first objective is off."""
    obj = getattr(cfg, "objective", None)
    if obj is None or not obj.creation_first:
        return None
    return np.where(y > 0, np.maximum(y / 2.0, 0.5), 1.0).astype(np.float64)


class LtrFit(NamedTuple):
    """The blend refit on every labelled user, plus what later choices need out of sample."""

    booster: lgb.Booster | None
    report: dict
    valid_users: frozenset = frozenset()
    """Users held out while the settings were chosen."""
    valid_booster: lgb.Booster | None = None
    """The chosen setting as trained without ``valid_users`` (score them with its best round)."""


def fit_lambdarank(x: np.ndarray, y: np.ndarray, users: np.ndarray, names: list[str],
                   cfg: Any, sources: list, client: Any = None) -> LtrFit:
    """Choose settings on held-out users, then refit on all labelled users.

    Args:
        client: a ``distributed.Client`` to train every booster on (None: this process); the
            steps, parameters and choices are the same either way (``_boost.train_booster``).

    Returns:
        The booster (None when there is no signal), a report with the validation scores, the
        held-out users and the chosen setting's booster trained without them.
    """
    keep = _keep_informative(y, users)
    x, y, users = x[keep], y[keep], users[keep]
    report: dict[str, Any] = {"ltr_rows": int(len(y)), "ltr_users": int(len(np.unique(users)))}
    if len(np.unique(users)) < 4:
        log.warning("ranker: %d users with labels; no LambdaRank blend", len(np.unique(users)))
        return LtrFit(None, report)
    uniq = np.unique(users)
    rng = np.random.default_rng(cfg.seed)
    valid_users = set(rng.choice(uniq, max(1, int(len(uniq) * cfg.valid_fraction)), replace=False))
    is_valid = np.fromiter((u in valid_users for u in users), bool, len(users))
    base = blend_params(cfg)
    tr, va = ~is_valid, is_valid
    g_tr, g_va = _groups(users[tr]), _groups(users[va])
    # Every setting is judged by NDCG@10 on binary relevance (anything watched counts), the
    # way the evaluation protocol counts it; the binary objective needs its own 0/1 labels.
    ybin = (y > 0).astype(np.int32)
    held = Part(x[va], ybin[va], g_va)
    # The pointwise fit sees 0/1 labels; under a creation-first objective each watched video
    # weighs its grade, so creation and connection count more than a passive watch there too.
    wbin = _grade_weights(y, cfg)
    graded = Part(x[tr], y[tr], g_tr)
    pointwise = Part(x[tr], ybin[tr], g_tr, None if wbin is None else wbin[tr])
    best: tuple[float, dict, int] = (-1.0, {}, 0)
    best_bst: lgb.Booster | None = None
    trials = []
    for g in cfg.grid:
        params = {**base, **g}
        binary = params["objective"] == "binary"
        if binary:
            params["metric"] = "ndcg"  # still chosen on ranking quality
        fit = train_booster(params, pointwise if binary else graded, cfg.max_rounds, names,
                            held, BLEND_DATASET, client)
        bst = fit.booster
        score = float(max(fit.curve))
        trials.append({**g, "ndcg@10": round(score, 4), "rounds": bst.best_iteration})
        if score > best[0]:
            best, best_bst = (score, g, max(bst.best_iteration, 10)), bst
    report.update({"grid": trials, "chosen": {**best[1], "rounds": best[2]},
                   "valid_ndcg@10": round(best[0], 4)})
    binary = best[1].get("objective") == "binary"
    yall = (y > 0).astype(np.int32) if binary else y
    booster = train_booster({**base, **best[1]},
                            Part(x, yall, _groups(users), wbin if binary else None),
                            int(best[2] * 1.1), names, dataset={"max_bin": 63},
                            client=client).booster
    imp = booster.feature_importance("gain")
    report["importance"] = {n: round(float(v), 1) for n, v in
                            sorted(zip(names, imp, strict=True), key=lambda t: -t[1])[:12]}
    return LtrFit(booster, report, frozenset(valid_users), best_bst)
