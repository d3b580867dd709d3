"""Merge per-source candidate lists into one frame per user (de-duplicated, scores as columns)."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import polars as pl

from ranking.candidates._base import CandidateSource
from ranking.candidates.als import AlsCandidates
from ranking.candidates.bpr import BprCandidates
from ranking.candidates.ease import EaseCandidates
from ranking.candidates.following import FollowingCandidates
from ranking.candidates.fresh import FreshCandidates
from ranking.candidates.item_knn import ItemKnnCandidates
from ranking.candidates.popular import PopularCandidates
from ranking.candidates.trending import TrendingCandidates

__all__ = ["SOURCES", "make_source", "merge_candidates"]

log = logging.getLogger(__name__)

SOURCES: dict[str, type[CandidateSource]] = {
    c.name: c for c in (AlsCandidates, BprCandidates, EaseCandidates, ItemKnnCandidates,
                        PopularCandidates, TrendingCandidates, FreshCandidates, FollowingCandidates)
}


def make_source(name: str, params: dict[str, Any] | None = None) -> CandidateSource:
    """Build a source by its ``name`` with config overrides."""
    cls = SOURCES[name]
    return cls(cls.config_class()(**(params or {})))


def merge_candidates(
    sources: list[CandidateSource],
    user_ids: list[str],
    n_per_source: int | dict[str, int] = 100,
    n_total: int = 300,
    exclude_seen: bool = True,
) -> pl.DataFrame:
    """Union of every source's top-n per user.

    Sources that raise are logged and skipped (fail open). Users no personalised source knows
    still get the popular list when a ``popular`` source is present.

    Args:
        sources: fitted sources.
        user_ids: users to generate for.
        n_per_source: list length asked of each source (or per source name).
        n_total: cap per user after merging (best sum of per-source reciprocal ranks first).
        exclude_seen: leave out items the user already interacted with.

    Returns:
        ``(user_id, item_id, sources: list[str], score_<name>...)``, one row per user x item.
    """
    parts = []
    for src in sources:
        n = n_per_source.get(src.name, 100) if isinstance(n_per_source, dict) else n_per_source
        if n <= 0:
            continue
        try:
            ids, scores = src.recommend(user_ids, n, exclude_seen=exclude_seen)
        except Exception:  # noqa: BLE001 - a source fails open
            log.exception("candidate source %s failed; skipped", src.name)
            continue
        lens = np.array([len(x) for x in ids])
        if lens.sum() == 0:
            continue
        parts.append(pl.DataFrame({
            "user_id": np.repeat(np.array(user_ids, dtype=object), lens).astype(str),
            "item_id": np.concatenate(ids).astype(str),
            "source": src.name,
            "score": np.concatenate(scores).astype(np.float32),
            "rr": np.concatenate([1.0 / np.arange(1, k + 1) for k in lens]).astype(np.float32),
        }))
    names = [s.name for s in sources]
    if not parts:
        return pl.DataFrame(schema={"user_id": pl.String, "item_id": pl.String,
                                    "sources": pl.List(pl.String),
                                    **{f"score_{n}": pl.Float32 for n in names}})
    long = pl.concat(parts)
    wide = long.pivot(on="source", index=["user_id", "item_id"], values="score")
    wide = wide.rename({n: f"score_{n}" for n in names if n in wide.columns})
    for n in names:
        if f"score_{n}" not in wide.columns:
            wide = wide.with_columns(pl.lit(None, pl.Float32).alias(f"score_{n}"))
    agg = long.group_by("user_id", "item_id").agg(
        pl.col("source").alias("sources"), pl.col("rr").sum().alias("_rr"))
    out = wide.join(agg, on=["user_id", "item_id"])
    out = (out.sort(["user_id", "_rr", "item_id"], descending=[False, True, False])
           .filter(pl.int_range(pl.len()).over("user_id") < n_total))
    return out.select("user_id", "item_id", "sources", *[f"score_{n}" for n in names])
