"""Publish flow: the gate. A version that did not pass evaluation raises and nothing changes."""

from __future__ import annotations

from typing import Any

from prefect import flow, task

from flows._policy import IO_RETRIES, IO_RETRY_DELAYS, retry_transient
from flows._store import open_store
from ranking.lifecycle import publish_version

__all__ = ["publish_task", "publish"]


@task(name="publish", retries=IO_RETRIES, retry_delay_seconds=IO_RETRY_DELAYS,
      retry_condition_fn=retry_transient)
def publish_task(db_path: str, evaluation: dict[str, Any]) -> str:
    """Publish the evaluated version; raises ``PipelineError`` (never retried) if the gate failed.

    Publishing is idempotent: publishing the version already in force leaves it in force.
    """
    with open_store(db_path) as con:
        return publish_version(con, evaluation)


@flow(name="publish")
def publish(db_path: str = "feedwell.duckdb", evaluation: dict[str, Any] | None = None) -> str:
    """Publish an evaluation's version if its gate passed."""
    return publish_task(db_path, evaluation or {})


if __name__ == "__main__":
    from flows.evaluate import evaluate

    print(publish(evaluation=evaluate()))
