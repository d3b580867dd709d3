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
  (positive actions per impression) are at least ``earn_rate``;
- **early signals**: a new video that viewers act on rises for every viewer (its positive
  actions per impression), below a taste match;
- **first looks**: a video whose topics and creator match no viewer (or that has none, as in
  logs without content data) would never be seen, so the exploration slots go first to new
  videos not yet shown to ``cold_impressions`` distinct viewers, the newest first, whatever
  their match; the slots they leave go to the best matches. A viewer asking again within
  ``look_again_minutes`` gets the same first looks (a refresh), never again after. On
  KuaiRand's replay this took fresh reach from 0.14 to 0.69 and NDCG@10 from 0.0121 to
  0.0323 (bench/README.md, "live adaptation").

The state grows with videos and live events, not with users: the only per-viewer parts are
the last few positives of viewers active since the model (the co-engagement window) and the
first looks' viewers (at most ``cold_impressions`` per new video).
"""

from __future__ import annotations

import bisect
import heapq
import math
import threading
from collections import Counter, defaultdict, deque
from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from operator import itemgetter
from typing import Any

import numpy as np

__all__ = ["FIRST_LOOK_SCORE", "LiveConfig", "LiveItems", "POSITIVE_TYPES", "is_positive"]

# What counts as positive engagement live: an action, or a view watched to the end
# (``complete_fraction`` of a known duration).
POSITIVE_TYPES = frozenset(("like", "share", "remix", "comment"))
# The score of a first look (below any taste match or early signal): how the exploration
# selector tells them apart.
FIRST_LOOK_SCORE = 1e-3


@dataclass(frozen=True)
class LiveConfig:
    """How new videos are explored and how sessions link videos."""

    fresh_days: float = 7.0
    """A video counts as new for this long after it became servable."""
    explore_budget: int = 100
    """Impressions each new video gets among matching viewers before it must earn its place."""
    earn_rate: float = 0.05
    """Positive actions per impression a new video needs to keep exploring past its budget."""
    complete_fraction: float = 0.8
    """A view of at least this share of the video's duration is a completed view."""
    explore_share_min_positives: int = 50
    """Positive actions seen live before the share landing on new videos sets the number of
    exploration slots (below it: ``explore_per_ten`` per ten videos)."""
    explore_per_ten: int = 1
    """Exploration slots per ten videos of a page while too little is known."""
    explore_max_share: float = 0.3
    """At most this share of a page goes to new videos, however much viewers engage with them."""
    co_window: int = 20
    """A viewer's last positives that a new positive is linked to (co-engagement)."""
    co_max: int = 200
    """Co-engaged neighbours kept per video (the weakest go first)."""
    pool_max: int = 50_000
    """New videos kept in the pool (the oldest go first)."""
    cold_impressions: int = 1
    """Distinct viewers with a slot to spare every new video is shown to, whatever its match
    (the newest first), so a video no taste points to is still seen."""
    look_again_minutes: float = 10.0
    """A viewer asking again within this long gets the same first looks (a refresh); after
    it, a first look they were given and passed over is not offered to them again."""
    rising_weight: float = 0.2
    """Weight of a new video's early signals for every viewer: its positive actions per
    impression, ``positives / (positives + impressions / 10 + 1)`` (a taste share is between
    0 and 1)."""


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
        # Per topic and per creator: (born, item) in time order, so a request reads only the
        # newest few servable ones of each.
        self.by_topic: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
        self.by_creator: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
        self._keys: dict[str, tuple[tuple[str, ...], str | None]] = {}
        self.counts: dict[str, _Counts] = defaultdict(_Counts)
        self.co: dict[str, Counter[str]] = defaultdict(Counter)
        self._last: dict[str, deque[str]] = {}
        # Every catalog video's duration (a completed view is judged against it).
        self.durations: dict[str, float | None] = {}
        # Positive actions seen live, and those on videos in the pool (exploration's share).
        self.positives = 0
        self.positives_new = 0
        # Every pool video in (born, item) order, the viewers given each a first look (at most
        # ``cold_impressions``), and the pool videos with live positive actions, the most
        # first (rebuilt when an observe changed them).
        self.by_born: list[tuple[datetime, str]] = []
        self.looked: dict[str, dict[str, datetime]] = {}
        self._rising: list[str] | None = []
        # The pool's facts as arrays, one slot per video, so a request scores its matches at
        # once (``_score``).
        self._slots = _Slots()

    # -- the pool ---------------------------------------------------------------------------
    def add(self, item_id: str, born: datetime, topics: Iterable[str] = (),
            creator_id: str | None = None) -> None:
        """Put a new video in the pool (again: its time, topics and creator are updated)."""
        topics = tuple(topics)
        with self.lock:
            if self.born.get(item_id) == born and self._keys.get(item_id) == (topics,
                                                                              creator_id):
                return  # already pooled as it is (a catalog reload re-reads every video)
            self._drop(item_id)
            self.born[item_id] = born
            self._keys[item_id] = (topics, creator_id)
            self._slots.put(item_id, born, topics, creator_id, self.counts[item_id])
            for t in topics:
                bisect.insort(self.by_topic[t], (born, item_id))
            if creator_id:
                bisect.insort(self.by_creator[creator_id], (born, item_id))
            bisect.insort(self.by_born, (born, item_id))
            if len(self.born) > self.cfg.pool_max:
                # The oldest tenth goes at once (the check is rare, the scan linear).
                for _, old in sorted((b, i) for i, b in self.born.items())[
                        :self.cfg.pool_max // 10]:
                    self._drop(old)

    def _drop(self, item_id: str) -> None:
        b = self.born.pop(item_id, None)
        if b is None:
            return
        topics, creator = self._keys.pop(item_id, ((), None))
        self._slots.drop(item_id)
        for key, group in [(t, self.by_topic) for t in topics] + (
                [(creator, self.by_creator)] if creator else []):
            _discard(group[key], (b, item_id))
        _discard(self.by_born, (b, item_id))
        self.looked.pop(item_id, None)
        c = self.counts.get(item_id)
        if c is not None and c.positives:
            self._rising = None

    def remove(self, item_id: str) -> None:
        """Take a video out of the pool (removed from the catalog)."""
        with self.lock:
            self._drop(item_id)

    def is_new(self, item_id: str, now: datetime) -> bool:
        """In the pool, already servable at ``now`` and not older than ``fresh_days``."""
        b = self.born.get(item_id)
        return b is not None and b <= now and now - b <= timedelta(days=self.cfg.fresh_days)

    def _newest(self, rows: list[tuple[datetime, str]], now: datetime, n: int) -> list[str]:
        """The ``n`` newest of ``rows`` servable at ``now`` and still new."""
        hi = bisect.bisect_right(rows, (now, "\U0010ffff"))
        oldest = now - timedelta(days=self.cfg.fresh_days)
        return [i for b, i in rows[max(0, hi - n):hi] if b >= oldest]

    def _first_looks(self, now: datetime, n: int, skip: Set[str], taken: Set[str],
                     user_id: str | None) -> list[str]:
        """Up to ``n`` servable new videos, the newest first, in neither ``skip`` (what the
        viewer has seen or the request excludes) nor ``taken`` (already matched), still owed
        a first look: shown to fewer than ``cold_impressions`` viewers, or to this one
        (reads at most ``20 n`` videos past what it takes)."""
        out: list[str] = []
        rows, quota, looked = self.by_born, self.cfg.cold_impressions, self.looked
        if quota <= 0:
            return out
        again = timedelta(minutes=self.cfg.look_again_minutes)
        oldest = now - timedelta(days=self.cfg.fresh_days)
        k = bisect.bisect_right(rows, (now, "\U0010ffff"))
        reads = 20 * n
        while k > 0 and len(out) < n and reads > 0:
            k -= 1
            reads -= 1
            b, i = rows[k]
            if b < oldest:
                break
            got = looked.get(i)
            if i in skip or i in taken:
                continue
            if (got is None or (len(got) < quota and user_id not in got)
                    or (user_id in got and now - got[user_id] <= again)):
                out.append(i)
        return out

    def _rising_items(self) -> list[str]:
        """Pool videos with live positive actions, the most first, then the newest (cached
        until they move)."""
        if self._rising is None:
            counts, born = self.counts, self.born
            self._rising = sorted((i for i in self.born if (c := counts.get(i)) is not None
                                   and c.positives > 0),
                                  key=lambda i: (-counts[i].positives, -born[i].timestamp(), i))
        return self._rising

    # -- what happened to them --------------------------------------------------------------
    def observe(self, events: Iterable[Mapping[str, Any]],
                durations: Mapping[str, float | None]) -> None:
        """Fold accepted events: new videos' early signals and session co-engagement."""
        with self.lock:
            for ev in sorted(events, key=lambda e: e["ts"]):
                item, user = ev.get("item_id"), ev.get("user_id")
                if not item or not is_positive(ev, durations.get(item), self.cfg):
                    continue
                self.positives += 1
                if item in self.born:
                    self.counts[item].positives += 1
                    self._slots.acted(item)
                    self.positives_new += 1
                    self._rising = None
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

    def impressed(self, item_ids: Iterable[str], now: datetime, user_id: str | None = None
                  ) -> None:
        """Count new videos served on a page to ``user_id`` (their exploration budget, and
        their first looks)."""
        quota = self.cfg.cold_impressions
        with self.lock:
            for i in item_ids:
                if i in self.born:
                    c = self.counts[i]
                    if user_id is not None and quota > 0:
                        got = self.looked.setdefault(i, {})
                        if len(got) < quota and user_id not in got:
                            got[user_id] = now
                    c.impressions += 1
                    self._slots.impressed(i)
                    if c.first_impression is None:
                        c.first_impression = now

    # -- a request's view -------------------------------------------------------------------
    def explore_slots(self, limit: int) -> int:
        """New-video slots on a page of ``limit``: as large a share of the page as the share
        of live positive actions that land on new videos (between one per ten videos and
        ``explore_max_share``); one per ten until enough is known."""
        base = self.cfg.explore_per_ten * max(1, limit // 10)
        if self.positives < self.cfg.explore_share_min_positives:
            return base
        share = min(self.positives_new / self.positives, self.cfg.explore_max_share)
        return max(base, round(limit * share))

    def matches(self, now: datetime, topics: Mapping[str, float], creators: Mapping[str, float],
                recent_positives: list[str], n: int, per_key: int = 50,
                skip: Set[str] = frozenset(), user_id: str | None = None, looks: int = 5
                ) -> list[tuple[str, float]]:
        """New videos for a viewer, best first: taste match (topic and creator shares of the
        viewer's history, co-engagement with their recent positives) plus early signals
        (``rising_weight`` x positive actions per impression), times exploration: at most
        ``n``; then up to ``looks`` first looks (score ``FIRST_LOOK_SCORE``) for videos
        still owed them. Reads at most the ``per_key`` newest of each of the viewer's top
        topics and creators, the ``per_key`` most acted-on new videos and ``looks`` first
        looks, none of them in ``skip`` (what the viewer has seen or the request excludes);
        ``user_id`` is the viewer (first looks).
        """
        with self.lock:
            co: Counter[str] = Counter()
            for i in recent_positives[-self.cfg.co_window:]:
                nb = self.co.get(i)
                if nb:
                    total = math.sqrt(sum(nb.values()))
                    for j, k in nb.items():
                        co[j] += k / total
            pool: set[str] = {j for j in co if j in self.born}
            # ``nlargest`` is ``sorted(..., reverse=True)[:k]``: ties keep the tastes' order,
            # without sorting a viewer's hundreds of creators.
            for t, _ in heapq.nlargest(8, topics.items(), key=itemgetter(1)):
                pool.update(self._newest(self.by_topic.get(t, []), now, per_key))
            for c, _ in heapq.nlargest(20, creators.items(), key=itemgetter(1)):
                pool.update(self._newest(self.by_creator.get(c, []), now, per_key))
            pool.update(self._servable(self._rising_items(), now, per_key, skip))
            pool.difference_update(skip)
            scored = self._score(list(pool), now, topics, creators, co, n)
            # First looks, in their own order (the newest first) after every match.
            # (``taken`` apart from ``skip``: no copy of a viewer's seen set on every request)
            taken = {j for j, _ in scored}
            scored += [(j, FIRST_LOOK_SCORE)
                       for j in self._first_looks(now, looks, skip, taken, user_id)]
        return scored

    def _score(self, pool: list[str], now: datetime, topics: Mapping[str, float],
               creators: Mapping[str, float], co: Counter[str], n: int
               ) -> list[tuple[str, float]]:
        """The best ``n`` of ``pool`` (servable at ``now`` and still new), best first, ties
        by id: ``w * (co + taste + rise)`` per video, where taste is the viewer's shares of
        its topics (added in its topic order) plus twice the share of its creator, rise its
        early signals (``rising_weight * positives / (positives + impressions / 10 + 1)``)
        and ``w`` its exploration weight (1 while ``explore_budget`` impressions last, then
        its positives per impression over ``earn_rate``, 0 below it); only positive scores. The
        same doubles as the loop over videos it replaced (tested), in array operations."""
        if n <= 0 or not pool:
            return []
        sl = self._slots
        k = np.array(list(map(sl.slot.__getitem__, pool)), np.int64)
        born = sl.born_us[k]
        ok = (born <= _micros(now)) & (born >= _micros(now - timedelta(days=self.cfg.fresh_days)))
        imp, pos = sl.imp[k], sl.pos[k]
        cfg = self.cfg
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = pos / np.maximum(imp, 1)
            w = np.where(imp < cfg.explore_budget, 1.0,
                         np.where(rate >= cfg.earn_rate, rate / cfg.earn_rate, 0.0))
            taste = sl.shares(sl.topic_col, topics)[sl.topics[k]]
            cols = taste.shape[1]
            total = taste[:, 0]
            for c in range(1, cols):  # in each video's topic order; the padding adds 0.0
                total = total + taste[:, c]
            total = total + 2.0 * sl.shares(sl.creator_col, creators)[sl.creators[k]]
            # ``co`` counts (a Counter): 0 where a video has no co-engagement.
            near = (np.array(list(map(co.__getitem__, pool)), np.float64) if co
                    else np.zeros(len(pool)))
            rise = np.where(pos > 0, cfg.rising_weight * pos / (pos + imp / 10 + 1), 0.0)
            score = w * (near + total + rise)
        keep = np.flatnonzero(ok & (w > 0) & (score > 0))
        if len(keep) > n:  # every video at least as good as the n-th: ties at the cut by id
            cut = np.partition(score[keep], len(keep) - n)[len(keep) - n]
            keep = keep[score[keep] >= cut]
        best = sorted(zip((-score[keep]).tolist(), [pool[j] for j in keep.tolist()],
                          strict=True))[:n]
        return [(j, -s) for s, j in best]

    def _servable(self, items: list[str], now: datetime, n: int, skip: Set[str]) -> list[str]:
        """The first ``n`` of ``items`` servable at ``now``, still new and not in ``skip``
        (reading at most ``20 n``: videos past their freshness stay listed until they go)."""
        out: list[str] = []
        for i in items[:20 * n]:
            if len(out) >= n:
                break
            if i not in skip and self.is_new(i, now):
                out.append(i)
        return out

    def first_impressions(self) -> dict[str, datetime]:
        """When each new video was first served (``bench``, ``/metrics``)."""
        return {i: c.first_impression for i, c in self.counts.items() if c.first_impression}


def _discard(rows: list[tuple[datetime, str]], key: tuple[datetime, str]) -> None:
    """Remove ``key`` from the sorted ``rows`` if it is there."""
    k = bisect.bisect_left(rows, key)
    if k < len(rows) and rows[k] == key:
        rows.pop(k)


_EPOCH = datetime(1970, 1, 1)


def _micros(t: datetime) -> int:
    """``t`` in whole microseconds (naive times, as the pool keeps them): exact, so array
    comparisons agree with comparing the datetimes."""
    return (t.replace(tzinfo=None) - _EPOCH) // timedelta(microseconds=1)


class _Slots:
    """The pool's videos as array rows (``LiveItems._score``): each video's first servable
    time, topic columns (``topic_col``; 0 pads), creator column (0: none) and live counters
    (kept with the pool's ``_Counts``). A dropped video's slot is reused."""

    def __init__(self) -> None:
        self.slot: dict[str, int] = {}
        self.free: list[int] = []
        self.topic_col: dict[str, int] = {}
        self.creator_col: dict[str, int] = {}
        self.born_us = np.zeros(0, np.int64)
        self.topics = np.zeros((0, 1), np.int64)
        self.creators = np.zeros(0, np.int64)
        self.imp = np.zeros(0, np.int64)
        self.pos = np.zeros(0, np.int64)

    def put(self, item_id: str, born: datetime, topics: tuple[str, ...],
            creator_id: str | None, counts: _Counts) -> None:
        if self.free:
            s = self.free.pop()
        else:
            s = len(self.slot)
            if s >= len(self.born_us):
                size = max(64, 2 * len(self.born_us))
                for name in ("born_us", "creators", "imp", "pos"):
                    setattr(self, name, np.resize(getattr(self, name), size))
                grown = np.zeros((size, self.topics.shape[1]), np.int64)
                grown[:len(self.topics)] = self.topics
                self.topics = grown
        if len(topics) > self.topics.shape[1]:
            wide = np.zeros((len(self.topics), len(topics)), np.int64)
            wide[:, :self.topics.shape[1]] = self.topics
            self.topics = wide
        self.slot[item_id] = s
        self.born_us[s] = _micros(born)
        row = [self.topic_col.setdefault(t, len(self.topic_col) + 1) for t in topics]
        self.topics[s] = row + [0] * (self.topics.shape[1] - len(row))
        self.creators[s] = (self.creator_col.setdefault(creator_id, len(self.creator_col) + 1)
                            if creator_id else 0)
        self.imp[s], self.pos[s] = counts.impressions, counts.positives

    def drop(self, item_id: str) -> None:
        s = self.slot.pop(item_id, None)
        if s is not None:
            self.free.append(s)

    def impressed(self, item_id: str) -> None:
        s = self.slot.get(item_id)
        if s is not None:
            self.imp[s] += 1

    def acted(self, item_id: str) -> None:
        s = self.slot.get(item_id)
        if s is not None:
            self.pos[s] += 1

    @staticmethod
    def shares(cols: dict[str, int], tastes: Mapping[str, float]) -> np.ndarray:
        """A viewer's share per column (0 for the padding column and the others)."""
        out = np.zeros(len(cols) + 1)
        for key, v in tastes.items():
            c = cols.get(key)
            if c is not None:
                out[c] = v
        return out
