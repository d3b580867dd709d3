"""The typed query of one feed request, built once by the query hydrator.

Everything a later stage may know about the request is here: the viewer (as personalisation
and interventions leave them), the policy, the interventions in force, the videos already
seen, the consents and steering in force, the model snapshot and ``now``. Filters, scorers and
selectors are pure functions of this query and the candidates.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from wellbeing import policy_for, session_interventions

if TYPE_CHECKING:
    from ranking.feed.resources import CandidateStore
    from ranking.feed.types import FeedRequest
    from wellbeing import Consent, Intervention, Policy, ViewerContext, WellbeingConfig
    from wellbeing.steering import Steering

__all__ = ["Query", "hydrate_query"]


@dataclass(frozen=True)
class Query:
    """One request's typed query."""

    request: FeedRequest
    viewer: ViewerContext
    policy: Policy
    cfg: WellbeingConfig
    interventions: tuple[Intervention, ...]
    seen: Set[str]
    consents: Mapping[str, Consent]
    steering: Steering | None
    sensitive_views_24h: int
    # The viewer's events after the model's data, up to now (contract rows): the live part
    # of their history, which request-time scoring folds in.
    recent: tuple[Mapping[str, Any], ...] = ()
    # Slots on this page for videos the model never saw (``LiveItems.explore_slots``).
    explore_slots: int = 0
    # The published ranker at request time (None: popularity); a reload never changes it
    # under a request in flight.
    model: Any = None

    @property
    def now(self) -> datetime:
        return self.request.now

    @property
    def user_id(self) -> str:
        return self.request.user_id

    @property
    def limit(self) -> int:
        return self.request.limit

    @property
    def personalized(self) -> bool:
        return self.model is not None and self.viewer.settings.personalized

    @property
    def ends_feed(self) -> bool:
        return any(iv.ends_feed for iv in self.interventions)

    @property
    def diversify(self) -> bool:
        return any(iv.type in ("diversify", "break") for iv in self.interventions)


def hydrate_query(store: CandidateStore, request: FeedRequest, viewer: ViewerContext,
                  interventions: bool = True, seen: bool = True, live: bool = True) -> Query:
    """The query hydrator: read what the request needs, once.

    Args:
        store: the catalog, consents and model in force, and the viewer source.
        request: the page request.
        viewer: the viewer at ``request.now``.
        interventions: False only for counterfactual replays "without the policy".
        seen: False where nothing reads the seen set (``feedwell score``): no lookup.
        live: False only for counterfactual replays: the viewer's events since the model's
            data are not folded in (the model as trained).
    """
    now, cfg, viewers = request.now, store.cfg, store.viewers
    ivs = tuple(session_interventions(viewer, now, cfg)) if interventions else ()
    if any(iv.type == "non_personalized" for iv in ivs):
        # A guardian turned personalisation off: every stage sees a non-personalised viewer.
        viewer = replace(viewer, settings=replace(viewer.settings, personalized=False))
    ends = any(iv.ends_feed for iv in ivs)
    steering = None if ends else viewers.steering(request.user_id)
    since = store.ranker.data_to if store.ranker is not None else None
    recent = (tuple(viewers.recent_events(request.user_id, since, now))
              if live and since is not None and not ends and viewer.settings.personalized
              else ())
    return Query(
        request=request, viewer=viewer, policy=policy_for(viewer, cfg), cfg=cfg,
        interventions=ivs,
        seen=viewers.seen(request.user_id, now) if seen and not ends else frozenset(),
        consents=store.consents, steering=steering.at(now) if steering is not None else None,
        sensitive_views_24h=viewer.sensitive_views_24h(now), recent=recent,
        explore_slots=(live_items.explore_slots(request.limit)
                       if (live_items := getattr(store, "live_items", None)) is not None else 0),
        model=store.ranker)
