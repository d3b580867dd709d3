"""The Dask glue of ``train_booster``: rows partitioned over the cluster, LightGBM's estimators.

A LambdaRank query group must never straddle two partitions, so ranking rows are cut at user
boundaries; the head's rows (no groups) are cut evenly. ``lightgbm.dask`` then trains one
data-parallel model over the workers holding the partitions.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import lightgbm as lgb

__all__ = ["partition_bounds", "fit_on_cluster"]

# The held-out curve is computed locally (``_boost.held_out_curve``) and lightgbm.dask sets
# the threads of each worker itself: these parameters mean nothing on the cluster.
_LOCAL_ONLY = ("metric", "ndcg_eval_at", "num_threads", "verbose")


def partition_bounds(group: np.ndarray, n_parts: int) -> tuple[list[int], list[int]]:
    """Rows per partition and groups per partition, about ``n_parts`` of them, cut between
    groups (``group`` holds the query sizes in row order)."""
    ends = np.cumsum(group)
    targets = [ends[-1] * (k + 1) / n_parts for k in range(n_parts)]
    cuts = sorted({min(int(np.searchsorted(ends, t, side="left")) + 1, len(group))
                   for t in targets})
    g_chunks = [b - a for a, b in zip([0, *cuts[:-1]], cuts, strict=True) if b > a]
    r_chunks, start = [], 0
    for n in g_chunks:
        r_chunks.append(int(group[start:start + n].sum()))
        start += n
    return r_chunks, g_chunks


def _scattered(client: Any, a: np.ndarray, chunks: list[int]) -> Any:
    """``a`` as a dask array cut into ``chunks`` rows, each block sent to the workers first
    (``client.scatter``): a graph holding the data itself goes whole through the scheduler,
    and distributed warns about it above 10 MB (a 5M-event blend's rows are ~250 MB)."""
    import dask.array as da

    parts = np.split(a, np.cumsum(chunks)[:-1])
    futures = client.scatter(parts)
    return da.concatenate([da.from_delayed(f, shape=p.shape, dtype=p.dtype)
                           for f, p in zip(futures, parts, strict=True)])


def fit_on_cluster(client: Any, params: dict[str, Any], x: np.ndarray, y: np.ndarray,
                   group: np.ndarray | None, weight: np.ndarray | None, rounds: int,
                   names: list[str]) -> lgb.Booster:
    """``rounds`` of boosting on the cluster: ``DaskLGBMRanker`` for a LambdaRank objective
    (``group``: query sizes in row order), ``DaskLGBMClassifier`` for a binary one; the
    booster comes back to this process."""
    import dask.array as da
    import lightgbm as lgb

    n_parts = max(1, len(client.scheduler_info()["workers"]))
    ranker = params.get("objective") == "lambdarank"
    if ranker:
        if group is None:
            raise ValueError("a LambdaRank fit needs query groups (rows grouped by user)")
        r_chunks, g_chunks = partition_bounds(group, n_parts)
    else:
        r_chunks = [len(a) for a in np.array_split(np.arange(len(y)), n_parts) if len(a)]
    dx = _scattered(client, x.astype(np.float64), r_chunks)
    dy = _scattered(client, y, r_chunks)
    dw = None if weight is None else _scattered(client, weight, r_chunks)
    kw: dict[str, Any] = {"sample_weight": dw, "feature_name": names}
    if ranker:
        kw["group"] = da.from_array(group, chunks=(tuple(g_chunks),))
    p = {k: v for k, v in params.items() if k not in _LOCAL_ONLY}
    model_cls = lgb.DaskLGBMRanker if ranker else lgb.DaskLGBMClassifier
    model = model_cls(client=client, n_estimators=rounds, verbose=-1, **p)
    # The sklearn wrapper always hands lightgbm.dask ``n_jobs``, which it then ignores.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Parameter n_jobs will be ignored")
        model.fit(dx, dy, **kw)
    return model.to_local().booster_
