"""Per-video state kept between two trainings: new videos, their exploration, co-engagement.

A video the served model never saw (posted after its data, or with no trained interaction)
has no row in any trained source, so it reaches viewers through this state (X's in-network
store and cold-start boost are the anchor):

- the **pool**: new videos by when they became servable (``created_at`` or the time they were
  posted to the service), indexed by topic and creator, so a request looks at the few that
  match the viewer's tastes, never the whole pool;
- **co-engagement**: a video engaged with right after another in a viewer's session links the
  two, so a new video that early viewers liked follows the videos they liked before it;
- **exploration**: each new video gets ``explore_budget`` impressions among viewers whose
  tastes match; after that it keeps an exploration slot only while its own early signals
  (positive actions per impression) are at least ``earn_rate``.

The state grows with videos and live events, not with users: the only per-viewer part is the
last few positives of viewers active since the model (the co-engagement window).
"""

from __future__ import annotations

import bisect
import math
import threading
from collections import Counter, defaultdict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

__all__ = ["LiveConfig", "LiveItems", "POSITIVE_TYPES", "is_positive"]

# What counts as positive engagement live: an action, or a view watched to the end
# (``complete_fraction`` of a known duration).
POSITIVE_TYPES = frozenset(("like", "share", "remix", "comment"))


@dataclass(frozen=True)
class LiveConfig:
    """How new videos are explored and how sessions link videos."""

    fresh_days: float = 7.0
    """A video counts as new for this long after it became servable."""
    explore_budget: int = 100
    """Impressions each new video gets among matching viewers before it must earn its place."""
    earn_rate: float = 0.05
    """Positive actions per impression a new video needs to keep exploring past its budget."""
    explore_slots: int = 2
    """At most this many new videos on one page."""
    complete_fraction: float = 0.8
    """A view of at least this share of the video's duration is a completed view."""
    co_window: int = 20
    """A viewer's last positives that a new positive is linked to (co-engagement)."""
    co_max: int = 200
    """Co-engaged neighbours kept per video (the weakest go first)."""
    pool_max: int = 50_000
    """New videos kept in the pool (the oldest go first)."""


def is_positive(event: Mapping[str, Any], duration_ms: float | None, cfg: LiveConfig) -> bool:
    """Positive engagement: an action, or a completed view."""
    t = event.get("type")
    if t in POSITIVE_TYPES:
        return True
    if t != "view" or not event.get("watch_ms"):
        return False
    return bool(duration_ms) and event["watch_ms"] >= cfg.complete_fraction * duration_ms


@dataclass
class _Counts:
    impressions: int = 0
    positives: int = 0
    first_impression: datetime | None = None


