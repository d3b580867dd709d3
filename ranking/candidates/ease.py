"""EASE (Steck 2019): closed-form item x item regression, strong on small sparse data."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from ranking.candidates._base import CandidateSource, log_skip, unknown_rows
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
    """Above this catalog size the dense inverse (O(n^3) time, 4 n^2 bytes) is too costly;
    the source is skipped and the others carry the ranking."""
    n: int = 100
    """Default candidate list length."""


def _spd_inverse(g: np.ndarray) -> np.ndarray:
    """Inverse of a symmetric positive definite matrix by Cholesky, in float32 (about 5x
    faster than a float64 LU inverse; the EASE weights are float32 anyway), on every core."""
    from scipy.linalg import lapack
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=os.cpu_count() or 1, user_api="blas"):
        c, info = lapack.spotrf(g, lower=1, overwrite_a=1)
        if info == 0:
            c, info = lapack.spotri(c, lower=1, overwrite_c=1)
    if info != 0:  # not positive definite in float32: the exact route
        return np.linalg.inv(g.astype(np.float64)).astype(np.float32)
    return np.tril(c) + np.tril(c, -1).T


class EaseCandidates(CandidateSource):
    """Embarrassingly shallow autoencoder; scores are ``x_u @ B``."""

    name = "ease"

    @classmethod
    def config_class(cls) -> type:
        return EaseConfig

    def bind(self, data: Interactions) -> None:
        super().bind(data)
        self._x = data.to_csr(binary=self.config.binary)
        self.weights = getattr(self, "weights", None)

    def _fit(self, data: Interactions) -> None:
        if data.n_items > self.config.max_items:
            log_skip(self.name, f"{data.n_items} items > max_items={self.config.max_items}")
            self.weights = None
            return
        x = self._x
        g = (x.T @ x).toarray().astype(np.float32)
        g[np.diag_indices_from(g)] += self.config.reg
        p = _spd_inverse(g)
        b = -p / np.diag(p)
        b[np.diag_indices_from(b)] = 0.0
        self.weights = b.astype(np.float32)

    def _score_rows(self, users: np.ndarray) -> np.ndarray:
        if self.weights is None:
            return np.full((len(users), self.data.n_items), np.nan, np.float32)
        known = users[users >= 0]
        block = np.asarray(self._x[known] @ self.weights, dtype=np.float32)
        return unknown_rows(users, self.data.n_items, block)

    def score_user(self, u: int, row, follows: frozenset[str] = frozenset()) -> np.ndarray:
        if self.weights is None or not self.fitted:
            return np.full(self.data.n_items, np.nan, np.float32)
        x = row.copy() if self.config.binary else row
        if self.config.binary:
            x.data[:] = 1.0
        return np.asarray(x @ self.weights, dtype=np.float32).ravel()

    def similar_items(self, item_id: str, n: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """Items with the largest EASE weight from ``item_id``."""
        i = self.data.item_index([item_id])[0]
        if i < 0 or self.weights is None:
            return np.array([], object), np.array([], np.float32)
        top = np.argsort(-self.weights[i])[:n]
        return self.data.item_ids[top], self.weights[i, top]

    def arrays(self) -> dict[str, np.ndarray]:
        return {} if self.weights is None else {"weights": self.weights}

    def load_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        self.weights = arrays.get("weights")
