"""LightGBM in one place: the blend's and the feedback head's parameters, and the one function
that trains a booster, in this process or on a Dask cluster.

``LtrRanker.fit`` runs the same steps whatever the executor (EASE tuning, sources, catalog
features, the settings grid, the feedback head); only ``train_booster`` looks at the client.
On Dask, LightGBM's own estimators train data-parallel over row partitions
(``ranking.ltr._dask``). They have no early stopping, so the cluster trains every round and
the round early stopping would have kept is read off the held-out curve here, with the same
metric and patience as the local fit. The held-out rows are bounded: ``valid_fraction`` of at
most ``max_train_users`` users for the blend, the held-out likes and hides for the head.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import lightgbm as lgb
import numpy as np

if TYPE_CHECKING:
    from ranking.ltr.config import LtrConfig

__all__ = ["PATIENCE", "BLEND_DATASET", "Part", "Boosted", "blend_params", "head_params",
           "action_params",
           "train_booster", "early_stop"]

PATIENCE = 30
"""Rounds without a better held-out score before training stops."""
BLEND_DATASET = {"feature_pre_filter": False, "max_bin": 63}
"""Dataset settings of the blend while its settings are chosen (one binning for every point)."""


def blend_params(cfg: LtrConfig) -> dict[str, Any]:
    """The LambdaRank blend's LightGBM parameters; a grid point of ``cfg.grid`` overrides them."""
    return {"objective": "lambdarank", "metric": "ndcg", "ndcg_eval_at": [10],
            "learning_rate": cfg.learning_rate, "feature_fraction": 0.8, "bagging_fraction": 0.8,
            "bagging_freq": 1, "lambda_l2": 1.0, "num_threads": cfg.num_threads,
            "seed": cfg.seed, "deterministic": True, "verbose": -1,
            "lambdarank_truncation_level": 20, "max_bin": 63}


def action_params(cfg: LtrConfig) -> dict[str, Any]:
    """An action head's LightGBM parameters: the feedback head's, early-stopped on held-out
    log-loss (the heads' probabilities are served, so their calibration is what counts), at
    twice the shrinkage step: with the blend's, early stopping on a small held-out set halted
    the heads before they had moved far from the base rate (rare rates came out too high)."""
    return {**head_params(cfg), "metric": "binary_logloss",
            "learning_rate": 2 * cfg.learning_rate}


def head_params(cfg: LtrConfig) -> dict[str, Any]:
    """The feedback head's LightGBM parameters (liked = 1 against hidden = 0)."""
    return {"objective": "binary", "metric": "auc", "learning_rate": cfg.learning_rate,
            "num_leaves": 15, "min_data_in_leaf": 20, "feature_fraction": 0.8,
            "bagging_fraction": 0.8, "bagging_freq": 1, "lambda_l2": 1.0,
            "num_threads": cfg.num_threads, "seed": cfg.seed, "deterministic": True,
            "verbose": -1}


@dataclass
class Part:
    """Rows to train or validate on; ``group`` holds query sizes (rows grouped by user)."""

    x: np.ndarray
    y: np.ndarray
    group: np.ndarray | None = None
    weight: np.ndarray | None = None


class Boosted(NamedTuple):
    """A trained booster (``best_iteration`` set when it was validated) and its held-out
    metric per round, up to the round training stopped at."""

    booster: lgb.Booster
    curve: list[float]


