"""Usage state: today's minutes, the live session, recent swipes/skips/topics, doomscrolling.

Built from an events frame or fed one event at a time (``observe``) so the service can keep
it in memory. Times are naive UTC (aware datetimes are converted); "today" is the user's local
calendar day.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

from features.times import to_utc_naive
from wellbeing.config import WellbeingConfig, parse_window

__all__ = ["UsageState", "doomscroll_intensity", "local_time", "in_window"]

_WATCHED = ("view", "skip")


@lru_cache(maxsize=4096)
def _zone(tz: str) -> ZoneInfo:
    # ZoneInfo's own cache keeps only 8 zones strongly: with viewers in more zones than that,
    # every request would read a tz file from disk again.
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_time(ts: datetime, tz: str | None) -> datetime:
    """``ts`` (naive UTC) in the IANA zone ``tz`` (UTC when unknown)."""
    return to_utc_naive(ts).replace(tzinfo=UTC).astimezone(_zone(tz or "UTC"))


def in_window(local: datetime, window: str) -> bool:
    """Whether a local time falls in ``HH:MM-HH:MM`` (windows may wrap past midnight)."""
    start, end = parse_window(window)
    m = local.hour * 60 + local.minute
    return start <= m < end if start <= end else (m >= start or m < end)


@dataclass
class UsageState:
    """One user's usage, kept current by ``observe``."""

    tz: str = "UTC"
    cfg: WellbeingConfig = field(default_factory=WellbeingConfig)
    day: date | None = None
    minutes_today: float = 0.0
    session_id: str | None = None
    session_start: datetime | None = None
    last_ts: datetime | None = None
    as_of: datetime | None = None
    recent: deque = field(default_factory=deque)  # (ts, type, primary topic | None)
    sensitive_views: deque = field(default_factory=deque)  # ts of sensitive-topic views
    items_in_session: int = 0  # videos viewed or skipped in the live session
    session_topics: Counter = field(default_factory=Counter)  # primary topics, live session

    def observe(self, event: dict[str, Any]) -> None:
        """Fold one event (keys: ts, type, optional watch_ms, session_id, topics) in.

        Events should arrive in time order; a late event from an earlier local day than the
        current one does not change ``minutes_today``.
        """
        ts = to_utc_naive(event["ts"])
        etype = event.get("type")
        gap = timedelta(minutes=self.cfg.session_gap_minutes)
        sid = event.get("session_id")
        new_session = (
            self.last_ts is None
            or ts - self.last_ts > gap
            or (sid is not None and self.session_id is not None and sid != self.session_id)
        )
        if new_session:
            self.session_start, self.session_id = ts, sid
            self.items_in_session = 0
            self.session_topics = Counter()
        elif sid is not None:
            self.session_id = sid
        if self.last_ts is None or ts > self.last_ts:
            self.last_ts = ts
        self.as_of = max(self.as_of or ts, ts)
        if etype not in _WATCHED:
            return
        self.items_in_session += 1
        day = local_time(ts, self.tz).date()
        if self.day is None or day > self.day:
            self.day, self.minutes_today = day, 0.0
        watch = event.get("watch_ms") or 0
        if day == self.day and watch > 0:
            self.minutes_today += watch / 60000.0
        topics = tuple(event.get("topics") or ())
        self.recent.append((ts, etype, topics[0] if topics else None))
        if topics:
            self.session_topics[topics[0]] += 1
        if etype == "view" and not set(topics).isdisjoint(self.cfg.sensitive_topics):
            self.sensitive_views.append(ts)
        self._trim(self.as_of)

    def advance(self, now: datetime) -> UsageState:
        """Move the clock to ``now`` (drops expired window entries); returns self."""
        now = to_utc_naive(now)
        self.as_of = max(self.as_of or now, now)
        self._trim(now)
        return self

    def _trim(self, now: datetime) -> None:
        horizon = now - timedelta(minutes=self.cfg.doomscroll_window_minutes)
        while self.recent and self.recent[0][0] < horizon:
            self.recent.popleft()
        while self.sensitive_views and self.sensitive_views[0] <= now - timedelta(hours=24):
            self.sensitive_views.popleft()

    @classmethod
    def from_events(
        cls,
        events: pl.DataFrame,
        now: datetime,
        tz: str | None = "UTC",
        cfg: WellbeingConfig | None = None,
    ) -> UsageState:
        """Build the state from one user's events (only ``ts < now`` count).

        Args:
            events: columns ts, type and optionally watch_ms, session_id, topics.
            now: the request time.
            tz: the user's IANA timezone.
            cfg: thresholds (session gap, windows, sensitive topics).
        """
        state = cls(tz=tz or "UTC", cfg=cfg or WellbeingConfig())
        now = to_utc_naive(now)
        if events.height:
            rows = events.filter(pl.col("ts") < now).sort("ts").iter_rows(named=True)
            for row in rows:
                state.observe(row)
        return state.advance(now)

    def today_minutes(self, now: datetime) -> float:
        """Minutes watched on the user's local calendar day of ``now``."""
        return self.minutes_today if self.day == local_time(now, self.tz).date() else 0.0

    def session_minutes(self, now: datetime) -> float:
        """Minutes of the live session up to ``now`` (0 once the gap has passed)."""
        now = to_utc_naive(now)
        if self.last_ts is None or now - self.last_ts > timedelta(
            minutes=self.cfg.session_gap_minutes
        ):
            return 0.0
        return max(0.0, (now - self.session_start).total_seconds() / 60.0)

    def session_items(self, now: datetime) -> int:
        """Videos viewed or skipped in the live session (0 once the gap has passed)."""
        if self.last_ts is None or to_utc_naive(now) - self.last_ts > timedelta(
            minutes=self.cfg.session_gap_minutes
        ):
            return 0
        return self.items_in_session

    def sensitive_views_24h(self, now: datetime) -> int:
        """Views of sensitive-topic items in the 24 h before ``now``."""
        now = to_utc_naive(now)
        start = now - timedelta(hours=24)
        return sum(1 for t in self.sensitive_views if start < t <= now)

    def is_late_night(self, now: datetime) -> bool:
        """Whether ``now`` falls in the configured late-night window, local time."""
        return in_window(local_time(now, self.tz), self.cfg.late_night)

    @property
    def swipe_rate(self) -> float:
        """Views and skips per minute over the recent window."""
        return len(self.recent) / self.cfg.doomscroll_window_minutes

    @property
    def skip_rate(self) -> float:
        """Share of recent views/skips that were skips."""
        return (
            sum(1 for r in self.recent if r[1] == "skip") / len(self.recent) if self.recent else 0.0
        )

    @property
    def topic_entropy(self) -> float | None:
        """Normalised entropy (0..1) of recent primary topics; None with too few views."""
        topics = [r[2] for r in self.recent if r[2] is not None]
        if len(topics) < self.cfg.doomscroll_min_views_for_entropy:
            return None
        counts = Counter(topics)
        if len(counts) == 1:
            return 0.0
        n = len(topics)
        h = -sum(c / n * math.log(c / n) for c in counts.values())
        # Normalise by a fixed variety (8 topics) so "two topics on repeat" reads as narrow.
        return min(1.0, h / math.log(min(n, 8)))


def doomscroll_intensity(state: UsageState, cfg: WellbeingConfig | None = None) -> float:
    """A 0..1 score from session length, swipe rate, skip rate, late night and narrowing topics.

    Evaluated at ``state.as_of``; 0 when no session is live.
    """
    cfg = cfg or state.cfg
    now = state.as_of
    if now is None or state.session_minutes(now) <= 0:
        return 0.0
    entropy = state.topic_entropy
    parts = (
        (0.30, min(1.0, state.session_minutes(now) / cfg.doomscroll_session_minutes)),
        (0.20, min(1.0, state.swipe_rate / cfg.doomscroll_swipes_per_minute)),
        (0.15, min(1.0, state.skip_rate / cfg.doomscroll_skip_rate)),
        (0.15, 1.0 if state.is_late_night(now) else 0.0),
        (0.20, 0.0 if entropy is None else 1.0 - entropy),
    )
    return max(0.0, min(1.0, sum(w * v for w, v in parts)))
