"""Following: recent videos by creators the user follows (net of unfollows)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
import scipy.sparse as sp

from ranking.candidates._base import CandidateSource
from ranking.candidates.popular import reference_time
from ranking.interactions import Interactions

__all__ = ["FollowingCandidates", "FollowingConfig"]


@dataclass
class FollowingConfig:
    """Hyperparameters of the following source."""

    max_age_days: float = 14.0
    """Only videos younger than this are candidates."""
    n: int = 100
    """Default candidate list length."""


class FollowingCandidates(CandidateSource):
    """Score = recency (1 / (1 + age in days)) of followed creators' videos."""

    name = "following"

    @classmethod
    def config_class(cls) -> type:
        return FollowingConfig

    def fit(self, data: Interactions) -> FollowingCandidates:
        self.bind(data)
        self._fit(data)
        self.fitted = True
        return self

    def _fit(self, data: Interactions) -> None:
        now = reference_time(data) if data.frame.height else data.now
        items = data.items.filter(pl.col("creator_id").is_not_null())
        creators = np.array(sorted(set(items["creator_id"].to_list())), dtype=object)
        cidx = {c: k for k, c in enumerate(creators.tolist())}
        f = data.follows.filter(pl.col("creator_id").is_in(creators.tolist()))
        fu = np.array([data.user_index(u) for u in f["user_id"].to_list()], dtype=np.int64)
        ok = fu >= 0
        fc = np.array([cidx[c] for c in f["creator_id"].to_list()], dtype=np.int64)
        self.follow = sp.csr_matrix((np.ones(ok.sum(), np.float32), (fu[ok], fc[ok])),
                                    shape=(data.n_users, len(creators)))
        rec = np.zeros(0, np.float32)
        ii = data.item_index(items["item_id"].to_list())
        if now is not None and items.height:
            # Unknown upload time counts as the oldest still eligible.
            age = items.select(((pl.lit(now) - pl.col("created_at")).dt.total_seconds() / 86400)
                               .fill_null(self.config.max_age_days).alias("a"))["a"].to_numpy()
            ok = (age >= 0) & (age <= self.config.max_age_days)
            rec = np.where(ok, 1 / (1 + np.maximum(age, 0)), 0)
        keep = (ii >= 0) & (rec > 0) if rec.size else np.zeros(len(ii), bool)
        ci = np.array([cidx[c] for c in items["creator_id"].to_list()], dtype=np.int64)
        self.creator_items = sp.csr_matrix(
            (rec[keep].astype(np.float32), (ci[keep], ii[keep])),
            shape=(len(creators), data.n_items))

    def score_rows(self, users: np.ndarray) -> np.ndarray:
        users = np.asarray(users, dtype=np.int64)
        out = np.full((len(users), self.data.n_items), np.nan, np.float32)
        known = users >= 0
        f = self.follow
        # No follow at all among these users (most viewers): nothing to multiply.
        if known.any() and f.shape[1] and (f.indptr[users[known] + 1] > f.indptr[users[known]]
                                           ).any():
            block = (self.follow[users[known]] @ self.creator_items).toarray()
            block[block == 0] = np.nan
            out[known] = block
        return out

    def score_user(self, u: int, row, follows: frozenset[str] = frozenset()) -> np.ndarray:
        """Recent videos of the creators the viewer follows now (a follow made in the session
        counts at once)."""
        if not follows:
            return self.score_rows(np.array([u], np.int64))[0]
        creators = self._creators()
        c = np.array([creators[x] for x in follows if x in creators], np.int64)
        out = np.full(self.data.n_items, np.nan, np.float32)
        if c.size:
            v = np.asarray(self.creator_items[c].sum(axis=0)).ravel().astype(np.float32)
            v[v == 0] = np.nan
            out = v
        return out

    def _creators(self) -> dict[str, int]:
        # The creator order of ``creator_items``: sorted ids of the catalog's creators (_fit).
        if getattr(self, "_cidx", None) is None:
            items = self.data.items.filter(pl.col("creator_id").is_not_null())
            self._cidx = {c: k for k, c in enumerate(sorted(set(items["creator_id"].to_list())))}
        return self._cidx

    def arrays(self) -> dict[str, np.ndarray]:
        from ranking.candidates._base import sparse_arrays

        return {**sparse_arrays("follow", self.follow), **sparse_arrays("ci", self.creator_items)}

    def load_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        from ranking.candidates._base import sparse_from

        self.follow, self.creator_items = sparse_from("follow", arrays), sparse_from("ci", arrays)
