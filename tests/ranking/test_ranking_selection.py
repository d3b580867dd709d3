"""Model selection on hand-made per-user scores: the served model is the evaluation's best."""

from __future__ import annotations

import numpy as np
import pytest

from ranking.evaluation.selection import HoldoutScores, SelectConfig, paired_interval, select_models

CFG = SelectConfig(fallbacks={"popular": {}, "pop_hl30": {"half_life_days": 30}},
                   backoff_grid=(0, 2, 5), n_boot=200, min_new_users=3)


def _holdout(name, history, **ndcg):
    return HoldoutScores(name, np.array(history), {k: np.array(v, float) for k, v in ndcg.items()})


def _world():
    rnd = _holdout("random", [10, 10, 10, 1],
                   ranker=[0.5, 0.6, 0.4, 0.0], ease=[0.4, 0.5, 0.45, 0.0],
                   popular=[0.2, 0.2, 0.2, 0.3], pop_hl30=[0.1, 0.1, 0.1, 0.1])
    fwd = _holdout("temporal", [0, 0, 0, 0, 10],
                   ranker=[0.1, 0.1, 0.1, 0.1, 0.3], ease=[0, 0, 0, 0, 0.2],
                   popular=[0.2, 0.2, 0.2, 0.2, 0.1], pop_hl30=[0.5, 0.4, 0.5, 0.3, 0.1])
    return [rnd, fwd]


def test_served_is_the_pooled_best_over_known_users():
    sel = select_models(_world(), ["ranker", "ease"], None, CFG)
    # known users: ranker 0.5+0.6+0.4+0.0+0.3 = 1.8 / 5; ease 1.55 / 5; popular 1.0 / 5
    assert sel.served == "ranker"
    assert sel.pooled["ranker"]["ndcg"] == pytest.approx(0.36)
    assert sel.intervals["ease"]["diff"] == pytest.approx(0.05)
    assert sel.weights == {"random": 4, "temporal": 1}


def test_fallback_is_the_best_variant_on_new_users_of_the_forward_holdout():
    sel = select_models(_world(), ["ranker", "ease"], None, CFG)
    assert sel.fallback == "pop_hl30"
    assert sel.fallback_scores["pop_hl30"] == pytest.approx(0.425)
    assert sel.fallback_scores["popular"] == pytest.approx(0.2)


def test_light_users_back_off_when_the_fallback_serves_them_better():
    sel = select_models(_world(), ["ranker", "ease"], None, CFG)
    # the one light user (history 1) scores 0.0 with the ranker and 0.1 with pop_hl30
    assert sel.backoff_below == 2


def test_a_low_auc_does_not_veto_the_best_ndcg():
    # The ranker ranks liked above hidden worse than the like-rate; it is still the pooled
    # best on NDCG, so it is served (a veto served a model the evaluation ranked lower), and
    # the AUCs are reported next to the decision.
    world = _world()
    for h in world:
        h.auc = {"ranker": 0.55, "ease": 0.7, "popular": 0.5, "pop_hl30": 0.5, "like_rate": 0.65}
    sel = select_models(world, ["ranker", "ease"], "like_rate", CFG)
    assert sel.served == "ranker"
    assert sel.pooled["ranker"]["auc"] == pytest.approx(0.55)
    assert "AUC 0.550 vs item like-rate 0.650" in sel.why


def test_same_scores_same_decision():
    a = select_models(_world(), ["ranker", "ease"], None, CFG).as_dict()
    b = select_models(_world(), ["ranker", "ease"], None, CFG).as_dict()
    assert a == b


def test_paired_interval_brackets_the_mean_difference():
    rng = np.random.default_rng(0)
    a = rng.random(500)
    iv = paired_interval(a + 0.1, a, 300, seed=1)
    assert iv["diff"] == pytest.approx(0.1)
    assert iv["lo"] <= 0.1 <= iv["hi"]
    noisy = paired_interval(rng.random(50), rng.random(50), 300, seed=1)
    assert noisy["lo"] < noisy["diff"] < noisy["hi"]


def _auc_world(ease_fb_random):
    world = _world()
    world[0].ndcg["ease+fb"] = np.array(ease_fb_random, float)
    world[1].ndcg["ease+fb"] = world[1].ndcg["ranker"].copy()
    for h in world:
        h.auc = {"ranker": 0.60, "ease": 0.62, "ease+fb": 0.80, "popular": 0.5, "pop_hl30": 0.5,
                 "like_rate": 0.70}
    return world


def test_a_near_best_model_that_clears_the_like_rate_bar_is_served():
    # ease+fb: pooled 1.79 / 5 = 0.358, 0.6% below the ranker's 0.36, and it clears the bar.
    sel = select_models(_auc_world([0.5, 0.6, 0.39, 0.0]), ["ranker", "ease", "ease+fb"],
                        "like_rate", CFG)
    assert sel.served == "ease+fb"
    assert "instead of ranker" in sel.why and "2%" in sel.criterion


def test_the_bar_does_not_buy_more_than_the_tolerance():
    # ease+fb: 1.60 / 5 = 0.32, 11% below the ranker: the best NDCG stays served.
    sel = select_models(_auc_world([0.4, 0.5, 0.4, 0.0]), ["ranker", "ease", "ease+fb"],
                        "like_rate", CFG)
    assert sel.served == "ranker"
