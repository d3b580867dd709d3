"""A ``SessionStore`` in Redis, so several service instances share usage and seen items.

Per user: a list of compact posted events (``fw:ev:<user>``) and a set of seen items
(``fw:seen:<user>``), both expiring after two days without activity. Usage is folded from the
history this instance loaded plus the posted events, de-duplicated by ``event_id`` (an instance
started after an event was posted finds it in both).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ranking.service.session_store import HistorySource
from wellbeing import UsageState, WellbeingConfig
from wellbeing.viewer_fold import counts_as_seen

__all__ = ["RedisSessionStore"]

_TTL_SECONDS = 48 * 3600
_MAX_EVENTS = 5000


class RedisSessionStore:
    """Session state in Redis (``redis.Redis`` client or a URL)."""

    name = "redis"

    def __init__(self, history: HistorySource, client: Any = None, url: str | None = None,
                 cfg: WellbeingConfig | None = None, prefix: str = "fw") -> None:
        if client is None:
            import redis

            client = redis.Redis.from_url(url or "redis://127.0.0.1:6379/0")
        self.r = client
        self.history = history
        self.cfg = cfg or WellbeingConfig()
        self.prefix = prefix

    def _k(self, kind: str, user_id: str) -> str:
        return f"{self.prefix}:{kind}:{user_id}"

    def usage(self, user_id: str, tz: str, now: datetime) -> UsageState:
        raw = self.r.lrange(self._k("ev", user_id), 0, -1)
        events = list(self.history.usage_events(user_id))
        ids = {e.get("event_id") for e in events}
        for blob in raw:
            e = json.loads(blob)
            if e.get("event_id") not in ids or e.get("event_id") is None:
                e["ts"] = datetime.fromisoformat(e["ts"])
                events.append(e)
        events.sort(key=lambda e: e["ts"])
        st = UsageState(tz=tz, cfg=self.cfg)
        for e in events:
            st.observe(e)
        return st.advance(now)

    def observe(self, user_id: str, tz: str, event: Mapping[str, Any]) -> None:
        e = {k: event.get(k) for k in ("event_id", "type", "watch_ms", "session_id", "item_id")}
        e["ts"] = event["ts"].isoformat()
        e["topics"] = list(event.get("topics") or ())
        pipe = self.r.pipeline()
        key = self._k("ev", user_id)
        pipe.rpush(key, json.dumps(e))
        pipe.ltrim(key, -_MAX_EVENTS, -1)
        pipe.expire(key, _TTL_SECONDS)
        if counts_as_seen(event):
            skey = self._k("seen", user_id)
            pipe.sadd(skey, event["item_id"])
            pipe.expire(skey, _TTL_SECONDS)
        pipe.execute()

    def seen(self, user_id: str) -> set[str]:
        return {m.decode() if isinstance(m, bytes) else m
                for m in self.r.smembers(self._k("seen", user_id))}
