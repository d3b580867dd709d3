"""What the feed reads, behind two small protocols: the viewer side and the candidate side.

``ViewerSource`` has one stored implementation (``StoredViewers``: point in time, from the
store's tables) and one live implementation (the service's ``ViewerState``: in memory, kept
current by posted events). ``CandidateStore`` is implemented by ``FeedEngine``: the catalog's
safety facts, the consents in force, the published model's lists and the popularity lists.
Only the query hydrator, sources, candidate hydrators and side effects touch them; filters,
scorers and selectors read the query and the candidates only.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

import polars as pl

if TYPE_CHECKING:
    from wellbeing import Consent, ItemFacts, ViewerContext, WellbeingConfig
    from wellbeing.steering import Steering
    from wellbeing.verdicts import VerdictCache

__all__ = ["ViewerSource", "CandidateStore"]


class ViewerSource(Protocol):
    """The viewer's side of a request."""

    def viewer(self, user_id: str, now: datetime,
               age_at: datetime | None = None) -> ViewerContext: ...

    def seen(self, user_id: str, now: datetime) -> Set[str]: ...

    def steering(self, user_id: str) -> Steering | None: ...

    def reset_time(self, user_id: str, now: datetime) -> datetime | None: ...

    def recent_events(self, user_id: str, since: datetime, now: datetime
                      ) -> list[Mapping[str, Any]]: ...


class CandidateStore(Protocol):
    """The candidates' side of a request."""

    cfg: WellbeingConfig
    viewers: ViewerSource
    model_version: str | None
    policy_version: str
    item_facts: Mapping[str, ItemFacts]
    consents: Mapping[str, Consent]
    verdict_cache: VerdictCache
    ranker: Any
    live_items: Any

    def model_candidates(self, user_id: str, n: int, recent: tuple = (),
                         follows: frozenset[str] = frozenset()) -> pl.DataFrame: ...

    def popular_candidates(self, n: int) -> pl.DataFrame: ...

    def audit(self, rows: list[dict[str, Any]]) -> None: ...
