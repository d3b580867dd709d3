"""Feedback head: will the user like a video rather than hide it, once they watch it?

The LambdaRank blend learns what a user will engage with; a hidden video and an unseen one both
count 0 there, so it barely learns which watched videos a user will hate. Like X's heavy ranker,
which predicts negative feedback next to engagement and weighs it into the final score, the
ranker adds ``coef x`` the log-odds of *liked rather than hidden*. The head is trained on the
held-out likes and hides (features from the history before them), and ``coef`` is chosen on
the users the blend held out while choosing its own settings (blend and head both out of
sample there): the largest gain in liked-above-hidden AUC that keeps NDCG@10 of liked videos
among the blend's candidates within 1% of the blend alone (up to two standard errors of the
paired per-user difference, so a small validation set does not veto on noise) and NDCG@10 of
anything watched within 5% (the same slack). In a feed log what was watched is mostly what was
shown, so that guard is the looser one. On small data the slack lets the head cost more of the
watched NDCG the publish gate judges (bench/README.md: the short log's `feedwell run` published
at 0.775 AUC; one of two demo runs missed the gate by 0.0003); with less slack the head mostly
stayed at 0.1 and tied the like-rate baseline. Data without enough hides gets no head.

The same choice is made for each personalised source on its own score (``FeedbackHead.coefs``),
so a version that serves EASE or item-kNN instead of the blend can serve it with the head
(``ease+fb`` in the evaluation; see ``ranking.serving.ServingChoice.head``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
import polars as pl

from ranking.evaluation.metrics import pair_auc
from ranking.ltr._boost import Part, head_params, train_booster
from ranking.ltr._compiled import predict_raw
from ranking.ltr._train import LtrFit

__all__ = ["FeedbackHead", "split_negatives", "fit_feedback_head"]

MIN_PAIRS = 30
"""Likes and hides each needed (held out) before a head is trained."""
WEIGHTS = (0.0, 0.1, 0.2, 0.4, 0.8, 1.6)
"""Head weights tried, in units of (std of blend scores / std of head margins)."""
LIKED_TOLERANCE = 0.01
"""How much NDCG@10 of liked videos the head may cost."""
SEEN_TOLERANCE = 0.05
"""How much NDCG@10 of anything watched the head may cost (the publish gate judges on it)."""


@dataclass
class FeedbackHead:
    """A binary booster (liked = 1, hidden = 0) and the weight of its margin in the score."""

    booster: lgb.Booster
    coef: float
    """Weight of the margin in the blend's score (0: the blend goes without)."""
    coefs: dict[str, float] = field(default_factory=dict)
    """Weight per personalised source, used when that source is served with the head."""

    def margin(self, x: np.ndarray) -> np.ndarray:
        return predict_raw(self.booster, x)


