"""Live tiles: each video's all-time ``part_item`` sums, kept current while the service runs.

The shape of Chronon's and Tecton's tiles: a batch part (seeded from the store, the sums of
every ``part_item`` bucket as of a time) plus a live head (new events folded as they arrive),
merged on read. Every step is the catalog's own SQL, so there is one definition per figure:

- a fold runs ``stg_events.sql`` and ``part_item.sql`` (through the runner ``features/build.py``
  uses) over just the new events, in an in-memory DuckDB with the contract schema, and adds the
  per-video sums to the tiles;
- the columns read are derived from the sums by the ``video_totals`` macro
  (``features/sql/macros/video_totals.sql``), the one ``video_engagement.sql`` calls.

The online ``video_engagement.*_total`` values therefore equal the catalog's over the same
events: counts and per-view rates exactly, ``completion_rate_total`` to float rounding (its sum
of fractions adds up in another order). Fold only new rows: ``features.rows.ingest_event_rows``
returns exactly those (a re-posted duplicate is stored once and not returned), so the tiles
never count an event twice. A fold reads the video's duration from the items the tiles hold:
an event folded before its video arrived has no completion, while a batch build gives it one
once the video is in the store: ``add_items(rows, store)`` sums such videos again from the store.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import duckdb
import numpy as np
import polars as pl

from features._sql import ALL_TIME, define_macros, set_sql, stage_events
from features.catalog import Catalog, load_catalog
from features.errors import ConfigError
from features.partials import kept_partials_current
from features.schema import ensure_schema

__all__ = ["LIVE_FEATURES", "TILE_COLUMNS", "LiveTiles"]

TILE_COLUMNS = ("views", "impressions", "watch_ms", "completion_sum", "completion_n", "likes",
                "shares", "remixes", "comments", "skips", "hides", "reports")
"""The ``part_item`` sums a tile holds per video (``completion_sum`` is NULL with no fraction)."""
LIVE_FEATURES = tuple(f"video_engagement.{c}" for c in (
    "views_total", "completion_rate_total", "like_rate_total", "create_rate_total",
    "negative_rate_total"))
"""The catalog features the tiles serve live (the columns of ``video_totals``)."""

_EVENT_COLUMNS = ("event_id", "user_id", "ts", "type", "item_id", "target_user_id", "watch_ms",
                  "session_id")
_ITEM_COLUMNS = ("item_id", "creator_id", "duration_ms", "topics")
_SUMS = ", ".join(
    f"sum({c})::{'DOUBLE' if c == 'completion_sum' else 'BIGINT'} AS {c}" for c in TILE_COLUMNS)
# A NULL completion sum means "no fraction yet" and must stay NULL (0 / 0 is NaN, not NULL).
_ADD = ", ".join(f"{c} = {c} + excluded.{c}" if c != "completion_sum" else
                 f"{c} = coalesce({c} + excluded.{c}, {c}, excluded.{c})" for c in TILE_COLUMNS)
_TOTALS = ("video_totals(t.views, t.completion_sum, t.completion_n, t.likes, t.shares, "
           "t.remixes, t.comments, t.hides, t.reports)")


def _frame(rows: pl.DataFrame | Sequence[Mapping[str, Any]], columns: tuple[str, ...]
           ) -> pl.DataFrame:
    """The ``columns`` of ``rows`` that are present (DuckDB casts them on insert)."""
    if isinstance(rows, pl.DataFrame):
        return rows.select([c for c in columns if c in rows.columns])
    rows = list(rows)
    have = [c for c in columns if any(c in r for r in rows)]
    return pl.DataFrame({c: [r.get(c) for r in rows] for c in have}, strict=False)


def _store_sums(con: duckdb.DuckDBPyConnection, catalog: Catalog, now: datetime,
                where: str = "") -> pl.DataFrame:
    """Per-video ``part_item`` sums of the store's events before ``now`` (``where`` filters
    ``stg_events``), by the catalog's SQL; the TEMP view it stages is dropped after."""
    stage_events(con, catalog, now, where)
    try:
        sql, params = set_sql(catalog, catalog.sets["part_item"], now)
        return con.sql(f"SELECT item_id, {_SUMS} FROM ({sql}) GROUP BY item_id",
                       params=params).pl()
    finally:
        con.execute("DROP VIEW IF EXISTS temp.stg_events").fetchall()


