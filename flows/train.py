"""Train flow: fit the two-stage ranker and register a candidate version (cached on the data)."""

from __future__ import annotations

from datetime import datetime

from prefect import flow, task
from prefect.cache_policies import INPUTS, TASK_SOURCE

from flows._store import open_store
from flows.ingest import data_version_task
from ranking.lifecycle import train_model

__all__ = ["train_task", "train_dask_task", "train"]


@task(name="train", cache_policy=INPUTS + TASK_SOURCE)
def train_task(db_path: str, now: datetime | None, data_version: str) -> str:
    """Train and register; returns the version.

    Training is seeded, so the same data gives the same model: caching on ``data_version``
    makes a re-run (or a retry after a later step crashed) reuse the registered version instead
    of registering a duplicate.
    """
    with open_store(db_path) as con:
        return train_model(con, db_path, now).version


@task(name="train-dask", cache_policy=INPUTS + TASK_SOURCE)
def train_dask_task(db_path: str, now: datetime | None, data_version: str,
                    scheduler: str) -> str:
    """``train_task`` with the ranker's boosters trained on the Dask cluster at ``scheduler``
    (LightGBM's Dask estimators); the same training otherwise. Returns the version."""
    from distributed import Client

    with Client(scheduler) as client, open_store(db_path) as con:
        return train_model(con, db_path, now, executor=client).version


@flow(name="train")
def train(db_path: str = "feedwell.duckdb", now: datetime | None = None) -> str:
    """Train a candidate ranker version."""
    return train_task(db_path, now, data_version_task(db_path))


if __name__ == "__main__":
    print(train())
