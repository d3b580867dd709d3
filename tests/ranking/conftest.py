"""Fixtures shared by the ranking tests."""

from __future__ import annotations

import polars as pl
import pytest


@pytest.fixture(scope="session")
def action_ranker():
    """``(data, ranker)`` fitted once on ``test_ranking_actions.action_world`` before its
    cut (the action heads' world); tests that change it put it back."""
    from ranking.interactions import build_interactions
    from ranking.ltr import LtrRanker
    from tests.ranking.test_ranking_actions import CFG, CUT, action_world

    ev, items = action_world()
    data = build_interactions(ev.filter(pl.col("ts") < CUT), items)
    return data, LtrRanker.fit(data, CFG)
