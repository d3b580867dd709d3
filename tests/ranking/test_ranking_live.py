"""Request-time scoring: the viewer's live events move the next page, nothing per user is kept."""

from __future__ import annotations

import warnings
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
    rows, _, items, best = live_candidate_rows(ranker.sources, h, ranker.data.item_ids, 50,
                                               120)
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


def _random_rows(rng: np.random.Generator, count: int):
    """Score rows with NaN, infinities and many ties (at every cut too)."""
    for t in range(count):
        n = int(rng.integers(0, 1500))
        m = (rng.integers(0, 6, n).astype(np.float32) if t % 2
             else rng.standard_normal(n).astype(np.float32))
        m[rng.random(n) < rng.random()] = np.nan
        if t % 7 == 0 and n:
            m[rng.integers(0, n, 3)] = rng.choice([np.inf, -np.inf], 3)
        if t % 40 == 0:
            m[:] = np.nan
        yield m


def test_one_rows_ranks_at_items_equal_rank_and_z_of_the_whole_row():
    from ranking.ltr._features import row_ranks

    rng = np.random.default_rng(7)
    for m in _random_rows(rng, 400):
        depth = int(rng.integers(0, 1200))
        items = rng.integers(0, max(m.size, 1), int(rng.integers(0, 300)) if m.size else 0)
        with np.errstate(all="ignore"):
            rank, z = _rank_and_z(m[None, :], depth)
        got_rank, got_z = row_ranks(m, depth).at(items)
        assert got_rank.dtype == rank.dtype and got_z.dtype == z.dtype
        assert np.array_equal(got_rank, rank[0, items], equal_nan=True)
        assert np.array_equal(got_z, z[0, items], equal_nan=True)


def test_top_read_off_the_rank_order_equals_top_of_the_row():
    from ranking.ltr._features import row_ranks
    from ranking.ltr._live import _top, _top_ranked

    rng = np.random.default_rng(8)
    for m in _random_rows(rng, 400):
        r = row_ranks(m, int(rng.integers(0, 1200)))
        for n in (1, 2, int(rng.integers(1, 400)), 1000):
            assert _top_ranked(r, n).tolist() == _top(m, n).tolist()


def test_one_row_read_off_the_index_arrays_equals_scipys_row():
    import scipy.sparse as sp

    from ranking.candidates._base import csr_rows

    rng = np.random.default_rng(9)
    for _ in range(50):
        m = sp.random(30, 200, density=rng.random() * 0.2, format="csr", dtype=np.float32,
                      random_state=int(rng.integers(1 << 30)))
        if rng.random() < 0.3:  # entries out of order within rows
            m = sp.csr_matrix((m.data[::-1].copy(), m.indices[::-1].copy(),
                               (m.nnz - m.indptr[::-1]).copy()), shape=m.shape)
        for u in range(m.shape[0]):
            got, want = csr_rows(m, np.array([u])), m[np.array([u])]
            assert got.shape == want.shape and got.dtype == want.dtype
            assert got.indices.tolist() == want.indices.tolist()
            assert np.array_equal(got.data, want.data) and got.indptr.tolist() == [0, want.nnz]


def test_a_live_row_sum_equals_scipys_sum_of_the_rows():
    import scipy.sparse as sp

    from ranking.ltr._live import _plus

    rng = np.random.default_rng(10)
    n = 300
    for t in range(300):
        base = sp.random(1, n, density=rng.random() * 0.3, format="csr", dtype=np.float32,
                         random_state=int(rng.integers(1 << 30)))
        if t % 5 == 0 and base.nnz > 1:  # out of canonical order: scipy's own sum
            base = sp.csr_matrix((base.data[::-1].copy(), base.indices[::-1].copy(),
                                  base.indptr), shape=base.shape)
        cols = rng.choice(n, int(rng.integers(0, 30)), replace=False)
        vals = rng.choice([0.5, 1.0, 2.25, -1.0], len(cols)).astype(np.float32)
        if t % 3 == 0 and base.nnz:  # sums that cancel to zero
            vals[:min(len(cols), base.nnz)] = 0
            k = min(len(cols), base.nnz)
            cols[:k], vals[:k] = base.indices[:k], -base.data[:k]
            cols = np.unique(cols) if len(np.unique(cols)) < len(cols) else cols
            vals = vals[:len(cols)]
        extra = sp.csr_matrix((vals, (np.zeros(len(cols), np.int64), cols)), shape=(1, n))
        want = (base + extra).tocsr()
        got = _plus(base, cols, vals)
        assert got.dtype == want.dtype and got.indices.tolist() == want.indices.tolist()
        assert np.array_equal(got.data, want.data) and got.indptr.tolist() == want.indptr.tolist()


def test_the_merges_integer_id_order_equals_sorting_the_ids_as_str():
    from ranking.ltr._live import _id_order

    rng = np.random.default_rng(11)
    for _ in range(50):
        ids = np.array([f"v{x}" for x in rng.integers(0, 10_000, rng.integers(1, 400))],
                       dtype=object)  # duplicates too: ties keep the lower index first
        uniq = np.unique(rng.integers(0, len(ids), rng.integers(1, 60)))
        rr = rng.integers(0, 4, len(uniq)) / 4.0
        want = np.lexsort((ids[uniq].astype(str), -rr))
        assert np.lexsort((_id_order(ids)[uniq], -rr)).tolist() == want.tolist()


