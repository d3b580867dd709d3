"""Analyst marts: named, documented DuckDB views over the raw tables, audit log and registry.

Each mart is one ``sql/marts/mart_<name>.sql`` file whose header comment documents it: the first
line is ``-- mart_<name>: description``, an optional ``-- depends_on: a, b`` names views it reads,
and ``--   column: description`` lines document the columns. Files starting with ``_`` hold
shared macros. Sessions reuse the feature sets' own ``stg_events``/``stg_sessions`` queries, so
a mart session is the same session the ranker learns from. Thresholds (``$name``) are inlined
from ``features.yaml`` and ``MartThresholds`` (the wellbeing config's age and sensitivity
thresholds, passed in by the caller) when the views are created.
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
from features.schema import ensure_audit_table, ensure_registry, ensure_schema

__all__ = ["Mart", "MartThresholds", "MARTS_DIR", "load_marts", "create_marts", "mart_params"]

MARTS_DIR = Path(__file__).parent / "sql" / "marts"
_FEATURE_SQL = Path(__file__).parent / "sql"
_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_COLUMN = re.compile(r"^--\s{2,}([A-Za-z_][A-Za-z0-9_]*):\s*(.*)$")
# The views that import the feature sets' session definition (created before any mart).
_STAGING = (("_fw_stg_events", "stg_events.sql"), ("_fw_stg_sessions", "stg_sessions.sql"))
# Far enough ahead that "events strictly before $now" means every event.
_ALL_TIME = datetime(9999, 12, 31)


@dataclass(frozen=True)
class MartThresholds:
    """The wellbeing thresholds the marts bucket by (age bands, sensitive topics, banned labels).

    ``features`` does not import ``wellbeing``: the flows build this from the config in force
    (``from_config``). The defaults are ``WellbeingConfig``'s, and a test keeps them equal.
    """

    child_age: int = 13
    """Below this age a viewer is a child."""
    teen_max_age: int = 17
    """Highest age that is still a teen."""
    sensitive_topics: tuple[str, ...] = ("body_image", "dieting", "sadness", "aggression")
    """Topics counted as sensitive."""
    teen_banned_labels: tuple[str, ...] = ("self_harm", "eating_disorder", "sexual",
                                           "dangerous_challenge")
    """Moderation labels never shown to minors."""

    @classmethod
    def from_config(cls, cfg: Any) -> MartThresholds:
        """The thresholds of a ``WellbeingConfig`` (any object with these attributes)."""
        return cls(cfg.child_age, cfg.teen_max_age, tuple(cfg.sensitive_topics),
                   tuple(cfg.teen_banned_labels))


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


def mart_params(thresholds: MartThresholds | None = None) -> dict[str, Any]:
    """The thresholds the marts use: the feature catalog's params plus wellbeing thresholds."""
    cfg = thresholds or MartThresholds()
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


def create_marts(con: duckdb.DuckDBPyConnection, thresholds: MartThresholds | None = None
                 ) -> list[Mart]:
    """Create (or replace) every mart view; safe to call again, and on an empty store.

    Args:
        con: a writable store connection.
        thresholds: age and sensitivity thresholds (default: the wellbeing config's defaults).

    Returns:
        The marts created, in creation order.
    """
    # The marts read the audit log and the registry, which their writers create lazily.
    ensure_schema(con)
    ensure_audit_table(con)
    ensure_registry(con)
    params = mart_params(thresholds)
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
