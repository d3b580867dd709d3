"""The ranker's LightGBM stage trained with LightGBM's Dask interface (``DaskLGBMRanker``).

Everything but the boosting is the single-machine ranker's own code: the per-user temporal
split, the candidate sources, the labels and the pair features come from ``ranking.ltr`` and
``ranking.ltr._train``; only the LambdaRank fit runs on the cluster, over row partitions cut at
user boundaries (a query group must never straddle two partitions). There is no grid search or
early stopping here: the fixed settings are the local grid's middle point.
"""

from __future__ import annotations

import json
import logging
import time
import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import polars as pl

from features.errors import PipelineError
from ranking import registry
from ranking.candidates import CandidateSource, merge_candidates
from ranking.interactions import Interactions, load_interactions
from ranking.lifecycle import TrainResult
from ranking.ltr._features import compute_stats, feature_names, pair_features
from ranking.ltr._feedback import split_negatives
from ranking.ltr._train import grade_labels, split_history
from ranking.ltr.config import LtrConfig
from ranking.ltr.ranker import LtrRanker, _fit_sources

__all__ = ["DaskRankerConfig", "TrainingMatrix", "training_matrix", "partition_bounds",
           "fit_dask", "train_model_dask"]

log = logging.getLogger(__name__)


@dataclass
class DaskRankerConfig:
    """Settings of the distributed LambdaRank fit."""

    n_estimators: int = 150
    """Boosting rounds (the local path chooses them by early stopping)."""
    num_leaves: int = 31
    """Leaves per tree."""
    min_data_in_leaf: int = 20
    """Minimum rows per leaf."""
    n_partitions: int | None = None
    """Row partitions (default: one per Dask worker)."""


@dataclass
class TrainingMatrix:
    """The LambdaRank training set: rows grouped by user, in the local ranker's layout."""

    x: np.ndarray
    y: np.ndarray
    users: np.ndarray
    names: list[str]
    sources: list[CandidateSource]


def training_matrix(data: Interactions, cfg: LtrConfig) -> TrainingMatrix | None:
    """Build X/y/users as ``LtrRanker.fit`` does, but always with a temporal holdout (each
    user's latest interactions label): the distributed fit has no grid to choose settings on,
    and on a temporal test split its fixed LambdaRank settings rank better with temporal labels
    (tests/flows/test_flow_dask.py: NDCG 0.07 with random labels against 0.11 locally). None
    when there is nothing to label."""
    history, future = split_history(data.frame, cfg.holdout_fraction, cfg.seed)
    if not (future.height and history.height):
        return None
    hist = data.restrict(history, negatives=split_negatives(
        data.negatives, cfg.holdout_fraction, cfg.seed)[0])
    srcs = _fit_sources(cfg, hist)
    stats = compute_stats(hist, cfg.features)
    users = future["user_id"].unique().sort().to_list()
    if len(users) > cfg.max_train_users:
        rng = np.random.default_rng(cfg.seed)
        users = sorted(rng.choice(users, cfg.max_train_users, replace=False).tolist())
    cand = merge_candidates(srcs, users, cfg.n_per_source, cfg.n_candidates)
    y = grade_labels(cand, future, data.negatives)
    u = np.array([data.user_index(x) for x in cand["user_id"].to_list()], dtype=np.int64)
    x = pair_features(srcs, stats, u, data.item_index(cand["item_id"].to_list()))
    users_arr = cand["user_id"].to_numpy()
    # Users without a positive carry no ranking signal (same rule as the local fit).
    keep = pl.DataFrame({"u": users_arr, "y": y}).select(
        pl.col("y").max().over("u") > 0)["y"].to_numpy()
    return TrainingMatrix(x[keep], y[keep], users_arr[keep],
                          feature_names(srcs, stats.catalog_names), srcs)


