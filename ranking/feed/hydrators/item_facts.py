"""Attach each candidate's safety facts and creator (from the in-memory catalog)."""

from __future__ import annotations

import polars as pl

from ranking.feed._frames import set_column
from ranking.feed.types import RequestState


class ItemFactsHydrator:
    name = "ItemFacts"

    def __call__(self, state: RequestState) -> pl.DataFrame:
        get = state.engine.item_facts.get
        ids = state.candidates.get_column("item_id").to_list()
        facts = [get(i) for i in ids]
        state.extra["facts"] = dict(zip(ids, facts, strict=True))
        return set_column(state.candidates, pl.Series(
            "creator_id", [f.creator_id if f else None for f in facts], dtype=pl.String))
