"""A version's candidates and pair features for a set of users, computed once and read many times.

The evaluation reads the same users' rows for several things: every view's lists (the blend,
the actions model, each source with the feedback head), the liked-above-hidden AUC, the
per-action figures and the creation trade-off. Each used to merge the candidates and score the
users' whole catalog rows again. ``PairRows`` merges them once for the users it is given and
featurises, in one pass over their score rows, the candidates and any further pairs named up
front; a pair's features do not depend on the pairs beside it, so a row read from here is the
row ``pair_features`` gives for that pair alone.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from ranking.candidates import merge_candidates, remembered_rows
from ranking.interactions import Interactions
from ranking.ltr._features import Stats, feature_block_rows, feature_names, pair_features

__all__ = ["PairRows", "merged_with_features"]

_KEY = ["user_id", "item_id"]


def merged_with_features(sources: list, stats: Stats, data: Interactions, user_ids: list[str],
                         n_per_source: int | dict[str, int], n_total: int,
                         extra: tuple[pl.DataFrame, ...] = ()
                         ) -> tuple[pl.DataFrame, np.ndarray, list[np.ndarray]]:
    """``merge_candidates(sources, user_ids, n_per_source, n_total)``, the ``pair_features``
    of its rows and those of each ``extra`` frame's ``(user_id, item_id)`` pairs, scoring each
    user's catalog rows once for both (the merge's lists, then the features read the same
    block: ``remembered_rows``), block by block in ``pair_features``' blocks.

    Returns:
        ``(candidates, their features, [each extra frame's features])``: the candidates in
        ``merge_candidates``' order, every array row for row with its frame.
    """
    # Blocks of users in id order, so the blocks' merges concatenate in merge_candidates'
    # order (by user id); within a block, users in index order, the order pair_features
    # scores them in, so that the merge's block of rows is the one the features read.
    users = sorted(dict.fromkeys(user_ids))
    chunk = max(feature_block_rows(sources), 1)
    more = (pl.concat([f.select(_KEY).with_columns(pl.lit(n, pl.Int32).alias("_frame"))
                       for n, f in enumerate(extra)]).with_row_index("_row")
            if extra else pl.DataFrame(schema={"_row": pl.UInt32, **dict.fromkeys(_KEY, pl.String),
                                               "_frame": pl.Int32}))
    block_of = pl.DataFrame({"user_id": pl.Series(users, dtype=pl.String),
                             "_block": np.arange(len(users)) // chunk})
    more = more.join(block_of, on="user_id", how="left", maintain_order="left")
    n_feat = len(feature_names(sources, stats.catalog_names))
    x_more = np.full((more.height, n_feat), np.nan, np.float32)
    # Candidate rows are at most n_total per user: filled block by block, never copied whole
    # (pages of the bound's unused tail are never touched).
    x_cand = np.empty((len(users) * max(n_total, 0), n_feat), np.float32)
    cands, filled = [], 0
    with remembered_rows(sources):
        for b, s0 in enumerate(range(0, len(users), chunk)):
            ids = sorted(users[s0:s0 + chunk], key=data.user_index)
            cand = merge_candidates(sources, ids, n_per_source, n_total)
            mine = more.filter(pl.col("_block") == b)
            both = pl.concat([cand.select(_KEY), mine.select(_KEY)])
            u = np.array([data.user_index(x) for x in both["user_id"].to_list()], np.int64)
            x = pair_features(sources, stats, u, data.item_index(both["item_id"].to_list()))
            x_more[mine["_row"].to_numpy()] = x[cand.height:]
            x_cand[filled:filled + cand.height] = x[:cand.height]
            filled += cand.height
            cands.append(cand)
    if not cands:  # no users: the merge's empty frame
        cands.append(merge_candidates(sources, [], n_per_source, n_total))
    rest = more.filter(pl.col("_block").is_null())  # extra pairs of users not merged here
    if rest.height:
        u = np.array([data.user_index(x) for x in rest["user_id"].to_list()], np.int64)
        x_more[rest["_row"].to_numpy()] = pair_features(
            sources, stats, u, data.item_index(rest["item_id"].to_list()))
    ends = np.cumsum([f.height for f in extra])[:-1] if extra else []
    return pl.concat(cands), x_cand[:filled], (np.split(x_more, ends) if extra else [])


class PairRows:
    """``merge_candidates`` of ``users`` and ``pair_features`` of those candidates and of the
    ``(user_id, item_id)`` pairs of ``extra``, from one pass (``ranker``: an ``LtrRanker``;
    its views share these rows)."""

    def __init__(self, ranker: Any, users: list[str], extra: tuple[pl.DataFrame, ...] = ()
                 ) -> None:
        self._ranker = ranker
        cfg = ranker.config
        self._users = set(users)
        self.cand, x, xs = merged_with_features(ranker.sources, ranker.stats, ranker.data,
                                                list(users), cfg.n_per_source,
                                                cfg.n_candidates, extra)
        u, i = self.index(pl.concat([self.cand.select(_KEY)] + [f.select(_KEY) for f in extra]))
        self._keys, first = np.unique(self._key(u, i), return_index=True)
        self._x = np.concatenate([x, *xs])[first]
        self._p: np.ndarray | None = None

    def index(self, frame: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """The user and item indices of ``frame``'s pairs (-1: unknown)."""
        d = self._ranker.data
        users = frame["user_id"].to_list()
        return (np.array([d.user_index(x) for x in users], np.int64),
                d.item_index(frame["item_id"].to_list()))

    def _key(self, u: np.ndarray, i: np.ndarray) -> np.ndarray:
        # -1 (unknown) on either side keeps a key of its own.
        return (u + 1) * (self._ranker.data.n_items + 1) + (i + 1)

    def candidates(self, user_ids: list[str]) -> pl.DataFrame:
        """``merge_candidates`` of ``user_ids`` (users not given up front are merged now)."""
        cfg = self._ranker.config
        missing = [x for x in user_ids if x not in self._users]
        mine = self.cand.filter(pl.col("user_id").is_in(pl.Series(list(user_ids), dtype=pl.String)
                                                        .implode()))
        if not missing:
            return mine
        more = merge_candidates(self._ranker.sources, missing, cfg.n_per_source,
                                cfg.n_candidates)
        return pl.concat([mine, more.select(mine.columns)]) if mine.height else more

    def _find(self, u: np.ndarray, i: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # Each pair's row up front, and whether it is there.
        key = self._key(np.asarray(u, np.int64), np.asarray(i, np.int64))
        pos = np.minimum(np.searchsorted(self._keys, key), max(len(self._keys) - 1, 0))
        hit = (self._keys[pos] == key) if len(self._keys) else np.zeros(len(key), bool)
        return pos, hit

    def features(self, u: np.ndarray, i: np.ndarray) -> np.ndarray:
        """``pair_features`` of index pairs: read where computed up front, computed otherwise."""
        pos, hit = self._find(u, i)
        if hit.all():
            return self._x[pos]
        out = np.empty((len(pos), self._x.shape[1]), np.float32)
        out[hit] = self._x[pos[hit]]
        r = self._ranker
        out[~hit] = pair_features(r.sources, r.stats, np.asarray(u)[~hit], np.asarray(i)[~hit])
        return out

    def joint(self, u: np.ndarray, i: np.ndarray) -> np.ndarray:
        """``ranker.actions.joint`` of index pairs' features: computed for every row up front
        on the first call (the actions view and the trade-off read the same candidates)."""
        heads = self._ranker.actions
        if self._p is None:
            n = self._ranker.data.n_items + 1
            self._p = heads.joint(self._x, self._keys % n - 1)
        pos, hit = self._find(u, i)
        if hit.all():
            return self._p[pos]
        out = np.empty((len(pos), self._p.shape[1]), self._p.dtype)
        out[hit] = self._p[pos[hit]]
        miss = ~hit
        out[miss] = heads.joint(self.features(np.asarray(u)[miss], np.asarray(i)[miss]),
                                np.asarray(i)[miss])
        return out

    def score(self, view: Any) -> Any:
        """``view.score`` (a view of the same version) as ``(user_id, item ids) -> scores``,
        from these rows."""
        d = self._ranker.data

        def score(user_id: str, ids: list[str]) -> np.ndarray:
            if not ids:
                return np.zeros(0, np.float32)
            i = d.item_index(list(ids))
            u = np.full(len(ids), d.user_index(user_id), np.int64)
            return view._score_x(self.features(u, i), u, i, view.backed_off(u))

        return score
