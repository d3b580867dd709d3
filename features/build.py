"""The feature runner: bind ``$now``, run each set's SQL in dependency order, check, materialise.

"As of ``now``" means strictly before it: an event with ``ts >= now`` never counts. The default
``now`` is the latest event's time plus one microsecond, so the latest event does count.
Sets that others read (``stg_*``) are built as TEMP tables under their own name; public sets
are written to ``feat_<name>`` with an ``as_of`` column, replaced on every run.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import duckdb
import polars as pl

from features.catalog import Catalog, FeatureSet, load_catalog
from features.errors import ConfigError, DataError
from wellbeing.sessions import to_utc_naive

__all__ = [
    "BuiltSet", "build_features", "build_feature_tables", "default_now", "set_sql",
    "inline_params", "check_set",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuiltSet:
    """Where a built feature set lives and how many rows it has."""

    table: str
    rows: int
_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def default_now(con: duckdb.DuckDBPyConnection) -> datetime:
    """The latest event time plus 1 µs (so it counts), or the wall clock on an empty store."""
    latest = con.execute("SELECT max(ts) FROM events").fetchall()[0][0]
    if latest is None:
        return datetime.now(UTC).replace(tzinfo=None)
    return latest + timedelta(microseconds=1)


def _literal(v: object) -> str:
    if isinstance(v, datetime):
        return f"TIMESTAMP '{v.isoformat(sep=' ')}'"
    if isinstance(v, str):
        return "'" + v.replace("'", "''") + "'"
    return repr(v)


def inline_params(sql: str, params: dict) -> str:
    """Substitute ``$name`` parameters as SQL literals (views cannot take bound parameters)."""
    return _PARAM.sub(lambda m: _literal(params[m.group(1)]), sql)


def set_sql(catalog: Catalog, fs: FeatureSet, now: datetime) -> tuple[str, dict]:
    """A set's SQL text and the parameters it uses (``$now`` plus catalog params)."""
    sql = fs.sql_path.read_text()
    values = {**catalog.params, **fs.params, "now": to_utc_naive(now)}
    used = sorted(set(_PARAM.findall(sql)))
    missing = [p for p in used if p not in values]
    if missing:
        raise ConfigError(
            f"feature set '{fs.name}' uses ${missing[0]} but features.yaml sets no such param"
        )
    return sql, {p: values[p] for p in used}


def check_set(con: duckdb.DuckDBPyConnection, fs: FeatureSet, table: str) -> None:
    """Enforce a set's declared columns and checks on its built table.

    Raises:
        DataError: a check fails; the message names the set, the column and the check.
        ConfigError: the SQL's columns differ from the ones declared in features.yaml.
    """
    specs = fs.expanded_columns()
    actual = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall() if r[0] != "as_of"]
    extra, absent = sorted(set(actual) - set(specs)), sorted(set(specs) - set(actual))
    if extra or absent:
        raise ConfigError(
            f"feature set '{fs.name}': SQL columns differ from features.yaml "
            f"(undeclared: {extra}, not produced: {absent})"
        )
    probes: list[tuple[str, str, str]] = []
    for col, spec in specs.items():
        q = f'"{col}"'
        if spec.not_null:
            probes.append((col, "not_null", f"{q} IS NULL"))
        if spec.min is not None:
            probes.append((col, f"min {spec.min:g}", f"{q} < {spec.min!r} OR isnan({q}::DOUBLE)"))
        if spec.max is not None:
            probes.append((col, f"max {spec.max:g}", f"{q} > {spec.max!r} OR isnan({q}::DOUBLE)"))
        if spec.accepted_values is not None:
            vals = ", ".join(repr(v) for v in spec.accepted_values)
            probes.append((col, "accepted_values", f"{q} NOT IN ({vals})"))
    if probes:
        sel = ", ".join(f"count(*) FILTER (WHERE {cond})" for _, _, cond in probes)
        counts = con.execute(f"SELECT {sel} FROM {table}").fetchall()[0]
        for (col, check, _), n in zip(probes, counts, strict=True):
            if n:
                raise DataError(
                    f"feature set '{fs.name}': column '{col}' failed check {check} ({n} rows)"
                )
    if fs.key:
        keys = ", ".join(f'"{k}"' for k in fs.key)
        dup = con.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {table} GROUP BY {keys} HAVING count(*) > 1)"
        ).fetchall()[0][0]
        if dup:
            raise DataError(
                f"feature set '{fs.name}': key ({', '.join(fs.key)}) failed check unique "
                f"({dup} duplicated keys)"
            )


def build_feature_tables(
    con: duckdb.DuckDBPyConnection,
    now: datetime | None = None,
    sets: list[str] | None = None,
    materialize: bool = True,
) -> dict[str, BuiltSet]:
    """Compute feature sets as of ``now`` (events with ``ts < now`` only) into checked tables.

    Args:
        con: a store connection with the raw tables.
        now: the as-of time (naive UTC; aware times are converted). Default: latest event + 1 µs.
        sets: set names to build (their dependencies are built too). Default: every set.
        materialize: write ``feat_<name>`` tables (with ``as_of``); else TEMP tables
            ``_tmp_feat_<name>`` the caller drops (see :func:`drop_tables`).

    Returns:
        The table and row count of each public set built (``view`` staging sets excluded).

    Raises:
        DataError: a column check failed (the message names set, column and check).
        ConfigError: an unknown set name or a catalog/SQL mismatch.
    """
    catalog = load_catalog()
    now = to_utc_naive(now) if now is not None else default_now(con)
    plan = catalog.order(sets)
    needed_by_others = {d for fs in plan for d in fs.depends_on}
    out: dict[str, BuiltSet] = {}
    staging: list[FeatureSet] = []
    for fs in plan:
        t0 = time.perf_counter()
        sql, params = set_sql(catalog, fs, now)
        if fs.materialized == "view":
            # Inlined into each reader: materialising every event once costs more than rescans.
            con.execute(f"CREATE OR REPLACE TEMP VIEW {fs.name} AS {inline_params(sql, params)}")
            staging.append(fs)
            continue
        if fs.name in needed_by_others:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {fs.name} AS {sql}", params).fetchall()
            staging.append(fs)
            source, params = f"SELECT * FROM {fs.name}", {}
        else:
            source = sql
        table = fs.table if materialize else f"_tmp_{fs.table}"
        kind = "TABLE" if materialize else "TEMP TABLE"
        params = {**params, "as_of": now}
        rows = con.execute(
            f"CREATE OR REPLACE {kind} {table} AS "
            f"SELECT *, $as_of::TIMESTAMP AS as_of FROM ({source})",
            params,
        ).fetchall()[0][0]
        check_set(con, fs, table)
        out[fs.name] = BuiltSet(table, rows)
        log.info("feature set %s built in %.3fs", fs.name, time.perf_counter() - t0)
    for fs in reversed(staging):
        kind = "VIEW" if fs.materialized == "view" else "TABLE"
        con.execute(f"DROP {kind} IF EXISTS {fs.name}").fetchall()
    return out


def build_features(
    con: duckdb.DuckDBPyConnection,
    now: datetime | None = None,
    sets: list[str] | None = None,
    materialize: bool = True,
) -> dict[str, pl.DataFrame]:
    """:func:`build_feature_tables`, returning one polars frame per public set built.

    With ``materialize=False`` no table is left behind.
    """
    built = build_feature_tables(con, now, sets, materialize)
    out = {name: con.sql(f"SELECT * FROM {b.table}").pl() for name, b in built.items()}
    if not materialize:
        for b in built.values():
            con.execute(f"DROP TABLE IF EXISTS {b.table}").fetchall()
    return out
