"""Binding a feature set's SQL: ``$name`` parameters from the catalog, as values or literals."""

from __future__ import annotations

import re
from datetime import datetime

import duckdb

from features.catalog import SQL_DIR, Catalog, FeatureSet
from features.errors import ConfigError
from features.times import to_utc_naive

__all__ = ["ALL_TIME", "MACRO_DIR", "define_macros", "inline_params", "set_sql", "stage_events"]

ALL_TIME = datetime(9999, 12, 31)
"""The cut of the kept partial aggregates: "strictly before ``ALL_TIME``" is every event."""
MACRO_DIR = SQL_DIR / "macros"
"""SQL macros the sets call (``create or replace temp macro``): a figure the batch sets and the
live path both derive is written once, as a macro here."""
_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


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


def stage_events(con: duckdb.DuckDBPyConnection, catalog: Catalog, now: datetime,
                 where: str = "") -> None:
    """(Re)create the ``stg_events`` TEMP VIEW as of ``now``, optionally filtered by ``where``."""
    sql, params = set_sql(catalog, catalog.sets["stg_events"], now)
    body = inline_params(sql, params)
    if where:
        body = f"SELECT * FROM ({body}) WHERE {where}"
    con.execute(f"CREATE OR REPLACE TEMP VIEW stg_events AS {body}").fetchall()


def define_macros(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)create every macro of ``sql/macros/*.sql`` on ``con`` (TEMP: read-only stores too)."""
    for path in sorted(MACRO_DIR.glob("*.sql")):
        con.execute(path.read_text()).fetchall()
