"""The store's schema: every table's DDL, in one place, whichever layer writes the table.

The raw contract tables and the ingest bookkeeping are created by ``ensure_schema`` on every
writable connection. ``audit_log`` (written by ``wellbeing.audit``) and ``model_registry``
(written by ``ranking.registry``) are created by their writers on first use, through
``ensure_audit_table`` and ``ensure_registry`` here, so a store nobody trained or served from
holds only its data. Every function is idempotent; a change to an existing table goes here too,
as an ``ALTER TABLE ... ADD COLUMN IF NOT EXISTS`` after its ``CREATE``.
"""

from __future__ import annotations

import duckdb

from features.contract import CONTRACT

__all__ = ["ensure_schema", "ensure_audit_table", "ensure_registry", "AUDIT_COLUMNS"]


def _table_ddl(name: str) -> str:
    spec = CONTRACT[name]
    cols = [f"{c.name} {c.sql_type}" for c in spec.columns]
    # Unknown extra input columns are kept as JSON, never rejected.
    cols += ["extra JSON", "_source VARCHAR", "_loaded_at TIMESTAMP"]
    return f"CREATE TABLE IF NOT EXISTS {name} ({', '.join(cols)})"


_EXTRA_DDL = (
    """CREATE TABLE IF NOT EXISTS quarantine (
        table_name VARCHAR, source VARCHAR, row_number BIGINT, reason VARCHAR,
        record JSON, loaded_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS ingest_log (
        loaded_at TIMESTAMP, table_name VARCHAR, source VARCHAR, read BIGINT,
        accepted BIGINT, quarantined BIGINT, duplicates BIGINT)""",
    # A permanent feed reset forgets personalization signals before its time.
    "CREATE TABLE IF NOT EXISTS user_resets (user_id VARCHAR, ts TIMESTAMP)",
    # Steering in words, with history: the latest row per user is in force (cleared = none).
    """CREATE TABLE IF NOT EXISTS user_steering (
        user_id VARCHAR, ts TIMESTAMP, text VARCHAR, steering JSON, cleared BOOLEAN,
        source VARCHAR)""",
    # Wellbeing check-in answers and what each one changed.
    """CREATE TABLE IF NOT EXISTS user_checkins (
        user_id VARCHAR, ts TIMESTAMP, rating INTEGER, text VARCHAR, applied JSON)""",
)

AUDIT_COLUMNS = (
    "ts", "request_id", "user_id", "item_id", "rule", "action", "reason", "policy_version",
)
"""``audit_log``'s columns, in table order."""

_AUDIT_DDL = """CREATE TABLE IF NOT EXISTS audit_log (
    ts TIMESTAMP, request_id VARCHAR, user_id VARCHAR, item_id VARCHAR, rule VARCHAR,
    action VARCHAR, reason VARCHAR, policy_version VARCHAR)"""

_REGISTRY_DDL = """CREATE TABLE IF NOT EXISTS model_registry (
    version VARCHAR PRIMARY KEY, created_at TIMESTAMP, status VARCHAR, path VARCHAR,
    metrics JSON, params JSON, features JSON, data_from TIMESTAMP, data_to TIMESTAMP,
    published_at TIMESTAMP)"""


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw contract tables and the ingest bookkeeping if they do not exist."""
    for name in CONTRACT:
        con.execute(_table_ddl(name))
    for ddl in _EXTRA_DDL:
        con.execute(ddl)


def ensure_audit_table(con: duckdb.DuckDBPyConnection) -> None:
    """Create ``audit_log`` (every removal and intervention) if it does not exist."""
    con.execute(_AUDIT_DDL)


def ensure_registry(con: duckdb.DuckDBPyConnection) -> None:
    """Create ``model_registry`` (model versions and their status) if it does not exist."""
    con.execute(_REGISTRY_DDL)
