"""The feedback head: held-out hides stay out of the features, the weight is chosen under the
NDCG guards, and a ranker with a head scores with it and keeps it through save/load."""

from __future__ import annotations

from types import SimpleNamespace

import lightgbm as lgb
import numpy as np
import polars as pl

from ranking.interactions import build_interactions
from ranking.ltr import LtrConfig, LtrRanker
from ranking.ltr._feedback import FeedbackHead, _user_auc, fit_feedback_head, split_negatives
from ranking.ltr._train import LtrFit
from ranking.serving import ServingChoice
from tests.ranking._worlds import taste_world

CFG = SimpleNamespace(seed=0, learning_rate=0.1, num_threads=1, max_rounds=80)
FAST = LtrConfig(
    sources={"ease": {"reg": 50.0}, "itemknn": {}, "popular": {}},
    grid=[{"objective": "lambdarank", "num_leaves": 15, "min_data_in_leaf": 20}],
    max_rounds=40, n_per_source=50, n_candidates=120,
)
PARAMS = {"objective": "binary", "num_leaves": 7, "min_data_in_leaf": 10, "verbose": -1,
          "num_threads": 1, "deterministic": True, "seed": 0}


def synthetic(n_users: int = 300, per_user: int = 40, hides: bool = True):
    """Two features: watching depends on the first, liking (vs hiding) on the second."""
    rng = np.random.default_rng(0)
    users = np.repeat(np.arange(n_users), per_user)
    x = rng.normal(size=(len(users), 2))
    seen = x[:, 0] + rng.normal(0, 0.3, len(users)) > 0.8
    liked = seen & (x[:, 1] > 0)
    y = np.where(liked, 3, np.where(seen, 1, 0)).astype(np.int32)
    valid = users >= int(n_users * 0.8)
    bst = lgb.train(PARAMS, lgb.Dataset(x[~valid], seen[~valid].astype(int)), 30)
    fit = LtrFit(bst, {}, frozenset(users[valid].tolist()), bst)
    # Held-out outcomes: likes, and hides of watched videos the user did not like.
    hidden = seen & (x[:, 1] < -0.5) if hides else np.zeros(len(users), bool)
    return fit, (x, y, users), (x[liked], users[liked], x[hidden], users[hidden])


def test_split_negatives_is_seeded_and_disjoint():
    neg = pl.DataFrame({"user_id": [f"u{i % 7}" for i in range(500)],
                        "item_id": [f"i{i}" for i in range(500)]})
    hist, held = split_negatives(neg, 0.2, seed=3)
    assert hist.height + held.height == 500 and 60 < held.height < 140
    assert set(hist["item_id"]).isdisjoint(held["item_id"])
    again = split_negatives(neg, 0.2, seed=3)[1]
    assert held["item_id"].to_list() == again["item_id"].to_list()


def test_head_weight_lifts_liked_above_hidden_within_the_ndcg_guard():
    fit, cand, (xp, up, xn, un) = synthetic()
    head, report = fit_feedback_head(xp, up, xn, un, fit, cand, ["watch", "mood"], CFG)
    assert head is not None and head.coef > 0, report
    tried = {t["w"]: t for t in report["feedback_weights"]}
    chosen = tried[report["feedback_w"]]
    assert chosen["auc"] > tried[0.0]["auc"] + 0.1
    # Watched NDCG (what the gate judges) stays within 5% here (the report rounds to 4 places).
    assert chosen["ndcg@10"] >= 0.95 * tried[0.0]["ndcg@10"] - 1e-4
    # Scoring held-out pairs with the head ranks liked above hidden far better than the blend.
    x, yv = np.vstack([xp, xn]), np.r_[np.ones(len(xp)), np.zeros(len(xn))]
    users, blend = np.r_[up, un], fit.booster.predict(np.vstack([xp, xn]))
    assert (_user_auc(users, blend + head.coef * head.margin(x), yv)
            > _user_auc(users, blend, yv) + 0.1)


def test_no_head_without_enough_hides():
    fit, cand, (xp, up, xn, un) = synthetic(hides=False)
    head, report = fit_feedback_head(xp, up, xn, un, fit, cand, ["watch", "mood"], CFG)
    assert head is None and report["feedback_pairs"][1] == 0


def test_ranker_scores_with_its_head_and_keeps_it_through_save_load(tmp_path):
    ranker = LtrRanker.fit(build_interactions(taste_world(n_users=80, n_items=100)), FAST)
    ids = [f"i{k}" for k in range(30)]
    u, i = np.full(len(ids), ranker.data.user_index("u1")), ranker.data.item_index(ids)
    blend_only = ranker._score_pairs(u, i)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(300, len(ranker.features)))
    booster = lgb.train(PARAMS, lgb.Dataset(x, (x[:, 0] > 0).astype(int)), 10)
    ranker.head = FeedbackHead(booster, 0.7)
    with_head = ranker._score_pairs(u, i)
    assert not np.allclose(with_head, blend_only)
    loaded = LtrRanker.load(ranker.save(tmp_path / "m"))
    assert loaded.head is not None and loaded.head.coef == 0.7
    assert np.allclose(loaded._score_pairs(u, i), with_head)


