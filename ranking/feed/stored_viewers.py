"""The stored ``ViewerSource``: viewers read from the store's tables, point in time.

Batch ``recommend``/``score``, ``explain`` and the replays use it; the service attaches its
live in-memory state instead (``ranking.service.viewer_state.ViewerState``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime
from typing import Any

import duckdb

from wellbeing import ViewerContext, WellbeingConfig, load_viewer_context
from wellbeing.levers_store import load_steerings
from wellbeing.steering import Steering
from wellbeing.viewer_fold import SEEN_SQL

__all__ = ["StoredViewers"]

_SEEN_MAX = 10_000
# Live events a request folds into a history (the latest; older ones are in the next model).
_RECENT_MAX = 500


class StoredViewers:
    """Viewers, seen sets, steerings and resets from the store.

    Args:
        con: the store (shared; ``lock`` serialises access to it).
        cfg: wellbeing thresholds.
        lock: the lock guarding ``con``.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, cfg: WellbeingConfig,
                 lock: threading.RLock) -> None:
        self.con, self.cfg, self.lock = con, cfg, lock
        self._seen: OrderedDict[tuple[str, datetime], frozenset[str]] = OrderedDict()
        self.steerings: dict[str, Steering] = {}
        self.reload()

    def reload(self) -> None:
        """Forget cached seen sets and re-read the steerings (after new data or a model)."""
        self._seen.clear()
        try:
            # Read once per load, never per request.
            self.steerings = load_steerings(self.con)
        except duckdb.CatalogException:  # a store from before steering existed, read-only
            self.steerings = {}

    def viewer(self, user_id: str, now: datetime,
               age_at: datetime | None = None) -> ViewerContext:
        with self.lock:
            return load_viewer_context(self.con, user_id, now, cfg=self.cfg, age_at=age_at)

    def seen(self, user_id: str, now: datetime) -> frozenset[str]:
        """Videos the user watched, skipped or acted on before ``now`` (cached)."""
        key = (user_id, now)
        got = self._seen.get(key)
        if got is None:
            with self.lock:
                rows = self.con.execute(
                    "SELECT DISTINCT item_id FROM events WHERE user_id = ? AND ts < ? "
                    f"AND {SEEN_SQL}",
                    [user_id, now],
                ).fetchall()
            got = frozenset(r[0] for r in rows)
            self._seen[key] = got
            if len(self._seen) > _SEEN_MAX:
                self._seen.popitem(last=False)
        return got

    def recent_events(self, user_id: str, since: datetime, now: datetime
                      ) -> list[dict[str, Any]]:
        """The user's events after ``since`` up to ``now`` (the live part of their history
        for a model trained on data up to ``since``), the latest ``_RECENT_MAX``."""
        with self.lock:
            rows = self.con.execute(
                "SELECT user_id, ts, type, item_id, target_user_id, watch_ms, session_id "
                "FROM events WHERE user_id = ? AND ts > ? AND ts <= ? "
                "ORDER BY ts DESC LIMIT ?", [user_id, since, now, _RECENT_MAX]).fetchall()
        cols = ("user_id", "ts", "type", "item_id", "target_user_id", "watch_ms", "session_id")
        return [dict(zip(cols, r, strict=True)) for r in reversed(rows)]

    def steering(self, user_id: str) -> Steering | None:
        return self.steerings.get(user_id)

    def reset_time(self, user_id: str, now: datetime) -> datetime | None:
        with self.lock:
            return self.con.execute(
                "SELECT max(ts) FROM user_resets WHERE user_id = ? AND ts < ?", [user_id, now]
            ).fetchall()[0][0]
