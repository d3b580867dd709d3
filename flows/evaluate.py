"""Evaluate flow: the ranker against its baselines on a temporal split, with the gate verdict."""

from __future__ import annotations

from datetime import datetime

from prefect import flow, task
from prefect.cache_policies import INPUTS, TASK_SOURCE

from flows._store import open_store
from flows.ingest import data_version_task
from ranking.evaluation.result import EvaluationResult
from ranking.lifecycle import evaluate_version

__all__ = ["evaluate_task", "evaluate"]


@task(name="evaluate", cache_policy=INPUTS + TASK_SOURCE)
def evaluate_task(db_path: str, version: str | None, now: datetime | None, k: int,
                  data_version: str) -> EvaluationResult:
    """Evaluate and record the metrics on ``version``; returns the evaluation (with ``gate``)."""
    with open_store(db_path) as con:
        return evaluate_version(con, version, now, k)


@flow(name="evaluate")
def evaluate(db_path: str = "feedwell.duckdb", version: str | None = None,
             now: datetime | None = None, k: int = 10) -> EvaluationResult:
    """Evaluate a version (default: the newest)."""
    return evaluate_task(db_path, version, now, k, data_version_task(db_path))


if __name__ == "__main__":
    print(evaluate().table)
