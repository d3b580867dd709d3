"""Per-day engagement counts: one query on one machine, or a parallel map over day partitions."""

from __future__ import annotations

import polars as pl
from prefect import flow, task, unmapped
from prefect.cache_policies import INPUTS, TASK_SOURCE

from features.partitions import (
    combine_counts,
    daily_counts,
    export_partitions,
    partition_counts,
    partitions_root,
    store_daily_counts,
)
from flows._policy import IO_RETRIES, IO_RETRY_DELAYS, retry_transient
from flows._store import open_store
from flows.ingest import data_version_task

__all__ = ["export_partitions_task", "partition_counts_task", "daily_counts_task",
           "store_counts_task", "daily_engagement"]


@task(name="export-partitions", retries=IO_RETRIES, retry_delay_seconds=IO_RETRY_DELAYS,
      retry_condition_fn=retry_transient)
def export_partitions_task(db_path: str, data_version: str) -> list[str]:
    """Write ``<db stem>_parts/date=YYYY-MM-DD/``; returns the partition folders."""
    with open_store(db_path) as con:
        return [str(p) for p in export_partitions(con, partitions_root(db_path))]


@task(name="partition-counts", cache_policy=INPUTS + TASK_SOURCE)
def partition_counts_task(partition: str, data_version: str) -> pl.DataFrame:
    """Counts of one day, read from its partition only (runs on any worker that sees it)."""
    return partition_counts(partition)


@task(name="daily-counts", cache_policy=INPUTS + TASK_SOURCE)
def daily_counts_task(db_path: str, data_version: str) -> pl.DataFrame:
    """Counts of every day in one query over the events table (the single-machine path)."""
    with open_store(db_path) as con:
        return daily_counts(con)


@task(name="store-counts", retries=IO_RETRIES, retry_delay_seconds=IO_RETRY_DELAYS,
      retry_condition_fn=retry_transient)
def store_counts_task(db_path: str, counts: list[pl.DataFrame]) -> int:
    """Replace ``agg_daily_engagement`` with the days counted (idempotent)."""
    with open_store(db_path) as con:
        return store_daily_counts(con, combine_counts(counts))


@flow(name="daily-engagement")
def daily_engagement(db_path: str = "feedwell.duckdb", partitioned: bool = False) -> int:
    """Count engagement per day, over partitions in parallel when ``partitioned``."""
    version = data_version_task(db_path)
    if partitioned:
        parts = export_partitions_task(db_path, version)
        counts = partition_counts_task.map(parts, unmapped(version)).result()
    else:
        counts = [daily_counts_task(db_path, version)]
    return store_counts_task(db_path, counts)


if __name__ == "__main__":
    print(daily_engagement())
