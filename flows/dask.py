"""Run the daily flow on a Dask cluster: Prefect's ``DaskTaskRunner`` plus Dask LightGBM.

With no address a ``LocalCluster`` of two single-threaded worker processes is started for the
run and closed after it. To use a real cluster, start ``dask scheduler`` and ``dask worker
tcp://HOST:8786`` on machines that have feedwell installed and see the same paths (the DuckDB
file's folder, where the day partitions are written), then pass the scheduler address.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

__all__ = ["LOCAL_CLUSTER", "dask_scheduler", "run_daily_dask"]

LOCAL_CLUSTER = {"n_workers": 2, "threads_per_worker": 1, "dashboard_address": None}


@contextmanager
def dask_scheduler(address: str | None = None) -> Iterator[str]:
    """Yield a scheduler address: ``address`` as given, or a local cluster's for the block."""
    if address:
        yield address
        return
    from distributed import LocalCluster

    with LocalCluster(**LOCAL_CLUSTER) as cluster:
        yield cluster.scheduler_address


def run_daily_dask(db_path: str, data_dir: str | None = None, now: datetime | None = None,
                   k: int = 10, scheduler: str | None = None) -> dict[str, Any]:
    """Run ``daily`` with its mapped tasks on Dask and the ranker trained on the same cluster.

    Args:
        scheduler: ``tcp://host:8786`` of a running cluster (None: a local 2-worker cluster).
    """
    from prefect_dask import DaskTaskRunner

    from flows.daily import daily

    with dask_scheduler(scheduler) as address:
        flow = daily.with_options(task_runner=DaskTaskRunner(address=address))
        return flow(db_path=db_path, data_dir=data_dir, now=now, k=k, scheduler=address)
