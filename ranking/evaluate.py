"""Offline evaluation: splits, top-k metrics, the ranker side by side with its baselines."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import duckdb
import numpy as np
import polars as pl

from ranking._metrics import (
    coverage,
    intra_list_diversity,
    map_at_k,
    ndcg_at_k,
    novelty,
    pair_auc,
    precision_at_k,
    recall_at_k,
)
from ranking.candidates import make_source
from ranking.interactions import Interactions, build_interactions
from ranking.ltr import LtrConfig, LtrRanker

__all__ = ["random_holdout", "temporal_split", "evaluate_split", "evaluate_models",
           "passes_gate", "format_table", "liked_above_hidden_auc", "BASELINES"]

log = logging.getLogger(__name__)

BASELINES = ("popular", "als", "bpr", "ease", "itemknn")


def random_holdout(events: pl.DataFrame, fraction: float = 0.25, seed: int = 42
                   ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per-user random split of user x item pairs (all events of a pair go to one side)."""
    pairs = events.filter(pl.col("item_id").is_not_null()).select("user_id", "item_id").unique()
    pairs = pairs.sort("user_id", "item_id")
    rng = np.random.default_rng(seed)
    pairs = pairs.with_columns(pl.Series("_r", rng.random(pairs.height)))
    pairs = pairs.with_columns(
        (pl.col("_r").rank("ordinal").over("user_id") <= (pl.len().over("user_id") * fraction).round())
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
             topics: dict) -> dict[str, float]:
    pop = dict(train.frame.group_by("item_id").len().iter_rows())
    return {f"ndcg@{k}": ndcg_at_k(recs, rels, k), f"recall@{k}": recall_at_k(recs, rels, k),
            f"precision@{k}": precision_at_k(recs, rels, k), f"map@{k}": map_at_k(recs, rels, k),
            f"ndcg@{k}_liked": ndcg_at_k(recs, liked, k),
            "coverage": coverage(recs, train.n_items, k),
            "novelty": novelty(recs, pop, train.n_users, k),
            "diversity": intra_list_diversity(recs, topics, k)}


def evaluate_split(
    train_events: pl.DataFrame, test_events: pl.DataFrame, items: pl.DataFrame | None = None,
    k: int = 10, config: LtrConfig | None = None, baselines: tuple[str, ...] = BASELINES,
) -> dict[str, Any]:
    """Train the ranker and baselines on one split and score them on the other.

    Returns:
        ``{"models": {name: metrics}, "n_users": ..., "k": k}`` (JSON-able).
    """
    train = build_interactions(train_events, items)
    test = build_interactions(test_events, items)
    rel = test.frame.group_by("user_id").agg("item_id")
    lik = test.frame.filter(pl.col("liked") > 0).group_by("user_id").agg("item_id")
    users = [u for u in rel["user_id"].to_list() if train.user_index(u) >= 0]
    rels_d = {u: set(v) for u, v in rel.iter_rows()}
    lik_d = {u: set(v) for u, v in lik.iter_rows()}
    rels, liked = [rels_d[u] for u in users], [lik_d.get(u, set()) for u in users]
    topics: dict = {}
    if items is not None and "topics" in items.columns:
        topics = {i: t for i, t in items.select("item_id", "topics").iter_rows() if t}
    out: dict[str, Any] = {"k": k, "n_users": len(users), "models": {}}
    ranker = LtrRanker.fit(train, config)
    recs, _ = ranker.recommend(users, k)
    out["models"]["ranker"] = _metrics(recs, rels, liked, train, k, topics)
    out["models"]["ranker"]["liked_above_hidden_auc"] = liked_above_hidden_auc(ranker.score, test)
    out["ranker_report"] = ranker.report
    for name in baselines:
        src = next((s for s in ranker.sources if s.name == name), None) or make_source(name).fit(train)
        r, _ = src.recommend(users, k)
        out["models"][name] = _metrics(r, rels, liked, train, k, topics)
        out["models"][name]["liked_above_hidden_auc"] = liked_above_hidden_auc(src.score, test)
    out["models"]["like_rate"] = {"liked_above_hidden_auc": liked_above_hidden_auc(
        _like_rate_scorer(train), test)}
    return out


def _like_rate_scorer(train: Interactions):
    f = train.frame.group_by("item_id").agg(((pl.col("liked").sum() + 0.1) / (pl.len() + 1)).alias("r"))
    rate = dict(f.iter_rows())
    return lambda _u, ids: np.array([rate.get(i, np.nan) for i in ids])


def evaluate_models(con: duckdb.DuckDBPyConnection, now: datetime | None = None, k: int = 10,
                    config: LtrConfig | None = None) -> dict[str, Any]:
    """Evaluate on the store: global temporal split at 80% of events up to ``now``.

    Returns:
        ``{"split", "k", "models": {name: metrics}, "gate": bool, "table": str}``.
    """
    where, params = ("WHERE ts <= $now", {"now": now}) if now is not None else ("", None)
    events = con.sql("SELECT user_id, ts, type, item_id, target_user_id, watch_ms "
                     f"FROM events {where}", params=params).pl()
    items = con.sql("SELECT item_id, creator_id, created_at, duration_ms, topics, status "
                    "FROM items").pl()
    if events.height < 10:
        from features.errors import DataError

        raise DataError("too few events to evaluate: ingest data first")
    train, test, cut = temporal_split(events)
    res = evaluate_split(train, test, items, k, config)
    res["split"] = {"kind": "temporal", "cutoff": cut.isoformat()}
    base = {n: m for n, m in res["models"].items() if n not in ("ranker", "like_rate")}
    res["gate"] = passes_gate(res["models"]["ranker"], base, k)
    res["table"] = format_table(res)
    return res


def passes_gate(metrics: dict[str, float], baselines: dict[str, dict[str, float]],
                k: int = 10) -> bool:
    """True when the ranker's NDCG@k beats every baseline's."""
    key = f"ndcg@{k}"
    return all(metrics.get(key, 0.0) > b.get(key, 0.0) for b in baselines.values() if key in b)


def format_table(result: dict[str, Any]) -> str:
    """A readable table of the models' metrics."""
    models = result["models"]
    cols = sorted({c for m in models.values() for c in m})
    w = {c: max(10, len(c) + 2) for c in cols}
    head = f"{'model':<10}" + "".join(f"{c:>{w[c]}}" for c in cols)
    lines = [head, "-" * len(head)]
    for name, m in models.items():
        lines.append(f"{name:<10}" + "".join(
            f"{m[c]:>{w[c]}.4f}" if c in m and m[c] == m[c] else f"{'-':>{w[c]}}" for c in cols))
    return "\n".join(lines)
