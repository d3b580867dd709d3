"""Most-popular items (lenskit's PopScorer): the fallback for new users."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from ranking.candidates._base import CandidateSource
from ranking.interactions import Interactions

__all__ = ["PopularCandidates", "PopConfig", "ItemScoreSource"]


@dataclass
class PopConfig:
    """Hyperparameters of the popularity source."""

    n: int = 100
    """Default candidate list length."""
    half_life_days: float | None = None
    """Decay older interactions with this half-life (None: plain counts)."""
    window_days: float | None = None
    """Count only interactions of the last ``window_days`` (None: all time)."""


class ItemScoreSource(CandidateSource):
    """A source whose score depends on the item only (same row for every user)."""

    personalised = False

    def _score_rows(self, users: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.item_scores, (len(users), len(self.item_scores))).copy()

    def _item_vector(self, frame: pl.DataFrame, col: str) -> np.ndarray:
        """Scatter an (item_id, col) frame into a catalog-aligned vector (NaN elsewhere)."""
        out = np.full(self.data.n_items, np.nan, np.float32)
        idx = self.data.item_index(frame["item_id"].to_list())
        ok = idx >= 0
        out[idx[ok]] = frame[col].to_numpy().astype(np.float32)[ok]
        return out

    def arrays(self) -> dict[str, np.ndarray]:
        return {"item_scores": self.item_scores}

    def load_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        self.item_scores = arrays["item_scores"]


def reference_time(data: Interactions):
    """``data.now`` or the latest interaction."""
    return data.now if data.now is not None else data.frame["last_ts"].max()


class PopularCandidates(ItemScoreSource):
    """Score = log(1 + number of users with a positive interaction), optionally decayed or
    windowed (the variants the evaluation chooses the non-personalised fallback from)."""

    name = "popular"

    @classmethod
    def config_class(cls) -> type:
        return PopConfig

    def _fit(self, data: Interactions) -> None:
        c = self.config
        age = (pl.lit(reference_time(data)) - pl.col("last_ts")).dt.total_seconds() / 86400
        w = pl.col("weight") * 0 + 1.0
        if c.half_life_days:
            w = (0.5 ** (age / c.half_life_days))
        if c.window_days:
            w = pl.when(age <= c.window_days).then(w).otherwise(0.0)
        pop = data.frame.group_by("item_id").agg(w.sum().log1p().alias("s"))
        self.item_scores = self._item_vector(pop, "s")