def test_a_source_gets_its_own_weight_chosen_under_the_same_guards():
    # A "source" that scores only watching (column 0): the head lifts its AUC too.
    fit, cand, (xp, up, xn, un) = synthetic()
    head, report = fit_feedback_head(xp, up, xn, un, fit, cand, ["score_watch", "mood"], CFG,
                                     sources=("watch", "absent"))
    assert head is not None and head.coefs.get("watch", 0) > 0, report
    assert "absent" not in report["feedback_w_sources"]
    x, yv = np.vstack([xp, xn]), np.r_[np.ones(len(xp)), np.zeros(len(xn))]
    users = np.r_[up, un]
    assert (_user_auc(users, x[:, 0] + head.coefs["watch"] * head.margin(x), yv)
            > _user_auc(users, x[:, 0], yv) + 0.1)


def test_a_source_served_with_the_head_scores_with_it_and_keeps_it(tmp_path):
    ranker = LtrRanker.fit(build_interactions(taste_world(n_users=80, n_items=100)), FAST)
    ids = [f"i{k}" for k in range(30)]
    u, i = np.full(len(ids), ranker.data.user_index("u1")), ranker.data.item_index(ids)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(300, len(ranker.features)))
    booster = lgb.train(PARAMS, lgb.Dataset(x, (x[:, 0] > 0).astype(int)), 10)
    ranker.head = FeedbackHead(booster, 0.0, {"ease": 0.5})
    plain = ranker.served_as(ServingChoice.named("ease"))
    with_fb = ranker.served_as(ServingChoice.named("ease+fb"))
    assert with_fb.serving.head and with_fb.serving.name == "ease+fb"
    assert not np.allclose(with_fb._score_pairs(u, i), plain._score_pairs(u, i))
    # The blend itself goes without the head when its own weight is 0.
    ranker.head = FeedbackHead(booster, 0.0, {"ease": 0.5})
    blend = ranker._score_pairs(u, i)
    ranker.head = None
    assert np.allclose(ranker._score_pairs(u, i), blend)
    ranker.head = FeedbackHead(booster, 0.0, {"ease": 0.5})
    ranker.set_serving(ServingChoice.named("ease+fb"))
    loaded = LtrRanker.load(ranker.save(tmp_path / "m"))
    assert loaded.serving.name == "ease+fb" and loaded.head.coefs == {"ease": 0.5}
    assert np.allclose(loaded._score_pairs(u, i), with_fb._score_pairs(u, i))


def test_past_max_train_users_the_heads_learn_from_the_blends_sampled_users(monkeypatch):
    """Pair features score each user's whole catalog row, so the feedback and action heads
    train on the blend's sample of users, not on every user with held-out pairs (their cost
    would grow as users x videos)."""
    import ranking.ltr.ranker as ranker_mod

    data = build_interactions(taste_world(n_users=120, n_items=100, hide_below=-0.5))
    seen_users: dict[str, set] = {}
    real_head, real_actions = ranker_mod.fit_feedback_head, ranker_mod._fit_actions

    def head(xp, up, xn, un, *a, **k):
        seen_users["head"] = set(up.tolist()) | set(un.tolist())
        return real_head(xp, up, xn, un, *a, **k)

    def actions(data, hist, cand, x, held, pairs, *a, **k):
        seen_users["actions"] = set(held["user_id"].to_list()) | set(pairs["user_id"].to_list())
        seen_users["blend"] = set(cand["user_id"].to_list())
        return real_actions(data, hist, cand, x, held, pairs, *a, **k)

    monkeypatch.setattr(ranker_mod, "fit_feedback_head", head)
    monkeypatch.setattr(ranker_mod, "_fit_actions", actions)
    from dataclasses import replace

    ranker = LtrRanker.fit(data, replace(FAST, max_train_users=40))
    assert ranker.report["users_sampled"][0] == 40 and ranker.report["users_sampled"][1] > 40
    assert len(seen_users["blend"]) <= 40
    assert seen_users["head"] and seen_users["head"] <= seen_users["blend"]
    assert seen_users["actions"] and seen_users["actions"] <= seen_users["blend"]
    # Under the cap nothing is sampled: every user's held-out pairs train the heads.
    seen_users.clear()
    full = LtrRanker.fit(data, FAST)
    assert "users_sampled" not in full.report
    assert len(seen_users["actions"]) > 40


def test_pair_features_do_not_depend_on_how_users_are_blocked(monkeypatch):
    """``pair_features`` scores users in dense blocks bounded in cells: any block size, and
    pairs in any order (some with an unknown video), give the same features."""
    import ranking.ltr._features as feats
    from ranking.ltr._features import compute_stats, pair_features
    from ranking.ltr.ranker import _fit_sources, _uidx

    data = build_interactions(taste_world(n_users=90, n_items=80))
    srcs = _fit_sources(FAST, data)
    stats = compute_stats(data, FAST.features)
    pairs = data.frame.select("user_id", "item_id").sample(fraction=1.0, shuffle=True, seed=3)
    u = _uidx(data, pairs["user_id"])
    i = data.item_index(pairs["item_id"].to_list())
    i[::17] = -1
    whole = pair_features(srcs, stats, u, i, chunk=1000)
    assert np.array_equal(whole, pair_features(srcs, stats, u, i, chunk=7), equal_nan=True)
    monkeypatch.setattr(feats, "_FEATURE_CELLS", 80 * 5)  # five users per block
    assert np.array_equal(whole, pair_features(srcs, stats, u, i), equal_nan=True)
    assert np.isnan(whole[::17, 0]).all() and not np.isnan(whole[1::17, -1]).all()
