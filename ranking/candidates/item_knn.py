"""Item-kNN (cosine or BM25 similarity, benfred/implicit) as a candidate source."""

from __future__ import annotations

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
from ranking.interactions import Interactions

__all__ = ["ItemKnnCandidates", "ItemKnnConfig"]


@dataclass
class ItemKnnConfig:
    """Hyperparameters of the item-kNN source."""

    method: str = "bm25"
    """``cosine`` or ``bm25`` item similarity (the ranker chooses it on its tuning folds:
    ``ranking.ltr._tune.tune_itemknn``)."""
    k: int = 100
    """Neighbours kept per item."""
    binary: bool = True
    """Use 0/1 interactions rather than weights."""
    n: int = 100
    """Default candidate list length."""
    num_threads: int = 2
    """Threads for the similarity computation."""
    k1: float = 1.2
    """BM25 term-frequency saturation (implicit's default)."""
    b: float = 0.75
    """BM25 length normalisation (implicit's default)."""


class ItemKnnCandidates(CandidateSource):
    """Scores are the user's history times the sparse item x item similarity."""

    name = "itemknn"

    @classmethod
    def config_class(cls) -> type:
        return ItemKnnConfig

    def bind(self, data: Interactions) -> None:
        super().bind(data)
        self._x = data.to_csr(binary=self.config.binary)

    def _fit(self, data: Interactions) -> None:
        from implicit.nearest_neighbours import ItemItemRecommender, bm25_weight, normalize

        c = self.config
        # Weighted here and handed over as CSR: implicit's own BM25/cosine wrappers pass it a
        # COO matrix, which it then warns about converting.
        x = self._x.T
        w = bm25_weight(x, c.k1, c.b) if c.method == "bm25" else normalize(x)
        model = ItemItemRecommender(K=c.k, num_threads=c.num_threads)
        model.fit(sp.csr_matrix(w.T), show_progress=False)
        self.similarity = model.similarity.tocsr().astype(np.float32)

    def _score_rows(self, users: np.ndarray) -> np.ndarray:
        known = users[users >= 0]
        block = csr_row_product(csr_rows(self._x, known), self.similarity).astype(np.float32)
        return unknown_rows(users, self.data.n_items, block)

    def score_user(self, u: int, row: sp.csr_matrix, follows: frozenset[str] = frozenset()
                   ) -> np.ndarray:
        if not self.fitted:
            return np.full(self.data.n_items, np.nan, np.float32)
        x = row.copy() if self.config.binary else row
        if self.config.binary:
            x.data[:] = 1.0
        return np.asarray(csr_row_product(x, self.similarity), np.float32).ravel()

    def similar_items(self, item_id: str, n: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """Nearest items by the learned similarity."""
        i = self.data.item_index([item_id])[0]
        if i < 0:
            return np.array([], object), np.array([], np.float32)
        row = self.similarity[i].toarray().ravel()
        row[i] = -np.inf
        top = np.argsort(-row)[:n]
        return self.data.item_ids[top], row[top]

    def arrays(self) -> dict[str, np.ndarray]:
        return sparse_arrays("similarity", self.similarity)

    def load_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        self.similarity = sparse_from("similarity", arrays)
