"""Action heads: the probability of each action a viewer may take on a candidate.

A candidate's chance of an action factors into two calibrated LightGBM heads:

    P(action) = P(engage) x P(action | engage)

- **engage** is trained on the blend's candidate rows: did the user act on the candidate at
  all in the held-out part (watched, liked, hid, skipped, ...). Negatives are subsampled to a
  bounded row count and weighted back, so the head predicts the full candidate rate.
- **one head per action** (``objective.ACTIONS``) is trained on the held-out pairs the user
  acted on: did a completed view, a like, a share, ... follow. These are the rates an item's
  own history estimates too (the evaluation's AUC bar: "the item's own rate").

Both sides use the blend's features (source scores and ranks, catalog features), and the
action heads also the video's own smoothed rate of each action (``rate_matrix``: from the
history in training, from all of the version's data when served; a video the version never
saw takes the mean rate), point in time: the held-out pairs, hides, quick skips and the
follows they led to are left out of the history the features come from. Rare actions are
handled openly: an action with fewer than ``MIN_POSITIVES`` training positives is predicted
by its pool's head (``POOLS``: creation and connection actions pool as ``create``, hide and
report as ``negative``) times its share of the pool's positives; a pool that is still too
rare predicts its base rate. Each head is trained on the training users and early-stopped on
the held-out users (the blend's, so both are out of sample there); Platt scaling on those
users calibrates it, and its calibration by decile is reported. A version serves
``sum(weight x P(action))`` with the objective's weights (``ranking.ltr.objective``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
import polars as pl

from ranking.evaluation.metrics import pair_auc
from ranking.interactions import Interactions
from ranking.ltr._boost import Part, action_params, train_booster
from ranking.ltr._compiled import predict_raw
from ranking.ltr.objective import ACTIONS

__all__ = ["ActionHeads", "pair_actions", "held_out_skips", "attributed_follows", "acted_pairs",
           "item_action_rates", "fit_action_heads", "action_figures", "calibration_deciles",
           "MIN_POSITIVES", "POOLS", "rate_matrix", "RATE_NAMES"]

MIN_POSITIVES = 30
"""Training positives an action needs for a head of its own."""
MIN_ROUNDS = 50
"""Boosting rounds a head keeps at least (when it trained that many)."""
POOLS = {"share": "create", "comment": "create", "remix": "create", "follow": "create",
         "hide": "negative", "report": "negative"}
"""The pool a rare action borrows its head from (complete, like and skip are never rare)."""
MAX_ENGAGE_ROWS = 200_000
"""Candidate rows the engage head trains on at most (negatives subsampled, weighted back)."""
COMPLETE_FRAC = 0.8
"""A completed view: this share of the video or more."""
QUICK_SKIP_FRAC = 0.1
"""A quick skip: a skip with no view past this share of the video."""
FOLLOW_WINDOW = "30m"
"""A follow is credited to the viewer's last video by that creator within this time before."""


def attributed_follows(data: Interactions) -> pl.DataFrame:
    """``(user_id, item_id, creator_id)``: each follow credited to the video that led to it (the
    user's latest event on a video by that creator within ``FOLLOW_WINDOW`` before it)."""
    empty = pl.DataFrame(schema={"user_id": pl.String, "item_id": pl.String,
                                 "creator_id": pl.String})
    ev = data.events
    if ev is None or not ev.height or not data.items.height:
        return empty
    f = (ev.filter((pl.col("type") == "follow") & pl.col("target_user_id").is_not_null())
         .select("user_id", pl.col("target_user_id").alias("creator_id"),
                 pl.col("ts").cast(pl.Datetime("us"))).sort("ts"))
    if not f.height:
        return empty
    creator = data.items.select("item_id", "creator_id").drop_nulls()
    seen = (ev.filter(pl.col("item_id").is_not_null())
            .select("user_id", "item_id", pl.col("ts").cast(pl.Datetime("us")))
            .join(creator, on="item_id").join(f.select("user_id", "creator_id").unique(),
                                              on=["user_id", "creator_id"], how="semi")
            .sort("ts"))
    got = f.join_asof(seen, on="ts", by=["user_id", "creator_id"], strategy="backward",
                      tolerance=FOLLOW_WINDOW, check_sortedness=False)
    return (got.filter(pl.col("item_id").is_not_null())
            .select("user_id", "item_id", "creator_id").unique().sort("user_id", "item_id"))


