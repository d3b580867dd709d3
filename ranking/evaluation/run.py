"""Offline evaluation: splits, top-k metrics, the ranker side by side with its baselines."""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from datetime import datetime
from typing import Any

import duckdb
import numpy as np
import polars as pl

from ranking.candidates import CandidateSource, make_source
from ranking.evaluation.actions import evaluate_actions
from ranking.evaluation.metrics import (
    coverage,
    intra_list_diversity,
    map_at_k,
    ndcg_at_k,
    ndcg_per_user,
    novelty,
    pair_auc,
    precision_at_k,
    recall_at_k,
)
from ranking.evaluation.objective_metrics import (
    HoldoutOutcomes,
    holdout_outcomes,
    objective_metrics,
)
from ranking.evaluation.result import (
    ActionFigures,
    EvaluationResult,
    HoldoutResult,
    SplitInfo,
    SplitResult,
)
from ranking.evaluation.selection import (
    HoldoutScores,
    SelectConfig,
    default_fallbacks,
    json_safe,
    select_models,
)
from ranking.interactions import Interactions, build_interactions
from ranking.ltr import LtrConfig, LtrRanker, PairRows, acted_pairs, release_free_memory
from ranking.serving import FB_SUFFIX, ServingChoice
from ranking.streaming import StreamingConfig, streaming_replay

__all__ = ["random_holdout", "temporal_split", "evaluate_split", "evaluate_models",
           "format_table", "liked_above_hidden_auc", "BASELINES", "MAX_TEST_USERS",
           "MAX_FIT_USERS"]

log = logging.getLogger(__name__)

# Personalised baselines; the popularity variants come from ``SelectConfig.fallbacks``.
BASELINES = ("ease", "als", "bpr", "itemknn")
MAX_TEST_USERS = 2_000
"""Test users ``evaluate_models`` scores per holdout at most (a seeded sample beyond, stated
in the result): scoring every candidate for every user grows with the users, the fits do not."""
MAX_FIT_USERS = 10_000
"""Users whose events ``evaluate_models`` splits and fits on at most: past it, a seeded sample
of users with all of their events (stated in the result). Each holdout fits the whole ranker,
so without it the evaluation costs twice the training at any size; with it, its fits stop
growing with the users (at 50k users and 100k videos they fit on a fifth of the events).
Every public log in bench/README.md is below it, and evaluates on all of its users."""


