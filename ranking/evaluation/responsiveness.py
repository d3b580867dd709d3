"""Responsiveness to explicit feedback: does one hide visibly change the next pages?

For each sampled user the feed engine serves a page at ``now``; its top video is hidden. The
next ``n_requests`` pages (each excluding what the earlier ones served, as a scrolling client
would) are served twice: as if the hide had been posted, and as if it had not (the hidden video
excluded in both, so only the feedback differs). A video is *similar* to the hidden one when
it shares its creator or a topic. The figure is the drop in similar videos served:
``1 - similar_with_hide / similar_without`` (1.0: none came back; 0: no change).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from ranking.feed.engine import FeedEngine
from ranking.feed.types import FeedRequest
from wellbeing import ItemFacts, ViewerContext, WellbeingConfig
from wellbeing.viewer_fold import Profile, creator_penalties, fold_event, topic_penalties

__all__ = ["hide_responsiveness", "with_hide"]


def with_hide(viewer: ViewerContext, item: ItemFacts, now: datetime,
              cfg: WellbeingConfig) -> ViewerContext:
    """``viewer`` as it is right after hiding ``item`` at ``now``: the hide goes through the
    viewer fold every path uses (``wellbeing.viewer_fold``), its weights added undecayed."""
    hide = Profile()
    fold_event(hide, {"type": "hide", "ts": now, "item_id": item.item_id}, item, cfg)
    creators = dict(viewer.creator_penalties)
    for c, w in creator_penalties(hide, now, cfg).items():
        creators[c] = creators.get(c, 0.0) + w
    topics = dict(viewer.topic_penalties)
    for t, w in topic_penalties(hide, now, cfg).items():
        topics[t] = topics.get(t, 0.0) + w
    return replace(viewer, hidden_items=viewer.hidden_items | hide.hidden,
                   creator_penalties=creators, topic_penalties=topics)


def _pages(engine: FeedEngine, viewer: ViewerContext, now: datetime, k: int, n: int,
           exclude: set[str]) -> list[str]:
    quiet = replace(engine.pipeline, side_effects=[])
    served: list[str] = []
    for _ in range(n):
        req = FeedRequest(viewer.user_id, now, k, request_id="responsiveness",
                          exclude_ids=frozenset(exclude | set(served)))
        ids = [i.item_id for i in quiet.run(engine, req, viewer).items]
        if not ids:
            break
        served += ids
    return served


def _similar(facts: dict[str, ItemFacts], hidden: ItemFacts, ids: list[str]) -> int:
    topics = set(hidden.topics)
    return sum(1 for i in ids if i in facts and (
        facts[i].creator_id == hidden.creator_id or bool(topics & set(facts[i].topics))))


def hide_responsiveness(engine: FeedEngine, users: list[str], now: datetime, k: int = 10,
                        n_requests: int = 3) -> dict[str, Any]:
    """The drop in similar videos within ``n_requests`` pages after one hide.

    Args:
        engine: the feed engine on a store (its pipeline, policy and steering apply).
        users: the users to replay (each hides the top video of their page at ``now``).
        now: the request time.
        k: page size.
        n_requests: pages served after the hide.

    Returns:
        ``{"users", "pages", "similar_without", "similar_with", "drop"}`` (drop is None when
        no user's pages had a similar video to lose).
    """
    facts = engine.item_facts
    without = with_ = counted = 0
    for uid in users:
        viewer = engine.viewer(uid, now)
        quiet = replace(engine.pipeline, side_effects=[])
        first = quiet.run(engine, FeedRequest(uid, now, k, request_id="responsiveness"), viewer)
        if not first.items or first.items[0].item_id not in facts:
            continue
        hidden = facts[first.items[0].item_id]
        without += _similar(facts, hidden, _pages(engine, viewer, now, k, n_requests,
                                                  {hidden.item_id}))
        hid = with_hide(viewer, hidden, now, engine.cfg)
        with_ += _similar(facts, hidden, _pages(engine, hid, now, k, n_requests,
                                                {hidden.item_id}))
        counted += 1
    return {"users": counted, "pages": n_requests, "k": k, "similar_without": without,
            "similar_with": with_,
            "drop": round(1.0 - with_ / without, 3) if without else None}
