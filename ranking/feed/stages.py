"""The contracts of the pipeline's stage kinds, in the order they run (product-mixer)."""

from __future__ import annotations

from typing import Protocol

import polars as pl

from ranking.feed.candidates import Candidates
from ranking.feed.query import Query
from ranking.feed.resources import CandidateStore
from ranking.feed.types import FeedResponse, FilterResult

__all__ = ["CandidateSource", "Hydrator", "Filter", "Scorer", "Selector", "SideEffect"]


class CandidateSource(Protocol):
    """Fetches candidates (it may read the store's resources). A ``fallback`` source runs only
    while the sources before it gathered fewer than ``n``."""

    name: str
    fallback: bool

    def __call__(self, query: Query, store: CandidateStore, n: int) -> pl.DataFrame: ...


class Hydrator(Protocol):
    """Adds columns to the candidates (it may read the store's resources)."""

    name: str

    def __call__(self, query: Query, candidates: Candidates,
                 store: CandidateStore) -> Candidates: ...


class Filter(Protocol):
    """A pure function of the query and the candidates."""

    name: str

    def __call__(self, query: Query, candidates: Candidates) -> FilterResult: ...


class Scorer(Protocol):
    """A pure function of the query and the candidates (``candidates.score``: the scores so
    far): one score per candidate, in order. ``reasons`` names, for the rows of the page, why
    this scorer moved them."""

    name: str

    def __call__(self, query: Query, candidates: Candidates) -> list[float]: ...

    def reasons(self, query: Query, page: Candidates) -> list[tuple[str, ...]]: ...


class Selector(Protocol):
    """A pure function of the query and the ordered candidates."""

    name: str

    def __call__(self, query: Query, candidates: Candidates) -> FilterResult: ...


class SideEffect(Protocol):
    """Runs after the response is built and cannot change it (audit, metrics)."""

    name: str

    def __call__(self, query: Query, response: FeedResponse, store: CandidateStore) -> None: ...
