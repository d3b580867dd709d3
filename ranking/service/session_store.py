"""Session state behind a small interface: usage (minutes today, session length) and seen items.

``InMemorySessionStore`` is the default (one process). ``RedisSessionStore`` (in
``redis_store``) shares the same state between several instances. Both are seeded lazily from
the history the service loaded at start (``HistorySource``) and then fed every posted event,
so a posted view counts at once toward the daily budget, the live session and seen-filtering.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from wellbeing import UsageState, WellbeingConfig
from wellbeing.viewer_fold import counts_as_seen

__all__ = ["SessionStore", "HistorySource", "InMemorySessionStore", "usage_event"]


def usage_event(event: Mapping[str, Any], topics: tuple[str, ...] = ()) -> dict[str, Any]:
    """The fields ``UsageState.observe`` reads, from an events-contract row."""
    return {"event_id": event.get("event_id"), "ts": event["ts"], "type": event["type"],
            "watch_ms": event.get("watch_ms"), "session_id": event.get("session_id"),
            "item_id": event.get("item_id"), "topics": tuple(topics)}


class HistorySource(Protocol):
    """What the store seeds a user from: their events of the last 48 h before start, in order."""

    def usage_events(self, user_id: str) -> list[dict[str, Any]]: ...


class SessionStore(Protocol):
    """Per-user live state: ``usage`` (current at ``now``), ``observe`` an event, ``seen`` items.

    ``seen`` returns only items seen through posted events; history is the engine's.
    """

    def usage(self, user_id: str, tz: str, now: datetime) -> UsageState: ...

    def observe(self, user_id: str, tz: str, event: Mapping[str, Any]) -> None: ...

    def seen(self, user_id: str) -> frozenset[str] | set[str]: ...


class InMemorySessionStore:
    """Usage states and seen sets in this process (the default; one instance)."""

    name = "memory"

    def __init__(self, history: HistorySource, cfg: WellbeingConfig | None = None) -> None:
        self.history = history
        self.cfg = cfg or WellbeingConfig()
        self._usage: dict[str, UsageState] = {}
        self._seen: dict[str, set[str]] = {}
        self._lock = threading.Lock()

    def _state(self, user_id: str, tz: str) -> UsageState:
        st = self._usage.get(user_id)
        if st is None or st.tz != tz:
            st = UsageState(tz=tz, cfg=self.cfg)
            for ev in self.history.usage_events(user_id):
                st.observe(ev)
            self._usage[user_id] = st
        return st

    def usage(self, user_id: str, tz: str, now: datetime) -> UsageState:
        with self._lock:
            return self._state(user_id, tz).advance(now)

    def observe(self, user_id: str, tz: str, event: Mapping[str, Any]) -> None:
        with self._lock:
            self._state(user_id, tz).observe(dict(event))
            if counts_as_seen(event):
                self._seen.setdefault(user_id, set()).add(event["item_id"])

    def seen(self, user_id: str) -> set[str]:
        return self._seen.get(user_id, set())
