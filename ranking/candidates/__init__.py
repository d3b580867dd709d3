"""Candidate sources (one module each) and the merge that de-duplicates their lists."""

from __future__ import annotations

from ranking.candidates._base import (
    CandidateSource,
    block_rows,
    csr_rows,
    remembered_rows,
    sparse_arrays,
    sparse_from,
)
from ranking.candidates._merge import SOURCES, make_source, merge_candidates
from ranking.candidates.als import AlsCandidates, AlsConfig
from ranking.candidates.bpr import BprCandidates, BprConfig
from ranking.candidates.ease import EaseCandidates, EaseConfig
from ranking.candidates.following import FollowingCandidates, FollowingConfig
from ranking.candidates.fresh import FreshCandidates, FreshConfig
from ranking.candidates.item_knn import ItemKnnCandidates, ItemKnnConfig
from ranking.candidates.popular import PopConfig, PopularCandidates
from ranking.candidates.trending import TrendingCandidates, TrendingConfig

__all__ = [
    "CandidateSource", "SOURCES", "make_source", "merge_candidates", "sparse_arrays", "sparse_from",
    "csr_rows", "block_rows", "remembered_rows",
    "AlsCandidates", "AlsConfig", "BprCandidates", "BprConfig", "EaseCandidates", "EaseConfig",
    "FollowingCandidates", "FollowingConfig", "FreshCandidates", "FreshConfig",
    "ItemKnnCandidates", "ItemKnnConfig", "PopConfig", "PopularCandidates",
    "TrendingCandidates", "TrendingConfig",
]
