"""Ranker features for (user, item) pairs: per-source ranks and scores, and the engagement
features named from the DuckDB catalog (the ranker keeps no statistics of its own).

All of them are arrays aligned with the interaction index, so scoring a page of candidates is
a handful of numpy gathers (no joins on the request path).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ranking.candidates import CandidateSource, block_rows
from ranking.interactions import Interactions
from ranking.ltr._catalog import CatalogArrays, catalog_arrays_for

__all__ = ["SERVING_FEATURES", "Stats", "compute_stats", "pair_features", "feature_names",
           "feature_block_rows",
           "RowRanks", "row_ranks"]

# Catalog figures the ranker applies on top of any model when serving: a video the user hid or
# reported sinks, and hides, reports and blocks weigh against the creator while they decay.
SERVING_FEATURES: tuple[str, ...] = (
    "fatigue_item.hides_total",
    "fatigue_item.reports_total",
    "fatigue_creator.fatigue",
)


@dataclass
class Stats:
    """The catalog figures a model learns from (``catalog``, the config's features) and the
    ones it applies when serving (``serving``, ``SERVING_FEATURES``), aligned with its index."""

    catalog: CatalogArrays
    serving: CatalogArrays

    @property
    def catalog_names(self) -> list[str]:
        return self.catalog.names

    def arrays(self) -> dict[str, np.ndarray]:
        return {**self.catalog.arrays("cat"), **self.serving.arrays("srv")}

    @classmethod
    def from_arrays(cls, a: dict[str, np.ndarray], catalog: list[str] | tuple[str, ...]
                    ) -> Stats:
        return cls(CatalogArrays.from_arrays(list(catalog), a, "cat"),
                   CatalogArrays.from_arrays(list(SERVING_FEATURES), a, "srv"))

    def sink_and_penalty(self, users: np.ndarray, items: np.ndarray
                         ) -> tuple[np.ndarray, np.ndarray]:
        """Per index pair: whether the user hid or reported the video, and the creator's
        decayed fatigue (0 without a row)."""
        g = np.nan_to_num(self.serving.gather(users, items))
        return (g[:, 0] + g[:, 1]) > 0, g[:, 2].astype(np.float64)


def compute_stats(data: Interactions, catalog: list[str] | tuple[str, ...] = ()) -> Stats:
    """The ``catalog`` features and the serving figures, computed by the catalog's SQL over
    the raw events ``data`` holds."""
    feats, serving = catalog_arrays_for([list(catalog), list(SERVING_FEATURES)], data.user_ids,
                                        data.item_ids, data.events, data.items, data.resets)
    return Stats(feats, serving)


def feature_names(sources: list[CandidateSource], catalog: list[str] | tuple[str, ...] = ()
                  ) -> list[str]:
    """Column order of ``pair_features``: source ranks and scores, then the catalog features
    by their catalog names."""
    src = []
    for s in sources:
        src += [f"rank_{s.name}", f"z_{s.name}"] if s.personalised else [f"score_{s.name}"]
    return src + list(catalog)


@dataclass(frozen=True)
class RowRanks:
    """A score row's rank (1 = best; NaN past ``depth`` or where the row is not finite) and
    z-score over its finite entries, read at the items asked for (a request reads a few
    hundred of a catalog's entries): the row's ``depth`` best in rank order, and its moments.

    Attributes:
        m: the row (NaN: not scored).
        top: the indices ranked 1, 2, ... (a partition and a stable sort, so
            ties keep its order).
        mu: the row's ``nanmean`` (1 x 1).
        sd: the row's ``nanstd`` (1 x 1).
    """

    m: np.ndarray
    top: np.ndarray
    mu: np.ndarray
    sd: np.ndarray

    def at(self, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(rank, z)`` of ``items`` (tested equal to the whole-row definition)."""
        pos = np.full(self.m.size, np.nan, np.float32)
        pos[self.top] = np.arange(1, len(self.top) + 1, dtype=np.float32)
        v = self.m[items]
        rank = pos[items]
        rank[~np.isfinite(v)] = np.nan
        with np.errstate(all="ignore"):
            z = (v[None, :] - self.mu) / (self.sd + 1e-6)
        return rank, z[0]


def row_ranks(m: np.ndarray, depth: int) -> RowRanks:
    """``RowRanks`` of one score row: its moments step for step as numpy's ``nanmean`` and
    ``nanstd`` take them (one NaN mask and one copy serve both), and its ``depth`` best by a
    partition and a stable sort, without writing the full rank and z rows a caller never
    reads. Training (``pair_features``) and serving (``ranking.ltr._live``) both read ranks
    and z-scores through it: raw scores shift in scale between the fit on the history and the
    fit on all data, within-user ranks and z-scores do not, so the ranker sees only those."""
    a = m[None, :]
    mask = np.isnan(a)
    arr = a.copy()
    np.copyto(arr, 0, where=mask, casting="unsafe")
    cnt = np.full((1, 1), m.size - np.count_nonzero(mask), np.intp)
    with np.errstate(all="ignore"):
        tot = np.sum(arr, axis=1, keepdims=True)
        mu = np.divide(tot, cnt, out=tot, casting="unsafe")
        np.subtract(arr, mu, out=arr, casting="unsafe")
        np.copyto(arr, 0, where=mask, casting="unsafe")
        np.multiply(arr, arr, out=arr)
        var = np.sum(arr, axis=1, keepdims=True)
        var = np.divide(var, cnt, out=var, casting="unsafe")
        np.copyto(var, np.nan, where=cnt <= 0, casting="unsafe")
        sd = np.sqrt(var, out=var)
    d = min(depth, m.size)
    if d == 0:
        return RowRanks(m, np.zeros(0, np.int64), mu, sd)
    neg = np.negative(m)  # ``-filled``: the non-finite last
    neg[~np.isfinite(m)] = np.inf
    part = np.argpartition(neg, d - 1)[:d]
    top = part[np.argsort(neg[part], kind="stable")]
    return RowRanks(m, top, mu, sd)


_FEATURE_CELLS = 1 << 23
"""Cells of one dense users x videos score block in ``pair_features`` (32 MB of float32)."""


def feature_block_rows(sources: list[CandidateSource], chunk: int = 256) -> int:
    """Users per dense score block of ``pair_features``: ``chunk``, fewer on catalogs where
    that many rows would pass ``_FEATURE_CELLS``."""
    n_items = next((s.data.n_items for s in sources if s.data is not None), 0)
    return block_rows(n_items, chunk, _FEATURE_CELLS)


def pair_features(
    sources: list[CandidateSource], stats: Stats, users: np.ndarray, items: np.ndarray,
    chunk: int = 256, depth: int = 1000,
) -> np.ndarray:
    """Feature matrix for index pairs (-1 = unknown user/item gives NaN where it matters).

    Args:
        sources: fitted sources sharing the index of ``stats``.
        stats: statistics as of the same time.
        users: user index per pair.
        items: item index per pair.
        chunk: users per dense score block.
        depth: personalised ranks beyond this are NaN.

    Returns:
        float32 matrix, columns as ``feature_names(sources)``.
    """
    n = len(users)
    n_cat = len(stats.catalog_names)
    out = np.full((n, len(feature_names(sources, stats.catalog_names))), np.nan, np.float32)
    iok = items >= 0
    uniq, inv = np.unique(users, return_inverse=True)
    # A block's dense rows are bounded in cells whatever the catalog (100k videos: 83 users).
    chunk = feature_block_rows(sources, chunk)
    # Pairs grouped by user once (a pass over every pair per block grows as pairs x blocks).
    by_user = np.argsort(inv, kind="stable")
    by_user = by_user[iok[by_user]]
    ends = np.searchsorted(inv[by_user], np.arange(0, len(uniq) + chunk, chunk))
    for b, s0 in enumerate(range(0, len(uniq), chunk)):
        block_users = uniq[s0:s0 + chunk]
        rows = by_user[ends[b]:ends[b + 1]]
        r = inv[rows] - s0
        cut = np.searchsorted(r, np.arange(len(block_users) + 1))
        col = 0
        for src in sources:
            m = src.score_rows(block_users)
            if src.personalised:
                m = src.mask_seen(block_users, m)
                # Ranks and z-scores row by row, as serving reads them (``row_ranks``), at the
                # block's pairs only (``rows`` run user by user).
                for k in np.flatnonzero(cut[1:] > cut[:-1]):
                    at = rows[cut[k]:cut[k + 1]]
                    out[at, col], out[at, col + 1] = row_ranks(m[k], depth).at(items[at])
                col += 2
            else:
                out[rows, col] = m[r, items[rows]]
                col += 1
    if n_cat:
        out[:, out.shape[1] - n_cat:] = stats.catalog.gather(users, items)
    return out