def held_out_skips(data: Interactions, fraction: float, seed: int) -> pl.DataFrame:
    """A seeded random ``fraction`` of the pairs that were only skipped (no positive, hide or
    report), held out like the positives: ``(user_id, item_id)``."""
    ev = data.events
    if ev is None or not ev.height:
        return pl.DataFrame(schema={"user_id": pl.String, "item_id": pl.String})
    key = ["user_id", "item_id"]
    sk = (ev.filter((pl.col("type") == "skip") & pl.col("item_id").is_not_null())
          .select(key).unique().join(data.frame.select(key), on=key, how="anti")
          .join(data.negatives.select(key), on=key, how="anti").sort(key))
    rng = np.random.default_rng(seed + 2)
    return sk.filter(pl.Series(rng.random(sk.height) < fraction))


def acted_pairs(data: Interactions) -> pl.DataFrame:
    """Every ``(user_id, item_id)`` the user acted on: positives, hides and reports, and pairs
    only skipped (a bare impression is not an action)."""
    key = ["user_id", "item_id"]
    parts = [data.frame.select(key), data.negatives.select(key)]
    if data.events is not None and data.events.height:
        parts.append(data.events.filter((pl.col("type") == "skip")
                                        & pl.col("item_id").is_not_null()).select(key))
    return pl.concat(parts).unique().sort(key)


def item_action_rates(data: Interactions, prior_weight: float = 5.0) -> pl.DataFrame:
    """Each item's own rate of every action over the pairs acted on in ``data``, smoothed
    towards the overall rate by ``prior_weight`` pairs: ``(item_id, <action>...)``."""
    lab = pair_actions(data, acted_pairs(data))
    if not lab.height:
        return pl.DataFrame(schema={"item_id": pl.String, **dict.fromkeys(ACTIONS, pl.Float64)})
    prior = {a: float(lab[a].mean()) for a in ACTIONS}
    return lab.group_by("item_id").agg(
        *[((pl.col(a).sum() + prior_weight * prior[a]) / (pl.len() + prior_weight)).alias(a)
          for a in ACTIONS]).sort("item_id")


def rates_for(rates: pl.DataFrame, item_ids: pl.Series) -> np.ndarray:
    """``item_action_rates`` looked up for ``item_ids`` (an unknown item: the mean rate)."""
    got = pl.DataFrame({"item_id": item_ids}).join(rates, on="item_id", how="left",
                                                   maintain_order="left")
    fill = {a: float(rates[a].mean()) if rates.height else 0.0 for a in ACTIONS}
    return got.select([pl.col(a).fill_null(fill[a]) for a in ACTIONS]).to_numpy()


def rate_matrix(data: Interactions, item_ids: np.ndarray) -> np.ndarray:
    """``item_action_rates`` of ``data`` as an ``(items, ACTIONS)`` array in ``item_ids``'
    order (an item with no acted-on pair: the mean rate); float32."""
    return rates_for(item_action_rates(data), pl.Series(list(item_ids), dtype=pl.String)
                     ).astype(np.float32)


RATE_NAMES = [f"i_rate_{a}" for a in ACTIONS]
"""The conditional heads' extra inputs: the video's own smoothed rate of each action."""


def with_item_rates(x: np.ndarray, rates: np.ndarray, items: np.ndarray) -> np.ndarray:
    """``x`` with the rows' items' own action rates (``rate_matrix`` rows) appended; an
    unknown item (index < 0) takes the mean rate."""
    items = np.asarray(items, np.int64)
    if not len(rates):
        return np.hstack([x, np.zeros((len(items), len(ACTIONS)), x.dtype)])
    got = rates[np.maximum(items, 0)]  # a copy: fancy indexing
    if (items < 0).any():
        got[items < 0] = rates.mean(axis=0)
    return np.hstack([x, got.astype(x.dtype, copy=False)])


