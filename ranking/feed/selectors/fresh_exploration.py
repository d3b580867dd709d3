"""Give new videos their few exploration slots on the page."""

from __future__ import annotations

from ranking.feed.candidates import Candidates
from ranking.feed.live_items import FIRST_LOOK_SCORE
from ranking.feed.query import Query
from ranking.feed.types import FilterResult


class FreshExplorationSelector:
    """At most the query's ``explore_slots`` new videos (source ``fresh``), spread over the
    page (the pool sets them from how much viewers engage with new videos): first looks
    while any are owed (every new video's first viewers, the newest first), then the best
    taste matches and early signals.

    The model cannot score a video it never saw, so new videos rank after every scored
    candidate; this selector moves the best-matching ones to fixed slots (the rest stay at the
    end). It runs after the wellbeing filter, so every video here already passed the policy;
    a minor is, in addition, only ever explored with rated and labelled videos.
    """

    name = "FreshExploration"

    def __call__(self, query: Query, candidates: Candidates) -> FilterResult:
        c = candidates
        fresh = [k for k, s in enumerate(c.source) if s == "fresh"]
        if not fresh or query.explore_slots <= 0:
            return FilterResult(c, [])
        facts = c.facts or [None] * len(c)
        fresh_ok = [k for k in fresh if not _pushed_away(query, c, facts[k], k) and (
            not query.viewer.minor or (facts[k] is not None and facts[k].maturity is not None
                                       and facts[k].labels is not None))]
        picks = _picks(query, [c.source_score[k] for k in fresh_ok], fresh_ok)
        fresh_set, picked = set(fresh), set(picks)
        order = [k for k in range(len(c)) if k not in fresh_set]
        # Spread the slots over the requested page: 10 videos, 2 slots -> positions 3 and 6.
        for j, k in enumerate(picks):
            pos = min(len(order), (j + 1) * query.limit // (len(picks) + 1))
            order.insert(pos, k)
        order += [k for k in fresh if k not in picked]
        return FilterResult(c.take(order), [])


def _picks(query: Query, scores: list[float], ks: list[int]) -> list[int]:
    """The explored candidates: first looks (in their order: the newest first), then the
    best matches in the slots they leave."""
    order = sorted(range(len(ks)), key=lambda j: -scores[j])
    looks = [ks[j] for j in order if scores[j] <= FIRST_LOOK_SCORE]
    matched = [ks[j] for j in order if scores[j] > FIRST_LOOK_SCORE]
    return (looks + matched)[:query.explore_slots]


def _pushed_away(query: Query, c: Candidates, f, k: int) -> bool:
    """The viewer's own signals win over exploration: a "less" steering, or a creator or
    topic they hid (the same feedback the explicit-feedback scorer weighs)."""
    if c.steer is not None and c.steer[k][1] < 0:
        return True
    if f is None:
        return False
    v = query.viewer
    return (v.creator_penalties.get(f.creator_id, 0.0) > 0
            or any(v.topic_penalties.get(t, 0.0) > 0 for t in f.topics))