def train_booster(params: dict[str, Any], train: Part, rounds: int, names: list[str],
                  valid: Part | None = None, dataset: dict[str, Any] | None = None,
                  client: Any = None) -> Boosted:
    """Train one booster: ``lgb.train`` here, or LightGBM's Dask estimators behind ``client``.

    Args:
        params: LightGBM parameters (``blend_params`` or ``head_params``, maybe a grid point).
        train: the training rows.
        rounds: boosting rounds (an upper bound when ``valid`` is given).
        names: feature names.
        valid: held-out rows: training stops ``PATIENCE`` rounds after the best score on them.
        dataset: LightGBM Dataset settings (binning).
        client: a ``distributed.Client``, or None to train in this process.
    """
    if client is not None:
        from ranking.ltr._dask import fit_on_cluster

        bst = fit_on_cluster(client, {**params, **(dataset or {})}, train.x, train.y,
                             train.group, train.weight, rounds, names)
        if valid is None:
            return Boosted(bst, [])
        curve = held_out_curve(bst, valid, params)
        best, stop = early_stop(curve, PATIENCE)
        # As ``lgb.train`` returns an early-stopped booster: its best rounds only.
        bst = lgb.Booster(model_str=bst.model_to_string(num_iteration=best + 1))
        bst.best_iteration = best + 1
        return Boosted(bst, curve[:stop + 1])
    dtr = lgb.Dataset(train.x, train.y, group=train.group, weight=train.weight,
                      feature_name=names, free_raw_data=False, params=dataset)
    if valid is None:
        return Boosted(lgb.train(params, dtr, rounds), [])
    # Validation sets carry their reference's parameters: LightGBM warns when they differ.
    dva = lgb.Dataset(valid.x, valid.y, group=valid.group, reference=dtr, params=dataset)
    ev: dict = {}
    bst = lgb.train(params, dtr, rounds, valid_sets=[dva], valid_names=["valid"],
                    callbacks=[lgb.early_stopping(PATIENCE, verbose=False),
                               lgb.record_evaluation(ev)])
    return Boosted(bst, [float(v) for v in next(iter(ev["valid"].values()))])


def early_stop(curve: list[float], patience: int) -> tuple[int, int]:
    """``(best round, stopping round)``, 0-based, as ``lgb.early_stopping`` decides them."""
    best, top = 0, -np.inf
    for i, v in enumerate(curve):
        if v > top:
            best, top = i, v
        elif i - best >= patience:
            return best, i
    return best, len(curve) - 1


def held_out_curve(bst: lgb.Booster, valid: Part, params: dict[str, Any]) -> list[float]:
    """The params' metric (``ndcg`` at the first ``ndcg_eval_at``, ``auc``, or
    ``binary_logloss`` negated so that higher is better) on ``valid`` after each round,
    computed as LightGBM computes it."""
    s = np.zeros(len(valid.y), np.float64)
    k = int((params.get("ndcg_eval_at") or [10])[0])
    out = []
    for i in range(bst.num_trees()):
        s += bst.predict(valid.x, start_iteration=i, num_iteration=1, raw_score=True)
        metric = params.get("metric")
        if metric == "auc":
            out.append(_auc(s, valid.y))
        elif metric == "binary_logloss":
            p = np.clip(1.0 / (1.0 + np.exp(-s)), 1e-15, 1 - 1e-15)
            out.append(float(np.mean(valid.y * np.log(p) + (1 - valid.y) * np.log(1 - p))))
        else:
            out.append(_ndcg(s, valid.y, valid.group, k))
    return out


def _ndcg(s: np.ndarray, y: np.ndarray, group: np.ndarray | None, k: int) -> float:
    """Mean NDCG@k over queries, gain 2^y - 1, a query with nothing relevant counting 1."""
    group = np.array([len(y)]) if group is None else group
    gid = np.repeat(np.arange(len(group)), group)
    start = np.concatenate([[0], np.cumsum(group)[:-1]])
    disc = 1.0 / np.log2(np.arange(len(y)) + 2.0)
    gain = np.exp2(y.astype(np.float64)) - 1.0

    def dcg(order: np.ndarray) -> np.ndarray:
        rank = np.arange(len(y)) - start[gid[order]]
        top = rank < k
        return np.bincount(gid[order][top], gain[order][top] * disc[rank[top]], len(group))

    # Stable sorts: tied scores keep their input order, as LightGBM's stable sort does.
    got = dcg(np.lexsort((-s, gid)))
    ideal = dcg(np.lexsort((-gain, gid)))
    return float(np.mean(np.where(ideal > 0, got / np.where(ideal > 0, ideal, 1.0), 1.0)))


def _auc(s: np.ndarray, y: np.ndarray) -> float:
    """Area under the ROC curve (ties count half)."""
    from scipy.stats import rankdata

    pos = y > 0
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    if not (n_pos and n_neg):
        return 1.0
    r = rankdata(s)
    return float((r[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))
