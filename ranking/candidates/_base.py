"""The shared shape of every candidate source: fit, recommend, score, persist.

A source works on item indices internally and speaks ids at its public verbs. Each subclass
implements ``_fit`` and ``_score_rows`` (a dense users x items block); the base class derives
``recommend`` (top-n with seen items masked) and ``score`` from that.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from ranking.interactions import Interactions

__all__ = ["CandidateSource", "csr_rows", "csr_row_product", "remembered_rows"]

log = logging.getLogger(__name__)

_CHUNK = 512
_BLOCK_CELLS = 1 << 25
"""Cells of one dense users x items score block (128 MB of float32): 512 users up to 65k
videos, fewer above, so a block stays bounded at any catalog size."""


class CandidateSource:
    """Base class; subclasses set ``name``, ``personalised`` and a ``config`` dataclass."""

    name: ClassVar[str] = "Base"
    personalised: ClassVar[bool] = True

    def __init__(self, config: Any = None) -> None:
        self.config = config if config is not None else self.config_class()()
        self.data: Interactions | None = None
        self.fitted = False
        self.skipped: str | None = None
        """Why the source gives no scores after ``fit`` (None: it fitted)."""
        self._seen: sp.csr_matrix | None = None

    @classmethod
    def config_class(cls) -> type:
        raise NotImplementedError

    # -- training -----------------------------------------------------------------------
    def fit(self, data: Interactions) -> CandidateSource:
        """Learn from interactions; an empty table gives a source that recommends nothing.

        Args:
            data: the weighted interactions.
        """
        self.bind(data)
        self.skipped = None
        if data.frame.height:
            self._fit(data)
            self.fitted = self.skipped is None
        else:
            self.skipped = "no interactions to learn from"
        return self

    def skip(self, reason: str) -> None:
        """Give up fitting (inside ``_fit``): logged, kept as ``skipped``, scores stay NaN."""
        log_skip(self.name, reason)
        self.skipped = reason

    def bind(self, data: Interactions) -> None:
        """Attach the interaction table (on fit, or after load)."""
        self.data = data
        pos = data.to_csr(binary=True)
        neg = data.negatives
        if neg.height:
            u = np.array([data.user_index(x) for x in neg["user_id"].to_list()])
            i = data.item_index(neg["item_id"].to_list())
            ok = (u >= 0) & (i >= 0)
            pos = pos + sp.csr_matrix((np.ones(ok.sum(), np.float32), (u[ok], i[ok])),
                                      shape=pos.shape)
        self._seen = pos.tocsr()

    def _fit(self, data: Interactions) -> None:
        raise NotImplementedError

    def _score_rows(self, users: np.ndarray) -> np.ndarray:
        """Dense float32 scores, one row per user index (-1: unknown user -> NaN row)."""
        raise NotImplementedError

    # -- inference ----------------------------------------------------------------------
    def score_rows(self, users: np.ndarray) -> np.ndarray:
        """Scores of every catalog item for each user index (NaN where nothing is known)."""
        n_items = self.data.n_items if self.data is not None else 0
        if self.data is None or not self.fitted or n_items == 0:
            return np.full((len(users), n_items), np.nan, np.float32)
        return self._score_rows(np.asarray(users, dtype=np.int64))

    def recommend(
        self, user_ids: list[str], n: int = 100, exclude_seen: bool = True
    ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Top-n items per user.

        Args:
            user_ids: users (unknown users get what a non-personalised source gives, else none).
            n: list length per user.
            exclude_seen: leave out items the user already interacted with.

        Returns:
            ``(ids, scores)``: one array of item ids and one of scores per input user.
        """
        data = self.data
        out_ids: list[np.ndarray] = []
        out_scores: list[np.ndarray] = []
        if data is None:
            n = len(user_ids)
            return [np.array([], object)] * n, [np.array([], np.float32)] * n
        uidx = np.array([data.user_index(u) for u in user_ids], dtype=np.int64)
        rows = block_rows(data.n_items)
        for s in range(0, len(uidx), rows):
            block = uidx[s:s + rows]
            m = self.score_rows(block)
            if exclude_seen:
                m = self.mask_seen(block, m)
            for row in m:
                ids, sc = _top_n(row, n)
                out_ids.append(data.item_ids[ids])
                out_scores.append(sc)
        return out_ids, out_scores

    def score_user(self, u: int, row: sp.csr_matrix, follows: frozenset[str] = frozenset()
                   ) -> np.ndarray:
        """Scores of every catalog item for one viewer described by a history row.

        The request-time verb: ``row`` (1 x items, interaction weights) is the viewer's history
        as of now, the trained part plus what the live event stream added since, so a
        history-based source follows the session without a refit. ``u`` is the viewer's index
        in the trained table (-1: new). Sources that read no history (popularity, trending,
        fresh) return their trained row. ``follows`` are the creators the viewer follows now.
        """
        return self.score_rows(np.array([u], np.int64))[0]

    def mask_seen(self, users: np.ndarray, m: np.ndarray) -> np.ndarray:
        """Set the scores of items each user already interacted with to NaN (in place)."""
        if self._seen is None:
            return m
        known = users >= 0
        sub = self._seen[users[known]].tocoo()
        m[np.flatnonzero(known)[sub.row], sub.col] = np.nan
        return m

    def score(self, user_id: str, item_ids: list[str] | np.ndarray) -> np.ndarray:
        """Scores of arbitrary items for one user (NaN for items or users it cannot score)."""
        if self.data is None:
            return np.full(len(item_ids), np.nan, np.float32)
        idx = self.data.item_index(list(item_ids))
        row = self.score_rows(np.array([self.data.user_index(user_id)]))[0]
        out = np.full(len(idx), np.nan, np.float32)
        ok = idx >= 0
        if row.size:
            out[ok] = row[idx[ok]]
        return out

    # -- persistence --------------------------------------------------------------------
    def arrays(self) -> dict[str, np.ndarray]:
        """Learned state as plain arrays (saved with ``np.savez``, no pickle)."""
        return {}

    def load_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        """Restore state written by ``arrays``."""

    def params(self) -> dict[str, Any]:
        return asdict(self.config)


