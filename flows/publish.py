"""Publish flow: the gate. A version that did not pass evaluation raises and nothing changes."""

from __future__ import annotations

from prefect import flow, task

from features.errors import PipelineError
from flows._policy import IO_RETRIES, IO_RETRY_DELAYS, retry_transient
from flows._store import open_store
from ranking.evaluation.result import EvaluationResult
from ranking.lifecycle import publish_version

__all__ = ["publish_task", "publish"]


@task(name="publish", retries=IO_RETRIES, retry_delay_seconds=IO_RETRY_DELAYS,
      retry_condition_fn=retry_transient)
def publish_task(db_path: str, evaluation: EvaluationResult) -> str:
    """Publish the evaluated version; raises ``PipelineError`` (never retried) if the gate failed.

    Publishing is idempotent: publishing the version already in force leaves it in force.
    """
    with open_store(db_path) as con:
        return publish_version(con, evaluation)


@flow(name="publish")
def publish(db_path: str = "feedwell.duckdb", evaluation: EvaluationResult | None = None
            ) -> str:
    """Publish an evaluation's version if its gate passed."""
    if evaluation is None:
        raise PipelineError("nothing to publish: train a model first (`feedwell train`)")
    return publish_task(db_path, evaluation)


if __name__ == "__main__":
    from flows.evaluate import evaluate

    print(publish(evaluation=evaluate()))