def split_negatives(neg: pl.DataFrame, fraction: float, seed: int
                    ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A seeded random ``fraction`` of the hides/reports held out as labels, the rest history."""
    rng = np.random.default_rng(seed + 1)
    held = pl.Series(rng.random(neg.height) < fraction)
    return neg.filter(~held), neg.filter(held)


class _WeightCheck:
    """Chooses a head weight for one base score on the blend's held-out users (see module
    docstring): the largest AUC gain within the liked and watched NDCG@10 tolerances."""

    def __init__(self, users_j: np.ndarray, y_j: np.ndarray, users_c: np.ndarray,
                 y_c: np.ndarray, m_c: np.ndarray, m_j: np.ndarray) -> None:
        self.users_j, self.y_j, self.users_c = users_j, y_j, users_c
        self.liked_c, self.seen_c = y_c >= 3, y_c > 0
        self.m_c, self.m_j = m_c, m_j

    def choose(self, s_c: np.ndarray, s_j: np.ndarray) -> tuple[list[dict], float, float]:
        """``(weights tried, chosen weight, scale)``: the head adds ``weight x scale x margin``."""
        s_c = np.nan_to_num(np.asarray(s_c, np.float64), nan=-1e3)
        s_j = np.nan_to_num(np.asarray(s_j, np.float64), nan=-1e3)
        scored = s_c > -1e3 + 1  # unscored pairs (a source's -1e3) do not set the scale
        scale = (float(np.std(s_c[scored]) / max(np.std(self.m_c[scored]), 1e-9))
                 if scored.sum() > 1 else 1.0)
        uv = self.users_c
        base_liked = _ndcg10(uv, s_c, self.liked_c)
        base_seen = _ndcg10(uv, s_c, self.seen_c)
        tried, best = [], (_user_auc(self.users_j, s_j, self.y_j), 0.0)
        for w in WEIGHTS:
            auc = _user_auc(self.users_j, s_j + w * scale * self.m_j, self.y_j)
            liked = _ndcg10(uv, s_c + w * scale * self.m_c, self.liked_c)
            seen = _ndcg10(uv, s_c + w * scale * self.m_c, self.seen_c)
            tried.append({"w": w, "auc": round(auc, 4), "ndcg@10_liked": round(_mean(liked), 4),
                          "ndcg@10": round(_mean(seen), 4)})
            if (_not_worse(liked, base_liked, LIKED_TOLERANCE, slack_se=2.0)
                    and _not_worse(seen, base_seen, SEEN_TOLERANCE, slack_se=2.0)
                    and auc > best[0] + 1e-4):
                best = (auc, w)
        return tried, best[1], scale


def _ndcg10(users: np.ndarray, s: np.ndarray, rel: np.ndarray) -> np.ndarray:
    """NDCG@10 with binary relevance per user that has a relevant row (users in sorted order)."""
    f = pl.DataFrame({"u": users, "s": s, "r": (rel > 0).astype(np.float64)}).with_columns(
        pl.col("s").rank("ordinal", descending=True).over("u").alias("k"))
    g = f.group_by("u").agg(
        (pl.col("r") / (pl.col("k").cast(pl.Float64) + 1.0).log(2))
        .filter(pl.col("k") <= 10).sum().alias("dcg"),
        pl.col("r").sum().alias("n")).filter(pl.col("n") > 0).sort("u")
    ideal = np.cumsum(1.0 / np.log2(np.arange(2, 12)))
    idcg = ideal[np.minimum(g["n"].to_numpy().astype(int), 10) - 1]
    return g["dcg"].to_numpy() / idcg


def _not_worse(new: np.ndarray, base: np.ndarray, tolerance: float, slack_se: float) -> bool:
    """Per-user NDCG not worse than ``tolerance`` x the base mean, beyond ``slack_se`` standard
    errors of the paired difference."""
    if len(base) == 0:
        return True
    d = new - base
    se = float(np.std(d, ddof=1) / np.sqrt(len(d))) if len(d) > 1 else 0.0
    return float(np.mean(d)) + slack_se * se >= -tolerance * float(np.mean(base))


def _mean(v: np.ndarray) -> float:
    return float(np.mean(v)) if len(v) else float("nan")


def _user_auc(users: np.ndarray, s: np.ndarray, y: np.ndarray) -> float:
    vals = [pair_auc(s[(users == u) & (y == 1)], s[(users == u) & (y == 0)])
            for u in np.unique(users)]
    vals = [v for v in vals if not np.isnan(v)]
    return float(np.mean(vals)) if vals else float("nan")


def fit_feedback_head(xp: np.ndarray, up: np.ndarray, xn: np.ndarray, un: np.ndarray,
                      blend: LtrFit, cand: tuple[np.ndarray, np.ndarray, np.ndarray],
                      names: list[str], cfg: Any, sources: tuple[str, ...] = (),
                      client: Any = None) -> tuple[FeedbackHead | None, dict]:
    """Train the head on liked (``xp``, users ``up``) vs hidden (``xn``, ``un``) pairs.

    Args:
        blend: the LambdaRank blend's fit (its held-out users and booster choose ``coef``).
        cand: ``(x, y, users)`` of the blend's graded candidates (3 = liked), to check NDCG@10.
        cfg: the ranker's config (seed, learning rate, threads, validation share).
        sources: personalised sources that get a weight of their own (``FeedbackHead.coefs``).
        client: a ``distributed.Client`` to train the head on (None: this process).

    Returns:
        The head (None when the data has too few likes or hides, or no weight helps the blend
        or any source) and a report with the weights tried.
    """
    report: dict[str, Any] = {"feedback_pairs": [int(len(xp)), int(len(xn))]}
    if blend.valid_booster is None or len(xp) < MIN_PAIRS or len(xn) < MIN_PAIRS:
        return None, report
    x = np.vstack([xp, xn])
    y = np.concatenate([np.ones(len(xp), np.int32), np.zeros(len(xn), np.int32)])
    users = np.concatenate([up, un])
    valid = blend.valid_users
    va = np.fromiter((u in valid for u in users), bool, len(users))
    if va.sum() < 10 or (~va).sum() < MIN_PAIRS:
        return None, report
    params = head_params(cfg)
    head = train_booster(params, Part(x[~va], y[~va]), cfg.max_rounds, names,
                         Part(x[va], y[va]), client=client).booster
    rounds = max(head.best_iteration, 10)
    cx, cy, cu = cand
    in_v = np.fromiter((u in valid for u in cu), bool, len(cu))
    bst = blend.valid_booster
    m_c = head.predict(cx[in_v], raw_score=True)
    m_j = head.predict(x[va], raw_score=True)
    check = _WeightCheck(users[va], y[va], cu[in_v], cy[in_v], m_c, m_j)
    tried, w_blend, scale = check.choose(bst.predict(cx[in_v], num_iteration=bst.best_iteration),
                                         bst.predict(x[va], num_iteration=bst.best_iteration))
    report.update({"feedback_weights": tried, "feedback_w": w_blend})
    # The same choice for each personalised source the version can serve instead of the blend
    # (``ServingChoice.head``): its own scores, the same validation users and guards.
    coefs: dict[str, float] = {}
    for src in sources:
        col = next((c for c in (f"z_{src}", f"score_{src}") if c in names), None)
        if col is None:
            continue
        k = names.index(col)
        _, w, sc = check.choose(cx[in_v][:, k], x[va][:, k])
        report.setdefault("feedback_w_sources", {})[src] = w
        if w > 0:
            coefs[src] = w * sc
    if w_blend == 0.0 and not coefs:
        return None, report
    full = train_booster(params, Part(x, y), int(rounds * 1.1), names, client=client).booster
    return FeedbackHead(full, w_blend * scale, coefs), report
