"""The feature runner: keep the partial aggregates current, then compute each set at ``$now``.

"As of ``now``" means strictly before it: an event with ``ts >= now`` never counts. The default
``now`` is the latest event's time plus one microsecond, so the latest event does count.
The ``partial`` sets (see ``features/partials.py``) are kept as tables over every event and
refreshed where new events landed; when ``now`` is before some event or reset, they are built
for that time as TEMP tables instead (an as-of build, which leaves the kept ones alone).
Public sets are computed from the partials into ``feat_<name>`` with an ``as_of`` column.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import duckdb
import polars as pl

from features._sql import define_macros, inline_params, set_sql
from features.catalog import FeatureSet, load_catalog
from features.errors import ConfigError, DataError
from features.partials import build_partials, kept_partials_apply, partial_sets, update_partials
from features.times import to_utc_naive

__all__ = [
    "BuiltSet", "FeatureRun", "build_features", "build_feature_tables", "default_now",
    "run_features", "set_sql", "inline_params", "check_set",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuiltSet:
    """Where a built feature set lives and how many rows it has."""

    table: str
    rows: int


@dataclass(frozen=True)
class FeatureRun:
    """A run of the feature sets: what was built and how the partials were brought up to date."""

    built: dict[str, BuiltSet]
    partials: str
    """``refresh``, ``full`` (kept partials rebuilt) or ``as-of`` (TEMP partials for ``now``)."""
    reason: str = ""
    new_events: int = 0
    dirty_buckets: int = 0


def default_now(con: duckdb.DuckDBPyConnection) -> datetime:
    """The latest event time plus 1 µs (so it counts), or the wall clock on an empty store."""
    latest = con.execute("SELECT max(ts) FROM events").fetchall()[0][0]
    if latest is None:
        return datetime.now(UTC).replace(tzinfo=None)
    return latest + timedelta(microseconds=1)


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


def run_features(
    con: duckdb.DuckDBPyConnection,
    now: datetime | None = None,
    sets: list[str] | None = None,
    materialize: bool = True,
    full: bool = False,
) -> FeatureRun:
    """Bring the partials up to date and compute feature sets as of ``now`` into checked tables.

    Args:
        con: a store connection with the raw tables.
        now: the as-of time (naive UTC; aware times are converted). Default: latest event + 1 µs.
        sets: set names to build (their dependencies are built too). Default: every set.
        materialize: write ``feat_<name>`` tables (with ``as_of``); else TEMP tables
            ``_tmp_feat_<name>`` the caller drops, and the kept partials are not touched.
        full: rebuild the kept partials from every event instead of refreshing them.

    Raises:
        DataError: a column check failed (the message names set, column and check).
        ConfigError: an unknown set name or a catalog/SQL mismatch.
    """
    catalog = load_catalog()
    now = to_utc_naive(now) if now is not None else default_now(con)
    plan = catalog.order(sets)
    temp: list[FeatureSet] = []
    try:
        if materialize and kept_partials_apply(con, now):
            update = update_partials(con, catalog, full=full)
            run = FeatureRun({}, update.mode, update.reason, update.new_events,
                             update.dirty_buckets)
        else:
            temp = partial_sets(catalog, sets)
            build_partials(con, catalog, temp, now, temp=True)
            run = FeatureRun({}, "as-of", "now is before some event or reset"
                             if materialize else "not materialized")
        define_macros(con)
        # One transaction: a failed check leaves every feat_ table as it was.
        con.execute("BEGIN TRANSACTION").fetchall()
        try:
            for fs in plan:
                if fs.materialized == "view" or "bucket" in fs.key:
                    continue
                t0 = time.perf_counter()
                sql, params = set_sql(catalog, fs, now)
                if fs.materialized == "partial":  # stg_sessions: one row per session, as kept
                    sql, params = f"SELECT * FROM {fs.name}", {}
                table = fs.table if materialize else f"_tmp_{fs.table}"
                kind = "TABLE" if materialize else "TEMP TABLE"
                rows = con.execute(
                    f"CREATE OR REPLACE {kind} {table} AS "
                    f"SELECT *, $as_of::TIMESTAMP AS as_of FROM ({sql})",
                    {**params, "as_of": now},
                ).fetchall()[0][0]
                check_set(con, fs, table)
                run.built[fs.name] = BuiltSet(table, rows)
                log.info("feature set %s built in %.3fs", fs.name, time.perf_counter() - t0)
            con.execute("COMMIT").fetchall()
        except BaseException:
            con.execute("ROLLBACK").fetchall()
            raise
    finally:
        for fs in temp:
            con.execute(f"DROP TABLE IF EXISTS temp.{fs.name}").fetchall()
        con.execute("DROP VIEW IF EXISTS temp.stg_events").fetchall()
    return run


def build_feature_tables(
    con: duckdb.DuckDBPyConnection,
    now: datetime | None = None,
    sets: list[str] | None = None,
    materialize: bool = True,
    full: bool = False,
) -> dict[str, BuiltSet]:
    """:func:`run_features`, returning the table and row count of each set built."""
    return run_features(con, now, sets, materialize, full).built


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
