"""Metrics against hand-computed values."""

from __future__ import annotations

import math

import pytest

from ranking.evaluation.metrics import (
    coverage,
    map_at_k,
    ndcg_at_k,
    novelty,
    pair_auc,
    precision_at_k,
    recall_at_k,
)


def test_ndcg_hand_computed():
    # hits at ranks 1 and 3 of 2 relevant: (1 + 1/log2(4)) / (1 + 1/log2(3))
    expected = (1 + 0.5) / (1 + 1 / math.log2(3))
    assert ndcg_at_k([["a", "x", "b"]], [{"a", "b"}], k=3) == pytest.approx(expected)
    assert ndcg_at_k([["x", "y"]], [{"a"}], k=2) == 0.0


def test_precision_recall_map():
    recs, rels = [["a", "x", "b", "y"]], [{"a", "b", "c"}]
    assert precision_at_k(recs, rels, 4) == pytest.approx(0.5)
    assert recall_at_k(recs, rels, 4) == pytest.approx(2 / 3)
    assert map_at_k(recs, rels, 4) == pytest.approx((1 + 2 / 3) / 3)


def test_coverage_novelty_auc():
    assert coverage([["a", "b"], ["a", "c"]], n_items=6, k=2) == pytest.approx(0.5)
    assert novelty([["a"]], {"a": 2}, n_users=8, k=1) == pytest.approx(2.0)
    assert pair_auc([3, 2], [1, 2]) == pytest.approx((1 + 1 + 1 + 0.5) / 4)
