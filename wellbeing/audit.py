"""The audit log: every removal and intervention, with rule, action, reason and policy version.

Analysts query ``audit_log`` directly; ``feedwell explain`` replays one (viewer, video) pair
through the feed (``ranking.explain``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import duckdb

from features.schema import AUDIT_COLUMNS, ensure_audit_table
from features.times import to_utc_naive

__all__ = ["ensure_audit_table", "record", "AUDIT_COLUMNS"]

def record(con: duckdb.DuckDBPyConnection, rows: Iterable[Mapping[str, Any]]) -> int:
    """Append rows (``AUDIT_COLUMNS``) to ``audit_log`` (creating it if needed); returns the
    number written."""
    data = []
    for r in rows:
        d = dict(r)
        d["ts"] = to_utc_naive(d["ts"]) if isinstance(d.get("ts"), datetime) else d.get("ts")
        d["reason"] = getattr(d.get("reason"), "value", d.get("reason"))
        data.append(tuple(d.get(c) for c in AUDIT_COLUMNS))
    if not data:
        return 0
    ensure_audit_table(con)
    con.executemany(
        f"INSERT INTO audit_log ({', '.join(AUDIT_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", data
    )
    return len(data)
