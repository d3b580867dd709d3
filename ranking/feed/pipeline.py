"""The feed pipeline: candidate sources -> hydrators -> filters -> scorers -> selectors ->
side effects, in that order (twitter/the-algorithm product-mixer).

Ordering notes:
- Interventions that end the feed (child, daily limit, quiet hours) are decided before any
  candidate is fetched: an ended feed costs nothing and leaks nothing.
- The query hydrator runs once per request: viewer, policy, interventions, seen set, consents,
  steering, model snapshot. Every later filter, scorer and selector is a pure function of the
  query and the candidates; only sources, candidate hydrators and side effects read resources.
- Prefilters that need nothing but ids (excluded, already seen) run before hydration, so no
  fact or verdict is worked out for a video that cannot be served.
- Candidate hydrators add columns: facts, then the wellbeing verdict (one function for every
  path), then the steering direction.
- The wellbeing filter runs before scoring so a removed video is never scored, and no
  wellbeing stage fails open: if a hydrator, filter or selector raises, every remaining
  candidate is removed.
- The user's levers come after the policy: a steering mute only removes more, and the steering
  and explicit-feedback scorers reorder what the policy kept, so no lever widens a policy.
- New videos the model never saw get at most a few exploration slots (a selector, after the
  policy filter: exploration never widens a policy); page caps (sensitive topics in a row /
  per page / per day, doomscroll diversification) come after it, so they apply to new videos.
- Side effects (audit, metrics) run after the response is built and cannot change it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from ranking.feed.candidates import Candidates
from ranking.feed.filters.excluded import ExcludedIdsFilter
from ranking.feed.filters.previously_seen import PreviouslySeenFilter
from ranking.feed.filters.steering_mute import SteeringMuteFilter
from ranking.feed.filters.wellbeing_policy import WellbeingPolicyFilter
from ranking.feed.hydrators.item_facts import ItemFactsHydrator
from ranking.feed.hydrators.steering import SteeringHydrator
from ranking.feed.hydrators.wellbeing_verdict import WellbeingVerdictHydrator
from ranking.feed.query import Query, hydrate_query
from ranking.feed.scorers.explicit_feedback import ExplicitFeedbackScorer
from ranking.feed.scorers.model import ModelScorer
from ranking.feed.scorers.steering import SteeringScorer
from ranking.feed.scorers.wellbeing_downrank import WellbeingDownrankScorer
from ranking.feed.selectors.author_diversity import AuthorDiversitySelector
from ranking.feed.selectors.fresh_exploration import FreshExplorationSelector
from ranking.feed.selectors.guardian_scroll import GuardianScrollSelector
from ranking.feed.selectors.page_caps import WellbeingPageCapsSelector
from ranking.feed.selectors.top_k import TopKSelector
from ranking.feed.side_effects.audit import AuditSideEffect
from ranking.feed.side_effects.impressions import FreshImpressionsSideEffect
from ranking.feed.sources.fresh import FreshCandidateSource
from ranking.feed.sources.model import ModelCandidateSource
from ranking.feed.sources.popular import PopularCandidateSource
from ranking.feed.stages import CandidateSource, Filter, Hydrator, Scorer, Selector, SideEffect
from ranking.feed.types import FeedItem, FeedRequest, FeedResponse, Removal

if TYPE_CHECKING:
    from ranking.feed.resources import CandidateStore
    from wellbeing import Intervention, ViewerContext

__all__ = ["FeedPipeline", "FEED_PIPELINE", "default_pipeline"]

log = logging.getLogger("feedwell.feed")


@dataclass
class FeedPipeline:
    sources: list[CandidateSource]
    prefilters: list[Filter] = field(default_factory=list)
    hydrators: list[Hydrator] = field(default_factory=list)
    filters: list[Filter] = field(default_factory=list)
    scorers: list[Scorer] = field(default_factory=list)
    selectors: list[Selector] = field(default_factory=list)
    side_effects: list[SideEffect] = field(default_factory=list)
    candidates_per_source: int = 300
    # Off only for counterfactual replays (guardrail metrics "without the policy").
    apply_interventions: bool = True
    # Off only for counterfactual replays "without live adaptation": the model as trained.
    live: bool = True

    def run(self, store: CandidateStore, request: FeedRequest,
            viewer: ViewerContext) -> FeedResponse:
        """Build one page for ``request`` from ``store``'s resources for ``viewer``."""
        query = hydrate_query(store, request, viewer, self.apply_interventions, live=self.live)
        if query.ends_feed:
            return self._respond(store, query, [], [], [])
        removed: list[Removal] = []
        added: list[Intervention] = []
        c = self._gather(query, store)
        for f in self.prefilters:
            c = self._apply(query, c, f, removed, added)
        for h in self.hydrators:
            try:
                c = h(query, c, store)
            except Exception:
                c = self._fail_closed(c, h.name, removed)
        for f in self.filters:
            c = self._apply(query, c, f, removed, added)
        c, scored = self._score(query, c)
        for s in self.selectors:
            c = self._apply(query, c, s, removed, added)
        return self._respond(store, query, self._items(query, c, scored), removed, added)

    def _gather(self, query: Query, store: CandidateStore) -> Candidates:
        # Enough to fill the page after seen/policy removals, without scoring a whole catalog.
        n = min(self.candidates_per_source, max(100, 5 * query.limit))
        out = Candidates.empty()
        for src in self.sources:
            if getattr(src, "fallback", False) and len(out) >= n:
                continue
            try:
                f = src(query, store, n)
            except Exception:  # sources fail open: skipped and logged
                log.exception("candidate source %s failed; skipped", src.name)
                continue
            if f.height:
                # Earlier sources win a duplicate: the personalised model before the fallbacks.
                got = Candidates.from_frame(f).unique()
                out = got if not len(out) else out.concat(got)
        return out

    @staticmethod
    def _fail_closed(c: Candidates, stage: str, removed: list[Removal]) -> Candidates:
        # Wellbeing never fails open: a failed stage removes everything still standing.
        log.exception("stage %s failed; removing remaining candidates", stage)
        removed += [Removal(i, stage, stage, "drop", "stage_failed") for i in c.item_id]
        return c.head(0)

    def _apply(self, query: Query, c: Candidates, stage: Filter | Selector,
               removed: list[Removal], added: list[Intervention]) -> Candidates:
        try:
            result = stage(query, c)
        except Exception:
            return self._fail_closed(c, stage.name, removed)
        removed += result.removed
        added += result.interventions
        return result.kept

    def _score(self, query: Query, c: Candidates) -> tuple[Candidates, list[Scorer]]:
        """The candidates with their final scores, best first, and the scorers that applied."""
        scores = c.source_score
        applied: list[Scorer] = []
        for s in self.scorers:
            try:
                out = s(query, replace(c, score=scores))
            except Exception:  # ranking degrades: keep the previous scores
                log.exception("scorer %s failed; keeping previous scores", s.name)
                continue
            if len(out) != len(scores):
                log.error("scorer %s returned %d scores for %d candidates; ignored",
                          s.name, len(out), len(scores))
                continue
            scores = list(out)
            applied.append(s)
        # Stable descending order: equal scores keep the sources' order.
        order = sorted(range(len(scores)), key=scores.__getitem__, reverse=True)
        return replace(c, score=scores).take(order), applied

    def _items(self, query: Query, page: Candidates, scored: list[Scorer]) -> list[FeedItem]:
        # Only a scorer that moved the scores explains the page (a failed one said nothing).
        reasons: list[tuple[str, ...]] = [()] * len(page)
        for s in scored:
            try:
                more = s.reasons(query, page)
            except Exception:  # an explanation never breaks a page
                log.exception("scorer %s could not give its reasons", s.name)
                continue
            reasons = [a + b for a, b in zip(reasons, more, strict=True)]
        labels = ([v.labels for v in page.verdict] if page.verdict is not None
                  else [()] * len(page))
        return [FeedItem(i, float(sc), src, why, lab) for i, sc, src, why, lab in zip(
            page.item_id, page.score or page.source_score, page.source, reasons, labels,
            strict=True)]

    def _respond(self, store: CandidateStore, query: Query, items: list[FeedItem],
                 removed: list[Removal], added: list[Intervention]) -> FeedResponse:
        resp = FeedResponse(query.request, items, [*query.interventions, *added],
                            store.model_version, store.policy_version, query.policy.name,
                            removed)
        for fx in self.side_effects:
            try:
                fx(query, resp, store)
            except Exception:
                log.exception("side effect %s failed", fx.name)
        return resp


def default_pipeline() -> FeedPipeline:
    return FeedPipeline(
        # The model's sources (ALS, BPR, EASE, kNN, following, trending, fresh) run on the
        # viewer's history as of now; new videos the model never saw come from the live pool;
        # popularity keeps new users, non-personalised users and model-less starts fed.
        sources=[ModelCandidateSource(), FreshCandidateSource(), PopularCandidateSource()],
        prefilters=[ExcludedIdsFilter(), PreviouslySeenFilter()],  # ids only: cheapest first
        hydrators=[ItemFactsHydrator(), WellbeingVerdictHydrator(), SteeringHydrator()],
        filters=[WellbeingPolicyFilter(), SteeringMuteFilter()],  # levers after the policy
        scorers=[ModelScorer(), WellbeingDownrankScorer(), ExplicitFeedbackScorer(),
                 SteeringScorer()],
        # Exploration places new videos first, so every cap below applies to them too.
        selectors=[FreshExplorationSelector(), WellbeingPageCapsSelector(),
                   AuthorDiversitySelector(), TopKSelector(), GuardianScrollSelector()],
        side_effects=[AuditSideEffect(), FreshImpressionsSideEffect()],
    )


FEED_PIPELINE = default_pipeline()
