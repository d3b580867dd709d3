"""Read what the report shows from the marts, filtered to a date range."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from features.schema import ensure_registry
from features.store import models_root

AGE_BANDS = ("child", "teen_13_15", "teen_16_17", "adult", "unknown")
# Every dated mart has a `day` column; NULL bounds mean "open".
_IN_RANGE = ("($start::DATE IS NULL OR day >= $start::DATE) "
             "AND ($end::DATE IS NULL OR day <= $end::DATE)")


@dataclass
class ReportData:
    """The frames behind each chart (empty frames mean "no data yet")."""

    start: date | None
    end: date | None
    daily: pl.DataFrame
    sessions: pl.DataFrame
    late_night: pl.DataFrame
    usage_hour: pl.DataFrame
    interventions: pl.DataFrame
    removals: pl.DataFrame
    teen: pl.DataFrame
    models: pl.DataFrame
    importance: pl.DataFrame
    published: str | None
    importance_note: str
    metrics: pl.DataFrame
    metrics_version: str | None
    band_users: pl.DataFrame
    creation: pl.DataFrame = field(default_factory=pl.DataFrame)
    """``mart_creation_connection``: daily creation rate and connection share of views."""
    tradeoff: pl.DataFrame = field(default_factory=pl.DataFrame)
    """The evaluation's creation trade-off: ``holdout, factor, ndcg, creation`` (the
    creation weights times ``factor``; ``ranking.evaluation.actions``)."""


def _q(con: duckdb.DuckDBPyConnection, sql: str, start: date | None, end: date | None
       ) -> pl.DataFrame:
    params = {k: v for k, v in (("start", start), ("end", end)) if f"${k}" in sql}
    return con.sql(sql, params=params).pl() if params else con.sql(sql).pl()


def feature_importance(path: Path) -> pl.DataFrame:
    """Gain importance per feature of the LightGBM model in ``path/lgbm.txt``, largest first."""
    import lightgbm as lgb

    booster = lgb.Booster(model_file=str(path / "lgbm.txt"))
    gain = booster.feature_importance("gain")
    frame = pl.DataFrame({"feature": booster.feature_name(), "gain": [float(g) for g in gain]})
    return frame.sort("gain", descending=True)


def _importance(con: duckdb.DuckDBPyConnection, db_path: str | Path | None
                ) -> tuple[pl.DataFrame, str | None, str]:
    empty = pl.DataFrame(schema={"feature": pl.String, "gain": pl.Float64})
    # The registry table read as data (ranking/registry.py writes it; the report only reads).
    ensure_registry(con)
    rows = con.execute("SELECT version, path FROM model_registry WHERE status = 'published' "
                       "ORDER BY published_at DESC LIMIT 1").fetchall()
    if not rows:
        return empty, None, "No model has been published yet (feedwell train, then publish)."
    version, model_path = rows[0]
    candidates = [Path(model_path)]
    if db_path is not None:
        candidates.append(models_root(db_path) / version)
    for path in candidates:
        if (path / "lgbm.txt").exists():
            return feature_importance(path), version, f"Published model {version}."
    return empty, version, f"Published model {version} has no lgbm.txt at {model_path}."


def latest_metrics(con: duckdb.DuckDBPyConnection) -> tuple[pl.DataFrame, str | None]:
    """Every metric of every model in the newest evaluated version: ``(frame, version)``.

    The frame has ``model, metric, value`` and a ``status`` column; no evaluation yet gives an
    empty frame and None.
    """
    import json

    schema = {"model": pl.String, "metric": pl.String, "value": pl.Float64, "status": pl.String}
    rows = con.execute("SELECT version, status, metrics FROM model_registry "
                       "ORDER BY created_at DESC, version DESC").fetchall()
    for version, status, raw in rows:
        metrics = json.loads(raw) if isinstance(raw, str) else (raw or {})
        out = [(model, metric, float(v), status)
               for model, values in metrics.items() if isinstance(values, dict)
               for metric, v in values.items()
               if isinstance(v, int | float) and not isinstance(v, bool) and v == v
               and model not in ("gate", "selection", "action_figures")]
        if any(m == "ranker" for m, *_ in out):
            return pl.DataFrame(out, schema=schema, orient="row"), version
    return pl.DataFrame(schema=schema), None


def latest_tradeoff(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The creation trade-off of the newest evaluation that has one (empty: none)."""
    import json

    schema = {"holdout": pl.String, "factor": pl.Float64, "ndcg": pl.Float64,
              "creation": pl.Float64}
    rows = con.execute("SELECT metrics FROM model_registry "
                       "ORDER BY created_at DESC, version DESC").fetchall()
    for (raw,) in rows:
        metrics = json.loads(raw) if isinstance(raw, str) else (raw or {})
        figs = metrics.get("action_figures") or {}
        out = []
        for h, f in figs.items():
            t = (f or {}).get("tradeoff") or {}
            for p in t.get("points") or []:
                nd = next((v for k, v in p.items() if k.startswith("ndcg@")), None)
                cr = next((v for k, v in p.items() if k.startswith("creation@")), None)
                if nd is not None and cr is not None:
                    out.append((h, float(p["factor"]), float(nd), float(cr)))
        if out:
            return pl.DataFrame(out, schema=schema, orient="row")
    return pl.DataFrame(schema=schema)


def load_report_data(con: duckdb.DuckDBPyConnection, start: date | None = None,
                     end: date | None = None, db_path: str | Path | None = None) -> ReportData:
    """Query every mart the report draws on (the marts must exist: ``create_marts``)."""
    w = f"WHERE {_IN_RANGE}"
    importance, version, note = _importance(con, db_path)
    metrics, metrics_version = latest_metrics(con)
    return ReportData(
        start=start,
        end=end,
        daily=_q(con, f"SELECT * FROM mart_daily_engagement {w} ORDER BY day", start, end),
        sessions=_q(con, f"SELECT age_band, minutes, videos FROM mart_sessions {w}", start, end),
        late_night=_q(con, f"""
            SELECT day, age_band,
                   (sum(late_night_share * events) / sum(events))::DOUBLE AS late_share,
                   sum(events)::BIGINT AS events
            FROM mart_sessions {w} GROUP BY ALL ORDER BY day, age_band""", start, end),
        usage_hour=_q(con, f"""
            SELECT age_band, local_hour, count(DISTINCT user_id) AS users,
                   coalesce(sum(watch_ms) FILTER (WHERE type = 'view'), 0) / 60000.0 AS minutes
            FROM mart_event_facts {w} GROUP BY ALL ORDER BY age_band, local_hour""", start, end),
        interventions=_q(con, f"""
            SELECT day, rule, sum(interventions)::BIGINT AS n FROM mart_interventions {w}
            GROUP BY ALL ORDER BY day, rule""", start, end),
        removals=_q(con, f"""
            SELECT reason, sum(removals)::BIGINT AS n FROM mart_removals {w}
            GROUP BY ALL ORDER BY n DESC""", start, end),
        teen=_q(con, f"SELECT * FROM mart_teen_sensitive_exposure {w} ORDER BY day", start, end),
        models=_q(con, "SELECT * FROM mart_model_quality", start, end),
        importance=importance,
        published=version,
        importance_note=note,
        metrics=metrics,
        metrics_version=metrics_version,
        band_users=_q(con, f"""
            SELECT age_band, count(DISTINCT user_id) AS users FROM mart_event_facts {w}
            GROUP BY ALL""", start, end),
        creation=_q(con, f"SELECT * FROM mart_creation_connection {w} ORDER BY day",
                    start, end),
        tradeoff=latest_tradeoff(con),
    )
