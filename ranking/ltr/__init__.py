"""Learning to rank: candidate sources blended by LightGBM, trained and served as one unit.

``config`` holds the typed configuration, ``ranker`` the trained ranker (fit, serve, save,
load; ``fit`` takes a Dask client to train on a cluster). The ``_``-modules are its private
parts: pair features, label grading, the feedback head, request-time scoring (``_live``), EASE
tuning, LightGBM's parameters and booster training (``_boost``, on Dask through ``_dask``), and
the catalog features (``DEFAULT_FEATURES``; ``compute_stats`` builds every statistic a fit uses),
and ``PairRows``, a version's candidates and pair features computed once for many readers.
``release_free_memory`` hands the heap a fit freed back between large steps (``_memory``);
``compile_in_background`` and ``compiled_count`` serve the boosters from machine code
(``_compiled``).
"""

from __future__ import annotations

from ranking.ltr._actions import (
    acted_pairs,
    action_figures,
    item_action_rates,
    pair_actions,
    rates_for,
)
from ranking.ltr._catalog import DEFAULT_FEATURES
from ranking.ltr._compiled import compile_in_background, compiled_count
from ranking.ltr._features import compute_stats, pair_features
from ranking.ltr._memory import release_free_memory
from ranking.ltr._rows import PairRows
from ranking.ltr.config import LtrConfig, ObjectiveConfig, default_sources
from ranking.ltr.ranker import LtrRanker, train_from_events, train_ranker

__all__ = ["LtrConfig", "ObjectiveConfig", "LtrRanker", "train_ranker", "train_from_events",
           "default_sources", "DEFAULT_FEATURES", "compute_stats",
           # what the evaluation reads of the action heads and the pair features
           "acted_pairs", "action_figures", "item_action_rates", "pair_actions", "rates_for",
           "pair_features", "PairRows",
           # memory between a daily flow's steps, and the service's compiled boosters
           "release_free_memory", "compile_in_background", "compiled_count"]
