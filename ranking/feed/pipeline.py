"""The feed pipeline: candidate sources -> hydrators -> filters -> scorers -> selectors ->
side effects, in that order (twitter/the-algorithm product-mixer).

Ordering notes:
- Interventions that end the feed (child, daily limit, quiet hours) are decided before any
  candidate is fetched: an ended feed costs nothing and leaks nothing.
- Query hydrators (the viewer's steering) run once per request, after the feed-ending check.
- Cheap filters run first; the wellbeing filter runs before scoring so a removed video is never
  scored, and it never fails open: if it raises, every remaining candidate is removed.
- The user's levers come after the policy: a steering mute only removes more, and the steering
  and explicit-feedback scorers reorder what the policy kept, so no lever widens a policy.
- Page caps (sensitive topics in a row / per page / per day, doomscroll diversification) are
  selectors: they need the final order.
- Side effects (audit, metrics) run after the response is built and cannot change it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import polars as pl

from ranking.feed._frames import set_column, take
from ranking.feed.filters.excluded import ExcludedIdsFilter
from ranking.feed.filters.previously_seen import PreviouslySeenFilter
from ranking.feed.filters.steering_mute import SteeringMuteFilter
from ranking.feed.filters.wellbeing_policy import WellbeingPolicyFilter
from ranking.feed.hydrators.item_facts import ItemFactsHydrator
from ranking.feed.hydrators.steering import SteeringQueryHydrator
from ranking.feed.scorers.explicit_feedback import ExplicitFeedbackScorer
from ranking.feed.scorers.model import ModelScorer
from ranking.feed.scorers.steering import SteeringScorer
from ranking.feed.scorers.wellbeing_downrank import WellbeingDownrankScorer
from ranking.feed.selectors.author_diversity import AuthorDiversitySelector
from ranking.feed.selectors.guardian_scroll import GuardianScrollSelector
from ranking.feed.selectors.page_caps import WellbeingPageCapsSelector
from ranking.feed.selectors.top_k import TopKSelector
from ranking.feed.side_effects.audit import AuditSideEffect
from ranking.feed.sources.model import ModelCandidateSource
from ranking.feed.sources.popular import PopularCandidateSource
from ranking.feed.types import (
    CandidateSource,
    FeedItem,
    FeedRequest,
    FeedResponse,
    Filter,
    Hydrator,
    QueryHydrator,
    Removal,
    RequestState,
    Scorer,
    Selector,
    SideEffect,
)

if TYPE_CHECKING:
    from ranking.feed.engine import FeedEngine
    from wellbeing import ViewerContext

__all__ = ["FeedPipeline", "FEED_PIPELINE", "EMPTY_CANDIDATES"]

log = logging.getLogger("feedwell.feed")

EMPTY_CANDIDATES = pl.DataFrame(
    schema={"item_id": pl.String, "source": pl.String, "source_score": pl.Float64}
)


@dataclass
class FeedPipeline:
    sources: list[CandidateSource]
    query_hydrators: list[QueryHydrator] = field(default_factory=list)
    hydrators: list[Hydrator] = field(default_factory=list)
    filters: list[Filter] = field(default_factory=list)
    scorers: list[Scorer] = field(default_factory=list)
    selectors: list[Selector] = field(default_factory=list)
    side_effects: list[SideEffect] = field(default_factory=list)
    candidates_per_source: int = 300
    # Off only for counterfactual replays (guardrail metrics "without the policy").
    apply_interventions: bool = True

    def run(self, engine: FeedEngine, request: FeedRequest, viewer: ViewerContext) -> FeedResponse:
        """Build one page for ``request``."""
        policy = engine.policy(viewer)
        state = RequestState(request, engine, viewer, EMPTY_CANDIDATES)
        if self.apply_interventions:
            state.interventions = engine.interventions(viewer, request.now)
        if any(iv.ends_feed for iv in state.interventions):
            return self._respond(state, policy.name, [])
        state.diversify = any(iv.type in ("diversify", "break") for iv in state.interventions)
        if any(iv.type == "non_personalized" for iv in state.interventions):
            # A guardian turned personalisation off: every stage sees a non-personalised viewer.
            state.viewer = replace(viewer, settings=replace(viewer.settings, personalized=False))
        for q in self.query_hydrators:
            q(state)
        state.candidates = self._gather(state)
        for h in self.hydrators:
            state.candidates = h(state)
        for f in self.filters:
            self._apply(state, f)
        scores = self._score(state)
        # Stable descending order computed in Python: one gather instead of a lazy sort.
        order = sorted(range(len(scores)), key=scores.__getitem__, reverse=True)
        state.candidates = set_column(state.candidates,
                                      pl.Series("score", scores, dtype=pl.Float64))
        if order != list(range(len(order))):
            state.candidates = take(state.candidates, order)
        for s in self.selectors:
            self._apply(state, s)
        c = state.candidates
        reasons, labels = state.reasons, state.labels
        items = [
            FeedItem(i, float(sc), src, tuple(reasons.get(i, ())), tuple(labels.get(i, ())))
            for i, sc, src in zip(c.get_column("item_id").to_list(),
                                  c.get_column("score").to_list(),
                                  c.get_column("source").to_list(), strict=True)
        ]
        return self._respond(state, policy.name, items)

    def _gather(self, state: RequestState) -> pl.DataFrame:
        frames = []
        # Enough to fill the page after seen/policy removals, without scoring a whole catalog.
        n = min(self.candidates_per_source, max(100, 5 * state.request.limit))
        state.extra["gathered"] = 0
        for src in self.sources:
            try:
                f = src(state, n)
            except Exception:  # sources fail open: skipped and logged
                log.exception("candidate source %s failed; skipped", src.name)
                continue
            if not f.height:
                continue
            if f.columns[:3] != ["item_id", "source", "source_score"] or (
                    f.schema["source_score"] != pl.Float64):
                f = f.select("item_id", "source", pl.col("source_score").cast(pl.Float64),
                             *[c for c in f.columns if c not in
                               ("item_id", "source", "source_score")])
            frames.append(f)
            state.extra["gathered"] += f.height
        if not frames:
            return EMPTY_CANDIDATES
        if len(frames) == 1:
            ids = frames[0]["item_id"].to_list()
            if len(set(ids)) == len(ids):
                return frames[0]
        # Earlier sources win a duplicate: the personalised model before the fallbacks.
        return pl.concat(frames, how="diagonal_relaxed").unique("item_id", keep="first",
                                                                maintain_order=True)

    def _apply(self, state: RequestState, stage: Filter | Selector) -> None:
        try:
            result = stage(state)
        except Exception:
            # Wellbeing never fails open: a failed filter removes everything still standing.
            log.exception("stage %s failed; removing remaining candidates", stage.name)
            state.removed += [Removal(i, stage.name, stage.name, "drop", "stage_failed")
                              for i in state.candidates["item_id"].to_list()]
            state.candidates = state.candidates.head(0)
            return
        state.candidates = result.kept
        state.removed += result.removed

    def _score(self, state: RequestState) -> list[float]:
        col = state.candidates.get_column("source_score")
        scores = col.to_list()
        if col.null_count():
            scores = [0.0 if s is None else s for s in scores]
        for s in self.scorers:
            state.extra["scores"] = scores
            try:
                out = s(state)
            except Exception:  # ranking degrades: keep the previous scores
                log.exception("scorer %s failed; keeping previous scores", s.name)
                continue
            if len(out) != len(scores):
                log.error("scorer %s returned %d scores for %d candidates; ignored",
                          s.name, len(out), len(scores))
                continue
            scores = list(out)
        return scores

    def _respond(self, state: RequestState, policy: str, items: list[FeedItem]) -> FeedResponse:
        e = state.engine
        resp = FeedResponse(state.request, items, state.interventions, e.model_version,
                            e.policy_version, policy, state.removed)
        for fx in self.side_effects:
            try:
                fx(state, resp)
            except Exception:
                log.exception("side effect %s failed", fx.name)
        return resp


def default_pipeline() -> FeedPipeline:
    return FeedPipeline(
        # The model's merged sources (ALS, BPR, EASE, kNN, following, trending, fresh) first;
        # popularity keeps new users, non-personalised users and model-less starts fed.
        sources=[ModelCandidateSource(), PopularCandidateSource()],
        query_hydrators=[SteeringQueryHydrator()],
        hydrators=[ItemFactsHydrator()],
        filters=[ExcludedIdsFilter(), PreviouslySeenFilter(), WellbeingPolicyFilter(),
                 SteeringMuteFilter()],  # cheap first; levers after the policy
        scorers=[ModelScorer(), WellbeingDownrankScorer(), ExplicitFeedbackScorer(),
                 SteeringScorer()],
        selectors=[WellbeingPageCapsSelector(), AuthorDiversitySelector(), TopKSelector(),
                   GuardianScrollSelector()],
        side_effects=[AuditSideEffect()],
    )


FEED_PIPELINE = default_pipeline()
