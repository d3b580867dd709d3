"""Attach each candidate's safety facts and creator (from the in-memory catalog)."""

from __future__ import annotations

import polars as pl

from ranking.feed.types import RequestState


class ItemFactsHydrator:
    name = "ItemFacts"

    def __call__(self, state: RequestState) -> pl.DataFrame:
        catalog = state.engine.item_facts
        ids = state.candidates["item_id"].to_list()
        facts = [catalog.get(i) for i in ids]
        state.extra["facts"] = dict(zip(ids, facts, strict=True))
        c = state.candidates
        if "creator_id" in c.columns:
            c = c.drop("creator_id")
        return c.hstack(
            [pl.Series("creator_id", [f.creator_id if f else None for f in facts],
                       dtype=pl.String)])
