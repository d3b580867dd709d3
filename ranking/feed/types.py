"""The request and response of the feed pipeline, and what a filter returns (product-mixer
shapes). The stage contracts are in ``ranking.feed.stages``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ranking.feed.candidates import Candidates
    from wellbeing import Intervention

__all__ = [
    "FeedRequest", "FeedItem", "FeedResponse", "Removal", "FilterResult",
]


@dataclass(frozen=True)
class FeedRequest:
    """One page request. ``now`` is the request time (UTC, naive); ``age_at``, when set, is a
    second clock (the server's, if ``now`` came from a client) and the viewer's age band is the
    younger of the two, so no clock can make a viewer older."""

    user_id: str
    now: datetime
    limit: int = 20
    session_id: str | None = None
    request_id: str | None = None
    age_at: datetime | None = None
    exclude_ids: frozenset[str] = frozenset()


@dataclass(frozen=True)
class FeedItem:
    item_id: str
    score: float
    source: str
    reasons: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class Removal:
    """A candidate a stage removed, with its rule and reason. Wellbeing removals (``drop``)
    are audited; a ``filter`` removal (already seen, excluded by the client) is counted only."""

    item_id: str
    stage: str
    rule: str
    action: str
    reason: str


@dataclass
class FeedResponse:
    request: FeedRequest
    items: list[FeedItem]
    interventions: list[Intervention]
    model_version: str | None
    policy_version: str
    policy: str
    removed: list[Removal] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "user_id": self.request.user_id,
            "items": [
                {"item_id": i.item_id, "score": round(i.score, 6), "source": i.source,
                 "reasons": list(i.reasons), "labels": list(i.labels)}
                for i in self.items
            ],
            "interventions": [
                {"type": iv.type, "message": iv.message} for iv in self.interventions
            ],
            "model_version": self.model_version,
            "policy_version": self.policy_version,
            "policy": self.policy,
        }


@dataclass
class FilterResult:
    """What a filter or selector kept and what it removed (never just a shorter list).

    A selector may also add an intervention (the page it cut ends the feed)."""

    kept: Candidates
    removed: list[Removal]
    interventions: tuple[Intervention, ...] = ()