def action_figures(cond: np.ndarray, y: np.ndarray, item_rate: np.ndarray
                   ) -> dict[str, dict[str, Any]]:
    """Per action: AUC of ``cond`` (P(action | engage)) and of the item's own rate on the same
    pairs, their ratio, and calibration by decile."""
    out = {}
    for j, a in enumerate(ACTIONS):
        yy = y[:, j]
        auc = pair_auc(cond[yy == 1, j], cond[yy == 0, j])
        base = pair_auc(item_rate[yy == 1, j], item_rate[yy == 0, j])
        out[a] = {"positives": int(yy.sum()), "pairs": int(len(yy)),
                  "auc": _r(auc), "item_rate_auc": _r(base),
                  "auc_vs_item_rate": _r(auc / base) if base == base and base > 0 else None,
                  "calibration": calibration_deciles(cond[:, j], yy)}
    return out


def _r(v: float) -> float | None:
    return round(float(v), 4) if v == v else None


def pair_actions(data: Interactions, pairs: pl.DataFrame,
                 follows: pl.DataFrame | None = None) -> pl.DataFrame:
    """0/1 of every action for ``pairs`` ``(user_id, item_id)``, in their order.

    Completed view and like come from ``data.frame`` (watch fraction, net likes); share,
    comment, remix, hide, report and skip from the raw events; follow from
    ``attributed_follows`` (or ``follows``, when already computed).
    """
    key = ["user_id", "item_id"]
    p = pairs.select(key)
    out = p.join(data.frame.select(*key, "watch_frac", "liked"), on=key, how="left",
                 maintain_order="left")
    ev = data.events
    kinds = ("share", "comment", "remix", "hide", "report", "skip")
    if ev is not None and ev.height:
        t = pl.col("type")
        agg = (ev.filter(pl.col("item_id").is_not_null() & t.is_in(kinds))
               .join(p, on=key, how="semi").group_by(key)
               .agg(*[(t == k).any().alias(f"_{k}") for k in kinds]))
        out = out.join(agg, on=key, how="left", maintain_order="left")
    else:
        out = out.with_columns(*[pl.lit(None, pl.Boolean).alias(f"_{k}") for k in kinds])
    fol = attributed_follows(data) if follows is None else follows
    out = out.join(fol.select(*key, pl.lit(True).alias("_follow")).unique(key), on=key,
                   how="left", maintain_order="left")
    frac = pl.col("watch_frac").fill_null(0.0)
    flag = {
        "view": pl.col("watch_frac").is_not_null() & ~(pl.col("_skip").fill_null(False)
                                                       & (frac < QUICK_SKIP_FRAC)),
        "complete": frac >= COMPLETE_FRAC,
        "like": pl.col("liked").fill_null(0) > 0,
        "share": pl.col("_share").fill_null(False), "comment": pl.col("_comment").fill_null(False),
        "remix": pl.col("_remix").fill_null(False), "follow": pl.col("_follow").fill_null(False),
        "hide": pl.col("_hide").fill_null(False), "report": pl.col("_report").fill_null(False),
        "skip": pl.col("_skip").fill_null(False) & (frac < QUICK_SKIP_FRAC),
    }
    return out.select(*key, *[flag[a].cast(pl.Int8).alias(a) for a in ACTIONS])


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -35, 35)))


def _platt(m: np.ndarray, y: np.ndarray, w: np.ndarray | None = None) -> tuple[float, float]:
    """``(a, b)`` so that ``sigmoid(a * margin + b)`` minimises the (weighted) log-loss."""
    a, b = _logistic(m[:, None], y, w, ridge=0.0)
    return a, b


def _logit(r: np.ndarray) -> np.ndarray:
    """``log(r / (1 - r))`` of a rate, kept off 0 and 1."""
    r = np.clip(np.asarray(r, np.float64), 1e-4, 1 - 1e-4)
    return np.log(r / (1 - r))