def partition_bounds(users: np.ndarray, n_parts: int) -> tuple[np.ndarray, list[int], list[int]]:
    """Group sizes, rows per partition and groups per partition, cut at user boundaries."""
    change = np.flatnonzero(users[1:] != users[:-1]) + 1
    groups = np.diff(np.concatenate([[0], change, [len(users)]]))
    ends = np.cumsum(groups)
    targets = [len(users) * (k + 1) / n_parts for k in range(n_parts)]
    cuts = sorted({int(np.searchsorted(ends, t, side="left")) + 1 for t in targets})
    cuts = [min(c, len(groups)) for c in cuts]
    g_chunks = [b - a for a, b in zip([0] + cuts[:-1], cuts, strict=True) if b > a]
    r_chunks, start = [], 0
    for n in g_chunks:
        r_chunks.append(int(groups[start:start + n].sum()))
        start += n
    return groups, r_chunks, g_chunks


def fit_dask(data: Interactions, client: Any, config: LtrConfig | None = None,
             dask_config: DaskRankerConfig | None = None) -> LtrRanker:
    """Train the two-stage ranker with the LambdaRank stage on the cluster behind ``client``.

    Args:
        data: interactions as of the training time.
        client: a ``distributed.Client``.
        config: the ranker configuration (sources, split, seed) shared with the local path.
        dask_config: the distributed fit's settings.
    """
    cfg, dcfg = config or LtrConfig(), dask_config or DaskRankerConfig()
    t0 = time.perf_counter()
    mat = training_matrix(data, cfg)
    booster, report = None, {"n_interactions": data.frame.height, "engine": "dask"}
    names = list(cfg.sources)
    if mat is not None and len(np.unique(mat.users)) >= 4:
        names = [s.name for s in mat.sources]
        n_parts = dcfg.n_partitions or max(1, len(client.scheduler_info()["workers"]))
        groups, r_chunks, g_chunks = partition_bounds(mat.users, n_parts)
        params = {"objective": "lambdarank", "learning_rate": cfg.learning_rate,
                  "num_leaves": dcfg.num_leaves, "min_data_in_leaf": dcfg.min_data_in_leaf,
                  "feature_fraction": 0.8, "bagging_fraction": 0.8, "bagging_freq": 1,
                  "lambda_l2": 1.0, "seed": cfg.seed, "num_threads": 1, "verbose": -1,
                  "lambdarank_truncation_level": 20}
        booster = _fit_on_cluster(client, mat, groups, r_chunks, g_chunks, params,
                                  dcfg.n_estimators)
        report.update({"ltr_rows": int(len(mat.y)), "ltr_users": int(len(groups)),
                       "partitions": len(r_chunks), "params": {
                           "n_estimators": dcfg.n_estimators, "num_leaves": dcfg.num_leaves,
                           "min_data_in_leaf": dcfg.min_data_in_leaf}})
    report["train_seconds_ltr"] = round(time.perf_counter() - t0, 2)
    srcs = _fit_sources(cfg, data, names)
    report["train_seconds"] = round(time.perf_counter() - t0, 2)
    return LtrRanker(cfg, srcs, compute_stats(data, cfg.features), booster, data, report)


def _fit_on_cluster(client: Any, mat: TrainingMatrix, groups: np.ndarray, r_chunks: list[int],
                    g_chunks: list[int], params: dict, rounds: int) -> Any:
    """LambdaRank over row partitions: ``DaskLGBMRanker``, or the same collective without sklearn.

    ``lightgbm.DaskLGBMRanker`` needs scikit-learn (its sklearn wrapper); when that is not
    installed the same data-parallel training runs as one ``lgb.train`` per worker joined by
    LightGBM's socket network, which is what ``lightgbm.dask`` does underneath.
    """
    import lightgbm as lgb

    try:
        import sklearn  # noqa: F401
    except ImportError:
        return _collective_train(client, mat, groups, r_chunks, g_chunks, params, rounds)
    import dask.array as da

    x = da.from_array(mat.x.astype(np.float64), chunks=(tuple(r_chunks), mat.x.shape[1]))
    y = da.from_array(mat.y, chunks=(tuple(r_chunks),))
    g = da.from_array(groups, chunks=(tuple(g_chunks),))
    # lightgbm.dask sets the threads per worker itself and warns about any thread count it is
    # handed; the sklearn wrapper always hands it ``n_jobs``, so that one warning is expected.
    p = {k: v for k, v in params.items() if k not in ("objective", "verbose", "num_threads")}
    model = lgb.DaskLGBMRanker(client=client, objective="lambdarank", n_estimators=rounds,
                               verbose=-1, **p)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Parameter n_jobs will be ignored")
        model.fit(x, y, group=g, feature_name=mat.names)
    return model.to_local().booster_


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("", 0))
        return int(s.getsockname()[1])


