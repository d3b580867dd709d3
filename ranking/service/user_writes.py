"""Writes that change a user: settings (``users``), cameo consents, feed resets.

Each is stored first, then applied to the in-memory state, so it is effective on the next
request and survives a restart.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import duckdb

from ranking.service._extra_settings import fold_extra_settings
from wellbeing import Consent

__all__ = ["save_settings", "save_consent", "save_reset", "SETTING_COLUMNS"]

SETTING_COLUMNS = ("personalized", "daily_limit_minutes", "quiet_hours", "sensitive_content",
                   "parent_managed")
_USER_COLUMNS = ("user_id", "birth_date", "age_assurance", "timezone", "country", "created_at",
                 *SETTING_COLUMNS, "extra")


def save_settings(con: duckdb.DuckDBPyConnection, user_id: str, changes: dict[str, Any],
                  now: datetime) -> dict[str, Any]:
    """Upsert the user's row with ``changes`` applied; returns the stored row.

    The ``users`` table holds one row per user (latest wins), so the row is replaced whole and
    columns not changed keep their values.
    """
    cols = ", ".join(_USER_COLUMNS)
    con.execute("BEGIN TRANSACTION")
    try:
        cur = con.execute(
            f"SELECT {cols} FROM users WHERE user_id = ? ORDER BY _loaded_at DESC NULLS LAST "
            "LIMIT 1", [user_id])
        rows = cur.fetchall()
        row = dict(zip(_USER_COLUMNS, rows[0], strict=True)) if rows else {"user_id": user_id}
        row.update(changes)
        fold_extra_settings(row, changes)  # settings kept in ``extra`` (guardian, breaks)
        if isinstance(row.get("extra"), (dict, list)):
            row["extra"] = json.dumps(row["extra"])
        con.execute("DELETE FROM users WHERE user_id = ?", [user_id])
        con.execute(
            f"INSERT INTO users ({cols}, _source, _loaded_at) VALUES "
            f"({', '.join('?' for _ in _USER_COLUMNS)}, 'api', ?)",
            [row.get(c) for c in _USER_COLUMNS] + [now])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return row


def save_consent(con: duckdb.DuckDBPyConnection, consent: Consent,
                 now: datetime) -> Consent | None:
    """Append a consent row; returns the consent as stored, or None when a different one is
    already stored for the same (subject, ts).

    The latest row per subject is in force (here and at every reload), so a revocation that
    arrives with a time at or before a stored row's would be masked by that row: it is stored
    one microsecond after the latest instead. A revocation takes effect when it is received.
    """
    extra = json.dumps({"approved": sorted(consent.approved)}) if consent.approved else None
    got = con.execute("SELECT status, audience FROM consents WHERE subject_id = ? AND ts = ?",
                      [consent.subject_id, consent.ts]).fetchall()
    if got and got[0] == (consent.status, consent.audience):
        return consent
    if consent.status == "revoked":
        latest = con.execute("SELECT max(ts) FROM consents WHERE subject_id = ?",
                             [consent.subject_id]).fetchall()[0][0]
        if latest is not None and latest >= consent.ts:
            consent = replace(consent, ts=latest + timedelta(microseconds=1))
    elif got:
        return None
    con.execute(
        "INSERT INTO consents (subject_id, ts, status, audience, extra, _source, _loaded_at) "
        "VALUES (?, ?, ?, ?, ?, 'api', ?)",
        [consent.subject_id, consent.ts, consent.status, consent.audience, extra, now])
    return consent


def save_reset(con: duckdb.DuckDBPyConnection, user_id: str, ts: datetime) -> None:
    """Record a permanent feed reset (personalization before ``ts`` is forgotten)."""
    con.execute("INSERT INTO user_resets (user_id, ts) VALUES (?, ?)", [user_id, ts])