@dataclass
class LiveItems:
    """New videos, their exploration counters and live co-engagement (thread safe)."""

    cfg: LiveConfig = field(default_factory=LiveConfig)

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self.born: dict[str, datetime] = {}
        self._order: list[tuple[datetime, str]] = []
        self.by_topic: dict[str, set[str]] = defaultdict(set)
        self.by_creator: dict[str, set[str]] = defaultdict(set)
        # The same index read the other way: a pool video's topics and creator.
        self.topics_of: dict[str, tuple[str, ...]] = {}
        self.creator_of: dict[str, str] = {}
        self.counts: dict[str, _Counts] = defaultdict(_Counts)
        self.co: dict[str, Counter[str]] = defaultdict(Counter)
        self._last: dict[str, deque[str]] = {}
        # Every catalog video's duration (a completed view is judged against it).
        self.durations: dict[str, float | None] = {}

    # -- the pool ---------------------------------------------------------------------------
    def add(self, item_id: str, born: datetime, topics: Iterable[str] = (),
            creator_id: str | None = None) -> None:
        """Put a new video in the pool (again: its time, topics and creator are updated)."""
        with self.lock:
            self._drop(item_id)
            self.born[item_id] = born
            bisect.insort(self._order, (born, item_id))
            topics = tuple(dict.fromkeys(topics))
            for t in topics:
                self.by_topic[t].add(item_id)
            self.topics_of[item_id] = topics
            if creator_id:
                self.by_creator[creator_id].add(item_id)
                self.creator_of[item_id] = creator_id
            if len(self._order) > self.cfg.pool_max:
                self._drop(self._order[0][1])

    def _drop(self, item_id: str) -> None:
        b = self.born.pop(item_id, None)
        if b is None:
            return
        k = bisect.bisect_left(self._order, (b, item_id))
        if k < len(self._order) and self._order[k] == (b, item_id):
            self._order.pop(k)
        for t in self.topics_of.pop(item_id, ()):
            self.by_topic[t].discard(item_id)
        c = self.creator_of.pop(item_id, None)
        if c is not None:
            self.by_creator[c].discard(item_id)

    def remove(self, item_id: str) -> None:
        """Take a video out of the pool (removed from the catalog)."""
        with self.lock:
            self._drop(item_id)

    def is_new(self, item_id: str, now: datetime) -> bool:
        """In the pool, already servable at ``now`` and not older than ``fresh_days``."""
        b = self.born.get(item_id)
        return b is not None and b <= now and now - b <= timedelta(days=self.cfg.fresh_days)

    # -- what happened to them --------------------------------------------------------------
    def observe(self, events: Iterable[Mapping[str, Any]],
                durations: Mapping[str, float | None]) -> None:
        """Fold accepted events: new videos' early signals and session co-engagement."""
        with self.lock:
            for ev in sorted(events, key=lambda e: e["ts"]):
                item, user = ev.get("item_id"), ev.get("user_id")
                if not item or not is_positive(ev, durations.get(item), self.cfg):
                    continue
                if item in self.born:
                    self.counts[item].positives += 1
                last = self._last.setdefault(user, deque(maxlen=self.cfg.co_window))
                for prev in last:
                    if prev != item:
                        self._link(prev, item)
                        self._link(item, prev)
                if item not in last:
                    last.append(item)

    def _link(self, a: str, b: str) -> None:
        c = self.co[a]
        c[b] += 1
        if len(c) > self.cfg.co_max:
            del c[min(c, key=c.__getitem__)]

    def impressed(self, item_ids: Iterable[str], now: datetime) -> None:
        """Count new videos served on a page (their exploration budget)."""
        with self.lock:
            for i in item_ids:
                if i in self.born:
                    c = self.counts[i]
                    c.impressions += 1
                    if c.first_impression is None:
                        c.first_impression = now

    # -- a request's view -------------------------------------------------------------------
    def explore_weight(self, item_id: str) -> float:
        """1 while the budget lasts; then its early positive rate over ``earn_rate`` (0 when
        the video has not earned its place)."""
        c = self.counts.get(item_id)
        if c is None or c.impressions < self.cfg.explore_budget:
            return 1.0
        rate = c.positives / max(c.impressions, 1)
        return rate / self.cfg.earn_rate if rate >= self.cfg.earn_rate else 0.0

    def matches(self, now: datetime, topics: Mapping[str, float], creators: Mapping[str, float],
                recent_positives: list[str], n: int) -> list[tuple[str, float]]:
        """New videos for a viewer, best first: taste match (topic and creator shares of the
        viewer's history, co-engagement with their recent positives) times exploration."""
        with self.lock:
            co: Counter[str] = Counter()
            for i in recent_positives[-self.cfg.co_window:]:
                nb = self.co.get(i)
                if nb:
                    total = math.sqrt(sum(nb.values()))
                    for j, k in nb.items():
                        co[j] += k / total
            pool: set[str] = {j for j in co if j in self.born}
            for t, _ in sorted(topics.items(), key=lambda kv: -kv[1])[:8]:
                pool |= self.by_topic.get(t, set())
            for c in creators:
                pool |= self.by_creator.get(c, set())
            out = []
            # ``is_new`` inlined: this loop runs over every matching pool video on every page.
            fresh, born = timedelta(days=self.cfg.fresh_days), self.born
            for j in pool:
                b = born.get(j)
                if b is None or b > now or now - b > fresh:
                    continue
                w = self.explore_weight(j)
                if w <= 0:
                    continue
                out.append((j, w))
        order = {t: (k, w) for k, (t, w) in enumerate(topics.items())}
        scored = []
        for j, w in out:
            s = w * (co.get(j, 0.0) + _taste(j, self, order, creators))
            if s > 0:
                scored.append((j, s))
        scored.sort(key=lambda s: (-s[1], s[0]))
        return scored[:n]

    def first_impressions(self) -> dict[str, datetime]:
        """When each new video was first served (``bench``, ``/metrics``)."""
        return {i: c.first_impression for i, c in self.counts.items() if c.first_impression}


def _taste(item_id: str, live: LiveItems, order: Mapping[str, tuple[int, float]],
           creators: Mapping[str, float]) -> float:
    # The viewer's share of history in the video's topics, and in its creator (counted twice:
    # a creator is a sharper taste than a topic). The video's few topics are looked up in the
    # viewer's (``order``: each of ``topics`` with its position) and summed in the viewer's
    # order, so the float is the one a walk over the viewer's topics gives.
    mine = [order[x] for x in live.topics_of.get(item_id, ()) if x in order]
    t = sum(w for _, w in (sorted(mine) if len(mine) > 1 else mine))
    cr = live.creator_of.get(item_id)
    return t + 2.0 * (creators.get(cr, 0) if cr is not None else 0)
