"""Analyst marts: named, documented DuckDB views over the raw tables, audit log and registry.

Each mart is one ``sql/marts/mart_<name>.sql`` file whose header comment documents it: the first
line is ``-- mart_<name>: description``, an optional ``-- depends_on: a, b`` names views it reads,
and ``--   column: description`` lines document the columns. Files starting with ``_`` hold
shared macros. Sessions reuse the feature sets' own ``stg_events``/``stg_sessions`` queries, so
a mart session is the same session the ranker learns from. Thresholds (``$name``) are inlined
from ``features.yaml`` and the wellbeing config when the views are created.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from features.catalog import load_catalog
from features.errors import ConfigError

__all__ = ["Mart", "MARTS_DIR", "load_marts", "create_marts", "mart_params"]

MARTS_DIR = Path(__file__).parent / "sql" / "marts"
_FEATURE_SQL = Path(__file__).parent / "sql"
_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_COLUMN = re.compile(r"^--\s{2,}([A-Za-z_][A-Za-z0-9_]*):\s*(.*)$")
# The views that import the feature sets' session definition (created before any mart).
_STAGING = (("_fw_stg_events", "stg_events.sql"), ("_fw_stg_sessions", "stg_sessions.sql"))
# Far enough ahead that "events strictly before $now" means every event.
_ALL_TIME = datetime(9999, 12, 31)


@dataclass(frozen=True)
class Mart:
    """One mart view: its name, what it holds, its columns and the views it reads."""

    name: str
    description: str
    sql_path: Path
    columns: dict[str, str] = field(default_factory=dict)
    depends_on: tuple[str, ...] = ()


def _parse(path: Path) -> Mart:
    lines = path.read_text().splitlines()
    head = lines[0].removeprefix("--").strip() if lines else ""
    name, _, desc = head.partition(":")
    if name.strip() != path.stem:
        raise ConfigError(f"{path.name}: the first line must be '-- {path.stem}: description'")
    desc_lines, columns, depends = [desc.strip()], {}, ()
    for line in lines[1:]:
        if not line.startswith("--"):
            break
        if m := _COLUMN.match(line):
            columns[m.group(1)] = m.group(2).strip()
        elif line.startswith("-- depends_on:"):
            depends = tuple(d.strip() for d in line.split(":", 1)[1].split(",") if d.strip())
        elif not columns:
            desc_lines.append(line.removeprefix("--").strip())
    desc = " ".join(d for d in desc_lines if d)
    return Mart(path.stem, desc[:1].upper() + desc[1:], path, columns, depends)


def load_marts() -> list[Mart]:
    """Every mart, in an order where each comes after the marts it depends on."""
    marts = {p.stem: _parse(p) for p in sorted(MARTS_DIR.glob("mart_*.sql"))}
    ordered: list[Mart] = []
    seen: set[str] = set()

    def visit(m: Mart, path: tuple[str, ...]) -> None:
        if m.name in seen:
            return
        if m.name in path:
            raise ConfigError(f"mart dependency cycle: {' -> '.join((*path, m.name))}")
        for dep in m.depends_on:
            if dep in marts:
                visit(marts[dep], (*path, m.name))
        seen.add(m.name)
        ordered.append(m)

    for m in marts.values():
        visit(m, ())
    return ordered


def mart_params(cfg: Any = None) -> dict[str, Any]:
    """The thresholds the marts use: the feature catalog's params plus wellbeing settings."""
    from wellbeing.config import WellbeingConfig

    cfg = cfg or WellbeingConfig()
    return {
        **load_catalog(check_sql=False).params,
        "now": _ALL_TIME,
        "child_age": cfg.child_age,
        "teen_max_age": cfg.teen_max_age,
        "sensitive_topics": list(cfg.sensitive_topics),
        "teen_banned_labels": list(cfg.teen_banned_labels),
    }


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime):
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_literal(v) for v in value) + "]::VARCHAR[]"
    return "'" + str(value).replace("'", "''") + "'"


def _render(sql: str, params: dict[str, Any], where: str) -> str:
    def sub(m: re.Match) -> str:
        if m.group(1) not in params:
            raise ConfigError(f"{where} uses ${m.group(1)} but no such mart parameter exists")
        return _literal(params[m.group(1)])

    # Comments may mention $params; strip them so only real uses are bound.
    body = "\n".join(line.split("--", 1)[0] for line in sql.splitlines())
    return _PARAM.sub(sub, body).strip().rstrip(";")


def create_marts(con: duckdb.DuckDBPyConnection, cfg: Any = None) -> list[Mart]:
    """Create (or replace) every mart view; safe to call again, and on an empty store.

    Args:
        con: a writable store connection.
        cfg: a ``WellbeingConfig`` for age and sensitivity thresholds (default: the defaults).

    Returns:
        The marts created, in creation order.
    """
    from features.store import ensure_schema
    from ranking.registry import ensure_registry
    from wellbeing.audit import ensure_audit_table

    ensure_schema(con)
    ensure_audit_table(con)
    ensure_registry(con)
    params = mart_params(cfg)
    for helper in sorted(MARTS_DIR.glob("_*.sql")):
        con.execute(_render(helper.read_text(), params, helper.name)).fetchall()
    for view, file in _STAGING:
        sql = _render((_FEATURE_SQL / file).read_text(), params, file)
        sql = re.sub(r"\bstg_events\b", "_fw_stg_events", sql)
        con.execute(f"CREATE OR REPLACE VIEW {view} AS {sql}").fetchall()
    marts = load_marts()
    for m in marts:
        sql = _render(m.sql_path.read_text(), params, m.sql_path.name)
        con.execute(f"CREATE OR REPLACE VIEW {m.name} AS {sql}").fetchall()
    return marts
