"""Attach each candidate's safety facts (None: not in the catalog) from the catalog."""

from __future__ import annotations

from dataclasses import replace

from ranking.feed.candidates import Candidates
from ranking.feed.query import Query
from ranking.feed.resources import CandidateStore


class ItemFactsHydrator:
    name = "ItemFacts"

    def __call__(self, query: Query, candidates: Candidates,
                 store: CandidateStore) -> Candidates:
        get = store.item_facts.get
        return replace(candidates, facts=[get(i) for i in candidates.item_id])
