"""Request-time scoring: the viewer's live events move the next page, nothing per user is kept."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from ranking.evaluation.run import random_holdout
from ranking.interactions import build_interactions
from ranking.ltr import LtrConfig, LtrRanker
from tests.ranking._worlds import T0, checkerboard, taste_world

FAST = LtrConfig(
    sources={"ease": {"reg": 50.0}, "itemknn": {}, "als": {"embedding_size": 8, "epochs": 5},
             "bpr": {"embedding_size": 8, "epochs": 5}, "popular": {}, "following": {}},
    grid=[{"objective": "lambdarank", "num_leaves": 15, "min_data_in_leaf": 20}],
    max_rounds=30, n_per_source=50, n_candidates=120,
)


@pytest.fixture(scope="module")
def ranker():
    train, _ = random_holdout(taste_world(), 0.25, seed=1)
    return LtrRanker.fit(build_interactions(train), FAST)


def _views(user: str, items: list[str], start_min: int = 10_000) -> list[dict]:
    return [{"user_id": user, "ts": T0 + timedelta(minutes=start_min + k), "type": t,
             "item_id": i, "target_user_id": None, "watch_ms": 20_000 if t == "view" else None}
            for k, i in enumerate(items) for t in ("view", "like")]


def test_live_candidates_without_events_equal_the_batch_recommendation(ranker):
    for user in ("u3", "u17", "u42"):
        live = ranker.live_candidates(user, n=FAST.n_candidates)
        ids, scores = ranker.recommend([user], 10)
        assert live["item_id"].head(10).to_list() == ids[0].tolist()
        assert np.allclose(live["model_score"].head(10).to_numpy(), scores[0], atol=1e-5)


def test_events_after_training_change_the_next_page(ranker):
    before = ranker.live_candidates("u3", n=50)["item_id"].to_list()
    liked = [i for i in ranker.data.item_ids.tolist() if i not in set(before)][:5]
    after = ranker.live_candidates("u3", _views("u3", liked), n=50)["item_id"].to_list()
    assert after != before
    assert not set(liked) & set(after)  # what the session watched is seen: never again


def test_a_new_viewer_gets_a_personal_page_after_a_few_actions():
    ev, best = checkerboard(n_users=40, n_items=40)
    cfg = LtrConfig(sources={"ease": {"reg": 5.0}, "popular": {}}, max_rounds=20,
                    n_per_source=20, n_candidates=30,
                    grid=[{"objective": "lambdarank", "num_leaves": 7, "min_data_in_leaf": 5}])
    r = LtrRanker.fit(build_interactions(ev), cfg)
    cold = r.live_candidates("newcomer", n=20)
    assert set(cold["source"].to_list()) == {"popular"}
    # three even videos watched and liked in the session: the page is the even taste group
    page = r.live_candidates("newcomer", _views("newcomer", ["i0", "i2", "i4"]), n=20)
    top = page["item_id"].head(10).to_list()
    assert all(int(i[1:]) % 2 == 0 for i in top), top
    assert page["source"].head(10).to_list() != ["popular"] * 10


def test_a_hide_in_the_session_takes_the_video_out_of_the_history(ranker):
    evs = _views("u5", ["i1", "i2"])
    h = ranker.history("u5", evs)
    hid = h.row.copy()
    evs_hide = evs + [{"user_id": "u5", "ts": T0 + timedelta(days=30), "type": "hide",
                       "item_id": "i1", "target_user_id": None, "watch_ms": None}]
    h2 = ranker.history("u5", evs_hide)
    i1 = ranker.data.item_index(["i1"])[0]
    assert hid[0, i1] > 0 and h2.row[0, i1] == 0 and i1 in set(h2.seen.tolist())


def test_scores_of_given_items_follow_the_live_history(ranker):
    items = ranker.data.item_ids[:30].tolist()
    frozen = ranker.score("newcomer", items)
    live = ranker.score("newcomer", items, _views("newcomer", items[30:33] or items[:3]))
    assert frozen.shape == live.shape == (30,)
    assert not np.allclose(frozen, live)


def test_nothing_per_user_is_saved_with_a_version(ranker, tmp_path):
    path = ranker.save(tmp_path / "m")
    assert not (path / "precomputed.npz").exists()
    loaded = LtrRanker.load(path)
    a = ranker.live_candidates("u9", n=30)["item_id"].to_list()
    assert loaded.live_candidates("u9", n=30)["item_id"].to_list() == a


@pytest.mark.parametrize("name,params", [("ease", {"reg": 50.0}),
                                         ("ease", {"reg": 50.0, "max_items": 100}),
                                         ("itemknn", {})])
def test_history_scoring_equals_the_trained_rows_for_item_to_item_sources(name, params):
    from ranking.candidates import make_source

    train, _ = random_holdout(taste_world(n_items=300), 0.25, seed=1)
    data = build_interactions(train)
    src = make_source(name, params).fit(data)
    rows = data.to_csr()
    for u in range(8):
        assert np.allclose(src.score_rows(np.array([u]))[0], src.score_user(u, rows[u]),
                           atol=1e-4)


def test_regression_a_bare_impression_kept_a_video_out_of_live_pages(ranker):
    # the live history once counted every event's video as seen; shown is not watched
    imp = [{"user_id": "u3", "ts": T0 + timedelta(days=40), "type": "impression",
            "item_id": "i1", "target_user_id": None, "watch_ms": None}]
    i1 = ranker.data.item_index(["i1"])[0]
    assert i1 not in set(ranker.history("u3", _views("u3", ["i2"]) + imp).seen.tolist())


def test_streaming_targets_are_engaged_videos_not_skips_or_impressions():
    import polars as pl

    from ranking.streaming import _walk

    ev = pl.DataFrame({"user_id": ["u"] * 5, "ts": [T0 + timedelta(minutes=k) for k in range(5)],
                       "type": ["impression", "skip", "view", "hide", "like"],
                       "item_id": ["a", "b", "c", "d", "e"]})
    rows, items, first = _walk(ev)
    assert items == ["c", "e"] and first == [2, 4] and len(rows) == 5


def _merge_by_loop(sources, h, item_ids, k, n_total):
    # The request-time merge as first written (one dict update per listed candidate).
    from ranking.ltr._live import _top

    rr, first = {}, {}
    for src in sources:
        m = (src.score_rows(np.array([h.u]))[0] if not h.live and h.u >= 0
             else src.score_user(h.u, h.row, h.follows)).astype(np.float32)
        m[h.seen] = np.nan
        for rank, i in enumerate(_top(m, k).tolist(), 1):
            rr[i] = rr.get(i, 0.0) + 1.0 / rank
            first.setdefault(i, (rank, src.name))
            if rank < first[i][0]:
                first[i] = (rank, src.name)
    order = sorted(rr, key=lambda i: (-rr[i], item_ids[i]))[:n_total]
    return order, [first[i][1] for i in order]


@pytest.mark.parametrize("user,liked", [("u3", []), ("u8", ["i1", "i7", "i30"]),
                                        ("newcomer", ["i2", "i4", "i9"])])
def test_the_vectorised_merge_equals_the_loop_it_replaced(ranker, user, liked):
    from ranking.ltr._live import live_candidate_rows

    h = ranker.history(user, _views(user, liked))
    rows, items, best = live_candidate_rows(ranker.sources, h, ranker.data.item_ids, 50, 120)
    order, first = _merge_by_loop(ranker.sources, h, ranker.data.item_ids, 50, 120)
    assert items.tolist() == order and best == first
    for src, m in zip(ranker.sources, rows, strict=True):
        if not src.personalised:  # the row as the source scores everyone, seen included
            assert np.array_equal(m, src.score_rows(np.array([-1]))[0], equal_nan=True)


def test_a_shared_rows_top_without_the_seen_equals_top_of_the_masked_row():
    from ranking.ltr._live import _top, _top_unseen

    rng = np.random.default_rng(5)
    for _ in range(300):
        m = rng.integers(0, 6, 400).astype(np.float32)  # many ties, at the cut too
        m[rng.random(400) < 0.2] = np.nan
        seen = np.unique(rng.integers(0, 400, rng.integers(0, 40)))
        n = int(rng.integers(1, 120))
        masked = m.copy()
        masked[seen] = np.nan
        assert _top_unseen(m, _top(m, m.size), seen, n).tolist() == _top(masked, n).tolist()
