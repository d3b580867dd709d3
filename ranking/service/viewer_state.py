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
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

import duckdb

from ranking.service._state_load import Profile, load_history, load_profiles
from ranking.service.session_store import SessionStore, usage_event
from wellbeing import ItemFacts, ViewerContext, WellbeingConfig, younger_band
from wellbeing.loaders import load_settings, topic_penalties
from wellbeing.steering import Steering

__all__ = ["Profile", "ViewerState", "RECENT_MAX"]

_PROFILE_TYPES = ("block", "follow", "unfollow", "hide", "report")
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
        self.profiles: dict[str, Profile] = load_profiles(con, cfg.report_weight)
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
        penalties: dict[str, float] = defaultdict(float)
        half_life = self.cfg.creator_feedback_half_life_days
        for creator, ts, w in p.feedback:
            # Creator fatigue is personalization: a reset forgets what came before it.
            if p.reset is None or ts >= p.reset:
                age_days = max(0.0, (now - ts).total_seconds() / 86400.0)
                penalties[creator] += w * 0.5 ** (age_days / half_life)
        band = younger_band(p.birth_date, (now,) if age_at is None else (now, age_at), self.cfg)
        return ViewerContext(
            user_id=user_id, age_band=band, timezone=p.timezone,
            settings=p.settings, blocked_creators=p.blocked,
            following=frozenset(t for t, on in p.follow.items() if on),
            followers=frozenset(u for u, on in p.fans.items() if on),
            hidden_items=p.hidden, reported_items=p.reported, creator_penalties=dict(penalties),
            usage=self.store.usage(user_id, p.timezone, now), known=p.known,
            topic_penalties=topic_penalties(
                [f for f in p.topic_feedback if p.reset is None or f[1] >= p.reset], now,
                self.cfg) if p.topic_feedback else {},
            last_checkin=p.last_checkin, created_at=p.created_at,
        )

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
            uid, etype = ev["user_id"], ev["type"]
            facts = items.get(ev.get("item_id") or "")
            with self.lock:
                self.recent.setdefault(uid, deque(maxlen=RECENT_MAX)).append(dict(ev))
                p = self.profiles.setdefault(uid, Profile())
                if etype in _PROFILE_TYPES:
                    self._profile_event(uid, p, ev, facts)
            self.store.observe(uid, p.timezone, usage_event(ev, facts.topics if facts else ()))

    def _profile_event(self, uid: str, p: Profile, ev: Mapping[str, Any],
                       facts: ItemFacts | None) -> None:
        etype, target, item = ev["type"], ev.get("target_user_id"), ev.get("item_id")
        if etype == "block" and target:
            p.blocked = p.blocked | {target}
        elif etype in ("follow", "unfollow") and target:
            p.follow[target] = etype == "follow"
            self.profiles.setdefault(target, Profile()).fans[uid] = etype == "follow"
        elif etype in ("hide", "report") and item:
            if etype == "hide":
                p.hidden = p.hidden | {item}
            else:
                p.reported = p.reported | {item}
            if facts is not None and facts.creator_id:
                w = self.cfg.report_weight if etype == "report" else 1.0
                p.feedback.append((facts.creator_id, ev["ts"], w))
                if facts.topics:
                    p.topic_feedback.append((tuple(facts.topics), ev["ts"], w))

    def set_settings(self, user_id: str, row: Mapping[str, Any]) -> None:
        """Apply a stored ``users`` row's settings (birth date and timezone stay as loaded)."""
        with self.lock:
            p = self.profiles.setdefault(user_id, Profile())
            self.profiles[user_id] = replace(p, settings=load_settings(dict(row)), known=True)

    def set_reset(self, user_id: str, ts: datetime) -> None:
        with self.lock:
            p = self.profiles.setdefault(user_id, Profile())
            p.reset = ts if p.reset is None else max(p.reset, ts)
