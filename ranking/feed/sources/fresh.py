"""New videos the served model never saw, matched to the viewer's tastes (exploration)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import polars as pl

from ranking.feed.live_items import is_positive
from ranking.feed.query import Query
from ranking.feed.resources import CandidateStore

# Trained topic and creator counts, the history's length, and their shares (``_shares``).
_Counts = tuple[Counter, Counter, int, dict[str, float], dict[str, float]]
_EMPTY = {"item_id": pl.String, "source": pl.String, "source_score": pl.Float64}
# Trained positives read for the viewer's tastes (the strongest first).
_HISTORY_MAX = 200
# Viewers whose trained tastes are kept (per model and catalog); the table restarts when full.
_TASTES_MAX = 20_000


class FreshCandidateSource:
    """New videos (``ranking.feed.live_items``) whose topics, creator or session
    co-engagement match the viewer; the exploration selector gives them their few slots."""

    name = "Fresh"
    fallback = False

    def __init__(self, n: int = 20) -> None:
        self.n = n
        # (model, catalog facts, user -> trained tastes): one table for the model and catalog
        # in force, so a replaced model is not kept alive by it.
        self._trained: tuple[Any, Any, dict[str, _Counts]] = (None, None, {})

    def _trained_counts(self, model: Any, user_id: str, facts: Any) -> _Counts:
        """Topic and creator counts over the viewer's trained positives: the same on every
        page until the model or the catalog changes (the request adds its recent positives)."""
        m, f, table = self._trained
        if m is not model or f is not facts:
            table = {}
            self._trained = (model, facts, table)
        got = table.get(user_id)
        if got is None:
            history = (model.history_items(user_id, _HISTORY_MAX) if model is not None
                       else [])
            topics: Counter[str] = Counter()
            creators: Counter[str] = Counter()
            for i in history:
                fi = facts.get(i)
                if fi is not None:
                    topics.update(fi.topics)
                    creators[fi.creator_id] += 1
            if len(table) >= _TASTES_MAX:
                table.clear()
            got = table[user_id] = (topics, creators, len(history),
                                    *_shares(topics, creators, len(history)))
        return got

    def __call__(self, query: Query, store: CandidateStore, n: int) -> pl.DataFrame:
        live = getattr(store, "live_items", None)
        # Tastes are a profile: nothing for a viewer who chose a non-personalised feed.
        if live is None or not live.born or not query.viewer.settings.personalized:
            return pl.DataFrame(schema=_EMPTY)
        facts = store.item_facts
        recent = [e["item_id"] for e in query.recent if e.get("item_id") and is_positive(
            e, live.durations.get(e["item_id"]), live.cfg)]
        trained = self._trained_counts(query.model, query.user_id, facts)
        if recent:
            tastes, liked = _shares(*_with_recent(trained, recent, facts))
        else:  # the trained shares, kept with the counts (``liked`` is copied: follows added)
            tastes, liked = trained[3], dict(trained[4])
        liked.update({c: 1.0 for c in query.viewer.following})
        skip = query.seen
        if query.request.exclude_ids:
            skip = skip | query.request.exclude_ids
        got = live.matches(query.now, tastes, liked, recent, self.n, skip=skip,
                           user_id=query.user_id)
        # Typed series, then the frame (a frame from a dict with a schema costs ~0.2 ms more).
        return pl.DataFrame([pl.Series("item_id", [g[0] for g in got], pl.String),
                             pl.Series("source", ["fresh"] * len(got), pl.String),
                             pl.Series("source_score", [float(g[1]) for g in got], pl.Float64)])


def _with_recent(trained: _Counts, recent: list[str], facts: Any
                 ) -> tuple[Counter, Counter, int]:
    """The trained counts plus the request's recent positives: copies, counted on in the order
    one pass over history then recent takes (the tastes' order breaks ties between equal
    shares)."""
    topics = Counter(trained[0])
    creators = Counter(trained[1])
    for i in recent:
        f = facts.get(i)
        if f is not None:
            topics.update(f.topics)
            creators[f.creator_id] += 1
    return topics, creators, trained[2] + len(recent)


def _shares(topics: Counter, creators: Counter, n: int
            ) -> tuple[dict[str, float], dict[str, float]]:
    """Each topic's and creator's share of ``n`` videos of history (the creator-less left out)."""
    seen = max(n, 1)
    return ({t: k / seen for t, k in topics.items()},
            {c: k / seen for c, k in creators.items() if c})
