"""New videos the served model never saw, matched to the viewer's tastes (exploration)."""

from __future__ import annotations

from collections import Counter

import polars as pl

from ranking.feed.live_items import is_positive
from ranking.feed.query import Query
from ranking.feed.resources import CandidateStore

_EMPTY = {"item_id": pl.String, "source": pl.String, "source_score": pl.Float64}
# Trained positives read for the viewer's tastes (the strongest first).
_HISTORY_MAX = 200


class FreshCandidateSource:
    """New videos (``ranking.feed.live_items``) whose topics, creator or session
    co-engagement match the viewer; the exploration selector gives them their few slots."""

    name = "Fresh"
    fallback = False

    def __init__(self, n: int = 20) -> None:
        self.n = n

    def __call__(self, query: Query, store: CandidateStore, n: int) -> pl.DataFrame:
        live = getattr(store, "live_items", None)
        # Tastes are a profile: nothing for a viewer who chose a non-personalised feed.
        if live is None or not live.born or not query.viewer.settings.personalized:
            return pl.DataFrame(schema=_EMPTY)
        facts = store.item_facts
        recent = [e["item_id"] for e in query.recent if e.get("item_id") and is_positive(
            e, live.durations.get(e["item_id"]), live.cfg)]
        history = (query.model.history_items(query.user_id, _HISTORY_MAX)
                   if query.model is not None else [])
        topics: Counter[str] = Counter()
        creators: Counter[str] = Counter()
        for i in history + recent:
            f = facts.get(i)
            if f is not None:
                topics.update(f.topics)
                creators[f.creator_id] += 1
        seen = max(len(history) + len(recent), 1)
        tastes = {t: k / seen for t, k in topics.items()}
        liked = {c: k / seen for c, k in creators.items() if c}
        liked.update({c: 1.0 for c in query.viewer.following})
        got = live.matches(query.now, tastes, liked, recent, self.n)
        return pl.DataFrame({"item_id": [g[0] for g in got], "source": ["fresh"] * len(got),
                             "source_score": [float(g[1]) for g in got]}, schema=_EMPTY)