class LiveTiles:
    """Per-video all-time sums of the catalog's ``part_item``, seeded from a store and kept
    current by folding new events; thread-safe (one lock around its in-memory DuckDB).

    Args:
        catalog: the feature catalog (default: the package's ``features.yaml``).
    """

    def __init__(self, catalog: Catalog | None = None) -> None:
        self._catalog = catalog or load_catalog()
        self._lock = threading.Lock()
        self._con = duckdb.connect()
        self._con.execute("SET TimeZone = 'UTC'").fetchall()
        ensure_schema(self._con)
        define_macros(self._con)
        cols = ", ".join(f"{c} {'DOUBLE' if c == 'completion_sum' else 'BIGINT'}"
                         for c in TILE_COLUMNS)
        self._con.execute(f"CREATE TABLE tiles (item_id VARCHAR PRIMARY KEY, {cols})").fetchall()
        stage_events(self._con, self._catalog, ALL_TIME)
        self._part = set_sql(self._catalog, self._catalog.sets["part_item"], ALL_TIME)
        self._known: set[str] = set()
        # A known video with no events: the macro over no sums (views_total 0, rates NULL).
        none = self._con.sql("SELECT unnest(video_totals(NULL::BIGINT, NULL::DOUBLE, "
                             + ", ".join(["NULL::BIGINT"] * 7) + "))").pl()
        self._no_events = {c: np.nan if none[c][0] is None else float(none[c][0])
                           for c in none.columns}

    @classmethod
    def from_store(cls, con: duckdb.DuckDBPyConnection, now: datetime | None = None,
                   catalog: Catalog | None = None) -> LiveTiles:
        """Tiles holding every event of the store before ``now``, and the store's items.

        Args:
            con: a store connection (read-only is enough: only TEMP objects are made).
            now: the cut (naive UTC, events strictly before it). ``None``: every event; then the
                kept ``part_item`` table is summed when it is current, else the part SQL runs.
            catalog: the feature catalog (default: the package's).
        """
        tiles = cls(catalog)
        tiles.add_items(con.sql(f"SELECT {', '.join(_ITEM_COLUMNS)} FROM items").pl())
        if now is None and kept_partials_current(con, tiles._catalog):
            sums = con.sql(f"SELECT item_id, {_SUMS} FROM part_item GROUP BY item_id").pl()
        else:
            sums = _store_sums(con, tiles._catalog, now or ALL_TIME)
        tiles._merge(sums)
        return tiles

    def add_items(self, items: pl.DataFrame | Sequence[Mapping[str, Any]],
                  store: duckdb.DuckDBPyConnection | None = None) -> None:
        """Add or replace videos (items-contract rows: ``item_id``, ``creator_id``,
        ``duration_ms``, ``topics``); their durations make later folds' completions.

        Args:
            items: the rows (``POST /v1/items``'s accepted ones).
            store: when given, the videos that already have a tile are summed again from its
                events: events folded before their video arrived had no duration, and a batch
                build gives them one now. The store must hold exactly the events folded so far
                on these videos (the service stores a batch, then folds it, under one lock).
        """
        frame = _frame(items, _ITEM_COLUMNS)
        if not frame.height:
            return
        cols = ", ".join(frame.columns)
        with self._lock:
            self._con.register("_new_items", frame)
            try:
                self._con.execute("DELETE FROM items WHERE item_id IN "
                                  "(SELECT item_id FROM _new_items)").fetchall()
                self._con.execute(f"INSERT INTO items ({cols}) SELECT {cols} FROM _new_items "
                                  "QUALIFY row_number() OVER (PARTITION BY item_id) = 1"
                                  ).fetchall()
                self._known.update(frame["item_id"].drop_nulls().to_list())
                stale = [r[0] for r in self._con.execute(
                    "SELECT item_id FROM tiles WHERE item_id IN (SELECT item_id FROM _new_items)"
                ).fetchall()] if store is not None else []
            finally:
                self._con.unregister("_new_items")
        if stale:
            listed = ", ".join("'" + i.replace("'", "''") + "'" for i in stale)
            sums = _store_sums(store, self._catalog, ALL_TIME, f"item_id IN ({listed})")
            with self._lock:
                self._con.execute(f"DELETE FROM tiles WHERE item_id IN ({listed})").fetchall()
                self._merge_locked(sums)

    def fold(self, events: pl.DataFrame | Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Add new events to the tiles through the catalog's ``stg_events`` and ``part_item``.

        Args:
            events: events-contract rows not folded before (``ingest_event_rows(...).new``).

        Returns:
            The ids of the videos whose tiles changed, sorted (events without a video change
            none): pass them to ``item_columns`` to refresh only what moved.
        """
        frame = _frame(events, _EVENT_COLUMNS)
        if not frame.height:
            return np.array([], dtype=object)
        cols = ", ".join(frame.columns)
        sql, params = self._part
        with self._lock:
            self._con.register("_new_events", frame)
            try:
                self._con.execute(f"INSERT INTO events ({cols}) SELECT {cols} FROM _new_events"
                                  ).fetchall()
                # One statement folds and reports (fewer statements: a fold is their overhead).
                touched = self._con.execute(
                    f"INSERT INTO tiles SELECT item_id, {_SUMS} FROM ({sql}) GROUP BY item_id "
                    f"ON CONFLICT (item_id) DO UPDATE SET {_ADD} RETURNING item_id", params
                ).fetchall()
            finally:
                self._con.execute("DELETE FROM events").fetchall()
                self._con.unregister("_new_events")
        return np.array(sorted(r[0] for r in touched), dtype=object)

    def _merge(self, sums: pl.DataFrame) -> None:
        with self._lock:
            self._merge_locked(sums)

    def _merge_locked(self, sums: pl.DataFrame) -> None:
        if not sums.height:
            return
        self._con.register("_sums", sums)
        try:
            self._con.execute(f"INSERT INTO tiles SELECT item_id, {', '.join(TILE_COLUMNS)} "
                              f"FROM _sums ON CONFLICT (item_id) DO UPDATE SET {_ADD}").fetchall()
        finally:
            self._con.unregister("_sums")

    def sums(self) -> pl.DataFrame:
        """Every tile: ``item_id`` and the ``TILE_COLUMNS`` sums, by ``item_id``."""
        with self._lock:
            return self._con.sql("SELECT * FROM tiles ORDER BY item_id").pl()

    def item_columns(self, names: Sequence[str], item_ids: np.ndarray | Sequence[str]
                     ) -> dict[str, np.ndarray]:
        """Live values of catalog features, aligned with ``item_ids`` (a model's item index).

        One SQL query over the ids given (O(len(item_ids))): after a fold, ask for the videos
        it returned and hand the result to ``CatalogArrays.with_items``, not per request.

        Args:
            names: catalog names among ``LIVE_FEATURES`` (``video_engagement.views_total``...).
            item_ids: the video ids, in the caller's order.

        Returns:
            ``{name: float64 array}``; as the catalog: ``views_total`` 0 and rates NaN for a
            video the tiles know (from ``add_items`` or the store) with no events; NaN in every
            column for a video they know nothing of. (Unlike the catalog, which leaves out
            videos created after its ``now``, the tiles hold no clock: every known video counts.)

        Raises:
            ConfigError: a name the tiles do not serve; the message lists the ones they do.
        """
        unknown = [n for n in names if n not in LIVE_FEATURES]
        if unknown:
            raise ConfigError(f"live tiles serve no feature {unknown[0]!r}; "
                              f"they serve {list(LIVE_FEATURES)}")
        ids = [str(i) for i in item_ids]
        with self._lock:
            self._con.register("_ids", pl.DataFrame({"item_id": ids},
                                                    schema={"item_id": pl.String}))
            try:
                got = self._con.sql(f"SELECT t.item_id, unnest({_TOTALS}) FROM tiles AS t "
                                    "WHERE t.item_id IN (SELECT item_id FROM _ids)").pl()
            finally:
                self._con.unregister("_ids")
            known = np.fromiter((i in self._known for i in ids), bool, len(ids))
        row = {i: k for k, i in enumerate(got["item_id"].to_list())}
        at = np.fromiter((row.get(i, -1) for i in ids), np.int64, len(ids))
        tiled = at >= 0
        out: dict[str, np.ndarray] = {}
        for name in names:
            col = name.split(".", 1)[1]
            vals = np.full(len(ids), self._no_events[col], dtype=np.float64)
            vals[tiled] = got[col].cast(pl.Float64).to_numpy()[at[tiled]]
            vals[~(tiled | known)] = np.nan
            out[name] = vals
        return out

    def close(self) -> None:
        """Release the in-memory DuckDB."""
        with self._lock:
            self._con.close()