class _Remembered:
    """A source's ``score_rows`` that keeps its last block: asked again for the same users,
    it hands out a copy instead of scoring them again (callers mask rows in place)."""

    def __init__(self, score_rows: Any) -> None:
        self._score_rows = score_rows
        self._key: bytes | None = None
        self._rows: np.ndarray | None = None

    def __call__(self, users: np.ndarray) -> np.ndarray:
        key = np.asarray(users, np.int64).tobytes()
        if key != self._key:
            self._key, self._rows = None, None  # the old block goes before the new is made
            self._rows, self._key = self._score_rows(users), key
        return self._rows.copy()


@contextmanager
def remembered_rows(sources: list[CandidateSource]) -> Iterator[None]:
    """Within it, each source scores a block of users once for two readers in turn (a
    merge's lists, then the same users' pair features): one block per source is kept."""
    mine = [s for s in sources if not isinstance(vars(s).get("score_rows"), _Remembered)]
    before = [vars(s).get("score_rows") for s in mine]
    for src in mine:
        src.score_rows = _Remembered(src.score_rows)  # shadows the method on this instance
    try:
        yield
    finally:
        for src, f in zip(mine, before, strict=True):
            if f is None:
                vars(src).pop("score_rows", None)
            else:
                src.score_rows = f


def csr_rows(m: sp.csr_matrix, users: np.ndarray) -> sp.csr_matrix:
    """``m[users]``; one row is read off the index arrays (the same entries in the same
    order): scipy's row indexing cost ~0.1 ms a call on the request path."""
    if len(users) != 1 or users[0] < 0:
        return m[users]
    a, b = m.indptr[users[0]], m.indptr[users[0] + 1]
    return sp.csr_matrix((m.data[a:b].copy(), m.indices[a:b].copy(),
                          np.array([0, b - a], m.indptr.dtype)), shape=(1, m.shape[1]))


def csr_row_product(x: sp.csr_matrix, b: sp.csr_matrix) -> np.ndarray:
    """``(x @ b).toarray()`` for a one-row ``x``, in numpy: each product added into its
    column in scipy's own order (``csr_matmat``: x's entries as stored, then each one's row
    of ``b``), at a fraction of scipy's set-up cost. Other shapes or dtypes go through scipy.
    """
    if x.shape[0] != 1 or x.data.dtype != b.data.dtype or x.data.dtype.kind != "f":
        return (x @ b).toarray()
    a, e = b.indptr[x.indices], b.indptr[x.indices + 1]
    lens = (e - a).astype(np.int64)
    total = int(lens.sum())
    out = np.zeros((1, b.shape[1]), x.data.dtype)
    if total:
        pos = np.repeat(a - np.cumsum(lens) + lens, lens) + np.arange(total)
        np.add.at(out[0], b.indices[pos], np.repeat(x.data, lens) * b.data[pos])
    return out


def block_rows(n_items: int, most: int = _CHUNK, cells: int = _BLOCK_CELLS) -> int:
    """Users per dense score block over ``n_items`` videos: at most ``most``, and at most
    ``cells`` cells."""
    return max(1, min(most, cells // max(n_items, 1)))


def _top_n(row: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    finite = np.flatnonzero(np.isfinite(row))
    if finite.size == 0:
        return np.array([], np.int64), np.array([], np.float32)
    vals = row[finite]
    if finite.size > n:
        part = np.argpartition(-vals, n - 1)[:n]
        finite, vals = finite[part], vals[part]
    order = np.lexsort((finite, -vals))
    return finite[order], vals[order].astype(np.float32)


def sparse_arrays(prefix: str, m: sp.csr_matrix) -> dict[str, np.ndarray]:
    """A CSR matrix as savez-able arrays."""
    m = m.tocsr()
    return {f"{prefix}_data": m.data, f"{prefix}_indices": m.indices,
            f"{prefix}_indptr": m.indptr, f"{prefix}_shape": np.array(m.shape)}


def sparse_from(prefix: str, a: dict[str, np.ndarray]) -> sp.csr_matrix:
    """Inverse of ``sparse_arrays``."""
    return sp.csr_matrix((a[f"{prefix}_data"], a[f"{prefix}_indices"], a[f"{prefix}_indptr"]),
                         shape=tuple(a[f"{prefix}_shape"]))


def unknown_rows(users: np.ndarray, n_items: int, known_block: np.ndarray) -> np.ndarray:
    """Place a block computed for known users into a NaN matrix for all ``users``."""
    out = np.full((len(users), n_items), np.nan, np.float32)
    out[users >= 0] = known_block
    return out


def log_skip(name: str, reason: str) -> None:
    log.warning("candidate source %s skipped: %s", name, reason)