def _logistic(x: np.ndarray, y: np.ndarray, w: np.ndarray | None = None, ridge: float = 1.0
              ) -> tuple[float, ...]:
    """Coefficients of ``x``'s columns, then the intercept, of the (weighted) logistic
    regression of ``y`` on them (Newton's method on a convex problem; a constant ``y`` gives
    1, 0, ..., 0). The slopes carry a ``ridge`` penalty: with several inputs, separable
    held-out rows cannot send them off."""
    k = x.shape[1]
    if len(y) == 0 or y.min() == y.max():
        return (1.0,) + (0.0,) * k
    w = np.ones(len(y)) if w is None else w
    xx = np.column_stack([x, np.ones(len(y))])
    beta = np.zeros(k + 1)
    beta[0] = 1.0
    pen = np.diag([ridge] * k + [0.0])
    for _ in range(50):
        p = _sigmoid(xx @ beta)
        grad = xx.T @ (w * (p - y)) + pen @ beta
        hess = (xx * (w * p * (1 - p) + 1e-9)[:, None]).T @ xx + pen
        try:
            step = np.linalg.solve(hess + 1e-6 * np.eye(k + 1), grad)
        except np.linalg.LinAlgError:
            break
        beta = beta - step
        if np.abs(step).max() < 1e-7:
            break
    return tuple(float(v) for v in beta)


def calibration_deciles(p: np.ndarray, y: np.ndarray, w: np.ndarray | None = None
                        ) -> list[dict[str, float]]:
    """Mean predicted against observed rate in each decile of ``p`` (weighted)."""
    if len(p) < 10:
        return []
    w = np.ones(len(p)) if w is None else w
    order = np.argsort(p, kind="stable")
    out = []
    for part in np.array_split(order, 10):
        ww = w[part]
        out.append({"predicted": round(float(np.average(p[part], weights=ww)), 5),
                    "observed": round(float(np.average(y[part], weights=ww)), 5),
                    "n": int(len(part))})
    return out


@dataclass
class ActionHeads:
    """The engage head and the per-action heads of one version (see module docstring)."""

    engage: lgb.Booster
    engage_platt: tuple[float, float]
    heads: dict[str, lgb.Booster] = field(default_factory=dict)
    """Booster per head name (an action's own, or a pool's)."""
    platt: dict[str, tuple[float, float]] = field(default_factory=dict)
    plan: dict[str, tuple[str, float]] = field(default_factory=dict)
    """Action -> (head name, multiplier); an empty head name predicts the multiplier (the
    action's base rate)."""
    scale: float = 1.0
    """Spread (std) of the default objective's scores on held-out candidates: the unit of the
    creator penalty on this score."""
    item_rates: np.ndarray | None = None
    """Per item of the version's index, its own smoothed rate of each action (``rate_matrix``):
    the conditional heads' extra inputs (None: heads trained without them)."""

    def engaged(self, x: np.ndarray) -> np.ndarray:
        a, b = self.engage_platt
        return _sigmoid(a * predict_raw(self.engage, x) + b)

    def head_inputs(self, x: np.ndarray, items: np.ndarray) -> np.ndarray:
        """``x`` as the conditional heads were trained on it (``with_item_rates``)."""
        return x if self.item_rates is None else with_item_rates(x, self.item_rates, items)

    def conditional(self, x: np.ndarray, items: np.ndarray) -> np.ndarray:
        """``P(action | engage)`` per row (feature rows ``x`` of the item indices ``items``),
        one column per ``ACTIONS``."""
        x = self.head_inputs(x, items)
        out = np.zeros((len(x), len(ACTIONS)), np.float64)
        cache: dict[str, np.ndarray] = {}
        for j, a in enumerate(ACTIONS):
            head, mult = self.plan[a]
            if not head:
                out[:, j] = mult
                continue
            if head not in cache:
                pa, pb, *pc = self.platt[head]
                z = pa * predict_raw(self.heads[head], x) + pb
                if pc and pc[0]:  # stacked with the video's own rate of the action
                    z = z + pc[0] * _logit(x[:, x.shape[1] - len(ACTIONS) + ACTIONS.index(head)])
                cache[head] = _sigmoid(z)
            out[:, j] = np.minimum(cache[head] * mult, 1.0)
        return out

    def joint(self, x: np.ndarray, items: np.ndarray) -> np.ndarray:
        """``P(action)`` per row and action: engage times the action given engage."""
        if not len(x):
            return np.zeros((0, len(ACTIONS)))
        return self.engaged(x)[:, None] * self.conditional(x, items)

    def meta(self) -> dict[str, Any]:
        return {"engage_platt": list(self.engage_platt),
                "platt": {k: list(v) for k, v in self.platt.items()},
                "plan": {k: list(v) for k, v in self.plan.items()}, "scale": self.scale,
                "item_rates": self.item_rates is not None}

    @classmethod
    def from_meta(cls, meta: dict[str, Any], boosters: dict[str, lgb.Booster]) -> ActionHeads:
        return cls(boosters["engage"], tuple(meta["engage_platt"]),
                   {k: v for k, v in boosters.items() if k != "engage"},
                   {k: tuple(v) for k, v in meta["platt"].items()},
                   {k: (v[0], float(v[1])) for k, v in meta["plan"].items()},
                   float(meta.get("scale", 1.0)))