def random_holdout(events: pl.DataFrame, fraction: float = 0.25, seed: int = 42
                   ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per-user random split of user x item pairs (all events of a pair go to one side)."""
    pairs = events.filter(pl.col("item_id").is_not_null()).select("user_id", "item_id").unique()
    pairs = pairs.sort("user_id", "item_id")
    rng = np.random.default_rng(seed)
    pairs = pairs.with_columns(pl.Series("_r", rng.random(pairs.height)))
    pairs = pairs.with_columns(
        (pl.col("_r").rank("ordinal").over("user_id")
         <= (pl.len().over("user_id") * fraction).round())
        .alias("_test"))
    ev = events.join(pairs.select("user_id", "item_id", "_test"), on=["user_id", "item_id"],
                     how="left").with_columns(pl.col("_test").fill_null(False))
    return ev.filter(~pl.col("_test")).drop("_test"), ev.filter(pl.col("_test")).drop("_test")


def temporal_split(events: pl.DataFrame, quantile: float = 0.8
                   ) -> tuple[pl.DataFrame, pl.DataFrame, datetime]:
    """Global time split: events up to the ``quantile`` of time train, later ones test."""
    cut = events["ts"].sort()[int(events.height * quantile)]
    return events.filter(pl.col("ts") < cut), events.filter(pl.col("ts") >= cut), cut


def liked_above_hidden_auc(score_fn: Any, test: Interactions) -> float:
    """Mean per-user AUC of liked-in-test over hidden-in-test items under ``score_fn(u, ids)``."""
    liked = test.frame.filter(pl.col("liked") > 0).group_by("user_id").agg("item_id")
    hidden = test.negatives.group_by("user_id").agg(pl.col("item_id").alias("neg"))
    both = liked.join(hidden, on="user_id")
    vals = []
    for u, pos, neg in both.iter_rows():
        s = np.asarray(score_fn(u, list(pos) + list(neg)), float)
        s = np.nan_to_num(s, nan=-1e9)
        vals.append(pair_auc(s[:len(pos)], s[len(pos):]))
    return float(np.nanmean(vals)) if vals else float("nan")


def _metrics(recs: list, rels: list[set], liked: list[set], train: Interactions, k: int,
             topics: dict, outcomes: HoldoutOutcomes | None = None) -> dict[str, float]:
    pop = dict(train.frame.group_by("item_id").len().iter_rows())
    m = {f"ndcg@{k}": ndcg_at_k(recs, rels, k), f"recall@{k}": recall_at_k(recs, rels, k),
         f"precision@{k}": precision_at_k(recs, rels, k), f"map@{k}": map_at_k(recs, rels, k),
         f"ndcg@{k}_liked": ndcg_at_k(recs, liked, k),
         "coverage": coverage(recs, train.n_items, k),
         "novelty": novelty(recs, pop, train.n_users, k),
         "diversity": intra_list_diversity(recs, topics, k)}
    if outcomes is not None:  # creation rate, connection share, watch-time share (issue 15.2)
        m.update(objective_metrics(recs, outcomes, k))
    return m


def _lists(users: list[str], rec: Any, k: int) -> list:
    ids, _ = rec(users, k)
    return ids


def evaluate_split(
    train_events: pl.DataFrame, test_events: pl.DataFrame, items: pl.DataFrame | None = None,
    k: int = 10, config: LtrConfig | None = None, baselines: tuple[str, ...] = BASELINES,
    fallbacks: dict[str, dict] | None = None, name: str = "split",
    streaming: StreamingConfig | None = None, objective: dict[str, float] | None = None,
    max_users: int | None = None,
) -> SplitResult:
    """Train the ranker and baselines on one split and score them on the other.

    ``objective`` (action -> weight; None: the defaults) is what the ``actions`` model serves.
    With ``streaming`` (a time-forward split), the test users' events are also replayed in
    order through the same fitted models (``ranking.streaming``): ``streaming`` in the result
    has live against frozen NDCG per model, ``streaming_scores`` the per-user figures.

    Aggregate metrics are over known test users (those with training history); per-user
    NDCG@k of every test user, new ones included, goes to ``scores`` for model selection.
    With ``max_users``, a seeded sample of that many test users is scored (the streaming
    replay still samples from all of them); ``sampled_from`` in the result says so.

    Returns:
        The holdout's metrics per model, and the per-user scores selection reads.
    """
    fallbacks = default_fallbacks() if fallbacks is None else fallbacks
    seed = (config or LtrConfig()).seed
    all_test_events, sampled_from = test_events, None
    test_users = test_events["user_id"].unique().sort()
    if max_users is not None and test_users.len() > max_users:
        keep = np.random.default_rng(seed).choice(test_users.len(), max_users, replace=False)
        test_events = test_events.filter(pl.col("user_id").is_in(test_users.gather(np.sort(keep))
                                                                 .implode()))
        sampled_from = test_users.len()
    train = build_interactions(train_events, items)
    test = build_interactions(test_events, items)
    rel = test.frame.group_by("user_id").agg("item_id").sort("user_id")
    lik = test.frame.filter(pl.col("liked") > 0).group_by("user_id").agg("item_id")
    everyone = rel["user_id"].to_list()
    hist_d = dict(train.frame.group_by("user_id").len().iter_rows())
    history = np.array([hist_d.get(u, 0) for u in everyone], np.int64)
    known = history > 0
    users = [u for u, ok in zip(everyone, known, strict=True) if ok]
    rels_d = {u: set(v) for u, v in rel.iter_rows()}
    lik_d = {u: set(v) for u, v in lik.iter_rows()}
    rels_all = [rels_d[u] for u in everyone]
    rels, liked = [rels_d[u] for u in users], [lik_d.get(u, set()) for u in users]
    outcomes = holdout_outcomes(test_events, train, users)
    topics: dict = {}
    if items is not None and "topics" in items.columns:
        topics = {i: t for i, t in items.select("item_id", "topics").iter_rows() if t}
    models: dict[str, dict[str, Any]] = {}
    per_user: dict[str, np.ndarray] = {}
    auc: dict[str, float] = {}
    ranker = LtrRanker.fit(train, config)
    if objective is not None:
        ranker.set_objective(objective)
    scorers: list[tuple[str, Any, Any]] = [("ranker", ranker.recommend, ranker.score)]
    # Views of the version: their lists come from one computation of the candidates.
    views: dict[str, LtrRanker] = {"ranker": ranker}
    if ranker.actions is not None:
        # The weighted sum of the predicted actions under the version's objective.
        view = views["actions"] = ranker.served_as(ServingChoice(model="actions"))
        scorers.append(("actions", view.recommend, view.score))
    skipped: dict[str, str] = {}
    for b in baselines:
        src = next((s for s in ranker.sources if s.name == b), None) or _fit_baseline(b, train)
        if isinstance(src, str) or not src.fitted:
            # Shown as skipped with its reason, and not a candidate: its empty lists would
            # otherwise read as an NDCG of zero.
            skipped[b] = src if isinstance(src, str) else src.skipped or "failed to fit"
            continue
        scorers.append((b, src.recommend, src.score))
    # Each personalised baseline also as the feed serves it with the feedback head (``+fb``),
    # where training gave the source a weight (a name missing from a holdout is not a candidate).
    if ranker.head is not None:
        for b in baselines:
            if ranker.head.coefs.get(b) and b not in skipped:
                view = ranker.served_as(ServingChoice.named(b + FB_SUFFIX))
                views[b + FB_SUFFIX] = view
                scorers.append((b + FB_SUFFIX, view.recommend, view.score))
    fb_recs = {}
    for fb, params in fallbacks.items():
        src = (next((s for s in ranker.sources if s.name == "popular"), None)
               if fb == "popular" and not params else None) or make_source("popular", params
                                                                            ).fit(train)
        scorers.append((fb, src.recommend, src.score))
        fb_recs[fb] = src.recommend
    # The version's candidates for its known test users, and the pair features of those and
    # of every pair the AUC and the per-action figures read, from one pass over their rows.
    rows = PairRows(ranker, [u for u in everyone if ranker.data.user_index(u) >= 0],
                    (test.frame.filter(pl.col("liked") > 0), test.negatives, acted_pairs(test)))
    lists = dict(zip(views, ranker.recommend_views(list(views.values()), everyone, k, rows),
                     strict=True))
    for mname, rec, score in scorers:
        recs = lists[mname] if mname in lists else _lists(everyone, rec, k)
        per_user[mname] = ndcg_per_user(recs, rels_all, k)
        kr = [r for r, ok in zip(recs, known, strict=True) if ok]
        models[mname] = _metrics(kr, rels, liked, train, k, topics, outcomes)
        auc[mname] = liked_above_hidden_auc(rows.score(views[mname]) if mname in views
                                            else score, test)
        models[mname]["liked_above_hidden_auc"] = auc[mname]
    models.update({b: {"skipped": why} for b, why in skipped.items()})
    actions = evaluate_actions(ranker, train, test, users, rels, k, seed, rows)
    del rows
    auc["like_rate"] = liked_above_hidden_auc(_like_rate_scorer(train), test)
    models["like_rate"] = {"liked_above_hidden_auc": auc["like_rate"]}
    holdout = HoldoutResult(k=k, n_users=len(users), n_new_users=int((~known).sum()),
                            models=models, ranker_report=ranker.report, actions=actions,
                            sampled_from=sampled_from)
    scores = HoldoutScores(name, history, per_user, auc)
    if streaming is None:
        return SplitResult(holdout, scores)
    # What a version can serve: the blend and its own sources (a baseline fitted apart
    # for the comparison is not part of the version).
    own = {src.name for src in ranker.sources}
    choices = {n: ServingChoice.named(n) for n, _, _ in scorers if n not in fb_recs
               and (n in ("ranker", "actions") or n.removesuffix(FB_SUFFIX) in own)}
    fbs = {n: (lambda u, m, rec=rec: rec([u], m)[0][0].tolist()) for n, rec in fb_recs.items()}
    r = streaming_replay(ranker, choices, fbs, all_test_events, k, streaming)
    return SplitResult(holdout, scores, r.summary(),
                       HoldoutScores("streaming", r.history, r.live, {}))


def _fit_baseline(name: str, train: Interactions) -> CandidateSource | str:
    """A baseline fitted on ``train``, or why it could not be."""
    try:
        return make_source(name).fit(train)
    except Exception as exc:  # noqa: BLE001 - one baseline failing does not stop the evaluation
        log.exception("baseline %s failed to fit", name)
        return f"failed to fit: {type(exc).__name__}: {exc}"


def _like_rate_scorer(train: Interactions):
    f = train.frame.group_by("item_id").agg(
        ((pl.col("liked").sum() + 0.1) / (pl.len() + 1)).alias("r"))
    rate = dict(f.iter_rows())
    return lambda _u, ids: np.array([rate.get(i, np.nan) for i in ids])


def evaluate_models(con: duckdb.DuckDBPyConnection, now: datetime | None = None, k: int = 10,
                    config: LtrConfig | None = None, select: SelectConfig | None = None,
                    progress: Any = None, objective: dict[str, float] | None = None,
                    max_users: int | None = MAX_TEST_USERS,
                    max_fit_users: int | None = MAX_FIT_USERS) -> EvaluationResult:
    """Evaluate on the store, on a per-user random and a time-forward holdout, and select.

    The random holdout holds out a seeded quarter of each user's (user, video) pairs; the
    time-forward one cuts at 80% of the events up to ``now``. ``objective``: the action
    weights the ``actions`` model is judged with (None: the defaults). ``models`` keeps the
    time-forward holdout's metrics (known users); ``holdouts`` has both; ``selection`` says
    what the feed serves (see ``ranking.evaluation.selection``). Each holdout scores at most
    ``max_users`` test users (None: all; see ``evaluate_split``). Past ``max_fit_users``
    users (None: no cap), both holdouts are cut from a seeded sample of that many users and
    all of their events; ``split.users`` in the result says so.

    Returns:
        The result without objective verdicts (``gate``, ``guardrails``: see
        ``ranking.lifecycle.evaluate_version``); ``seconds`` is the evaluation's own wall
        time, and each holdout has its own too.
    """
    t0 = time.perf_counter()
    select = select or SelectConfig()
    seed = (config or LtrConfig()).seed
    where, params = ("WHERE ts <= $now", {"now": now}) if now is not None else ("", None)
    # Sorted, so that the same store gives the same frames, splits and models every time.
    events = con.sql("SELECT user_id, ts, type, item_id, target_user_id, watch_ms "
                     f"FROM events {where} ORDER BY ts, user_id, type, item_id, event_id",
                     params=params).pl()
    items = con.sql("SELECT item_id, creator_id, created_at, duration_ms, topics, status "
                    "FROM items ORDER BY item_id").pl()
    if events.height < 10:
        from features.errors import DataError

        raise DataError("too few events to evaluate: ingest data first")
    events, users = _sample_users(events, max_fit_users, seed)
    tr_r, te_r = random_holdout(events, 0.25, seed=seed)
    tr_t, te_t, cut = temporal_split(events)
    holdouts: dict[str, HoldoutResult] = {}
    streaming_summary = None
    scores = []
    for name, tr, te in (("random", tr_r, te_r), ("temporal", tr_t, te_t)):
        if progress is not None:
            progress(f"evaluating on the {name} holdout"
                     + (" and its streaming replay" if name == "temporal" else ""))
        t = time.perf_counter()
        r = evaluate_split(tr, te, items, k, config, fallbacks=select.fallbacks, name=name,
                           streaming=StreamingConfig(seed=seed) if name == "temporal" else None,
                           objective=objective, max_users=max_users)
        holdouts[name] = replace(r.holdout, seconds=round(time.perf_counter() - t, 1))
        release_free_memory()  # this holdout's fitted models are gone: their heap goes back
        scores.append(r.scores)
        if r.streaming_scores is not None:
            # The replay feeds the choice like the two holdouts: what serves live best wins.
            scores.append(r.streaming_scores)
            streaming_summary = r.streaming
    fwd = holdouts["temporal"]
    names = ["ranker"] + [n for n in ("actions",) + tuple(
        x for b in BASELINES for x in (b, b + FB_SUFFIX)) if all(n in h.ndcg for h in scores)]
    res = EvaluationResult(
        k=k, holdouts=holdouts,
        streaming=json_safe(streaming_summary) if streaming_summary is not None else None,
        split=SplitInfo(cutoff=cut.isoformat(), fraction=0.25, seed=seed, users=users),
        models=json_safe(fwd.models),
        actions={h: r.actions for h, r in holdouts.items() if r.actions is not None},
        n_users=fwd.n_users, ranker_report=fwd.ranker_report,
        selection=select_models(scores, names, "like_rate", select),
        seconds=round(time.perf_counter() - t0, 1),
        holdout_seconds={h: r.seconds for h, r in holdouts.items()}, objective=objective)
    return replace(res, table=format_table(res))


def _sample_users(events: pl.DataFrame, cap: int | None, seed: int
                  ) -> tuple[pl.DataFrame, tuple[int, int] | None]:
    """``events`` of a seeded sample of ``cap`` users (all of their events, in order), and
    ``(sampled, of)``; unchanged with None when there are no more users than ``cap``."""
    users = events["user_id"].unique().sort()
    if cap is None or users.len() <= cap:
        return events, None
    keep = np.random.default_rng(seed + 7).choice(users.len(), cap, replace=False)
    picked = users.gather(np.sort(keep)).implode()
    return events.filter(pl.col("user_id").is_in(picked)), (cap, users.len())


def format_table(result: EvaluationResult) -> str:
    """A readable table: each model on both holdouts, pooled, and its margin to the served.

    A result with ``models`` and no ``holdouts`` (a version's recorded metrics) shows them as
    the time-forward holdout's.
    """
    k = result.k
    key = f"ndcg@{k}"
    hold = {h: r.models for h, r in result.holdouts.items()} or {"temporal": result.models}
    sel = result.selection
    pooled = sel.pooled if sel is not None else {}
    iv = sel.intervals if sel is not None else {}
    names = [n for n in next(iter(hold.values())) if n != "like_rate"]

    def f(v: Any, width: int = 9) -> str:
        return f"{v:>{width}.4f}" if isinstance(v, float) and v == v else f"{'-':>{width}}"

    cols = [f"{h} {key}" for h in hold] + ["pooled", "vs served (95% CI)", "AUC liked>hidden"]
    lines = [f"{'model':<10}" + "".join(f" {c:>17}" for c in cols)]
    lines.append("-" * len(lines[0]))
    skipped: dict[str, dict[str, str]] = {}
    for n in names:
        why = {h: hold[h].get(n, {}).get("skipped") for h in hold}
        if any(why.values()):
            skipped[n] = {h: w for h, w in why.items() if w}
        if all(why.values()):
            lines.append(f"{n:<10}" + f"{'skipped':>18}" * len(cols))
            continue
        row = [f"{'skipped':>18}" if why[h] else f(hold[h].get(n, {}).get(key), 18)
               for h in hold]
        row.append(f(pooled.get(n, {}).get("ndcg"), 18))
        d = iv.get(n)
        # The served model's margin over this one, with its bootstrap interval.
        served = sel is not None and n == sel.served
        row.append(f" {-d['diff']:+.4f} [{-d['hi']:+.3f},{-d['lo']:+.3f}]".rjust(18)
                   if d and d.get("n") else f"{'served' if served else '-':>18}")
        row.append(f(pooled.get(n, {}).get("auc", hold[next(iter(hold))][n].get(
            "liked_above_hidden_auc")), 18))
        lines.append(f"{n:<10}" + "".join(row))
    lr = [hold[h].get("like_rate", {}).get("liked_above_hidden_auc") for h in hold]
    lr = [v for v in lr if isinstance(v, float) and v == v]
    if lr:
        lines.append(f"{'like_rate':<10}" + f"{'-':>18}" * (len(hold) + 2)
                     + f(float(np.mean(lr)), 18))
    st = result.streaming
    if st and st.get("models"):
        lines.append(f"streaming replay ({st['n_users']} users, {st['n_new_users']} new, "
                     f"{st['n_pages']} pages): {key} live vs frozen")
        for n, m in st["models"].items():
            lines.append(f"  {n:<10}{f(m['live'])} vs{f(m['frozen'])}  "
                         f"new users{f(m['live_new_users'])} vs{f(m['frozen_new_users'])}")
    lines += _action_lines(result.actions, k)
    for n, why in skipped.items():
        reasons = sorted(set(why.values()))
        lines.append(f"skipped: {n} on {', '.join(why)}: {'; '.join(reasons)}")
    if result.split is not None and result.split.users is not None:
        n, of = result.split.users
        lines.append(f"holdouts cut from a seeded sample of {n} of {of} users, with all of "
                     "their events (the fits' cost stops growing with the users)")
    for h, r in result.holdouts.items():
        if r.sampled_from is not None:
            lines.append(f"users scored on {h}: capped, a seeded sample of its "
                         f"{r.sampled_from} test users ({r.n_users} known, {r.n_new_users} new)")
    if isinstance(result.seconds, (int, float)):
        lines.append(f"evaluation took {result.seconds} s")
    if sel is not None:
        lines.append(f"served: {sel.served} (fallback {sel.fallback}, back-off below "
                     f"{sel.backoff_below} interactions)")
    return "\n".join(lines)


def _action_lines(actions: dict[str, ActionFigures], k: int) -> list[str]:
    """The action heads' AUC against the item's own rate, and the creation trade-off."""
    out = []
    for h, a in actions.items():
        if a.per_action:
            cells = [f"{n} {v.auc:.3f}/{v.item_rate_auc:.3f}" for n, v in a.per_action.items()
                     if v.auc is not None and v.item_rate_auc is not None]
            out.append(f"actions on {h}: head AUC / item-rate AUC: " + ", ".join(cells))
        t = a.tradeoff
        if t is not None and t.points:
            pts = " ".join(f"x{p.factor:g}:{p.ndcg:.4f}/{p.creation:.4f}" for p in t.points)
            lift, cost = t.creation_lift, t.ndcg_cost
            out.append(f"  creation weights on {h} (factor: ndcg@{k}/creation@{k}): {pts}"
                       + (f"; x1 vs x0: creation {lift:+.1%}, NDCG cost {cost:+.1%}"
                          if lift is not None and cost is not None else ""))
    return out
