"""Ingest flow: load a data directory into the store (retried: files and the DB file are I/O)."""

from __future__ import annotations

from datetime import datetime

from prefect import flow, task

from features.ingest import ingest_dir
from flows._policy import IO_RETRIES, IO_RETRY_DELAYS, retry_transient
from flows._store import data_version, open_store

__all__ = ["ingest_task", "data_version_task", "ingest"]


@task(name="ingest", retries=IO_RETRIES, retry_delay_seconds=IO_RETRY_DELAYS,
      retry_condition_fn=retry_transient)
def ingest_task(db_path: str, data_dir: str, now: datetime | None = None) -> dict[str, dict]:
    """Load ``data_dir`` (idempotent and one transaction: a retry after a crash adds nothing)."""
    with open_store(db_path) as con:
        reports = ingest_dir(con, data_dir, now)
    return {name: {k: v for k, v in rep.as_dict().items() if k != "files"}
            for name, rep in reports.items()}


@task(name="data-version", retries=IO_RETRIES, retry_delay_seconds=IO_RETRY_DELAYS)
def data_version_task(db_path: str) -> str:
    """The store's data version: the cache key of every deterministic step downstream."""
    with open_store(db_path) as con:
        return data_version(con)


@flow(name="ingest", log_prints=False)
def ingest(db_path: str = "feedwell.duckdb", data_dir: str = "data",
           now: datetime | None = None) -> dict[str, dict]:
    """Load one data directory into the store."""
    return ingest_task(db_path, data_dir, now)


if __name__ == "__main__":
    import sys

    print(ingest(data_dir=sys.argv[1] if len(sys.argv) > 1 else "data"))
