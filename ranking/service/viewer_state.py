"""In-memory viewer state for the service: profiles loaded once, then kept current by events.

At start one scan per table builds, for every user: settings, age and timezone (``users``),
the last feed reset (``user_resets``), blocks, follows, followers, hides and reports with the
creator feedback they carry (``events``), the videos already seen, and the last 48 h of events
that seed the usage state. Posted events, settings and resets update the same structures, so
a feed request reads no table at all. Unlike ``load_viewer_context`` this is not point in time:
the service serves the present, so every event it knows counts.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

import duckdb

from ranking.service._state_load import load_history, load_profiles
from ranking.service.session_store import SessionStore, usage_event
from wellbeing import ItemFacts, ViewerContext, WellbeingConfig
from wellbeing.loaders import load_settings
from wellbeing.steering import Steering
from wellbeing.viewer_fold import Profile, fold_into, viewer_context

__all__ = ["Profile", "ViewerState", "RECENT_MAX"]

# Live events kept per viewer for request-time scoring (older ones wait for the next model).
RECENT_MAX = 500


class ViewerState:
    """Profiles, seen history and usage seeds for every user, plus the live session store.

    Args:
        con: the store (read once here; the caller serialises access to it).
        items: item id -> facts, for the creator and topics an event refers to.
        cfg: wellbeing thresholds.
        store_factory: builds the ``SessionStore`` from this object (its history source).
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, items: Callable[[], Mapping[str, ItemFacts]],
                 cfg: WellbeingConfig,
                 store_factory: Callable[[ViewerState], SessionStore] | None = None) -> None:
        from wellbeing.levers_store import last_checkins, load_steerings

        self.cfg = cfg
        self.items = items
        self.lock = threading.Lock()
        self.profiles: dict[str, Profile] = load_profiles(con, items(), cfg)
        self.seen_history, self._usage_history = load_history(con)
        self.steerings: dict[str, Steering] = load_steerings(con)
        # Each live viewer's latest events after the served model's data (request-time
        # scoring folds them in); only viewers active since the model take any memory.
        self.recent: dict[str, deque[dict[str, Any]]] = {}
        for uid, ts in last_checkins(con).items():
            self.profiles.setdefault(uid, Profile()).last_checkin = ts
        if store_factory is None:
            from ranking.service.session_store import InMemorySessionStore

            store_factory = lambda h: InMemorySessionStore(h, cfg)  # noqa: E731
        self.store: SessionStore = store_factory(self)

    # -- HistorySource ---------------------------------------------------------------------
    def usage_events(self, user_id: str) -> list[dict[str, Any]]:
        return self._usage_history.get(user_id, [])

    # -- reads -------------------------------------------------------------------------------
    # -- ViewerSource (ranking.feed.resources): the live state serves the present, so ``now``
    # (already held to the server clock by the service's RequestClock) bounds nothing here.
    def seen(self, user_id: str, now: datetime | None = None) -> set[str] | frozenset[str]:
        hist = self.seen_history.get(user_id, frozenset())
        live = self.store.seen(user_id)
        return hist | live if live else hist

    def viewer(self, user_id: str, now: datetime,
               age_at: datetime | None = None) -> ViewerContext:
        """The viewer's context at ``now`` from memory (unknown user: unknown age); the age
        band is the younger of the ages at ``now`` and ``age_at``."""
        p = self.profiles.get(user_id) or Profile()
        return viewer_context(user_id, p, now, self.store.usage(user_id, p.timezone, now),
                              self.cfg, age_at)

    def recent_events(self, user_id: str, since: datetime, now: datetime | None = None
                      ) -> list[dict[str, Any]]:
        """The user's events after ``since`` (the served model's data), oldest first; the
        live state serves the present, so ``now`` bounds nothing."""
        q = self.recent.get(user_id)
        if not q:
            return []
        with self.lock:
            return [e for e in q if e["ts"] > since]

    def seed_recent(self, con: duckdb.DuckDBPyConnection, since: datetime | None) -> None:
        """Load every viewer's events after ``since`` (a newly served model's data), the latest
        ``RECENT_MAX`` each; events posted while serving arrive through ``observe``."""
        recent: dict[str, deque[dict[str, Any]]] = {}
        if since is not None:
            cols = ("user_id", "ts", "type", "item_id", "target_user_id", "watch_ms",
                    "session_id", "event_id")
            rows = con.execute(
                f"SELECT {', '.join(cols)} FROM events WHERE ts > ? QUALIFY row_number() OVER "
                "(PARTITION BY user_id ORDER BY ts DESC) <= ? ORDER BY ts",
                [since, RECENT_MAX]).fetchall()
            for r in rows:
                ev = dict(zip(cols, r, strict=True))
                recent.setdefault(ev["user_id"], deque(maxlen=RECENT_MAX)).append(ev)
        with self.lock:
            self.recent = recent

    def steering(self, user_id: str) -> Steering | None:
        """The user's steering in force (kept in memory; stored in ``user_steering``)."""
        return self.steerings.get(user_id)

    def set_steering(self, user_id: str, steering: Steering | None) -> None:
        """Put a stored steering in force (None: cleared); the next request applies it."""
        with self.lock:
            if steering is None:
                self.steerings.pop(user_id, None)
            else:
                self.steerings[user_id] = steering

    def set_checkin(self, user_id: str, ts: datetime) -> None:
        with self.lock:
            p = self.profiles.setdefault(user_id, Profile())
            p.last_checkin = ts if p.last_checkin is None else max(p.last_checkin, ts)

    def reset_time(self, user_id: str, now: datetime | None = None) -> datetime | None:
        p = self.profiles.get(user_id)
        return p.reset if p else None

    # -- writes ------------------------------------------------------------------------------
    def observe(self, events: Iterable[Mapping[str, Any]]) -> None:
        """Fold accepted events (contract rows, time ordered or not) into the state."""
        items = self.items()
        for ev in sorted(events, key=lambda e: e["ts"]):
            uid = ev["user_id"]
            facts = items.get(ev.get("item_id") or "")
            with self.lock:
                self.recent.setdefault(uid, deque(maxlen=RECENT_MAX)).append(dict(ev))
                p = self.profiles.setdefault(uid, Profile())
                fold_into(self._profile_of, ev, facts, self.cfg)
            self.store.observe(uid, p.timezone, usage_event(ev, facts.topics if facts else ()))

    def _profile_of(self, user_id: str) -> Profile:
        return self.profiles.setdefault(user_id, Profile())

    def set_settings(self, user_id: str, row: Mapping[str, Any]) -> None:
        """Apply a stored ``users`` row's settings (birth date and timezone stay as loaded)."""
        with self.lock:
            p = self.profiles.setdefault(user_id, Profile())
            self.profiles[user_id] = replace(p, settings=load_settings(dict(row)), known=True)

    def set_reset(self, user_id: str, ts: datetime) -> None:
        with self.lock:
            p = self.profiles.setdefault(user_id, Profile())
            p.reset = ts if p.reset is None else max(p.reset, ts)
