"""Ranker features for (user, item) pairs: per-source scores, the ranker's own statistics of
the interaction table, and the engagement features named from the DuckDB catalog.

All of them are arrays aligned with the interaction index, so scoring a page of candidates is
a handful of numpy gathers (no joins on the request path).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import polars as pl
import scipy.sparse as sp

from ranking.candidates import CandidateSource, sparse_arrays, sparse_from
from ranking.interactions import Interactions
from ranking.ltr._catalog import CatalogArrays, catalog_arrays

__all__ = ["Stats", "compute_stats", "pair_features", "feature_names"]

ITEM_COLS = ("i_users", "i_like_rate", "i_mean_w", "i_watch", "i_neg", "i_age_days", "i_recent",
             "i_neg_rate", "i_like_rate_s", "i_create_rate")
USER_COLS = ("u_items", "u_like_rate", "u_mean_w", "u_neg", "u_create_rate")
PAIR_COLS = ("uc_pos", "uc_neg", "uc_follow")
NEG_HALF_LIFE_DAYS = 21.0


@dataclass
class Stats:
    """User, item and user x creator statistics as of one time, aligned with an index."""

    item: np.ndarray  # n_items x len(ITEM_COLS)
    user: np.ndarray  # n_users x len(USER_COLS)
    uc_pos: sp.csr_matrix  # user x creator positives
    uc_neg: sp.csr_matrix  # user x creator hides/reports, decayed
    uc_follow: sp.csr_matrix  # user x creator net follows
    item_creator: np.ndarray  # creator index per item (-1 unknown)
    hidden: sp.csr_matrix  # user x item hides/reports (sink outright)
    catalog: CatalogArrays | None = None  # the config's catalog features, same index

    @property
    def catalog_names(self) -> list[str]:
        return self.catalog.names if self.catalog is not None else []

    def arrays(self) -> dict[str, np.ndarray]:
        out = {"item": self.item, "user": self.user, "item_creator": self.item_creator}
        for k in ("uc_pos", "uc_neg", "uc_follow", "hidden"):
            out.update(sparse_arrays(k, getattr(self, k)))
        if self.catalog is not None:
            out.update(self.catalog.arrays())
        return out

    @classmethod
    def from_arrays(cls, a: dict[str, np.ndarray], catalog: list[str] | tuple[str, ...] = ()
                    ) -> Stats:
        return cls(a["item"], a["user"], sparse_from("uc_pos", a), sparse_from("uc_neg", a),
                   sparse_from("uc_follow", a), a["item_creator"], sparse_from("hidden", a),
                   CatalogArrays.from_arrays(list(catalog), a) if catalog else None)


def _idx(data: Interactions, f: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    u = np.array([data.user_index(x) for x in f["user_id"].to_list()], dtype=np.int64)
    return u, data.item_index(f["item_id"].to_list())


def compute_stats(data: Interactions, catalog: list[str] | tuple[str, ...] = ()) -> Stats:
    """Statistics from the positives, negatives and follows of ``data``, plus the ``catalog``
    features computed over the raw events ``data`` holds."""
    nu, ni = data.n_users, data.n_items
    now = data.now or (data.frame["last_ts"].max() if data.frame.height else None)
    f = data.frame
    item = np.full((ni, len(ITEM_COLS)), np.nan, np.float32)
    made = (pl.col("created") > 0) if "created" in f.columns else pl.lit(False)
    n_made = np.zeros(ni)
    if f.height:
        days = ((pl.lit(now) - pl.col("last_ts")).dt.total_seconds() / 86400)
        g = f.group_by("item_id").agg(
            pl.len().alias("n"), pl.col("liked").mean().alias("lr"),
            pl.col("weight").mean().alias("w"),
            pl.col("watch_frac").mean().alias("wf"), days.max().alias("age"),
            (days <= 3).sum().alias("recent"), made.sum().alias("made"))
        idx = data.item_index(g["item_id"].to_list())
        cols = g.select("n", "lr", "w", "wf").to_numpy()
        item[idx, 0:4] = cols
        item[idx, 5] = g["age"].to_numpy()
        item[idx, 6] = g["recent"].to_numpy()
        n_made[idx] = g["made"].to_numpy()
        item[:, 0] = np.nan_to_num(item[:, 0])
    n_neg = data.negatives.group_by("item_id").len()
    item[:, 4] = 0
    if n_neg.height:
        idx = data.item_index(n_neg["item_id"].to_list())
        item[idx[idx >= 0], 4] = n_neg["len"].to_numpy()[idx >= 0]
    # Smoothed rates: a video few people saw should not look perfect or terrible.
    n_pos = np.nan_to_num(item[:, 0])
    item[:, 7] = (item[:, 4] + 0.1) / (n_pos + item[:, 4] + 1.0)
    item[:, 8] = (np.nan_to_num(item[:, 1]) * n_pos + 0.1) / (n_pos + item[:, 4] + 1.0)
    # Creation signals (remix, share, comment) per viewer: what the creation-first label rewards.
    item[:, 9] = (n_made + 0.05) / (n_pos + 1.0)
    if data.items.height and now is not None:
        born = data.items.select("item_id", ((pl.lit(now) - pl.col("created_at")).dt.total_seconds()
                                             / 86400).alias("a")).drop_nulls()
        idx = data.item_index(born["item_id"].to_list())
        item[idx[idx >= 0], 5] = born["a"].to_numpy()[idx >= 0]
    user = np.full((nu, len(USER_COLS)), np.nan, np.float32)
    if f.height:
        g = f.group_by("user_id").agg(pl.len(), pl.col("liked").mean(), pl.col("weight").mean(),
                                      made.mean().alias("made"))
        u, _ = _idx(data, g.with_columns(pl.lit("").alias("item_id")))
        user[u, 0:3] = g.select("len", "liked", "weight").to_numpy()
        user[u, 4] = g["made"].to_numpy()
    user[:, 3] = 0
    # Creator index over the catalog; hides weigh against the creator for weeks (decayed).
    creators = sorted(set(data.items["creator_id"].drop_nulls().to_list())
                      | set(data.negatives["creator_id"].drop_nulls().to_list())
                      | set(data.follows["creator_id"].to_list()))
    cidx = {c: k for k, c in enumerate(creators)}
    item_creator = np.full(ni, -1, np.int64)
    if data.items.height:
        it = data.items.drop_nulls("creator_id")
        idx = data.item_index(it["item_id"].to_list())
        item_creator[idx[idx >= 0]] = [cidx[c] for c, k in zip(it["creator_id"].to_list(), idx,
                                                                  strict=True) if k >= 0]
    nc = max(len(creators), 1)

    def mat(u: np.ndarray, c: np.ndarray, w: np.ndarray, shape) -> sp.csr_matrix:
        ok = (u >= 0) & (c >= 0)
        return sp.csr_matrix((w[ok].astype(np.float32), (u[ok], c[ok])), shape=shape)

    fu, fi = _idx(data, f)
    uc_pos = mat(fu, item_creator[fi] if len(fi) else fi, np.ones(len(fu)), (nu, nc))
    neg = data.negatives
    nu_, ni_ = _idx(data, neg)
    ages = neg.select(((pl.lit(now) - pl.col("ts")).dt.total_seconds() / 86400).alias("a"))["a"]
    decay = (0.5 ** (np.maximum(ages.to_numpy().astype(float), 0) / NEG_HALF_LIFE_DAYS)
             if neg.height else np.zeros(0))
    nc_idx = np.array([cidx.get(c, -1) if c is not None else -1
                       for c in neg["creator_id"].to_list()], dtype=np.int64)
    uc_neg = mat(nu_, nc_idx, decay, (nu, nc))
    np.add.at(user[:, 3], nu_[nu_ >= 0], 1)
    hidden = mat(nu_, ni_, np.ones(len(nu_)), (nu, ni))
    fo = data.follows
    fou = np.array([data.user_index(x) for x in fo["user_id"].to_list()], dtype=np.int64)
    foc = np.array([cidx.get(c, -1) for c in fo["creator_id"].to_list()], dtype=np.int64)
    uc_follow = mat(fou, foc, np.ones(len(fou)), (nu, nc))
    cat = (catalog_arrays(catalog, data.user_ids, data.item_ids, data.events, data.items,
                          data.resets) if catalog else None)
    return Stats(item, user, uc_pos, uc_neg, uc_follow, item_creator, hidden, cat)


def feature_names(sources: list[CandidateSource], catalog: list[str] | tuple[str, ...] = ()
                  ) -> list[str]:
    """Column order of ``pair_features``: source ranks and scores, the ranker's statistics,
    then the catalog features by their catalog names."""
    src = []
    for s in sources:
        src += [f"rank_{s.name}", f"z_{s.name}"] if s.personalised else [f"score_{s.name}"]
    return src + list(ITEM_COLS) + list(USER_COLS) + list(PAIR_COLS) + list(catalog)


def _rank_and_z(m: np.ndarray, depth: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-row rank (1 = best, NaN past ``depth``) and z-score over the finite entries.

    Raw scores shift in scale between the training-time fit (history) and the serving fit (all
    data); within-user ranks and z-scores do not, so the ranker sees only those.
    """
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mu = np.nanmean(m, axis=1, keepdims=True)
        sd = np.nanstd(m, axis=1, keepdims=True)
    z = (m - mu) / (sd + 1e-6)
    filled = np.where(np.isfinite(m), m, -np.inf)
    d = min(depth, m.shape[1])
    rank = np.full(m.shape, np.nan, np.float32)
    if d == 0:
        return rank, z
    part = np.argpartition(-filled, d - 1, axis=1)[:, :d]
    vals = np.take_along_axis(filled, part, axis=1)
    order = np.argsort(-vals, axis=1, kind="stable")
    top = np.take_along_axis(part, order, axis=1)
    rows = np.arange(m.shape[0])[:, None]
    rank[rows, top] = np.arange(1, d + 1, dtype=np.float32)[None, :]
    rank[~np.isfinite(m)] = np.nan
    return rank, z


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
    for s0 in range(0, len(uniq), chunk):
        block_users = uniq[s0:s0 + chunk]
        rows = np.flatnonzero((inv >= s0) & (inv < s0 + chunk) & iok)
        r = inv[rows] - s0
        col = 0
        for src in sources:
            m = src.score_rows(block_users)
            if src.personalised:
                m = src.mask_seen(block_users, m)
                rank, z = _rank_and_z(m, depth)
                out[rows, col] = rank[r, items[rows]]
                out[rows, col + 1] = z[r, items[rows]]
                col += 2
            else:
                out[rows, col] = m[r, items[rows]]
                col += 1
    col = out.shape[1] - n_cat - len(ITEM_COLS) - len(USER_COLS) - len(PAIR_COLS)
    out[iok, col:col + len(ITEM_COLS)] = stats.item[items[iok]]
    col += len(ITEM_COLS)
    uok = users >= 0
    out[uok, col:col + len(USER_COLS)] = stats.user[users[uok]]
    col += len(USER_COLS)
    ok = uok & iok
    cr = np.full(n, -1, np.int64)
    cr[iok] = stats.item_creator[items[iok]]
    ok &= cr >= 0
    for k, m in enumerate((stats.uc_pos, stats.uc_neg, stats.uc_follow)):
        out[:, col + k] = 0
        if ok.any():
            out[ok, col + k] = np.asarray(m[users[ok], cr[ok]]).ravel()
    if stats.catalog is not None:
        out[:, out.shape[1] - n_cat:] = stats.catalog.gather(users, items)
    return out