def test_a_shared_rows_top_with_a_seen_mask_equals_it_without():
    from ranking.ltr._live import _top, _top_unseen

    rng = np.random.default_rng(12)
    for _ in range(200):
        m = rng.integers(0, 6, 400).astype(np.float32)
        m[rng.random(400) < 0.2] = np.nan
        seen = np.unique(rng.integers(0, 400, rng.integers(0, 40)))
        mask = np.zeros(400, bool)
        mask[seen] = True
        n = int(rng.integers(1, 120))
        order = _top(m, m.size)
        assert (_top_unseen(m, order, seen, n, mask).tolist()
                == _top_unseen(m, order, seen, n).tolist())


def test_one_rows_product_with_a_sparse_matrix_equals_scipys():
    import scipy.sparse as sp

    from ranking.candidates._base import csr_row_product

    rng = np.random.default_rng(13)
    for t in range(200):
        b = sp.random(300, 250, density=rng.random() * 0.1, format="csr", dtype=np.float32,
                      random_state=int(rng.integers(1 << 30)))
        b.data = (b.data * 7 - 3).astype(np.float32)  # sums that cancel and round
        x = sp.random(1, 300, density=rng.random() * 0.2, format="csr", dtype=np.float32,
                      random_state=int(rng.integers(1 << 30)))
        if t % 4 == 0 and x.nnz > 1:  # entries out of order: summed as stored
            x = sp.csr_matrix((x.data[::-1].copy(), x.indices[::-1].copy(), x.indptr),
                              shape=x.shape)
        want = (x @ b).toarray()
        got = csr_row_product(x, b)
        assert got.dtype == want.dtype and got.shape == want.shape
        assert np.array_equal(got, want)


def test_a_rows_head_columns_equal_scipys_column_indexing():
    """EASE's one-row ``x[:, head]`` read off the row's arrays: the same entries in the same
    stored order (a sparse-dense product sums them in that order), for rows in and out of
    canonical order, and a new head (a refit) is not read through the old one's positions."""
    import scipy.sparse as sp

    from ranking.candidates import make_source

    train, _ = random_holdout(taste_world(n_items=300), 0.25, seed=1)
    data = build_interactions(train)
    src = make_source("ease", {"reg": 50.0, "max_items": 100}).fit(data)
    rows = data.to_csr().astype(np.float32)
    rng = np.random.default_rng(4)
    for refit in range(2):
        if refit:
            src.head = np.sort(rng.choice(data.n_items, 100, replace=False))
            src.weights = rng.random((100, data.n_items)).astype(np.float32)[:, :100]
        for u in range(rows.shape[0]):
            x = rows[u]
            if u % 2:
                p = rng.permutation(x.nnz)
                x = sp.csr_matrix((x.data[p], x.indices[p], x.indptr), shape=x.shape)
            want, got = x[:, src.head], src._head_columns(x)
            assert got.shape == want.shape and got.dtype == want.dtype
            assert got.indices.tolist() == want.indices.tolist()
            assert got.data.tolist() == want.data.tolist()
            assert np.array_equal(got @ src.weights, want @ src.weights)


def test_a_blocks_ranks_read_row_by_row_at_pairs_equal_rank_and_z_of_the_whole_block():
    """Training's pair features read each user's ranks and z-scores through ``row_ranks`` at
    a few entries per row; that equals the whole-block definition on blocks of many rows
    (ties, NaN rows and infinities)."""
    from ranking.ltr._features import row_ranks

    rng = np.random.default_rng(9)
    for t in range(60):
        size = int(rng.integers(1, 1500)) if t else 0
        block = (rng.integers(0, 6, (9, size)).astype(np.float32) if t % 2
                 else rng.standard_normal((9, size)).astype(np.float32))
        block[rng.random(block.shape) < rng.random()] = np.nan
        if size:
            block[3] = np.nan  # a row with nothing scored
            block[rng.integers(0, 9, 4), rng.integers(0, size, 4)] = rng.choice(
                [np.inf, -np.inf], 4)
        for depth in (0, 1, int(rng.integers(1, 1200)), 5000):
            cols = rng.integers(0, max(size, 1), int(rng.integers(0, 60)) if size else 0)
            with np.errstate(all="ignore"):
                rank, z = _rank_and_z(block.copy(), depth)
            for k in range(len(block)):
                got_rank, got_z = row_ranks(block[k], depth).at(cols)
                assert got_rank.dtype == rank.dtype and got_z.dtype == z.dtype
                assert np.array_equal(got_rank, rank[k, cols], equal_nan=True)
                assert np.array_equal(got_z, z[k, cols], equal_nan=True)


def _rank_and_z(m: np.ndarray, depth: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-row rank (1 = best, NaN past ``depth``) and z-score over the finite entries: the
    whole-block definition the ranker's features were first built with (the oracle).

    Raw scores shift in scale between the training-time fit (history) and the serving fit (all
    data); within-user ranks and z-scores do not, so the ranker sees only those.
    """
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mu = np.nanmean(m, axis=1, keepdims=True)
        sd = np.nanstd(m, axis=1, keepdims=True)
    z = (m - mu) / (sd + 1e-6)
    filled = np.where(np.isfinite(m), m, -np.inf)
    d = min(depth, m.shape[1])
    rank = np.full(m.shape, np.nan, np.float32)
    if d == 0:
        return rank, z
    part = np.argpartition(-filled, d - 1, axis=1)[:, :d]
    vals = np.take_along_axis(filled, part, axis=1)
    order = np.argsort(-vals, axis=1, kind="stable")
    top = np.take_along_axis(part, order, axis=1)
    rows = np.arange(m.shape[0])[:, None]
    rank[rows, top] = np.arange(1, d + 1, dtype=np.float32)[None, :]
    rank[~np.isfinite(m)] = np.nan
    return rank, z
