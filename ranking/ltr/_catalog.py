"""The ranker's engagement features, read from the DuckDB feature catalog by name.

A model's config lists catalog names (``user_engagement.like_rate_28d``,
``video_engagement.velocity``, ``user_creator_affinity.affinity``...). They are computed by
the catalog's own SQL (``features/sql``), one definition per figure, over exactly the events
an ``Interactions`` holds: for training, the history part of the split (held-out pairs and
everything after a user's cutoff are not there, so no label leaks into a feature); for
serving, every event up to the training time. The values are then materialised into arrays
aligned with the model's user and item index and saved with the version, so a feed request
gathers them with numpy, like every other ranker feature.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta

import duckdb
import numpy as np
import polars as pl
import scipy.sparse as sp

from features.build import build_features
from features.catalog import load_catalog
from features.errors import ConfigError, PipelineError
from features.schema import ensure_schema
from features.store import MEMORY_ENV
from ranking.candidates import sparse_arrays, sparse_from

__all__ = ["DEFAULT_FEATURES", "CatalogArrays", "resolve_features", "catalog_arrays_for"]

# What the ranker learns from the catalog unless its config says otherwise.
DEFAULT_FEATURES: tuple[str, ...] = (
    # the viewer: how much, how and how recently they watch
    "user_engagement.views_total",
    "user_engagement.like_rate_total",
    "user_engagement.completion_rate_total",
    "user_engagement.negative_rate_total",
    "user_engagement.create_rate_total",
    "user_engagement.like_rate_28d",
    "user_engagement.completion_rate_28d",
    "user_engagement.views_decayed",
    # the video: popularity, response, age and trend
    "video_engagement.views_total",
    "video_engagement.like_rate_total",
    "video_engagement.completion_rate_total",
    "video_engagement.negative_rate_total",
    "video_engagement.create_rate_total",
    "video_engagement.age_hours",
    "video_engagement.first_seen_hours_ago",
    "video_engagement.views_7d",
    "video_engagement.like_rate_28d",
    "video_engagement.completion_rate_28d",
    "video_engagement.views_decayed",
    "video_engagement.velocity",
    "creator_engagement.engagement_rate_28d",
    # the viewer and the creator
    "user_creator_affinity.views_total",
    "user_creator_affinity.following",
    "user_creator_affinity.affinity",
    "fatigue_creator.fatigue",
)

# Feature-set keys the ranker can join to a (user, video) pair, and how.
_KINDS = {("user_id",): "user", ("item_id",): "item", ("creator_id",): "creator",
          ("user_id", "creator_id"): "user_creator", ("user_id", "item_id"): "user_item"}


def resolve_features(names: list[str] | tuple[str, ...], model: str = "ltr"
                     ) -> list[tuple[str, str, str]]:
    """``(set, column, kind)`` per name, in order.

    Raises:
        ConfigError: a name the catalog lacks, or a set keyed by something the ranker cannot
            join to a (user, video) pair; the message names the feature.
    """
    catalog = load_catalog(check_sql=False)
    out: list[tuple[str, str, str]] = []
    for name in names:
        for s, cols in catalog.resolve([name], model=model).items():
            kind = _KINDS.get(tuple(catalog.sets[s].key))
            if kind is None:
                raise ConfigError(
                    f"feature '{name}' referenced in model '{model}' is keyed by "
                    f"({', '.join(catalog.sets[s].key)}), which the ranker cannot join to a "
                    "(user, video) pair")
            out += [(s, c, kind) for c in cols if (s, c, kind) not in out]
    return out


def _pair_values(m: sp.csr_matrix, users: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """``m[users, keys]`` as a flat array. One viewer's pairs (a feed request) read their
    row once: scipy's fancy indexing costs ~0.1 ms per call whatever the size."""
    u = users[0]
    if (users == u).all():
        a, b = m.indptr[u], m.indptr[u + 1]
        row = np.zeros(m.shape[1], m.dtype)
        if m.has_canonical_format:
            row[m.indices[a:b]] = m.data[a:b]
        else:
            np.add.at(row, m.indices[a:b], m.data[a:b])  # duplicates sum, as in scipy
        return row[keys]
    return np.asarray(m[users, keys]).ravel()


