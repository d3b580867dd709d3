"""Top-k metrics with binary relevance (recommenders/lenskit definitions)."""

from __future__ import annotations

import numpy as np

__all__ = ["ndcg_at_k", "ndcg_per_user", "recall_at_k", "precision_at_k", "map_at_k", "coverage",
           "novelty", "intra_list_diversity", "pair_auc"]


def _hits(rec: np.ndarray, rel: set, k: int) -> np.ndarray:
    return np.array([x in rel for x in list(rec)[:k]], dtype=float)


def ndcg_per_user(recs: list, rels: list[set], k: int = 10) -> np.ndarray:
    """NDCG@k of each user's list (NaN where the user has nothing relevant)."""
    disc = 1.0 / np.log2(np.arange(2, k + 2))
    out = np.full(len(rels), np.nan)
    for j, (rec, rel) in enumerate(zip(recs, rels, strict=True)):
        if rel:
            h = _hits(rec, rel, k)
            out[j] = (h * disc[:len(h)]).sum() / disc[:min(k, len(rel))].sum()
    return out


def ndcg_at_k(recs: list, rels: list[set], k: int = 10) -> float:
    """Mean NDCG@k; the ideal list puts min(k, |rel|) hits first."""
    v = ndcg_per_user(recs, rels, k)
    v = v[~np.isnan(v)]
    return float(v.mean()) if v.size else 0.0


def recall_at_k(recs: list, rels: list[set], k: int = 10) -> float:
    """Mean share of relevant items found in the top k."""
    v = [_hits(r, s, k).sum() / len(s) for r, s in zip(recs, rels, strict=True) if s]
    return float(np.mean(v)) if v else 0.0


def precision_at_k(recs: list, rels: list[set], k: int = 10) -> float:
    """Mean hits / k."""
    v = [_hits(r, s, k).sum() / k for r, s in zip(recs, rels, strict=True) if s]
    return float(np.mean(v)) if v else 0.0


def map_at_k(recs: list, rels: list[set], k: int = 10) -> float:
    """Mean average precision at k (normalised by min(k, |rel|))."""
    v = []
    for r, s in zip(recs, rels, strict=True):
        if not s:
            continue
        h = _hits(r, s, k)
        prec = np.cumsum(h) / np.arange(1, len(h) + 1)
        v.append((prec * h).sum() / min(k, len(s)))
    return float(np.mean(v)) if v else 0.0


def coverage(recs: list, n_items: int, k: int = 10) -> float:
    """Share of the catalog that appears in any top-k list."""
    seen = {x for r in recs for x in list(r)[:k]}
    return len(seen) / n_items if n_items else 0.0


def novelty(recs: list, popularity: dict, n_users: int, k: int = 10) -> float:
    """Mean self-information -log2(p(item)) of recommended items (p = share of users)."""
    v = [-np.log2(max(popularity.get(x, 0), 1) / max(n_users, 1))
         for r in recs for x in list(r)[:k]]
    return float(np.mean(v)) if v else 0.0


def intra_list_diversity(recs: list, topics: dict, k: int = 10) -> float:
    """Mean pairwise Jaccard distance of item topic sets within each list (NaN if no topics)."""
    vals = []
    for r in recs:
        ts = [topics.get(x) for x in list(r)[:k]]
        ts = [set(t) for t in ts if t]
        if len(ts) < 2:
            continue
        d = [1 - len(a & b) / max(len(a | b), 1) for i, a in enumerate(ts) for b in ts[i + 1:]]
        vals.append(np.mean(d))
    return float(np.mean(vals)) if vals else float("nan")


def pair_auc(pos: np.ndarray, neg: np.ndarray) -> float:
    """P(score of a positive > score of a negative), ties count half."""
    pos, neg = np.asarray(pos, float), np.asarray(neg, float)
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    allv = np.concatenate([pos, neg])
    order = allv.argsort(kind="mergesort")
    ranks = np.empty(len(allv))
    ranks[order] = np.arange(1, len(allv) + 1)
    # average ranks over ties
    _, inv, cnt = np.unique(allv, return_inverse=True, return_counts=True)
    sums = np.bincount(inv, ranks)
    ranks = sums[inv] / cnt[inv]
    return float((ranks[:len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))
