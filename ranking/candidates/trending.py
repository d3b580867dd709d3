"""Trending: items whose recent views outpace their older rate (velocity)."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from ranking.candidates.popular import ItemScoreSource, reference_time
from ranking.interactions import Interactions

__all__ = ["TrendingCandidates", "TrendingConfig"]


@dataclass
class TrendingConfig:
    """Hyperparameters of the trending source."""

    window_days: float = 2.0
    """The recent window."""
    baseline_days: float = 14.0
    """The older window the recent rate is compared to."""
    n: int = 100
    """Default candidate list length."""


class TrendingCandidates(ItemScoreSource):
    """Score = log(1+recent) * (recent rate + 1) / (older rate + 1)."""

    name = "trending"

    @classmethod
    def config_class(cls) -> type:
        return TrendingConfig

    def _fit(self, data: Interactions) -> None:
        c = self.config
        age = (pl.lit(reference_time(data)) - pl.col("last_ts")).dt.total_seconds() / 86400
        f = data.frame.with_columns(age.alias("age"))
        g = f.group_by("item_id").agg(
            (pl.col("age") <= c.window_days).sum().alias("recent"),
            ((pl.col("age") > c.window_days) & (pl.col("age") <= c.window_days + c.baseline_days))
            .sum().alias("older"),
        ).filter(pl.col("recent") > 0)
        ratio = c.baseline_days / c.window_days
        g = g.with_columns(
            ((pl.col("recent") + 1).log() * (pl.col("recent") * ratio + 1) / (pl.col("older") + 1))
            .alias("s"))
        self.item_scores = self._item_vector(g, "s")
