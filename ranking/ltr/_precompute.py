"""Precomputed serving lists: every known user's merged candidates with final ranker scores.

A feed request then costs a slice and a dictionary lookup instead of scoring the catalog with
every source and building features (tens of ms). Lists are refreshed with each model, as in
most production feeds; what changes between trainings (new views, hides, blocks, consent)
is applied at request time by the pipeline's filters and downranks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import polars as pl

from ranking.candidates import CandidateSource, merge_candidates
from ranking.interactions import Interactions
from ranking.ltr.config import LtrConfig

__all__ = ["Precomputed", "ListScorer", "precompute"]


class ListScorer(Protocol):
    """What precomputing reads of a trained ranker (``LtrRanker`` is one).

    A protocol, not the class: the ranker builds its lists with this module, so this module
    must not import the ranker back.
    """

    config: LtrConfig
    data: Interactions
    sources: list[CandidateSource]

    @property
    def fallback(self) -> CandidateSource: ...

    def backed_off(self, u: np.ndarray) -> np.ndarray: ...

    def _score_pairs(self, u: np.ndarray, i: np.ndarray) -> np.ndarray: ...


@dataclass
class Precomputed:
    """CSR-shaped lists: user row ``u`` owns ``items[ptr[u]:ptr[u+1]]`` (best first)."""

    ptr: np.ndarray      # int64, n_users + 1
    items: np.ndarray    # int32 item indices
    scores: np.ndarray   # float32 final scores
    source: np.ndarray   # int8 index into ``names``: the source that ranked it best
    names: list[str]

    def arrays(self) -> dict[str, np.ndarray]:
        return {"ptr": self.ptr, "items": self.items, "scores": self.scores,
                "source": self.source, "names": np.array(self.names)}

    @classmethod
    def from_arrays(cls, a: dict[str, np.ndarray]) -> Precomputed:
        return cls(a["ptr"], a["items"], a["scores"], a["source"], [str(n) for n in a["names"]])

    # The last row is the cold-start list, served to every user the model has not seen (-1).
    def _r(self, u: int) -> int:
        return len(self.ptr) - 2 if u < 0 else u

    def has(self, u: int) -> bool:
        r = self._r(u)
        return 0 <= r < len(self.ptr) - 1 and self.ptr[r + 1] > self.ptr[r]

    def row(self, u: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        r = self._r(u)
        a, b = self.ptr[r], self.ptr[r + 1]
        return self.items[a:b], self.scores[a:b], self.source[a:b]

    def frame(self, u: int, n: int, item_ids: np.ndarray) -> pl.DataFrame:
        """User ``u``'s best ``n`` as ``(item_id, source, model_score)``, best first."""
        items, scores, src = (a[:n] for a in self.row(u))
        return pl.DataFrame({
            "item_id": item_ids[items].astype(str),
            "source": np.asarray(self.names, dtype=object)[src].astype(str),
            "model_score": scores.astype(np.float64),
        })


def precompute(ranker: ListScorer, max_users: int = 200_000, chunk: int = 1000) -> Precomputed:
    """Score every known user's candidates (the most active ``max_users`` when there are more)."""
    data = ranker.data
    n_users = len(data.user_ids)
    counts = (data.frame.group_by("user_id").len()
              .with_columns(u=pl.col("user_id").replace_strict(
                  dict(zip(data.user_ids.tolist(), range(n_users), strict=True)),
                  default=-1, return_dtype=pl.Int64)))
    order = counts.sort("len", descending=True)["u"].to_numpy()
    order = order[order >= 0]
    # Users known only by negatives (hides, skips) come after the active ones.
    rest = np.setdiff1d(np.arange(n_users), order, assume_unique=False)
    users = np.sort(np.concatenate([order, rest])[:max_users])
    # Users the served choice backs off to the fallback get no list of their own.
    users = users[~ranker.backed_off(users)]
    names = [s.name for s in ranker.sources]
    code = {n: i for i, n in enumerate(names)}
    blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    cfg = ranker.config

    def add(cand: pl.DataFrame, scored_as: np.ndarray, row: np.ndarray) -> None:
        # Score a merged candidate frame and keep it as rows ``row``, best first within each.
        if cand.height == 0:
            return
        i = data.item_index(cand["item_id"].to_list())
        s = ranker._score_pairs(scored_as, i)
        src = np.array([code.get(x[0], 0) if x else 0 for x in cand["sources"].to_list()],
                       np.int8)
        order = np.lexsort((-s, row))
        blocks.append((row[order], i[order].astype(np.int32), s[order].astype(np.float32),
                       src[order]))

    for start in range(0, len(users), chunk):
        ids = data.user_ids[users[start:start + chunk]].tolist()
        cand = merge_candidates(ranker.sources, ids, cfg.n_per_source, cfg.n_candidates)
        u = np.array([data.user_index(x) for x in cand["user_id"].to_list()], np.int64)
        add(cand, u, u)
    # Cold start: the evaluated fallback's best, for every user without a list of their own.
    fb = getattr(ranker.fallback, "item_scores", None)
    fb = np.nan_to_num(np.asarray(fb if fb is not None else [], np.float64), nan=-np.inf)
    top = np.argsort(-fb, kind="stable")[:cfg.n_candidates]
    top = top[np.isfinite(fb[top])]
    if top.size:
        blocks.append((np.full(top.size, n_users, np.int64), top.astype(np.int32),
                       fb[top].astype(np.float32),
                       np.full(top.size, code.get("popular", 0), np.int8)))
    rows = np.concatenate([b[0] for b in blocks]) if blocks else np.zeros(0, np.int64)
    lens = np.bincount(rows, minlength=n_users + 1)
    ptr = np.concatenate([[0], np.cumsum(lens)])
    if not blocks:
        return Precomputed(ptr, np.zeros(0, np.int32), np.zeros(0, np.float32),
                           np.zeros(0, np.int8), names)
    order = np.argsort(rows, kind="stable")
    return Precomputed(ptr, np.concatenate([b[1] for b in blocks])[order],
                       np.concatenate([b[2] for b in blocks])[order],
                       np.concatenate([b[3] for b in blocks])[order], names)
