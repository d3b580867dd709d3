"""Train, evaluate and publish: the model lifecycle that flows and the CLI call.

The publish gate: a trained version is published only when, on the same temporal split, the
ranker beats every baseline on NDCG@k and is not worse than the published version's recorded
NDCG@k by more than ``tolerance`` (daily retrains on new data move a little either way; a
strict "better than yesterday" would block most refreshes).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from features.errors import PipelineError
from ranking import registry

__all__ = ["TrainResult", "train_model", "evaluate_version", "gate", "publish_version"]


@dataclass(frozen=True)
class TrainResult:
    version: str
    path: Path
    report: dict[str, Any]


def _data_range(con: duckdb.DuckDBPyConnection, now: datetime | None) -> tuple:
    if now is None:
        return tuple(con.execute("SELECT min(ts), max(ts) FROM events").fetchall()[0])
    return tuple(con.execute("SELECT min(ts), max(ts) FROM events WHERE ts < ?",
                             [now]).fetchall()[0])


def train_model(con: duckdb.DuckDBPyConnection, db_path: str | Path,
                now: datetime | None = None, config: Any = None) -> TrainResult:
    """Train the two-stage ranker as of ``now`` and register it as a candidate version.

    Raises:
        PipelineError: there are no events to learn from.
    """
    from ranking.ltr import train_ranker

    lo, hi = _data_range(con, now)
    if lo is None:
        raise PipelineError("no events in the store: run `feedwell ingest DATA_DIR` first")
    ranker = train_ranker(con, now, config)
    version = registry.new_version(con)
    path = registry.models_root(db_path) / version
    ranker.save(path)
    registry.register(con, db_path, version, metrics={}, params=json.loads(
        json.dumps(ranker.report.get("params", {}), default=str)),
        features=list(ranker.features), data_from=lo, data_to=hi)
    return TrainResult(version, path, ranker.report)


def gate(result: dict[str, Any], current: registry.ModelRecord | None, k: int,
         tolerance: float = 0.02) -> tuple[bool, str]:
    """Whether an evaluation result may be published, and why (or why not)."""
    from ranking.evaluate import passes_gate

    key = f"ndcg@{k}"
    ours = result["models"]["ranker"][key]
    # Baselines that only score pairs (e.g. like-rate for the AUC check) have no NDCG.
    base = {n: m for n, m in result["models"].items() if n != "ranker" and key in m}
    if not passes_gate(result["models"]["ranker"], base, k=k):
        best = max(base.items(), key=lambda kv: kv[1][key])
        return False, (f"ranker {key}={ours:.4f} does not beat baseline {best[0]} "
                       f"({best[1][key]:.4f})")
    if current is not None and key in current.metrics.get("ranker", {}):
        cur = current.metrics["ranker"][key]
        if ours < cur * (1 - tolerance):
            return False, (f"ranker {key}={ours:.4f} is worse than published {current.version} "
                           f"({cur:.4f}) by more than {tolerance:.0%}")
    return True, f"ranker {key}={ours:.4f} beats every baseline"


def evaluate_version(con: duckdb.DuckDBPyConnection, version: str | None = None,
                     now: datetime | None = None, k: int = 10) -> dict[str, Any]:
    """Evaluate the ranker configuration against baselines on a temporal split.

    The metrics are recorded on ``version`` (default: the newest trained version).
    """
    from ranking.evaluate import evaluate_models

    if version is None:
        versions = registry.list_versions(con)
        version = versions[-1].version if versions else None
    result = evaluate_models(con, now=now, k=k)
    if version is not None:
        result["guardrails"] = guardrails_for(con, version, now, k)
    current = registry.published(con)
    ok, why = gate(result, current if current and current.version != version else None, k)
    result["gate"] = {"passed": ok, "why": why, "version": version}
    if version is not None:
        con.execute("UPDATE model_registry SET metrics = ? WHERE version = ?",
                    [json.dumps({**result["models"], "gate": result["gate"]}, default=str),
                     version])
    return result


def publish_version(con: duckdb.DuckDBPyConnection, evaluation: dict[str, Any]) -> str:
    """Publish the evaluated version if its gate passed; raise PipelineError otherwise."""
    g = evaluation.get("gate") or {}
    version = g.get("version")
    if version is None:
        raise PipelineError("nothing to publish: train a model first (`feedwell train`)")
    registry.publish(con, version, bool(g.get("passed")), g.get("why", "gate not passed"))
    return version


def guardrails_for(con: duckdb.DuckDBPyConnection, version: str, now: datetime | None,
                   k: int = 10) -> dict[str, Any]:
    """Replay the last fifth of the data with and without the policy (see guardrail_replay)."""
    from ranking.feed.engine import FeedEngine
    from ranking.feed.pipeline import default_pipeline
    from ranking.guardrail_replay import replay_guardrails
    from ranking.ltr import LtrRanker

    q = "SELECT quantile_disc(ts, 0.8), max(ts) FROM events" + (" WHERE ts < ?" if now else "")
    start, end = con.execute(q, [now] if now else []).fetchall()[0]
    if start is None:
        return {}
    pipeline = default_pipeline()
    pipeline.side_effects = []  # a replay is not a real request: nothing goes to the audit log
    engine = FeedEngine(":memory:", con=con, pipeline=pipeline)
    engine.ranker = LtrRanker.load(registry.get(con, version).path)
    engine.model_version = version
    return replay_guardrails(engine, start, end, k=k)
