"""EASE (Steck 2019): closed-form item x item regression, strong on small sparse data.

Exact on catalogs up to ``max_items``; above it exact on the ``max_items`` most-interacted
items and approximated on the tail (``_ease_tail``), so memory stays bounded at any size.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ranking.candidates._base import (
    CandidateSource,
    csr_row_product,
    csr_rows,
    sparse_arrays,
    sparse_from,
    unknown_rows,
)
from ranking.candidates._ease_tail import calibrate_alpha, head_items, tail_weights
from ranking.interactions import Interactions

__all__ = ["EaseCandidates", "EaseConfig"]


@dataclass
class EaseConfig:
    """Hyperparameters of the EASE source."""

    reg: float = 300.0
    """L2 penalty lambda on the item x item weights (larger: smoother, more popular)."""
    binary: bool = True
    """Fit on 0/1 interactions rather than weights (usually better for top-n)."""
    max_items: int = 12_000
    """Items solved exactly (dense inverse: O(m^3) time, 4 m^2 bytes): above this catalog
    size, the most-interacted ``max_items``; pairs with a tail item get calibrated shrunk
    co-occurrence weights instead."""
    tail_k: int = 100
    """Weights kept per tail item and direction (in from any item, out to head items)."""
    n: int = 100
    """Default candidate list length."""


_BLOCK = 1024
"""Rows or columns per block of the head's Gram matrix and of its inverse's symmetrisation."""


def _spd_inverse(g: np.ndarray) -> np.ndarray:
    """Inverse of a symmetric positive definite matrix by Cholesky, in float32 (about 5x
    faster than a float64 LU inverse; the EASE weights are float32 anyway), on every core.

    In place: ``g`` (C order) is handed to LAPACK as its transpose, the same matrix in Fortran
    order, so no copy is made, and the lower triangle LAPACK leaves is mirrored block by block
    (no full-size temporaries: at 12k videos each would be 576 MB). ``g`` is overwritten."""
    from scipy.linalg import lapack
    from threadpoolctl import threadpool_limits

    a = g.T if g.flags.c_contiguous else g  # symmetric: the same values, Fortran order
    with threadpool_limits(limits=os.cpu_count() or 1, user_api="blas"):
        c, info = lapack.spotrf(a, lower=1, overwrite_a=1)
        if info == 0:
            c, info = lapack.spotri(c, lower=1, overwrite_c=1)
    if info != 0:  # not positive definite in float32: the exact route
        return np.linalg.inv(g.astype(np.float64)).astype(np.float32)
    n = len(c)
    for b0 in range(0, n, _BLOCK):
        b1 = min(b0 + _BLOCK, n)
        d = c[b0:b1, b0:b1]
        d[...] = np.tril(d) + np.tril(d, -1).T
        c[b0:b1, b1:] = c[b1:, b0:b1].T
    return c.T if c.flags.f_contiguous else c  # symmetric: C order for the row products


def _head_gram(xh: sp.csr_matrix) -> np.ndarray:
    """``(xh.T @ xh)`` as a dense float32 matrix, built a block of columns at a time (the
    sparse product of the whole head, nearly dense, would be ~12 bytes a cell at once)."""
    n = xh.shape[1]
    xt, xc = xh.T.tocsr(), xh.tocsc()
    g = np.empty((n, n), np.float32)
    for b0 in range(0, n, _BLOCK):
        b1 = min(b0 + _BLOCK, n)
        g[:, b0:b1] = (xt @ xc[:, b0:b1]).toarray()
    return g


class EaseCandidates(CandidateSource):
    """Embarrassingly shallow autoencoder; scores are ``x_u @ B``.

    ``B`` is held as ``weights`` (dense, over the ``head`` items) plus ``tail`` (sparse, every
    pair with a non-head item; None when the whole catalog is the head).
    """

    name = "ease"

    @classmethod
    def config_class(cls) -> type:
        return EaseConfig

    def bind(self, data: Interactions) -> None:
        super().bind(data)
        self._x = data.to_csr(binary=self.config.binary)
        self.weights = getattr(self, "weights", None)
        self.head = getattr(self, "head", None)
        self.tail: sp.csr_matrix | None = getattr(self, "tail", None)
        self._xh: sp.csr_matrix | None = None

    def _fit(self, data: Interactions) -> None:
        x = self._x
        c = self.config
        self.head = head_items(x, min(data.n_items, c.max_items))
        g = _head_gram(x[:, self.head])
        g[np.diag_indices_from(g)] += c.reg
        p = _spd_inverse(g)
        del g
        p /= -np.diag(p).copy()
        p[np.diag_indices_from(p)] = 0.0
        self.weights = p.astype(np.float32, copy=False)
        self.tail = None
        self._xh = None
        if len(self.head) < data.n_items:
            gdiag = np.asarray(x.multiply(x).sum(axis=0), dtype=np.float64).ravel()
            alpha = calibrate_alpha(x, self.head, self.weights, gdiag, c.reg)
            self.tail = tail_weights(x, self.head, gdiag, c.reg, alpha, c.tail_k)

    def _score_rows(self, users: np.ndarray) -> np.ndarray:
        if self.weights is None:
            return np.full((len(users), self.data.n_items), np.nan, np.float32)
        known = users[users >= 0]
        if self.tail is None:
            block = np.asarray(csr_rows(self._x, known) @ self.weights, dtype=np.float32)
            return unknown_rows(users, self.data.n_items, block)
        if self._xh is None:
            self._xh = self._x[:, self.head].tocsr()
        block = csr_row_product(csr_rows(self._x, known), self.tail).astype(np.float32,
                                                                      copy=False)
        block[:, self.head] += csr_rows(self._xh, known) @ self.weights
        return unknown_rows(users, self.data.n_items, block)

    def score_user(self, u: int, row, follows: frozenset[str] = frozenset()) -> np.ndarray:
        if self.weights is None or not self.fitted:
            return np.full(self.data.n_items, np.nan, np.float32)
        x = row.copy() if self.config.binary else row
        if self.config.binary:
            x.data[:] = 1.0
        if self.tail is None:
            return np.asarray(x @ self.weights, dtype=np.float32).ravel()
        # The same split as ``_score_rows``: the sparse tail for every item, the dense head.
        out = np.asarray(csr_row_product(x, self.tail), np.float32).ravel()
        out[self.head] += np.asarray(self._head_columns(x) @ self.weights, np.float32).ravel()
        return out

    def _head_columns(self, x: sp.csr_matrix) -> sp.csr_matrix:
        """``x[:, self.head]`` of a one-row ``x``: its entries in the head, in their stored
        order, renumbered to head positions, as scipy's column indexing leaves them (its
        set-up cost ~0.15 ms a request); other shapes go through scipy."""
        if x.shape[0] != 1:
            return x[:, self.head]
        got = getattr(self, "_head_pos", None)
        if got is None or got[0] is not self.head:  # a refit or a load makes a new head
            pos = np.full(self.data.n_items, -1, np.int64)
            pos[self.head] = np.arange(len(self.head))
            got = self._head_pos = (self.head, pos)
        lo, hi = x.indptr[0], x.indptr[1]
        cols = got[1][x.indices[lo:hi]]
        keep = cols >= 0
        return sp.csr_matrix((x.data[lo:hi][keep], cols[keep].astype(x.indices.dtype),
                              np.array([0, int(keep.sum())], x.indptr.dtype)),
                             shape=(1, len(self.head)))

    def similar_items(self, item_id: str, n: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """Items with the largest EASE weight from ``item_id``."""
        i = self.data.item_index([item_id])[0]
        if i < 0 or self.weights is None:
            return np.array([], object), np.array([], np.float32)
        row = (np.zeros(self.data.n_items, np.float32) if self.tail is None
               else self.tail[i].toarray().ravel())
        h = np.searchsorted(self.head, i)
        if h < len(self.head) and self.head[h] == i:
            row[self.head] += self.weights[h]
        row[i] = -np.inf
        top = np.argsort(-row, kind="stable")[:n]
        return self.data.item_ids[top], row[top]

    def arrays(self) -> dict[str, np.ndarray]:
        if self.weights is None:
            return {}
        out = {"weights": self.weights, "head": self.head}
        return out if self.tail is None else {**out, **sparse_arrays("tail", self.tail)}

    def load_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        self.weights = arrays.get("weights")
        # versions saved before the head/tail split hold the whole catalog in ``weights``
        self.head = (arrays["head"] if "head" in arrays else None if self.weights is None
                     else np.arange(len(self.weights)))
        self.tail = sparse_from("tail", arrays) if "tail_data" in arrays else None
        self._xh = None
