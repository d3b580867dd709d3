"""EASE above ``max_items``: exact head, sparse bounded tail, saved without pickle."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ranking.candidates import make_source
from ranking.candidates._ease_tail import top_k_per_row
from ranking.evaluation.metrics import ndcg_at_k
from ranking.interactions import build_interactions
from tests.ranking._worlds import taste_world


def _data():
    return build_interactions(taste_world(n_users=150, n_items=200, per_user=30))


def test_above_max_items_the_head_is_dense_and_the_tail_sparse_and_pruned():
    data = _data()
    src = make_source("ease", {"max_items": 60, "tail_k": 10}).fit(data)
    assert src.fitted and src.skipped is None
    assert src.weights.shape == (60, 60)
    tail = np.setdiff1d(np.arange(data.n_items), src.head)
    assert sp.issparse(src.tail) and src.tail.nnz <= 2 * 10 * len(tail)
    assert np.diff(src.tail.tocsc().indptr)[tail].max() <= 10  # into each tail video
    assert src.tail[tail][:, src.head].getnnz(axis=1).max() <= 10  # out of it to the head
    assert src.tail[src.head][:, src.head].nnz == 0  # head pairs are the exact weights'
    ids, scores = src.recommend(data.user_ids[:5].tolist(), 10)
    assert all(len(i) == 10 for i in ids)
    assert all(np.all(np.diff(s) <= 1e-6) for s in scores)


def test_scaled_ease_stays_close_to_exact_ease_on_a_power_law_world():
    data = _data()
    users = data.user_ids.tolist()
    exact = make_source("ease", {"max_items": data.n_items}).fit(data)
    scaled = make_source("ease", {"max_items": 100}).fit(data)
    ref = [set(r[:10].tolist()) for r in exact.recommend(users, 10)[0]]
    assert exact.tail is None
    # NDCG of the scaled lists with the exact top-10 as the relevant set
    assert ndcg_at_k(scaled.recommend(users, 10)[0], ref, 10) > 0.7


def test_scaled_ease_round_trips_through_plain_arrays():
    data = _data()
    src = make_source("ease", {"max_items": 60}).fit(data)
    arrays = src.arrays()
    assert all(isinstance(a, np.ndarray) and a.dtype != object for a in arrays.values())
    back = make_source("ease", {"max_items": 60})
    back.bind(data)
    back.load_arrays(arrays)
    back.fitted = True
    users = np.arange(10)
    np.testing.assert_allclose(back.score_rows(users), src.score_rows(users), rtol=1e-6)
    tail_item = data.item_ids[np.setdiff1d(np.arange(data.n_items), src.head)[0]]
    ids, _ = back.similar_items(tail_item, 5)
    assert len(ids) == 5 and tail_item not in ids


def test_top_k_per_row_keeps_the_largest():
    m = sp.csr_matrix(np.array([[3.0, 1.0, 2.0, 0.0], [0.0, 5.0, 0.0, 4.0]]))
    np.testing.assert_array_equal(top_k_per_row(m, 2).toarray(),
                                  [[3.0, 0.0, 2.0, 0.0], [0.0, 5.0, 0.0, 4.0]])


def test_the_blockwise_gram_and_in_place_inverse_equal_the_whole_matrix_formulas(monkeypatch):
    """EASE's head Gram matrix built a block of columns at a time, and its inverse mirrored in
    place, equal the one-shot sparse product and ``tril(c) + tril(c, -1).T``."""
    import os

    import numpy as np
    import scipy.sparse as sp
    from scipy.linalg import lapack
    from threadpoolctl import threadpool_limits

    import ranking.candidates.ease as ease

    monkeypatch.setattr(ease, "_BLOCK", 7)  # blocks that do not divide the size
    rng = np.random.default_rng(4)
    x = sp.random(300, 45, density=0.2, format="csr", random_state=5, dtype=np.float32)
    x.data[:] = rng.integers(1, 4, x.nnz)
    want = (x.T @ x).toarray().astype(np.float32)
    got = ease._head_gram(x)
    assert got.dtype == np.float32 and np.array_equal(got, want)
    want[np.diag_indices_from(want)] += 30.0
    with threadpool_limits(limits=os.cpu_count() or 1, user_api="blas"):  # as EASE runs it
        c, _ = lapack.spotrf(want.copy(), lower=1)
        c, _ = lapack.spotri(c, lower=1)
    expected = np.tril(c) + np.tril(c, -1).T
    inv = ease._spd_inverse(want.copy())
    assert inv.flags.c_contiguous and np.array_equal(inv, expected)
