"""Count new videos served on a page against their exploration budget."""

from __future__ import annotations

from ranking.feed.query import Query
from ranking.feed.resources import CandidateStore
from ranking.feed.types import FeedResponse


class FreshImpressionsSideEffect:
    name = "FreshImpressions"

    def __call__(self, query: Query, response: FeedResponse, store: CandidateStore) -> None:
        live = getattr(store, "live_items", None)
        if live is not None and response.items:
            live.impressed([i.item_id for i in response.items], query.now, query.user_id)
