"""The request, response and stage contracts of the feed pipeline (product-mixer shapes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

import polars as pl

if TYPE_CHECKING:
    from ranking.feed.engine import FeedEngine
    from wellbeing import Intervention, ViewerContext
    from wellbeing.steering import Steering

__all__ = [
    "FeedRequest", "FeedItem", "FeedResponse", "Removal", "FilterResult", "RequestState",
    "CandidateSource", "QueryHydrator", "Hydrator", "Filter", "Scorer", "Selector", "SideEffect",
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
    """A candidate a stage removed, with the rule and reason for the audit log."""

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
    """What a filter kept and what it removed (never just a shorter list)."""

    kept: pl.DataFrame
    removed: list[Removal]


@dataclass
class RequestState:
    """Everything one request carries between stages.

    ``candidates`` has at least ``item_id``, ``source`` and ``source_score``; hydrators add
    columns, scorers set ``score``, selectors cut it to the page.
    """

    request: FeedRequest
    engine: FeedEngine
    viewer: ViewerContext
    candidates: pl.DataFrame
    interventions: list[Intervention] = field(default_factory=list)
    removed: list[Removal] = field(default_factory=list)
    labels: dict[str, list[str]] = field(default_factory=dict)
    reasons: dict[str, list[str]] = field(default_factory=dict)
    diversify: bool = False
    steering: Steering | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class CandidateSource(Protocol):
    name: str

    def __call__(self, state: RequestState, n: int) -> pl.DataFrame: ...


class QueryHydrator(Protocol):
    """Runs once per request and sets a typed field of the request state (the query)."""

    name: str

    def __call__(self, state: RequestState) -> None: ...


class Hydrator(Protocol):
    name: str

    def __call__(self, state: RequestState) -> pl.DataFrame: ...


class Filter(Protocol):
    name: str

    def __call__(self, state: RequestState) -> FilterResult: ...


class Scorer(Protocol):
    name: str

    def __call__(self, state: RequestState) -> list[float]: ...


class Selector(Protocol):
    name: str

    def __call__(self, state: RequestState) -> FilterResult: ...


class SideEffect(Protocol):
    name: str

    def __call__(self, state: RequestState, response: FeedResponse) -> None: ...