@dataclass
class CatalogArrays:
    """Catalog feature values aligned with a model's index (NaN: no row in the set)."""

    names: list[str]
    kinds: list[str]
    user: np.ndarray  # n_users x (user features)
    item: np.ndarray  # n_items x (item and creator features, the creator's via the item)
    pairs: list[sp.csr_matrix]  # user x creator or user x item, one per pair feature
    item_creator: np.ndarray  # creator row per item (-1 unknown) for the pair features

    def gather(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """The features of index pairs (-1: unknown user or item), in ``names`` order."""
        n = len(users)
        creators = np.full(n, -1, np.int64)
        out = np.full((n, len(self.names)), np.nan, np.float32)
        uok, iok = users >= 0, items >= 0
        creators[iok] = self.item_creator[items[iok]]
        ku = ki = kp = 0
        for col, kind in enumerate(self.kinds):
            if kind == "user":
                out[uok, col] = self.user[users[uok], ku]
                ku += 1
            elif kind in ("item", "creator"):
                out[iok, col] = self.item[items[iok], ki]
                ki += 1
            else:
                keys = creators if kind == "user_creator" else items
                ok = uok & (keys >= 0)
                # A pair with no row has no engagement: 0, as the catalog documents.
                out[uok & ~ok, col] = 0.0
                if ok.any():
                    out[ok, col] = _pair_values(self.pairs[kp], users[ok], keys[ok])
                kp += 1
        return out

    def with_items(self, columns: Mapping[str, np.ndarray], rows: np.ndarray | None = None
                   ) -> CatalogArrays:
        """A copy whose named video features take ``columns``' values where they are not NaN.

        The request-time path passes live values here (``features.live_tiles.LiveTiles
        .item_columns``: the catalog's own definitions over the store plus the events since)
        so ``gather`` reads them instead of the values saved with the version; NaN keeps the
        value this copy starts from. Copies the item matrix: call it when live values change
        (after a fold, with ``rows`` the videos it touched), not per request.

        Args:
            columns: ``{catalog name: values}``, one value per entry of ``rows``.
            rows: the model's item-index positions the values are for (default: every item,
                in index order).

        Raises:
            PipelineError: a name that is not one of this model's per-video features, or
                values that do not match ``rows``.
        """
        pos: dict[str, int] = {}
        ki = 0
        for name, kind in zip(self.names, self.kinds, strict=True):
            if kind == "item":
                pos[name] = ki
            ki += kind in ("item", "creator")
        item = self.item.copy()
        at = np.arange(item.shape[0]) if rows is None else np.asarray(rows, dtype=np.int64)
        if at.size and (at.min() < 0 or at.max() >= item.shape[0]):
            raise PipelineError(f"rows must be positions in the model's item index "
                                f"(0..{item.shape[0] - 1}); drop unknown videos (-1) first")
        for name, values in columns.items():
            if name not in pos:
                raise PipelineError(f"'{name}' is not a per-video feature of this model "
                                    f"(its per-video features: {sorted(pos)})")
            vals = np.asarray(values, dtype=np.float32)
            if vals.shape != at.shape:
                raise PipelineError(f"live values of '{name}' have shape {vals.shape}, "
                                    f"for {at.size} items")
            ok = ~np.isnan(vals)
            item[at[ok], pos[name]] = vals[ok]
        return replace(self, item=item)

    def arrays(self, prefix: str = "cat") -> dict[str, np.ndarray]:
        """Named arrays for ``np.savez`` (``from_arrays`` with the same prefix reads them)."""
        out = {f"{prefix}_user": self.user, f"{prefix}_item": self.item,
               f"{prefix}_item_creator": self.item_creator}
        for k, m in enumerate(self.pairs):
            out.update(sparse_arrays(f"{prefix}_pair{k}", m))
        return out

    @classmethod
    def from_arrays(cls, names: list[str], a: dict[str, np.ndarray], prefix: str = "cat"
                    ) -> CatalogArrays:
        """The arrays ``arrays(prefix)`` wrote, for the features ``names``.

        Raises:
            PipelineError: the arrays were not written for these features (a model version
                saved before the ranker read its figures from the catalog).
        """
        if f"{prefix}_user" not in a:
            raise PipelineError(
                "this model version was trained before the ranker read its statistics from "
                "the feature catalog; train a new version with `feedwell train`")
        kinds = [k for _, _, k in resolve_features(names)]
        n_pairs = sum(k in ("user_creator", "user_item") for k in kinds)
        return cls(list(names), kinds, a[f"{prefix}_user"], a[f"{prefix}_item"],
                   [sparse_from(f"{prefix}_pair{k}", a) for k in range(n_pairs)],
                   a[f"{prefix}_item_creator"])


BUILD_MEMORY = "512MB"
"""DuckDB's ``memory_limit`` for the catalog features training builds over its events (the
store's ``FEEDWELL_MEMORY_LIMIT`` instead when that is set): past it, aggregates and joins
spill to a temporary folder instead of growing training's peak, which this build was at 5M
events: there it took 1,364 MB above the loaded data unbounded, 1,007 MB at 1GB and 489 MB at
512MB, in 14.0, 12.8 and 14.2 s (``compute_stats`` on the 5M world of bench/scale.py)."""


def _store(events: pl.DataFrame, items: pl.DataFrame, resets: pl.DataFrame | None,
           spill: str) -> duckdb.DuckDBPyConnection:
    """An in-memory store with the contract schema holding exactly these rows, its working
    memory bounded by ``BUILD_MEMORY`` (spilling to the folder ``spill``).

    ``events`` is a view over the frame, cast to the table's types, not a copy: the feature
    build scans it in place (at 5M events the copy and its build were ~0.9 GB at training's
    peak)."""
    con = duckdb.connect(config={"memory_limit": _build_memory(), "temp_directory": spill})
    ensure_schema(con)
    if events is not None and events.height:
        cols = [r[:2] for r in con.execute("DESCRIBE events").fetchall()]
        have = set(events.columns)
        con.register("_event_rows", events.select([c for c, _ in cols if c in have]))
        con.execute("DROP TABLE events")
        con.execute("CREATE VIEW events AS SELECT " + ", ".join(
            f"CAST({c if c in have else 'NULL'} AS {t}) AS {c}" for c, t in cols)
            + " FROM _event_rows")
    for table, frame in (("items", items), ("user_resets", resets)):
        if frame is None or not frame.height:
            continue
        have = {r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()}
        cols = [c for c in frame.columns if c in have]
        con.register("_rows", frame.select(cols))
        con.execute(f"INSERT INTO {table} ({', '.join(cols)}) "
                    f"SELECT {', '.join(cols)} FROM _rows").fetchall()
        con.unregister("_rows")
    return con


def _build_memory() -> str:
    # The store's own bound when one is set, so one setting bounds every DuckDB this runs.
    return os.environ.get(MEMORY_ENV, "").strip().replace("'", "") or BUILD_MEMORY


def catalog_arrays_for(groups: list[list[str] | tuple[str, ...]], user_ids: np.ndarray,
                       item_ids: np.ndarray, events: pl.DataFrame | None, items: pl.DataFrame,
                       resets: pl.DataFrame | None = None) -> list[CatalogArrays]:
    """Compute the catalog features named in each of ``groups`` over ``events`` (one build of
    the sets for all of them) and align them with an index.

    Args:
        groups: lists of catalog feature names (``resolve_features``); one result per list.
        user_ids / item_ids: the model's index.
        events: the raw events the features may see (None: every value is NaN).
        items: the catalog rows (``item_id``, ``creator_id``, ``created_at``, ``duration_ms``).
        resets: ``user_resets`` rows.
    """
    specs = [resolve_features(names) for names in groups]
    ni = len(item_ids)
    creators = sorted(set(items["creator_id"].drop_nulls().to_list())) if items.height else []
    cidx = {c: k for k, c in enumerate(creators)}
    item_creator = np.full(ni, -1, np.int64)
    iidx = {t: k for k, t in enumerate(item_ids.tolist())}
    uidx = {u: k for k, u in enumerate(user_ids.tolist())}
    for i, c in items.select("item_id", "creator_id").drop_nulls().iter_rows():
        if i in iidx:
            item_creator[iidx[i]] = cidx[c]
    frames: dict[str, pl.DataFrame] = {}
    if events is not None and events.height:
        now = events["ts"].max() + timedelta(microseconds=1)
        with tempfile.TemporaryDirectory(prefix="feedwell-catalog-") as spill:
            con = _store(events, items, resets, spill)
            try:
                frames = build_features(con, now,
                                        sorted({s for spec in specs for s, _, _ in spec}),
                                        materialize=False)
            finally:
                con.close()
    index = _Index(uidx, iidx, cidx, item_creator, max(len(creators), 1))
    return [_align(list(names), spec, frames, index)
            for names, spec in zip(groups, specs, strict=True)]


@dataclass(frozen=True)
class _Index:
    users: dict
    items: dict
    creators: dict
    item_creator: np.ndarray
    n_creators: int


def _align(names: list[str], spec: list[tuple[str, str, str]], frames: dict[str, pl.DataFrame],
           ix: _Index) -> CatalogArrays:
    """The built sets' columns of ``spec`` as arrays on the model's index (NaN: no row)."""
    kinds = [k for _, _, k in spec]
    nu, ni = len(ix.users), len(ix.items)
    user = np.full((nu, kinds.count("user")), np.nan, np.float32)
    item = np.full((ni, kinds.count("item") + kinds.count("creator")), np.nan, np.float32)
    pairs = [sp.csr_matrix((nu, ix.n_creators if k == "user_creator" else ni),
                           dtype=np.float32) for k in kinds if k in ("user_creator", "user_item")]
    out = CatalogArrays(names, kinds, user, item, pairs, ix.item_creator)
    if not frames:
        return out
    ku = ki = kp = 0
    for s, c, kind in spec:
        f = frames[s]
        vals = f[c].cast(pl.Float64).to_numpy()
        if kind == "user":
            rows = np.array([ix.users.get(u, -1) for u in f["user_id"].to_list()], np.int64)
            user[rows[rows >= 0], ku] = vals[rows >= 0]
            ku += 1
        elif kind == "item":
            rows = np.array([ix.items.get(i, -1) for i in f["item_id"].to_list()], np.int64)
            item[rows[rows >= 0], ki] = vals[rows >= 0]
            ki += 1
        elif kind == "creator":
            by = np.full(ix.n_creators, np.nan)
            rows = np.array([ix.creators.get(x, -1) for x in f["creator_id"].to_list()],
                            np.int64)
            by[rows[rows >= 0]] = vals[rows >= 0]
            ok = ix.item_creator >= 0
            item[ok, ki] = by[ix.item_creator[ok]]
            ki += 1
        else:
            key, index = (("creator_id", ix.creators) if kind == "user_creator"
                          else ("item_id", ix.items))
            r = np.array([ix.users.get(u, -1) for u in f["user_id"].to_list()], np.int64)
            k = np.array([index.get(x, -1) for x in f[key].to_list()], np.int64)
            ok = (r >= 0) & (k >= 0) & np.isfinite(vals)
            pairs[kp] = sp.csr_matrix((vals[ok].astype(np.float32), (r[ok], k[ok])),
                                      shape=pairs[kp].shape)
            kp += 1
    return out
