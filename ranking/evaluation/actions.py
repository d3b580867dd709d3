"""How well a version predicts each action, and what its objective's weights buy.

- **Per action**: on the test part's acted-on pairs of known users, the AUC of the head's
  ``P(action | engage)`` against the AUC of the item's own rate of that action in training
  (``_actions.item_action_rates``), and calibration by decile.
- **The creation trade-off**: the ``actions`` model's top-k for known test users under the
  version's objective with the creation and connection weights (share, comment, remix,
  follow) scaled by each factor; factor 0 is the engagement-only objective. Each point has
  NDCG@k (anything engaged with in test is relevant) and the creation rate@k (the share of the
  top k the user went on to share, comment on, remix, or follow the creator of).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from ranking.evaluation.metrics import ndcg_per_user
from ranking.evaluation.result import ActionFigure, ActionFigures, Tradeoff, TradeoffPoint
from ranking.interactions import Interactions
from ranking.ltr import (
    PairRows,
    acted_pairs,
    action_figures,
    item_action_rates,
    pair_actions,
    rates_for,
)
from ranking.ltr.objective import ACTIONS, CREATION_ACTIONS, DEFAULT_WEIGHTS, scaled_creation

__all__ = ["evaluate_actions", "FACTORS"]

FACTORS = (0.0, 0.5, 1.0, 2.0, 4.0, 8.0)
"""Multipliers of the creation and connection weights on the trade-off curve."""
MAX_PAIRS = 50_000
"""Test pairs scored for the per-action figures at most (a seeded sample beyond)."""
MAX_USERS = 1_000
"""Known test users on the trade-off curve at most (a seeded sample beyond)."""


def evaluate_actions(ranker: Any, train: Interactions, test: Interactions, users: list[str],
                     rels: list[set], k: int = 10, seed: int = 42, rows: PairRows | None = None
                     ) -> ActionFigures | None:
    """Per-action AUC and calibration, and the creation trade-off (see module docstring).

    Args:
        ranker: an ``LtrRanker`` fitted on ``train`` (None or without heads: None).
        test: the test part's interactions (its raw events name the actions).
        users / rels: the known test users and what each engaged with in test.
        rows: the version's candidates and pair features the evaluation already computed
            for these users and ``acted_pairs(test)`` (None: computed here).
    """
    if ranker is None or ranker.actions is None or not users:
        return None
    rng = np.random.default_rng(seed)
    rows = rows or PairRows(ranker, [])
    per_action = _per_action(ranker, train, test, rng, rows)
    return ActionFigures(per_action, _tradeoff(ranker, test, users, rels, k, rng, rows))


def _per_action(ranker: Any, train: Interactions, test: Interactions,
                rng: np.random.Generator, rows: PairRows) -> dict[str, ActionFigure]:
    d = ranker.data
    pairs = acted_pairs(test)
    u = np.array([d.user_index(x) for x in pairs["user_id"].to_list()], np.int64)
    i = d.item_index(pairs["item_id"].to_list())
    ok = (u >= 0) & (i >= 0)
    if ok.sum() > MAX_PAIRS:
        ok &= rng.random(len(ok)) < MAX_PAIRS / ok.sum()
    pairs, u, i = pairs.filter(pl.Series(ok)), u[ok], i[ok]
    if not pairs.height:
        return {}
    y = pair_actions(test, pairs).select(ACTIONS).to_numpy().astype(np.int32)
    cond = ranker.actions.conditional(rows.features(u, i), i)
    figures = action_figures(cond, y, rates_for(item_action_rates(train), pairs["item_id"]))
    return {a: ActionFigure.from_figures(f) for a, f in figures.items()}


def _tradeoff(ranker: Any, test: Interactions, users: list[str], rels: list[set], k: int,
              rng: np.random.Generator, rows: PairRows) -> Tradeoff | None:
    d = ranker.data
    keep = [n for n, x in enumerate(users) if d.user_index(x) >= 0]
    if len(keep) > MAX_USERS:
        keep = sorted(rng.choice(keep, MAX_USERS, replace=False).tolist())
    users = [users[n] for n in keep]
    rels = [rels[n] for n in keep]
    if not users:
        return None
    cand = rows.candidates(users)
    u, i = rows.index(cand)
    probs = rows.joint(u, i)
    # What each user created from (or followed the creator of) in test.
    lab = pair_actions(test, acted_pairs(test))
    made = lab.filter(pl.any_horizontal([pl.col(a) > 0 for a in CREATION_ACTIONS]))
    made_d: dict[str, set] = {}
    for uid, iid in made.select("user_id", "item_id").iter_rows():
        made_d.setdefault(uid, set()).add(iid)
    base = {a: w for a, w in ranker.objective.items()}
    if not any(base.get(a, 0.0) for a in CREATION_ACTIONS):
        base = {**base, **{a: DEFAULT_WEIGHTS[a] for a in CREATION_ACTIONS}}
    points = []
    for f in FACTORS:
        w = scaled_creation(base, f)
        s = ranker.objective_scores(probs, u, i, w)
        top = (cand.select("user_id", "item_id").with_columns(pl.Series("s", s))
               .sort(["user_id", "s", "item_id"], descending=[False, True, False])
               .filter(pl.int_range(pl.len()).over("user_id") < k)
               .group_by("user_id", maintain_order=True).agg("item_id"))
        got = {r[0]: r[1] for r in top.iter_rows()}
        recs = [got.get(x, []) for x in users]
        nd = ndcg_per_user(recs, rels, k)
        cr = [sum(1 for it in r[:k] if it in made_d.get(x, ())) / k
              for x, r in zip(users, recs, strict=True)]
        points.append(TradeoffPoint(factor=f, ndcg=round(float(np.nanmean(nd)), 5),
                                    creation=round(float(np.mean(cr)), 5)))
    eng = points[0]
    at1 = next(p for p in points if p.factor == 1.0)
    c0, n0 = eng.creation, eng.ndcg
    return Tradeoff(k=k, users=len(users), weights=base, points=tuple(points),
                    creation_lift=round(at1.creation / c0 - 1, 4) if c0 > 0 else None,
                    ndcg_cost=round(1 - at1.ndcg / n0, 4) if n0 > 0 else None)
