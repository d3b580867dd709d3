"""EASE past its dense limit: exact weights on the head, shrunk co-occurrence on the tail.

EASE's closed form needs the dense inverse of the item x item Gram matrix (O(n^3) time,
4 n^2 bytes: 40 GB at 100k items). Here it is solved exactly for the ``m`` most-interacted
items (the head, which carries most interactions on a power-law catalogue), and every pair
that touches a tail item gets the single-input ridge weight ``alpha * G_ij / (reg + G_ii)``
(input ``i``, target ``j``), pruned to the ``k`` largest per tail item. That weight is EASE's
own limit for an item with few interactions (``G_ii << reg`` gives ``B_ij ~ G_ij / reg``);
``alpha`` absorbs the shrinkage EASE's joint solve adds, fitted by least squares against the
exact weights of the least-interacted head items, where both are known.

Memory: ``4 m^2`` bytes for the head plus ``O(k * n_tail)`` for the tail, built in blocks.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["head_items", "calibrate_alpha", "tail_weights", "top_k_per_row"]

_BLOCK = 2048
_CALIBRATION_ITEMS = 256


def head_items(x: sp.csr_matrix, m: int) -> np.ndarray:
    """Indices of the ``m`` items with the most users (ties: lower index), sorted."""
    counts = x.getnnz(axis=0)
    order = np.lexsort((np.arange(x.shape[1]), -counts))
    return np.sort(order[:m])


def top_k_per_row(m: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """Keep the ``k`` largest entries of each row (ties: lower column)."""
    m = m.tocsr()
    m.eliminate_zeros()
    rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    order = np.lexsort((m.indices, -m.data, rows))
    rank = np.arange(order.size) - m.indptr[rows[order]]
    keep = order[rank < k]
    return sp.csr_matrix((m.data[keep], (rows[keep], m.indices[keep])), shape=m.shape)


def calibrate_alpha(x: sp.csr_matrix, head: np.ndarray, b: np.ndarray, gdiag: np.ndarray,
                    reg: float) -> float:
    """Least-squares scale from shrunk co-occurrence to exact EASE weights.

    Fitted on the least-interacted head items (the ones most like the tail) as targets.

    Args:
        x: users x items interactions.
        head: head item indices (the rows and columns of ``b``).
        b: the exact head weights.
        gdiag: the Gram matrix's diagonal over all items.
        reg: EASE's L2 penalty.
    """
    counts = x.getnnz(axis=0)[head]
    n_cal = min(_CALIBRATION_ITEMS, max(1, len(head) // 4))
    cols = np.lexsort((np.arange(len(head)), counts))[:n_cal]
    xh = x[:, head]
    g = (xh.T @ xh[:, cols]).tocoo()
    keep = g.row != cols[g.col]
    approx = g.data[keep] / (reg + gdiag[head][g.row[keep]])
    exact = b[g.row[keep], cols[g.col[keep]]]
    den = float(approx @ approx)
    return float(approx @ exact) / den if den > 0 else 1.0


def tail_weights(x: sp.csr_matrix, head: np.ndarray, gdiag: np.ndarray, reg: float,
                 alpha: float, k: int) -> sp.csr_matrix:
    """Item x item weights of every pair with a tail item, ``k`` per tail item and direction.

    Columns of tail items hold their ``k`` strongest inputs (any item); rows of tail items hold
    their ``k`` strongest head targets. Head -> head pairs are left to the exact weights.

    Args:
        x: users x items interactions.
        head: head item indices.
        gdiag: the Gram matrix's diagonal.
        reg: EASE's L2 penalty.
        alpha: scale from ``calibrate_alpha``.
        k: entries kept per tail item in each direction.
    """
    n = x.shape[1]
    is_head = np.zeros(n, bool)
    is_head[head] = True
    tail = np.flatnonzero(~is_head)
    xt = x.T.tocsr()
    denom = (reg + gdiag) / alpha
    rows: list[np.ndarray] = []
    cols_out: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    for s in range(0, len(tail), _BLOCK):
        cols = tail[s:s + _BLOCK]
        # this block of tail items x all items, from the block's rows of x.T: slicing columns
        # of x or multiplying from the all-items side costs O(items) per block
        g = (xt[cols] @ x).tocoo()
        off = g.col != cols[g.row]
        r, c, v = g.col[off], g.row[off], g.data[off]
        # into each tail item: its strongest inputs, input i shrunk by its own G_ii
        into = top_k_per_row(sp.csr_matrix((v / denom[r], (c, r)), shape=(len(cols), n)), k)
        into = into.tocoo()
        rows.append(into.col)
        cols_out.append(cols[into.row])
        vals.append(into.data)
        # out of each tail item: its strongest head targets, shrunk by the tail item's G_ii
        h = is_head[r]
        out = top_k_per_row(sp.csr_matrix((v[h] / denom[cols[c[h]]], (c[h], r[h])),
                                          shape=(len(cols), n)), k).tocoo()
        rows.append(cols[out.row])
        cols_out.append(out.col)
        vals.append(out.data)
    if not rows:
        return sp.csr_matrix((n, n), dtype=np.float32)
    return sp.csr_matrix((np.concatenate(vals).astype(np.float32),
                          (np.concatenate(rows), np.concatenate(cols_out))), shape=(n, n))
