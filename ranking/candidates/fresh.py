"""Fresh: the newest videos (by ``created_at``, else first interaction)."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from ranking.candidates.popular import ItemScoreSource, reference_time
from ranking.interactions import Interactions

__all__ = ["FreshCandidates", "FreshConfig"]


@dataclass
class FreshConfig:
    """Hyperparameters of the fresh source."""

    max_age_days: float = 3.0
    """Only videos younger than this are candidates."""
    n: int = 100
    """Default candidate list length."""


class FreshCandidates(ItemScoreSource):
    """Score = -age in days (newest first); older videos are not candidates."""

    name = "fresh"

    @classmethod
    def config_class(cls) -> type:
        return FreshConfig

    def _fit(self, data: Interactions) -> None:
        first = data.frame.group_by("item_id").agg(pl.col("last_ts").min().alias("first_ts"))
        born = (first.join(data.items.select("item_id", "created_at"), on="item_id", how="full",
                           coalesce=True)
                .with_columns(pl.coalesce("created_at", "first_ts").alias("born")))
        now = reference_time(data)
        age = (pl.lit(now) - pl.col("born")).dt.total_seconds() / 86400
        born = born.with_columns(age.alias("age")).filter(
            (pl.col("age") <= self.config.max_age_days) & (pl.col("age") >= 0))
        self.item_scores = self._item_vector(born.with_columns((-pl.col("age")).alias("s")), "s")
