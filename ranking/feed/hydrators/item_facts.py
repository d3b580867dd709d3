"""Attach each candidate's safety facts (None: not in the catalog) from the catalog."""

from __future__ import annotations

from ranking.feed.candidates import Candidates
from ranking.feed.query import Query
from ranking.feed.resources import CandidateStore


class ItemFactsHydrator:
    name = "ItemFacts"

    def __call__(self, query: Query, candidates: Candidates,
                 store: CandidateStore) -> Candidates:
        get = store.item_facts.get
        return Candidates(candidates.item_id, candidates.source, candidates.source_score,
                          candidates.model_score, [get(i) for i in candidates.item_id])