def _fit_head(x: np.ndarray, y: np.ndarray, va: np.ndarray, names: list[str], cfg: Any,
              w: np.ndarray | None, client: Any, rate_col: int | None = None
              ) -> tuple[lgb.Booster, tuple[float, ...], np.ndarray]:
    """A binary head trained on ``~va`` rows, early-stopped and Platt-calibrated on ``va``;
    returns the booster, its calibration and its calibrated held-out predictions.

    With ``rate_col`` (the column of ``x`` holding the video's own rate of the head's action)
    the calibration is stacked: ``sigmoid(a * margin + b + c * logit(rate))`` on ``va``, so
    a head that learnt less than the video's own rate from few positives leans on the rate
    (the trees see it as an input, but cannot split finely on a few dozen positives)."""
    tr = ~va
    wt = None if w is None else w[tr]
    params = action_params(cfg)
    fit = train_booster(params, Part(x[tr], y[tr], weight=wt), cfg.max_rounds, names,
                        Part(x[va], y[va]), client=client)
    bst = fit.booster
    # At least MIN_ROUNDS: on a small held-out set early stopping halts on noise, before the
    # head has moved far from the base rate (Platt scaling then corrects the spread).
    rounds = min(max(bst.best_iteration or bst.num_trees(), MIN_ROUNDS), bst.num_trees())
    m = bst.predict(x[va], raw_score=True, num_iteration=rounds)
    yv, wv = y[va].astype(np.float64), None if w is None else w[va]
    bst = lgb.Booster(model_str=bst.model_to_string(num_iteration=rounds))
    if rate_col is None:
        ab = _platt(m, yv, wv)
        return bst, ab, _sigmoid(ab[0] * m + ab[1])
    r = _logit(x[va, rate_col])
    a, c, b = _logistic(np.column_stack([m, r]), yv, wv)
    return bst, (a, b, c), _sigmoid(a * m + b + c * r)