def _train_part(x: np.ndarray, y: np.ndarray, group: np.ndarray, names: list[str],
                params: dict, rounds: int) -> str:
    import lightgbm as lgb

    ds = lgb.Dataset(x, y, group=group, feature_name=names,
                     params={"feature_pre_filter": False})
    return lgb.train(params, ds, rounds).model_to_string()


def _collective_train(client: Any, mat: TrainingMatrix, groups: np.ndarray, r_chunks: list[int],
                      g_chunks: list[int], params: dict, rounds: int) -> Any:
    from urllib.parse import urlparse

    import lightgbm as lgb

    workers = sorted(client.scheduler_info()["workers"])[:len(r_chunks)]
    if len(workers) < len(r_chunks):  # fewer workers than partitions: one partition each
        groups_per = np.array_split(np.arange(len(groups)), len(workers))
        g_chunks = [len(a) for a in groups_per]
        r_chunks = [int(groups[a].sum()) for a in groups_per]
    ports = [client.submit(_free_port, workers=[w], pure=False).result() for w in workers]
    machines = ",".join(f"{urlparse(w).hostname}:{p}" for w, p in zip(workers, ports, strict=True))
    futures, r0, g0 = [], 0, 0
    for w, port, nr, ng in zip(workers, ports, r_chunks, g_chunks, strict=True):
        net = ({"tree_learner": "data", "pre_partition": True, "machines": machines,
                "local_listen_port": port, "num_machines": len(workers), "time_out": 5}
               if len(workers) > 1 else {})
        futures.append(client.submit(
            _train_part, mat.x[r0:r0 + nr], mat.y[r0:r0 + nr], groups[g0:g0 + ng], mat.names,
            {**params, **net}, rounds, workers=[w], allow_other_workers=False, pure=False))
        r0, g0 = r0 + nr, g0 + ng
    # Every worker ends with the same model in data-parallel training; keep the first.
    models = client.gather(futures)
    return lgb.Booster(model_str=models[0])


def train_model_dask(con: duckdb.DuckDBPyConnection, db_path: str | Path,
                     now: datetime | None, scheduler: str, config: LtrConfig | None = None,
                     dask_config: DaskRankerConfig | None = None) -> TrainResult:
    """``ranking.lifecycle.train_model`` with the LambdaRank stage on the Dask cluster.

    Args:
        scheduler: the Dask scheduler address (``tcp://host:8786``).

    Raises:
        PipelineError: there are no events to learn from.
    """
    from distributed import Client

    where, params = ("WHERE ts < ?", [now]) if now is not None else ("", [])
    lo, hi = con.execute(f"SELECT min(ts), max(ts) FROM events {where}", params).fetchall()[0]
    if lo is None:
        raise PipelineError("no events in the store: run `feedwell ingest DATA_DIR` first")
    data = load_interactions(con, now)
    with Client(scheduler) as client:
        ranker = fit_dask(data, client, config, dask_config)
    version = registry.new_version(con)
    path = registry.models_root(db_path) / version
    ranker.save(path)
    registry.register(con, db_path, version, metrics={},
                      params=json.loads(json.dumps(ranker.report.get("params", {}), default=str)),
                      features=list(ranker.features), data_from=lo, data_to=hi)
    return TrainResult(version, path, ranker.report)
