"""The daily flow: ingest -> features -> daily counts -> train -> evaluate -> publish (gated).

Re-running it is safe: ingest is one idempotent transaction, every deterministic step is cached
on the store's data version, and the publish step raises when the gate fails, so the flow run
fails visibly and the model in force stays in force. With ``scheduler`` set (see
``flows.dask``) the day counts are mapped over Parquet partitions on the task runner and the
ranker's LambdaRank stage trains on that Dask cluster.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from prefect import flow, unmapped

from flows.evaluate import evaluate_task
from flows.features import build_features_task
from flows.ingest import data_version_task, ingest_task
from flows.partitions import (
    daily_counts_task,
    export_partitions_task,
    partition_counts_task,
    store_counts_task,
)
from flows.publish import publish_task
from flows.train import train_dask_task, train_task

__all__ = ["daily"]


@flow(name="daily")
def daily(db_path: str = "feedwell.duckdb", data_dir: str | None = None,
          now: datetime | None = None, k: int = 10, scheduler: str | None = None
          ) -> dict[str, Any]:
    """Refresh the store, the features and the model, and publish it if it passes the gate.

    Args:
        db_path: the DuckDB store.
        data_dir: a data directory to ingest first (None: use what the store holds).
        now: the as-of time of features, training and evaluation (None: all data).
        k: the cut-off of the evaluation metrics (NDCG@k decides the gate).
        scheduler: a Dask scheduler address: partitioned counts and Dask LightGBM training.

    Returns:
        A summary: data version, rows per step, the trained version, metrics and gate.
    """
    t0 = time.perf_counter()
    summary: dict[str, Any] = {"engine": "dask" if scheduler else "local"}
    if data_dir:
        summary["ingest"] = ingest_task(db_path, data_dir, now)
    version = data_version_task(db_path)
    summary["data_version"] = version
    summary["features"] = build_features_task(db_path, now, version)
    if scheduler:
        parts = export_partitions_task(db_path, version)
        counts = partition_counts_task.map(parts, unmapped(version)).result()
        summary["partitions"] = len(parts)
        model = train_dask_task(db_path, now, version, scheduler)
    else:
        counts = [daily_counts_task(db_path, version)]
        model = train_task(db_path, now, version)
    summary["daily_counts_rows"] = store_counts_task(db_path, counts)
    summary["version"] = model
    evaluation = evaluate_task(db_path, model, now, k, version)
    summary["evaluation"] = evaluation.summary()
    summary["published"] = publish_task(db_path, evaluation)
    summary["seconds"] = round(time.perf_counter() - t0, 1)
    return summary


if __name__ == "__main__":
    import sys

    print(daily(data_dir=sys.argv[1] if len(sys.argv) > 1 else None))
