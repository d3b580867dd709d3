"""Request-time candidates and features of one viewer, from their history as of now.

Nothing per user is computed at training time. A request folds the viewer's trained history
row with what the live event stream added since the model's data (the weights training gives,
row by row: ``fold_viewer_events`` over the viewer's recent events), asks every candidate
source for a score row over the catalog (``CandidateSource.score_user``: EASE and
item-kNN multiply the row by their item x item weights, ALS folds it into a user factor,
following reads the follows in force), unions each source's best, and builds the very feature
columns ``pair_features`` builds in training (``_rank_and_z`` over the same masked rows).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from ranking.candidates import CandidateSource
from ranking.interactions import Interactions, fold_viewer_events
from ranking.ltr._features import Stats, _rank_and_z, feature_names
from wellbeing.viewer_fold import SEEN_TYPES

__all__ = ["ViewerHistory", "viewer_history", "live_candidate_rows", "row_features"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ViewerHistory:
    """One viewer's history as the request-time path reads it.

    Attributes:
        u: the viewer's index in the trained table (-1: new since training).
        row: 1 x items interaction weights, trained plus live (hidden and reported removed).
        seen: item indices never to recommend again (trained and live interactions).
        n_positives: videos in ``row`` (the back-off reads it).
        live: whether live events changed anything since training.
        follows: creators the viewer follows now.
    """

    u: int
    row: sp.csr_matrix
    seen: np.ndarray
    n_positives: int
    live: bool
    follows: frozenset[str]


def viewer_history(data: Interactions, trained: sp.csr_matrix, seen: sp.csr_matrix | None,
                   user_id: str, events: Sequence[Mapping[str, Any]],
                   follows: frozenset[str] = frozenset()) -> ViewerHistory:
    """Fold a viewer's live events (contract rows after the model's data) into their row.

    Args:
        data: the model's interactions (index and catalog).
        trained: users x items weights as trained (``data.to_csr()``).
        seen: users x items, nonzero where the trained user interacted (the sources' mask).
        user_id: the viewer.
        events: the viewer's events since the model's data, any order.
        follows: creators the viewer follows now.
    """
    u = data.user_index(user_id)
    n = data.n_items
    base = trained[u] if u >= 0 else sp.csr_matrix((1, n), dtype=np.float32)
    seen_idx = seen[u].indices if (u >= 0 and seen is not None) else np.zeros(0, np.int32)
    if not events:
        return ViewerHistory(u, base, seen_idx, int(base.nnz), False, follows)
    # Row by row: a frame pipeline over a handful of events cost milliseconds per request.
    fold = fold_viewer_events(events, data.durations())
    i_pos = data.item_index(list(fold.positives))
    i_neg = data.item_index(list(fold.negatives))
    # What counts as seen is the viewer fold's rule (a bare impression may come back).
    every = data.item_index([e["item_id"] for e in events
                             if e.get("item_id") and e.get("type") in SEEN_TYPES])
    ok = i_pos >= 0
    add = np.fromiter(fold.positives.values(), np.float64, len(fold.positives))
    extra = sp.csr_matrix((add.astype(np.float32)[ok],
                           (np.zeros(ok.sum(), np.int64), i_pos[ok])), shape=(1, n))
    row = (base + extra).tocsr()
    gone = i_neg[i_neg >= 0]
    if gone.size:
        # A hide or report in the session takes the video out of the viewer's history, as a
        # hidden video never counts as a positive in training.
        keep = ~np.isin(row.indices, gone)
        row = sp.csr_matrix((row.data[keep], (np.zeros(keep.sum(), np.int64),
                                              row.indices[keep])), shape=(1, n))
    row.eliminate_zeros()
    all_seen = np.union1d(seen_idx, every[every >= 0]).astype(np.int64)
    return ViewerHistory(u, row, all_seen, int(row.nnz), True, follows)


def _top(row: np.ndarray, n: int) -> np.ndarray:
    """Indices of the ``n`` best finite entries, best first (ties: lower index first)."""
    finite = np.flatnonzero(np.isfinite(row))
    if finite.size > n:
        part = np.argpartition(-row[finite], n - 1)[:n]
        finite = finite[part]
    return finite[np.lexsort((finite, -row[finite]))]


def live_candidate_rows(sources: list[CandidateSource], h: ViewerHistory, item_ids: np.ndarray,
                        n_per_source: int | dict[str, int], n_total: int
                        ) -> tuple[list[np.ndarray], np.ndarray, list[str]]:
    """Every source's score row for the viewer, and the merged candidates.

    Returns:
        ``(rows, items, best_source)``: one score row per source (seen items NaN for the
        personalised ones, as ``pair_features`` masks them), the candidate item indices in
        merge order (best summed reciprocal rank first, as ``merge_candidates``), and the
        source that listed each candidate best.
    """
    rows, rr, first = [], {}, {}
    for src in sources:
        try:
            # Without live events a trained viewer is scored exactly as in training and batch.
            m = (src.score_rows(np.array([h.u], np.int64))[0] if not h.live and h.u >= 0
                 else src.score_user(h.u, h.row, h.follows))
            m = np.array(m, dtype=np.float32, copy=True)
        except Exception:  # noqa: BLE001 - a source fails open: NaN scores, no candidates
            log.exception("candidate source %s failed on a viewer's history; skipped", src.name)
            m = np.full(len(item_ids), np.nan, np.float32)
        pick = m.copy()
        if h.seen.size:
            pick[h.seen] = np.nan  # every source's candidates leave the seen out
            if src.personalised:
                m[h.seen] = np.nan
        rows.append(m)
        k = n_per_source.get(src.name, 100) if isinstance(n_per_source, dict) else n_per_source
        if k <= 0:
            continue
        for rank, i in enumerate(_top(pick, k).tolist(), 1):
            rr[i] = rr.get(i, 0.0) + 1.0 / rank
            first.setdefault(i, (rank, src.name))
            if rank < first[i][0]:
                first[i] = (rank, src.name)
    order = sorted(rr, key=lambda i: (-rr[i], item_ids[i]))[:n_total]
    return rows, np.array(order, np.int64), [first[i][1] for i in order]


def row_features(sources: list[CandidateSource], stats: Stats, rows: list[np.ndarray], u: int,
                 items: np.ndarray, depth: int = 1000) -> np.ndarray:
    """``pair_features`` for one viewer whose source rows are already scored."""
    out = np.full((len(items), len(feature_names(sources, stats.catalog_names))), np.nan,
                  np.float32)
    col = 0
    for src, m in zip(sources, rows, strict=True):
        if src.personalised:
            rank, z = _rank_and_z(m[None, :], depth)
            out[:, col], out[:, col + 1] = rank[0, items], z[0, items]
            col += 2
        else:
            out[:, col] = m[items]
            col += 1
    n_cat = len(stats.catalog_names)
    if n_cat:
        out[:, out.shape[1] - n_cat:] = stats.catalog.gather(
            np.full(len(items), u, np.int64), items)
    return out
