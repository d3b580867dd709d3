"""Train, evaluate and publish: the model lifecycle that flows and the CLI call.

Publishing serves the evaluation's best (``ranking.evaluation.selection``): the version keeps every
fitted source, so the ranker, a single source or a popularity variant can be served from it,
with the chosen fallback for new and light users. The gate refuses only an evaluation that had
no known test users to choose on. ``publish`` reuses the evaluation recorded on the version
when it was made on the same data, ``now``, ``k`` and objective (``recorded_evaluation``), so
the gate reads the same figures without paying for them twice.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from features.errors import PipelineError
from features.store import data_version
from ranking import registry
from ranking.evaluation.result import EvaluationResult, Gate
from ranking.evaluation.selection import Selection, default_fallbacks
from ranking.registry import TrainResult
from ranking.serving import ServingChoice, read_config, read_objective, write_objective

__all__ = ["TrainResult", "train_model", "evaluate_version", "gate", "publish_version",
           "evaluation_key", "recorded_evaluation", "evaluation_to_publish"]


def _data_range(con: duckdb.DuckDBPyConnection, now: datetime | None) -> tuple:
    if now is None:
        return tuple(con.execute("SELECT min(ts), max(ts) FROM events").fetchall()[0])
    return tuple(con.execute("SELECT min(ts), max(ts) FROM events WHERE ts < ?",
                             [now]).fetchall()[0])


def train_model(con: duckdb.DuckDBPyConnection, db_path: str | Path,
                now: datetime | None = None, config: Any = None, executor: Any = None
                ) -> TrainResult:
    """Train the two-stage ranker as of ``now`` and register it as a candidate version.

    Args:
        executor: a Dask ``distributed.Client`` to train the ranker's boosters on (None: this
            process); the same training either way (``LtrRanker.fit``).

    Raises:
        PipelineError: there are no events to learn from.
    """
    from ranking.ltr import release_free_memory, train_ranker

    lo, hi = _data_range(con, now)
    if lo is None:
        raise PipelineError("no events in the store: run `feedwell ingest DATA_DIR` first")
    ranker = train_ranker(con, now, config, executor)
    version = registry.new_version(con)
    path = registry.models_root(db_path) / version
    ranker.save(path)
    registry.register(con, db_path, version, metrics={}, params=json.loads(
        json.dumps(ranker.report.get("params", {}), default=str)),
        features=list(ranker.features), data_from=lo, data_to=hi)
    report = ranker.report
    # The fitted ranker (its data, sources and boosters) goes now, and the heap it leaves is
    # handed back: the daily flow evaluates next in this process.
    del ranker
    release_free_memory()
    return TrainResult(version, path, report)


def gate(result: EvaluationResult, k: int) -> tuple[bool, str]:
    """Whether an evaluation may be published, and why: the evaluation chose a model on known
    test users (every candidate, the popularity variants included, competes, so the choice
    is never below plain popularity)."""
    sel = result.selection
    if sel is None or sum(sel.weights.values()) == 0:
        return False, "no known test users in either holdout: nothing to choose a model on"
    return True, sel.why


def evaluate_version(con: duckdb.DuckDBPyConnection, version: str | None = None,
                     now: datetime | None = None, k: int = 10,
                     objective: dict[str, float] | None = None) -> EvaluationResult:
    """Evaluate the ranker configuration against baselines on a temporal split.

    The metrics are recorded on ``version`` (default: the newest trained version).
    ``objective``: the action weights to judge the ``actions`` model with (None: the
    version's own).
    """
    from ranking.evaluation.run import evaluate_models, format_table

    t0 = time.perf_counter()
    if version is None:
        version = _newest(con)
    config = None
    if version is not None:
        # The version's own configuration (its sources, grid): what the evaluation chooses
        # among is what the version can serve.
        path = registry.get(con, version).path
        config = read_config(path)
        if objective is None:
            objective = read_objective(path)
    result = evaluate_models(con, now=now, k=k, config=config, objective=objective)
    if version is not None:
        t = time.perf_counter()
        result = replace(result, guardrails=guardrails_for(con, version, now, k),
                         guardrails_seconds=round(time.perf_counter() - t, 1))
    result = replace(result, seconds=round(time.perf_counter() - t0, 1))
    result = replace(result, table=format_table(result))
    ok, why = gate(result, k)
    served = result.selection.served if result.selection is not None else None
    result = replace(result, gate=Gate(passed=ok, why=why, version=version, served=served))
    if version is not None:
        registry.record_metrics(con, version, {**result.registry_metrics(),
                                               "evaluated_on": evaluation_key(con, now, k,
                                                                              objective)})
    return result


def evaluation_key(con: duckdb.DuckDBPyConnection, now: datetime | None, k: int,
                   objective: dict[str, float] | None) -> dict[str, Any]:
    """What an evaluation's figures depend on besides the version: the store's data version,
    ``now``, ``k`` and the objective it judged the ``actions`` model with."""
    return json.loads(json.dumps({"data_version": data_version(con),
                                  "now": now.isoformat() if now is not None else None,
                                  "k": k, "objective": objective}))


def _newest(con: duckdb.DuckDBPyConnection) -> str | None:
    versions = registry.list_versions(con)
    return versions[-1].version if versions else None


def recorded_evaluation(con: duckdb.DuckDBPyConnection, version: str, now: datetime | None = None,
                        k: int = 10, objective: dict[str, float] | None = None
                        ) -> EvaluationResult | None:
    """The evaluation recorded on ``version``, if it was made on the same data, ``now``, ``k``
    and objective (None: the version's own); None when nothing valid is recorded.

    It carries what publishing reads (the choice, the gate, the objective) and the
    time-forward metrics; the per-user scores and the replays are not kept.
    """
    from ranking.evaluation.run import format_table

    rec = registry.get(con, version)
    if objective is None:
        objective = read_objective(rec.path)
    m = rec.metrics
    if (m.get("evaluated_on") != evaluation_key(con, now, k, objective) or not m.get("gate")
            or m["gate"].get("version") != version):
        return None
    sel = Selection(**m["selection"]) if m.get("selection") else None
    models = {n: v for n, v in m.items()
              if n not in ("gate", "selection", "action_figures", "evaluated_on")}
    result = EvaluationResult(k=k, models=models, n_users=sum((sel.weights or {}).values())
                              if sel is not None else 0, selection=sel, objective=objective,
                              gate=Gate(**m["gate"]))
    return replace(result, table=format_table(result))


def evaluation_to_publish(con: duckdb.DuckDBPyConnection, now: datetime | None = None,
                          k: int = 10, objective: dict[str, float] | None = None
                          ) -> tuple[EvaluationResult, bool]:
    """The newest version's evaluation for ``publish``: the recorded one when it is valid
    (``recorded_evaluation``), else a new one (``evaluate_version``).

    Returns:
        The evaluation, and whether it was the recorded one.
    """
    version = _newest(con)
    if version is not None:
        got = recorded_evaluation(con, version, now, k, objective)
        if got is not None:
            return got, True
    return evaluate_version(con, version, now, k, objective), False


def publish_version(con: duckdb.DuckDBPyConnection, evaluation: EvaluationResult) -> str:
    """Publish the evaluated version serving what the evaluation chose, with the objective it
    was judged with (``evaluation.objective``); raise PipelineError if the gate did not
    pass (nothing changes then)."""
    g = evaluation.gate
    if g is None or g.version is None:
        raise PipelineError("nothing to publish: train a model first (`feedwell train`)")
    if g.passed and evaluation.selection is not None:
        path = registry.get(con, g.version).path
        apply_selection(path, evaluation.selection)
        if evaluation.objective is not None:
            write_objective(path, evaluation.objective)
    registry.publish(con, g.version, g.passed, g.why)
    return g.version


def apply_selection(path: str | Path, selection: Selection) -> ServingChoice:
    """Write the evaluation's choice into a version's files (its lists are rebuilt)."""
    from ranking.ltr import LtrRanker

    variants = {**default_fallbacks(), **selection.fallback_params}
    names = {selection.fallback, selection.served} & set(variants)
    choice = ServingChoice.named(selection.served, fallback=selection.fallback,
                                 popularity={n: variants[n] for n in sorted(names)},
                                 backoff_below=int(selection.backoff_below),
                                 why=selection.why)
    ranker = LtrRanker.load(path)
    if ranker.serving != choice:
        ranker.set_serving(choice)
        ranker.save(path)
    return choice


def guardrails_for(con: duckdb.DuckDBPyConnection, version: str, now: datetime | None,
                   k: int = 10) -> dict[str, Any]:
    """Replay the last fifth of the data with and without the policy (see
    ``ranking.evaluation.guardrails``)."""
    from ranking.evaluation.guardrails import replay_guardrails
    from ranking.feed.engine import FeedEngine
    from ranking.feed.pipeline import default_pipeline
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
