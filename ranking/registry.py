"""Model registry: versioned model directories beside the DuckDB file, indexed in DuckDB.

A version moves ``candidate -> published -> archived``. Only one version is published at a
time; ``restore`` publishes an earlier one again. Model files live under
``<db stem>_models/<version>/`` with a ``meta.json`` (features, parameters, data range, metrics).
The table's DDL is in ``features/schema.py``; ``ensure_registry`` and ``models_root`` are
re-exported here for the registry's callers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from features.errors import PipelineError
from features.schema import ensure_registry
from features.store import models_root

__all__ = [
    "ModelRecord", "TrainResult", "models_root", "ensure_registry", "new_version", "register",
    "publish", "restore", "published", "serving", "get", "list_versions", "record_metrics",
]


@dataclass(frozen=True)
class ModelRecord:
    version: str
    created_at: datetime
    status: str
    path: str
    metrics: dict[str, Any]
    params: dict[str, Any]
    features: list[str]
    data_from: datetime | None
    data_to: datetime | None


@dataclass(frozen=True)
class TrainResult:
    """A version just trained and registered as a candidate: its name, folder and fit report."""

    version: str
    path: Path
    report: dict[str, Any]


def new_version(con: duckdb.DuckDBPyConnection) -> str:
    """A sortable, unique version name: ``vYYYYMMDD-HHMMSS-N``."""
    ensure_registry(con)
    stamp = datetime.now(UTC).strftime("v%Y%m%d-%H%M%S")
    n = con.execute(
        "SELECT count(*) FROM model_registry WHERE version LIKE ?", [stamp + "%"]
    ).fetchall()[0][0]
    return f"{stamp}-{n}"


def register(
    con: duckdb.DuckDBPyConnection,
    db_path: str | Path,
    version: str,
    *,
    metrics: dict[str, Any],
    params: dict[str, Any],
    features: list[str],
    data_from: datetime | None,
    data_to: datetime | None,
) -> Path:
    """Record a trained model whose files are already in ``models_root(db_path)/version``."""
    ensure_registry(con)
    path = models_root(db_path) / version
    meta = {"version": version, "metrics": metrics, "params": params, "features": features,
            "data_from": str(data_from), "data_to": str(data_to)}
    path.mkdir(parents=True, exist_ok=True)
    (path / "meta.json").write_text(json.dumps(meta, indent=2, default=str))
    con.execute(
        "INSERT OR REPLACE INTO model_registry VALUES (?, ?, 'candidate', ?, ?, ?, ?, ?, ?, NULL)",
        [version, datetime.now(UTC).replace(tzinfo=None), str(path.resolve()),
         json.dumps(metrics, default=str), json.dumps(params, default=str),
         json.dumps(features), data_from, data_to],
    )
    return path


def record_metrics(con: duckdb.DuckDBPyConnection, version: str, metrics: dict[str, Any]
                   ) -> None:
    """Record an evaluation's ``metrics`` on ``version`` (they replace what it had).

    Raises:
        PipelineError: there is no such version.
    """
    get(con, version)
    con.execute("UPDATE model_registry SET metrics = ? WHERE version = ?",
                [json.dumps(metrics, default=str), version])


def _row(r: tuple) -> ModelRecord:
    return ModelRecord(r[0], r[1], r[2], r[3], json.loads(r[4] or "{}"),
                       json.loads(r[5] or "{}"), json.loads(r[6] or "[]"), r[7], r[8])


_COLS = "version, created_at, status, path, metrics, params, features, data_from, data_to"


def get(con: duckdb.DuckDBPyConnection, version: str) -> ModelRecord:
    ensure_registry(con)
    rows = con.execute(f"SELECT {_COLS} FROM model_registry WHERE version = ?",
                       [version]).fetchall()
    if not rows:
        raise PipelineError(f"no model version {version!r}; `feedwell models` lists them")
    return _row(rows[0])


def published(con: duckdb.DuckDBPyConnection) -> ModelRecord | None:
    """The version in force, or None before the first publish."""
    ensure_registry(con)
    rows = con.execute(
        f"SELECT {_COLS} FROM model_registry WHERE status = 'published' "
        "ORDER BY published_at DESC LIMIT 1"
    ).fetchall()
    return _row(rows[0]) if rows else None


def serving(con: duckdb.DuckDBPyConnection) -> ModelRecord | None:
    """The version the feed serves: the published one; before any publish, the newest trained
    version the gate has not rejected (better than popularity for a store that was trained
    but never evaluated); None when there is neither."""
    rec = published(con)
    if rec is not None:
        return rec
    rows = con.execute(
        f"SELECT {_COLS} FROM model_registry WHERE status = 'candidate' "
        "AND NOT EXISTS (SELECT 1 FROM model_registry WHERE status IN ('published', 'archived'))"
        " ORDER BY created_at DESC, version DESC LIMIT 1"
    ).fetchall()
    return _row(rows[0]) if rows else None


def list_versions(con: duckdb.DuckDBPyConnection) -> list[ModelRecord]:
    ensure_registry(con)
    rows = con.execute(f"SELECT {_COLS} FROM model_registry ORDER BY created_at, version"
                       ).fetchall()
    return [_row(r) for r in rows]


def _set_published(con: duckdb.DuckDBPyConnection, version: str) -> None:
    # One transaction: a stop between the two updates must not leave nothing published.
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("UPDATE model_registry SET status = 'archived' WHERE status = 'published'")
        con.execute(
            "UPDATE model_registry SET status = 'published', published_at = ? WHERE version = ?",
            [datetime.now(UTC).replace(tzinfo=None), version],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def publish(con: duckdb.DuckDBPyConnection, version: str, gate_passed: bool, why: str) -> None:
    """Publish ``version`` if the evaluation gate passed; otherwise raise and keep the current.

    Raises:
        PipelineError: the gate failed (the message says why); nothing changes.
    """
    get(con, version)
    if not gate_passed:
        con.execute("UPDATE model_registry SET status = 'rejected' WHERE version = ?", [version])
        raise PipelineError(f"model {version} not published: {why}")
    _set_published(con, version)


def restore(con: duckdb.DuckDBPyConnection, version: str | None = None) -> str:
    """Publish an earlier version again (default: the one published before the current)."""
    ensure_registry(con)
    if version is None:
        rows = con.execute(
            "SELECT version FROM model_registry WHERE status = 'archived' "
            "ORDER BY published_at DESC LIMIT 1"
        ).fetchall()
        if not rows:
            raise PipelineError("no earlier published model to restore")
        version = rows[0][0]
    rec = get(con, version)
    if not Path(rec.path).is_dir():
        raise PipelineError(f"model files for {version} are missing at {rec.path}")
    _set_published(con, version)
    return version
