"""Request-time candidates and features of one viewer, from their history as of now.

Nothing per user is computed at training time. A request folds the viewer's trained history
row with what the live event stream added since the model's data (the weights training gives,
row by row: ``fold_viewer_events`` over the viewer's recent events), asks every candidate
source for a score row over the catalog (``CandidateSource.score_user``: EASE and
item-kNN multiply the row by their item x item weights, ALS folds it into a user factor,
following reads the follows in force), unions each source's best, and builds the very feature
columns ``pair_features`` builds in training (``row_ranks`` over the same masked rows).
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from ranking.candidates import CandidateSource, csr_rows
from ranking.interactions import Interactions, fold_viewer_events
from ranking.ltr._features import RowRanks, Stats, feature_names, row_ranks
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
    base = csr_rows(trained, np.array([u])) if u >= 0 else sp.csr_matrix((1, n), dtype=np.float32)
    seen_idx = (seen.indices[seen.indptr[u]:seen.indptr[u + 1]].copy()
                if (u >= 0 and seen is not None) else np.zeros(0, np.int32))
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
    row = _plus(base, i_pos[ok], add.astype(np.float32)[ok])
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


def _plus(base: sp.csr_matrix, cols: np.ndarray, vals: np.ndarray) -> sp.csr_matrix:
    """``(base + extra).tocsr()`` where ``extra`` is the 1 x n row of ``vals`` at the distinct
    ``cols``: the entries of either, summed where both have one, sorted, zeros dropped (as
    scipy's canonical sum), without building ``extra``. A base out of canonical order, or
    of another dtype, goes through scipy."""
    bi = base.indices
    if base.data.dtype != vals.dtype or (bi.size > 1 and not (bi[1:] > bi[:-1]).all()):
        extra = sp.csr_matrix((vals, (np.zeros(len(cols), np.int64), cols)), shape=base.shape)
        return (base + extra).tocsr()
    idx = np.union1d(bi, cols)
    out = np.zeros(len(idx), vals.dtype)
    out[np.searchsorted(idx, bi)] += base.data
    out[np.searchsorted(idx, cols)] += vals
    nz = out != 0
    return sp.csr_matrix((out[nz], idx[nz], np.array([0, int(nz.sum())])), shape=base.shape)


def _top(row: np.ndarray, n: int) -> np.ndarray:
    """Indices of the ``n`` best finite entries, best first (ties: lower index first)."""
    finite = np.flatnonzero(np.isfinite(row))
    if finite.size > n:
        part = np.argpartition(-row[finite], n - 1)[:n]
        finite = finite[part]
    return finite[np.lexsort((finite, -row[finite]))]


def _top_ranked(r: RowRanks, n: int) -> np.ndarray:
    """``_top(r.m, n)`` read off the row's rank order (one partition of the row serves both
    the candidates and the rank features). A tie across the cut is left to ``_top`` itself:
    which of the tied ones its partition keeps is its own."""
    m, top = r.m, r.top
    v = m[top]
    nf = int(np.isfinite(v).sum())  # the finite come first: the others are filled with -inf
    every = nf < len(top) or len(top) == m.size  # no finite entry of the row is left out
    if every and n >= nf:
        head = top[:nf]
    elif n < nf and v[n - 1] != v[n]:
        head = top[:n]
    else:
        return _top(m, n)
    return head[np.lexsort((head, -m[head]))]


# A viewer-independent source's row, and its finite entries in ``_top`` order (best first,
# ties: lower index), per source object: computed once, not per request.
_SHARED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _shared_row(src: CandidateSource) -> tuple[np.ndarray, np.ndarray]:
    # A refit (new scores) or a change of ``fitted`` makes a new entry.
    token = (src.fitted, id(getattr(src, "item_scores", None)), src.data is not None)
    got = _SHARED.get(src)
    if got is None or got[0] != token:
        m = np.array(src.score_rows(np.array([-1], np.int64))[0], dtype=np.float32, copy=True)
        m.setflags(write=False)
        got = _SHARED[src] = (token, m, _top(m, m.size))
    return got[1], got[2]


def _top_unseen(m: np.ndarray, order: np.ndarray, seen: np.ndarray, n: int,
                seen_mask: np.ndarray | None = None) -> np.ndarray:
    """``_top`` of ``m`` with ``seen`` masked, read off the unmasked row's full ``_top`` order
    (taking entries out of an order leaves the others' order as it was). A tie across the
    cut is left to ``_top`` itself: which of the tied ones its partition keeps is its own.
    ``seen_mask``: ``seen`` as a catalog-long mask, when the caller has it."""
    head = order[:n + 1 + seen.size]
    if seen.size:
        head = head[~(seen_mask[head] if seen_mask is not None else np.isin(head, seen))]
    if len(head) > n and m[head[n - 1]] == m[head[n]]:
        pick = m.copy()
        pick[seen] = np.nan
        return _top(pick, n)
    return head[:n]


def live_candidate_rows(sources: list[CandidateSource], h: ViewerHistory, item_ids: np.ndarray,
                        n_per_source: int | dict[str, int], n_total: int, depth: int = 1000
                        ) -> tuple[list[np.ndarray], list[RowRanks | None], np.ndarray, list[str]]:
    """Every source's score row for the viewer, and the merged candidates.

    Returns:
        ``(rows, ranks, items, best_source)``: one score row per source (seen items NaN for
        the personalised ones, as ``pair_features`` masks them; read-only for the others),
        the personalised rows' ``row_ranks`` to ``depth`` (None for the others and for a row
        with nothing scored), the candidate item indices in merge order (best summed
        reciprocal rank first, ties by item id, as ``merge_candidates``), and the source that
        listed each candidate best.
    """
    rows, ranks, tops = [], [], []
    seen_mask = None
    if h.seen.size:  # one mask for every shared row's list
        seen_mask = np.zeros(len(item_ids), bool)
        seen_mask[h.seen] = True
    for src in sources:
        k = n_per_source.get(src.name, 100) if isinstance(n_per_source, dict) else n_per_source
        if not src.personalised:
            try:
                # Scores every viewer alike: its row and order are the source's, not the
                # viewer's (the seen are left out of its candidates, not of its row).
                m, order = _shared_row(src)
            except Exception:  # noqa: BLE001 - a source fails open: NaN scores, no candidates
                log.exception("candidate source %s failed; skipped", src.name)
                m, order = np.full(len(item_ids), np.nan, np.float32), np.zeros(0, np.int64)
            rows.append(m)
            ranks.append(None)
            tops.append(_top_unseen(m, order, h.seen, k, seen_mask) if k > 0 else order[:0])
            continue
        try:
            # Without live events a trained viewer is scored exactly as in training and batch.
            m = (src.score_rows(np.array([h.u], np.int64))[0] if not h.live and h.u >= 0
                 else src.score_user(h.u, h.row, h.follows))
            m = np.array(m, dtype=np.float32, copy=True)
        except Exception:  # noqa: BLE001 - a source fails open: NaN scores, no candidates
            log.exception("candidate source %s failed on a viewer's history; skipped", src.name)
            m = np.full(len(item_ids), np.nan, np.float32)
        if h.seen.size:
            m[h.seen] = np.nan  # the seen are neither candidates nor ranked
        rows.append(m)
        # A row with nothing scored (no follow, say) ranks nothing and lists nothing.
        r = None if np.isnan(m).all() else row_ranks(m, depth)
        ranks.append(r)
        tops.append(_top_ranked(r, k) if k > 0 and r is not None else np.zeros(0, np.int64))
    return rows, ranks, *_merge(tops, [s.name for s in sources], item_ids, n_total)


# Each catalog index's place in the order of the ids as str, per item id array (weakly).
_ID_ORDER: dict[int, tuple[weakref.ref, np.ndarray]] = {}


def _id_order(item_ids: np.ndarray) -> np.ndarray:
    """Per index, its id's place among the ids sorted as str (ties: lower index first), so
    the merge breaks ties on integers; made once per catalog, not per request."""
    got = _ID_ORDER.get(id(item_ids))
    if got is not None and got[0]() is item_ids:
        return got[1]
    place = np.empty(len(item_ids), np.int64)
    place[np.argsort(item_ids.astype(str), kind="stable")] = np.arange(len(item_ids))
    if len(_ID_ORDER) >= 8:
        _ID_ORDER.clear()
    _ID_ORDER[id(item_ids)] = (weakref.ref(item_ids), place)
    return place


def _merge(tops: list[np.ndarray], names: list[str], item_ids: np.ndarray, n_total: int
           ) -> tuple[np.ndarray, list[str]]:
    """Sum of reciprocal ranks over the sources' lists (added in source order, as the float
    sum of ``merge_candidates``), best first, ties by item id; each candidate's best source
    is its best rank's, the earlier source on a tie."""
    lens = [len(t) for t in tops]
    if not sum(lens):
        return np.zeros(0, np.int64), []
    cand = np.concatenate(tops).astype(np.int64)
    rank = np.concatenate([np.arange(1, k + 1) for k in lens])
    srcno = np.repeat(np.arange(len(tops)), lens)
    uniq, inv = np.unique(cand, return_inverse=True)
    rr = np.zeros(len(uniq))
    np.add.at(rr, inv, 1.0 / rank)
    order = np.lexsort((_id_order(item_ids)[uniq], -rr))[:n_total]
    firsts = np.lexsort((srcno, rank, inv))
    best = firsts[np.r_[True, inv[firsts][1:] != inv[firsts][:-1]]]  # one per candidate
    return uniq[order], [names[k] for k in srcno[best][order].tolist()]


def row_features(sources: list[CandidateSource], stats: Stats, rows: list[np.ndarray],
                 ranks: list[RowRanks | None], u: int, items: np.ndarray) -> np.ndarray:
    """``pair_features`` for one viewer whose source rows are already scored and ranked
    (``live_candidate_rows``)."""
    out = np.full((len(items), len(feature_names(sources, stats.catalog_names))), np.nan,
                  np.float32)
    col = 0
    for src, m, r in zip(sources, rows, ranks, strict=True):
        if src.personalised:
            # A row with nothing scored (no follow, say) ranks nothing: NaN, as out holds.
            if r is not None:
                out[:, col], out[:, col + 1] = r.at(items)
            col += 2
        else:
            out[:, col] = m[items]
            col += 1
    n_cat = len(stats.catalog_names)
    if n_cat:
        out[:, out.shape[1] - n_cat:] = stats.catalog.gather(
            np.full(len(items), u, np.int64), items)
    return out
