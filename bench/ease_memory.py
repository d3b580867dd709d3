"""Peak memory of EASE's head fit (Gram matrix and inverse) on a synthetic catalogue.

    .venv/bin/python -m bench.ease_memory [--users 50000] [--items 100000] [--nnz 2600000]

Traced with ``tracemalloc`` (numpy's allocations are traced), above the interaction matrix:
the one-shot sparse product and ``tril(c) + tril(c, -1).T`` as EASE built them before, then
``ranking.candidates.ease._head_gram`` and the in-place ``_spd_inverse``; the two inverses are
checked equal.
"""

from __future__ import annotations

import argparse
import os
import time
import tracemalloc

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from scipy.linalg import lapack  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from ranking.candidates.ease import _head_gram, _spd_inverse  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=50_000)
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--nnz", type=int, default=2_600_000)
    ap.add_argument("--head", type=int, default=12_000)
    ap.add_argument("--reg", type=float, default=300.0)
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    p = 1 / np.arange(10, a.items + 10) ** 0.9
    p /= p.sum()
    x = sp.csr_matrix((np.ones(a.nnz, np.float32), (rng.integers(0, a.users, a.nnz),
                                                    rng.choice(a.items, a.nnz, p=p))),
                      shape=(a.users, a.items))
    x.data[:] = 1.0
    xh = x[:, np.sort(np.argsort(-x.getnnz(axis=0), kind="stable")[:a.head])]
    tracemalloc.start()
    t = time.perf_counter()
    g = (xh.T @ xh).toarray().astype(np.float32)
    g[np.diag_indices_from(g)] += a.reg
    with threadpool_limits(limits=os.cpu_count() or 1, user_api="blas"):
        c, _ = lapack.spotrf(g, lower=1, overwrite_a=1)
        c, _ = lapack.spotri(c, lower=1, overwrite_c=1)
    before = np.tril(c) + np.tril(c, -1).T
    del g, c
    old_s, old_peak = time.perf_counter() - t, tracemalloc.get_traced_memory()[1]
    base = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    t = time.perf_counter()
    g = _head_gram(xh)
    g[np.diag_indices_from(g)] += a.reg
    after = _spd_inverse(g)
    new_s, new_peak = time.perf_counter() - t, tracemalloc.get_traced_memory()[1] - base
    mb = 2 ** 20
    print(f"head {a.head} of {a.items} videos, {a.users} users, {x.nnz} entries; "
          f"result {after.nbytes / mb:.0f} MB")
    print(f"one-shot: {old_s:.1f} s, peak {old_peak / mb:.0f} MB above the data")
    print(f"blockwise, in place: {new_s:.1f} s, peak {new_peak / mb:.0f} MB above the data; "
          f"equal: {np.array_equal(before, after)}")


if __name__ == "__main__":
    main()