def fit_action_heads(cand_x: np.ndarray, cand_users: np.ndarray, engaged: np.ndarray,
                     pair_x: np.ndarray, pair_users: np.ndarray, labels: pl.DataFrame,
                     rates: np.ndarray, cand_items: np.ndarray, pair_items: np.ndarray,
                     valid_users: frozenset, names: list[str], cfg: Any, client: Any = None
                     ) -> tuple[ActionHeads | None, dict]:
    """Train the engage head and the action heads.

    Args:
        cand_x / cand_users / engaged: the blend's candidate rows, their users and whether the
            user acted on the candidate in the held-out part.
        pair_x / pair_users / labels: the held-out pairs the users acted on, their users and
            ``pair_actions`` for them (same order).
        rates / cand_items / pair_items: each item's own rate of every action in the history
            (``rate_matrix``, the AUC reference and the conditional heads' extra inputs), and
            the item index of each candidate row and held-out pair.
        valid_users: users held out for early stopping, calibration and the report (empty: a
            seeded fifth of the users).

    Returns:
        The heads (None when there are too few rows to learn from) and a report: per action
        its head, training positives, held-out AUC against the item's own rate, and
        calibration by decile.
    """
    report: dict[str, Any] = {}
    rng = np.random.default_rng(cfg.seed + 3)
    if not valid_users:
        uniq = np.unique(np.concatenate([cand_users, pair_users]))
        valid_users = frozenset(rng.choice(uniq, max(1, int(len(uniq) * cfg.valid_fraction)),
                                           replace=False).tolist()) if len(uniq) else frozenset()
    va_c = np.fromiter((u in valid_users for u in cand_users), bool, len(cand_users))
    va_p = np.fromiter((u in valid_users for u in pair_users), bool, len(pair_users))
    yc = engaged.astype(np.int32)
    if (yc[~va_c].sum() < MIN_POSITIVES or yc[va_c].sum() < 10 or (~va_p).sum() < MIN_POSITIVES
            or va_p.sum() < 10):
        return None, {"actions_skipped": "too few held-out engagements to train action heads"}
    # Engage: every positive, negatives subsampled to the row budget and weighted back.
    neg = yc == 0
    keep_rate = min(1.0, max(MAX_ENGAGE_ROWS - int((~neg).sum()), 1) / max(int(neg.sum()), 1))
    keep = ~neg | (rng.random(len(yc)) < keep_rate)
    w = np.where(neg, 1.0 / keep_rate, 1.0)[keep]
    eng, eng_ab, p_eng = _fit_head(cand_x[keep], yc[keep], va_c[keep], names, cfg, w, client)
    report["engage"] = {"rows": int(keep.sum()), "positives": int(yc.sum()),
                        "negative_sampling": round(keep_rate, 4),
                        "auc": round(pair_auc(p_eng[yc[keep][va_c[keep]] == 1],
                                              p_eng[yc[keep][va_c[keep]] == 0]), 4),
                        "calibration": calibration_deciles(p_eng, yc[keep][va_c[keep]],
                                                           w[va_c[keep]])}
    # The conditional heads also read the video's own rate of each action in the history.
    pair_x = with_item_rates(pair_x, rates, pair_items)
    item_rate = rates[np.maximum(pair_items, 0)]
    names = [*names, *RATE_NAMES]
    y = labels.select(ACTIONS).to_numpy().astype(np.int32)
    pos_tr = y[~va_p].sum(axis=0)
    n_tr = int((~va_p).sum())
    heads: dict[str, lgb.Booster] = {}
    platt: dict[str, tuple[float, ...]] = {}
    held: dict[str, np.ndarray] = {}
    plan: dict[str, tuple[str, float]] = {}

    def train(head: str, target: np.ndarray) -> None:
        if head not in heads:
            # An action's own head is stacked with the video's own rate of it (a pool's not).
            col = (pair_x.shape[1] - len(ACTIONS) + ACTIONS.index(head)
                   if head in ACTIONS else None)
            heads[head], platt[head], held[head] = _fit_head(pair_x, target, va_p, names, cfg,
                                                             None, client, col)

    for j, a in enumerate(ACTIONS):
        if pos_tr[j] >= MIN_POSITIVES:
            train(a, y[:, j])
            plan[a] = (a, 1.0)
            continue
        pool = POOLS.get(a)
        members = [k for k, b in enumerate(ACTIONS) if POOLS.get(b) == pool] if pool else []
        pool_pos = int(pos_tr[members].sum()) if members else 0
        if pool and pool_pos >= MIN_POSITIVES:
            train(pool, (y[:, members].max(axis=1) > 0).astype(np.int32))
            # The pool's head times the action's share of the pool's positives (smoothed).
            plan[a] = (pool, float((pos_tr[j] + 0.5) / (pool_pos + 0.5 * len(members))))
        else:
            plan[a] = ("", float((pos_tr[j] + 0.5) / (n_tr + 1.0)))
    cond_va = np.zeros((int(va_p.sum()), len(ACTIONS)))
    for j, a in enumerate(ACTIONS):
        head, mult = plan[a]
        cond_va[:, j] = (np.minimum(held[head] * mult, 1.0) if head
                         else np.full(int(va_p.sum()), mult))
    heads_report = action_figures(cond_va, y[va_p], item_rate[va_p])
    for a in ACTIONS:
        heads_report[a] = {"head": plan[a][0] or "base rate", "train_positives":
                           int(pos_tr[ACTIONS.index(a)]), **heads_report[a]}
    report["actions"] = heads_report
    out = ActionHeads(eng, eng_ab, heads, platt, plan, item_rates=rates)
    # The score's unit for the creator penalty: its spread on held-out candidates under the
    # default weights.
    from ranking.ltr.objective import DEFAULT_WEIGHTS

    wv = np.array([DEFAULT_WEIGHTS.get(a, 0.0) for a in ACTIONS])
    sample = cand_x[va_c][:20_000]
    if len(sample) > 1:
        out.scale = float(max(np.std(out.joint(sample, cand_items[va_c][:20_000]) @ wv), 1e-6))
    return out, report
