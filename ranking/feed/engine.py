"""The feed engine: the resources a feed request needs, loaded once, and the request entry.

One engine serves batch ``recommend``/``score`` and the HTTP service alike. It holds the
store connection, the published ranker (or none: popularity fallback), the item catalog's
safety facts, the consents in force and the wellbeing config; the pipeline does the rest.

The engine is the pipeline's ``CandidateStore``. Its ``viewers`` (the ``ViewerSource``) read
the store point in time (``StoredViewers``) unless the service attaches its live state
(``ranking.service.viewer_state``): profiles, usage and seen items in memory, kept current by
posted events, so a request reads no table. ``verdict_cache`` holds policy verdicts of
viewer-independent items per policy; it is replaced whenever the catalog reloads or videos
are posted (``upsert_items``, ``POST /v1/items``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import polars as pl

from features.live_tiles import LIVE_FEATURES, LiveTiles
from features.store import connect
from features.times import to_utc_naive
from ranking import registry
from ranking.feed.live_items import LiveItems
from ranking.feed.pipeline import FEED_PIPELINE, FeedPipeline
from ranking.feed.resources import ViewerSource
from ranking.feed.stored_viewers import StoredViewers
from ranking.feed.types import FeedRequest, FeedResponse
from wellbeing import (
    POLICY_VERSION,
    Consent,
    ItemFacts,
    ViewerContext,
    WellbeingConfig,
    ensure_audit_table,
    item_facts_of,
    latest_consents,
    load_item_facts,
    record,
)
from wellbeing.verdicts import VerdictCache
from wellbeing.viewer_fold import consent_in_force

__all__ = ["FeedEngine"]

log = logging.getLogger("feedwell.engine")

# Cached scored pages (~10 kB each), one per viewer history: bounded, whatever the users.
_LISTS_MAX = 5_000


def _fallback_frame(ranker: Any, n: int) -> pl.DataFrame:
    """The model's fallback list in the popular source's shape, best first."""
    sc = getattr(ranker.fallback, "item_scores", None)
    sc = np.nan_to_num(np.asarray(sc if sc is not None else [], np.float64), nan=-np.inf)
    top = np.argsort(-sc, kind="stable")[:max(n, 2000)]
    top = top[np.isfinite(sc[top])]
    return pl.DataFrame({"item_id": ranker.data.item_ids[top].astype(str),
                         "source": ["popular"] * len(top), "source_score": sc[top]},
                        schema={"item_id": pl.String, "source": pl.String,
                                "source_score": pl.Float64})


def _rank_scores(n: int) -> np.ndarray:
    return 1.0 / (1.0 + np.arange(n, dtype=np.float64))


class FeedEngine:
    """Everything a feed request needs, loaded from the store and the model registry.

    Args:
        db_path: the DuckDB file.
        cfg: wellbeing thresholds (defaults from DESIGN.md).
        pipeline: the stage list (default ``FEED_PIPELINE``).
        con: an already open connection to reuse (tests, one-process CLI runs).
        audit_batch: audit rows buffered before a write (the service flushes on shutdown).
    """

    def __init__(self, db_path: str | Path, cfg: WellbeingConfig | None = None,
                 pipeline: FeedPipeline | None = None,
                 con: duckdb.DuckDBPyConnection | None = None, audit_batch: int = 2000,
                 objective: dict[str, float] | None = None) -> None:
        self.db_path = str(db_path)
        # Action weights served instead of the version's own (``feedwell serve --objective``).
        self.objective = objective
        self.cfg = cfg or WellbeingConfig()
        self.pipeline = pipeline or FEED_PIPELINE
        self.con = con or connect(db_path)
        self.lock = threading.RLock()
        self.audit_batch = audit_batch
        self._audit: list[dict[str, Any]] = []
        self._audit_lock = threading.Lock()
        self.stored_viewers = StoredViewers(self.con, self.cfg, self.lock)
        self.viewers: ViewerSource = self.stored_viewers
        self.verdict_cache = VerdictCache()
        self._lists: dict[tuple, tuple[Any, pl.DataFrame]] = {}
        # When each video new to the catalog was first posted to this process (``upsert_items``).
        self.posted_at: dict[str, datetime] = {}
        ensure_audit_table(self.con)
        registry.ensure_registry(self.con)
        self.ranker = None
        self.live_items: LiveItems | None = None
        self.tiles: LiveTiles | None = None
        self.model_version: str | None = None
        self.model_record: registry.ModelRecord | None = None
        self.reload()

    # -- loading ---------------------------------------------------------------------------
    def reload(self) -> bool:
        """(Re)load catalog, consents, popularity and the published model; True if it changed."""
        with self.lock:
            # Build everything first, then swap: requests in flight keep a consistent view.
            self.item_facts: dict[str, ItemFacts] = load_item_facts(self.con)
            self.consents: dict[str, Consent] = latest_consents(self.con, datetime(9999, 1, 1))
            self.popular = self._popular()
            self.stored_viewers.reload()
            self.verdict_cache = VerdictCache()
            rec = registry.serving(self.con)
            version = rec.version if rec else None
            if version == self.model_version:
                if self.ranker is not None:
                    self.popular = _fallback_frame(self.ranker, 2000)
                self.live_items = self._live_items(self.live_items)
                return False
            ranker, loaded = None, None
            if rec is not None:
                try:
                    from ranking.ltr import LtrRanker

                    ranker, loaded = LtrRanker.load(rec.path), version
                    if self.objective is not None:
                        ranker.set_objective(self.objective)
                except Exception:  # ranking degrades to popularity; safety does not change
                    log.exception("could not load model %s; serving the popularity fallback",
                                  version)
            self.ranker, self.model_version = ranker, loaded
            self.model_record = rec if loaded else None
            if ranker is not None:
                # The evaluated fallback, for non-personalised feeds and short model lists.
                self.popular = _fallback_frame(ranker, 2000)
            self._lists = {}
            self.live_items = self._live_items()
            self._refresh_live_features()
            log.info("serving model %s", loaded or "none (popularity fallback)")
            return True

    def _live_items(self, old: LiveItems | None = None) -> LiveItems:
        """The new-video pool for the served model: catalog videos it has no trained
        interaction with, servable from their ``created_at``, over the last ``fresh_days``
        of its data (what the model saw is not new). Exploration counters and co-engagement
        carry over from ``old``."""
        live = LiveItems() if old is None else old
        ranker = self.ranker
        since = ranker.data_to if ranker is not None else None
        counts = ranker.trained_counts() if ranker is not None else None
        rows = self.con.execute(
            "SELECT item_id, creator_id, topics, created_at, duration_ms, status FROM items "
            "QUALIFY row_number() OVER (PARTITION BY item_id ORDER BY _loaded_at DESC NULLS "
            "LAST) = 1").fetchall()
        horizon = (since - timedelta(days=live.cfg.fresh_days)) if since is not None else None
        live.durations = {r[0]: r[4] for r in rows}
        idx = (ranker.data.item_index([r[0] for r in rows]) if ranker is not None
               else np.full(len(rows), -1))
        for (iid, cid, topics, created, _, status), k in zip(rows, idx.tolist(), strict=True):
            if status == "removed":
                live.remove(iid)
                continue
            if created is None or (horizon is not None and created < horizon):
                continue
            if k >= 0 and counts[k] > 0:
                continue  # the model has learnt this video: its sources score it
            live.add(iid, created, topics or (), cid)
        return live

    @property
    def served_kind(self) -> dict[str, Any]:
        """Which model is served, its fallback, and why (``/healthz``, ``feedwell models``)."""
        if self.ranker is None:
            return {"model": "popular", "kind": "popularity", "fallback": "popular",
                    "why": "no trained model: recent decayed popularity"}
        return {**self.ranker.serving.describe(), "objective": self.ranker.objective,
                "objective_source": "serve --objective" if self.objective is not None
                else "the version"}

    def reload_if_published(self) -> bool:
        """Pick up a newly published model without a restart (cheap check)."""
        with self.lock:
            rec = registry.serving(self.con)
        if (rec.version if rec else None) != self.model_version:
            return self.reload()
        return False

    def set_consent(self, consent: Consent) -> None:
        """Put a stored consent in force now if ``consent_in_force`` picks it over the one in
        force (the rule a reload applies too). A revocation received is in force from the next
        request whatever its time: ``save_consent`` stores it after the latest row."""
        cur = self.consents.get(consent.subject_id)
        if consent_in_force(cur, consent) is consent:
            consents = dict(self.consents)
            consents[consent.subject_id] = consent
            self.consents = consents

    def upsert_items(self, rows: Iterable[Mapping[str, Any]], at: datetime) -> None:
        """Serve stored ``items`` rows (new or changed videos) from the next request on.

        Their facts replace the catalog's (``item_facts_of``, as a reload builds them) and the
        verdict cache starts empty, so a removal, a rating or a cameo counts at once. A video
        new to the catalog is recorded in ``posted_at`` at ``at`` (its first post; an update
        keeps it). Dicts are swapped, never mutated: requests in flight keep their view.
        """
        rows = list(rows)
        facts = [item_facts_of(r) for r in rows]
        if not facts:
            return
        with self.lock:
            catalog, posted = dict(self.item_facts), dict(self.posted_at)
            for f in facts:
                if f.item_id not in catalog:
                    posted.setdefault(f.item_id, at)
                catalog[f.item_id] = f
            self.item_facts, self.posted_at = catalog, posted
            self.verdict_cache = VerdictCache()
            self._pool_posted(rows, posted)
            if self.tiles is not None:
                self.tiles.add_items(rows, store=self.con)

    def _pool_posted(self, rows: list[Mapping[str, Any]], posted: Mapping[str, datetime]
                     ) -> None:
        """Posted videos the served model never learnt join the new-video pool, servable
        from their ``created_at`` (else from when they were first posted)."""
        live, ranker = self.live_items, self.ranker
        if live is None:
            return
        ids = [r["item_id"] for r in rows]
        learnt = (ranker.trained_counts()[np.maximum(k, 0)] * (k >= 0) > 0
                  if ranker is not None and (k := ranker.data.item_index(ids)).size
                  else np.zeros(len(ids), bool))
        for r, known in zip(rows, learnt.tolist(), strict=True):
            live.durations[r["item_id"]] = r.get("duration_ms")
            if (r.get("status") or "active") == "removed":
                live.remove(r["item_id"])
            elif not known:
                # New to this service from its first post, however old its ``created_at``
                # (a catalog import): exploration starts when viewers can first see it.
                times = [to_utc_naive(t) for t in (r.get("created_at"), posted.get(r["item_id"]))
                         if t is not None]
                born = max(times) if times else None
                if born is not None:
                    live.add(r["item_id"], born, r.get("topics") or (),
                             r.get("creator_id"))

    def _popular(self) -> pl.DataFrame:
        # Decayed engagement over the last two weeks of data (velocity favours the recent).
        return self.con.sql("""
            WITH last AS (SELECT max(ts) AS t FROM events),
            recent AS (
                SELECT e.item_id,
                    sum(CASE e.type WHEN 'view' THEN 1.0 WHEN 'like' THEN 2.0 WHEN 'share' THEN 3.0
                        WHEN 'remix' THEN 3.0 WHEN 'comment' THEN 1.0 WHEN 'skip' THEN -0.3
                        WHEN 'hide' THEN -3.0 WHEN 'report' THEN -5.0 ELSE 0 END
                        * exp(-date_diff('second', e.ts, last.t) / 259200.0)) AS s
                FROM events e, last
                WHERE e.item_id IS NOT NULL AND e.ts > last.t - INTERVAL 14 DAY
                GROUP BY 1
            )
            SELECT r.item_id, 'popular' AS source, r.s AS source_score
            FROM recent r LEFT JOIN items i USING (item_id)
            WHERE r.s > 0 AND coalesce(i.status, 'active') <> 'removed'
            ORDER BY r.s DESC, r.item_id LIMIT 2000
        """).pl()

    # -- the CandidateStore the pipeline reads --------------------------------------------
    @property
    def policy_version(self) -> str:
        return getattr(self.cfg, "policy_version", None) or POLICY_VERSION

    def viewer(self, user_id: str, now: datetime,
               age_at: datetime | None = None) -> ViewerContext:
        """The viewer at ``now`` from the viewer source (live or stored). ``age_at`` is a
        second clock for the age band (the younger age wins)."""
        v = self.viewers.viewer(user_id, now, age_at)
        reset = self.viewers.reset_time(user_id, now)
        rec = self.model_record
        # A reset after the model's data: its profile of the user predates the reset, so
        # serve non-personalised until a model trained after the reset is published.
        if (reset is not None and rec is not None and v.settings.personalized
                and (rec.data_to is None or rec.data_to < reset)):
            v.settings = replace(v.settings, personalized=False)
        return v

    def model_candidates(self, user_id: str, n: int, recent: tuple = (),
                         follows: frozenset[str] = frozenset()) -> pl.DataFrame:
        """The model's candidates for ``user_id`` scored now, best first, with a rank-based
        ``source_score``: the sources run on the viewer's trained history plus ``recent`` (the
        viewer's events since the model's data). A page is cached until the viewer's history
        changes (a new event, a follow), so paging through a feed costs one scoring."""
        ranker = self.ranker
        last = recent[-1] if recent else None
        key = (user_id, n, len(recent), last.get("ts") if last else None,
               last.get("event_id") if last else None, hash(follows))
        hit = self._lists.get(key)
        # The entry names its ranker: a list cached from a replaced model is never served.
        if hit is not None and hit[0] is ranker:
            return hit[1]
        c = ranker.live_candidates(user_id, list(recent), follows, n)
        # Columns as they are (no query plan): ``source_score`` in third place.
        c = pl.DataFrame([c.get_column("item_id"), c.get_column("source"),
                          pl.Series("source_score", _rank_scores(c.height)),
                          c.get_column("model_score"),
                          *([c.get_column("expected")] if "expected" in c.columns else [])])
        if len(self._lists) >= _LISTS_MAX:
            self._lists = {}
        self._lists[key] = (ranker, c)
        return c

    def popular_candidates(self, n: int) -> pl.DataFrame:
        return self.popular.head(n)

    def model_scores(self, user_id: str, item_ids: list[str], recent: tuple = (),
                     follows: frozenset[str] = frozenset()) -> list[float]:
        """The published ranker's score for each of ``item_ids`` (``score``, ``explain``), as
        of now: ``recent`` and ``follows`` as for ``model_candidates``."""
        return [float(s) for s in self.ranker.score(
            user_id, pl.DataFrame({"item_id": item_ids}), list(recent), follows)]

    def model_predictions(self, user_id: str, item_ids: list[str], recent: tuple = (),
                          follows: frozenset[str] = frozenset()
                          ) -> tuple[list[float], np.ndarray | None]:
        """``model_scores`` and the served version's ``P(action)`` per item (rows) and action
        (``ranking.ltr.objective.ACTIONS``; None without action heads)."""
        s, p = self.ranker.score_and_predict(user_id, item_ids, list(recent), follows)
        return [float(v) for v in s], p

    def audit(self, rows: list[dict[str, Any]]) -> None:
        with self._audit_lock:
            self._audit.extend(rows)
            full = len(self._audit) >= self.audit_batch
        if full:
            self.flush_audit()

    def flush_audit(self) -> None:
        """Write buffered audit rows in one columnar insert (cheap enough for a request path)."""
        with self._audit_lock:
            rows, self._audit = self._audit, []
        if not rows:
            return
        cols = ("ts", "request_id", "user_id", "item_id", "rule", "action", "reason",
                "policy_version")
        frame = pl.DataFrame({c: [r.get(c) for r in rows] for c in cols},
                             schema={"ts": pl.Datetime("us"), **{c: pl.String for c in cols[1:]}})
        with self.lock:
            try:
                self.con.register("_audit_rows", frame)
                self.con.execute(f"INSERT INTO audit_log ({', '.join(cols)}) "
                                 f"SELECT {', '.join(cols)} FROM _audit_rows")
                self.con.unregister("_audit_rows")
            except Exception:  # the row-wise writer accepts what a frame cannot type
                log.exception("columnar audit write failed; writing row by row")
                record(self.con, rows)

    # -- requests ----------------------------------------------------------------------------
    def observe(self, events: list[dict[str, Any]]) -> None:
        """Fold accepted events into the per-video live state (new videos' early signals,
        co-engagement) and, with live features on, the catalog's tiles."""
        live = self.live_items
        if live is not None and events:
            live.observe(events, live.durations)
        if self.tiles is not None and events:
            self._refresh_live_features(self.tiles.fold(events))

    def enable_live_features(self) -> None:
        """Keep the served model's per-video catalog features current while serving (the
        service): the catalog's own part sums over the store, plus every event folded since
        (``features.live_tiles``), read by request-time scoring in place of the values saved
        with the version."""
        with self.lock:
            self.tiles = LiveTiles.from_store(self.con)
            self._refresh_live_features()

    def _refresh_live_features(self, item_ids: np.ndarray | None = None) -> None:
        ranker, tiles = self.ranker, self.tiles
        if ranker is None or tiles is None:
            return
        cat = ranker.stats.catalog
        names = [n for n in cat.names if n in LIVE_FEATURES]
        if not names or (item_ids is not None and not len(item_ids)):
            return
        rows = None
        ids = ranker.data.item_ids
        if item_ids is not None:
            idx = ranker.data.item_index(list(item_ids))
            rows, ids = idx[idx >= 0], np.asarray(item_ids, dtype=object)[idx >= 0]
            if not len(rows):
                return
        # A new reference, swapped in one assignment: requests in flight keep the old one.
        ranker.stats = replace(ranker.stats, catalog=cat.with_items(
            tiles.item_columns(names, ids), rows))

    def feed(self, request: FeedRequest) -> FeedResponse:
        """Run the feed pipeline for one request."""
        viewer = self.viewer(request.user_id, request.now, request.age_at)
        return self.pipeline.run(self, request, viewer)

    def close(self) -> None:
        self.flush_audit()
        self.con.close()

    def latest_event_time(self) -> datetime | None:
        rows = self.con.execute("SELECT max(ts) FROM events").fetchall()
        t = rows[0][0]
        return t + timedelta(microseconds=1) if t else None
