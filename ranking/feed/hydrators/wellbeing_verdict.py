"""Attach each candidate's wellbeing verdict (keep, drop rule and reason, downrank factor,
labels) as a column, from ``wellbeing.item_verdicts``: the one verdict the feed, ``score``,
``explain``, the audit log and the replays read."""

from __future__ import annotations

from dataclasses import replace

from ranking.feed.candidates import Candidates
from ranking.feed.query import Query
from ranking.feed.resources import CandidateStore
from wellbeing.verdicts import item_verdicts


class WellbeingVerdictHydrator:
    name = "WellbeingVerdict"

    def __call__(self, query: Query, candidates: Candidates,
                 store: CandidateStore) -> Candidates:
        facts = candidates.facts or [store.item_facts.get(i) for i in candidates.item_id]
        verdicts = item_verdicts(query.policy, query.viewer,
                                 list(zip(candidates.item_id, facts, strict=True)),
                                 query.consents, query.now, query.cfg, store.verdict_cache,
                                 query.sensitive_views_24h)
        return replace(candidates, facts=facts, verdict=verdicts)
