"""Load item facts, consents and a viewer's context from the DuckDB store.

``load_item_facts`` is one scan (the caller caches it); ``load_viewer_context`` runs a few
parameterised point queries per request. Only events strictly before ``now`` count.
A feed reset (``user_resets``) forgets personalization signals (creator feedback penalties)
before it, never blocks, hides, reports, follows, settings or usage limits.

The SQL here only selects rows; what they mean (the profile a viewer's events fold into, the
consent in force) is decided once in ``wellbeing.viewer_fold``, which the service's start-up
load and live updates call too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

import duckdb

from features.times import to_utc_naive
from wellbeing.config import WellbeingConfig
from wellbeing.facts import Consent, ItemFacts, ViewerContext, ViewerSettings
from wellbeing.sessions import UsageState
from wellbeing.viewer_fold import (
    FOLLOW_TYPES,
    PROFILE_TYPES,
    Profile,
    consent_in_force,
    fold_event,
    fold_follower,
    viewer_context,
)

__all__ = ["ITEM_FACT_COLUMNS", "item_facts_of", "load_item_facts", "latest_consents",
           "load_viewer_context", "load_settings", "profile_from_row", "profile_events"]


def _extra(raw: Any) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        val = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return {}
    return val if isinstance(val, dict) else {}


def _tuple(v: Any) -> tuple[str, ...] | None:
    return None if v is None else tuple(v)


ITEM_FACT_COLUMNS = ("item_id", "creator_id", "status", "maturity", "labels", "topics",
                     "ai_generated", "realistic_person", "cameo_subjects", "provenance")
"""The ``items`` columns an ``ItemFacts`` is built from."""


def item_facts_of(row: Mapping[str, Any]) -> ItemFacts:
    """The facts of one ``items`` row (a mapping with ``ITEM_FACT_COLUMNS``; others ignored).

    NULL ``labels``/``maturity``/``cameo_subjects`` stay None (unknown); NULL ``status`` reads
    as ``active`` and NULL ``topics`` as none.
    """
    return ItemFacts(
        row["item_id"],
        row["creator_id"],
        row.get("status") or "active",
        row.get("maturity"),
        _tuple(row.get("labels")),
        _tuple(row.get("topics")) or (),
        row.get("ai_generated"),
        row.get("realistic_person"),
        _tuple(row.get("cameo_subjects")),
        row.get("provenance"),
    )


def load_item_facts(
    con: duckdb.DuckDBPyConnection, item_ids: Iterable[str] | None = None
) -> dict[str, ItemFacts]:
    """Item facts for every item (or the given ids), latest loaded row per item
    (``item_facts_of`` each)."""
    where, params = "", []
    if item_ids is not None:
        ids = list(item_ids)
        if not ids:
            return {}
        where, params = "WHERE item_id IN (SELECT unnest(?::VARCHAR[]))", [ids]
    rows = con.execute(
        f"""SELECT {', '.join(ITEM_FACT_COLUMNS)}
            FROM items {where}
            QUALIFY row_number() OVER (
                PARTITION BY item_id ORDER BY _loaded_at DESC NULLS LAST) = 1""",
        params,
    ).fetchall()
    return {r[0]: item_facts_of(dict(zip(ITEM_FACT_COLUMNS, r, strict=True))) for r in rows}


def latest_consents(con: duckdb.DuckDBPyConnection, now: datetime) -> dict[str, Consent]:
    """The consent in force per cameo subject at ``now`` (rows with ts <= now, folded by
    ``consent_in_force``: the latest; on a tie, a revocation). ``extra.approved`` (a list of
    user ids) is the approved audience."""
    # Only each subject's latest rows can be in force: the rest are never read. Ties stay for
    # the fold to resolve.
    rows = con.execute(
        """SELECT subject_id, ts, status, audience, extra FROM consents WHERE ts <= ?
           QUALIFY ts = max(ts) OVER (PARTITION BY subject_id)
           ORDER BY subject_id""",
        [to_utc_naive(now)],
    ).fetchall()
    out: dict[str, Consent] = {}
    for sid, ts, status, audience, extra in rows:
        approved = _extra(extra).get("approved")
        out[sid] = consent_in_force(out.get(sid), Consent(
            sid,
            ts,
            status,
            audience,
            frozenset(map(str, approved)) if isinstance(approved, list) else None,
        ))
    return out


def load_settings(row: dict[str, Any] | None) -> ViewerSettings:
    """Settings from a ``users`` row (missing values take the defaults)."""
    if not row:
        return ViewerSettings()
    extra = _extra(row.get("extra"))
    brk = extra.get("break_after_minutes")
    return ViewerSettings(
        personalized=row.get("personalized") is not False,
        daily_limit_minutes=row.get("daily_limit_minutes"),
        quiet_hours=row.get("quiet_hours") or None,
        sensitive_content=row.get("sensitive_content") or "standard",
        parent_managed=bool(row.get("parent_managed")),
        break_after_minutes=int(brk) if isinstance(brk, int | float) and brk > 0 else None,
        guardian_personalized=extra.get("guardian_personalized") is not False,
        guardian_session_items=_positive(extra.get("guardian_session_items")),
    )


def _positive(v: Any) -> int | None:
    return int(v) if isinstance(v, int | float) and not isinstance(v, bool) and v > 0 else None


def _user_row(con: duckdb.DuckDBPyConnection, user_id: str) -> dict[str, Any] | None:
    cur = con.execute(
        """SELECT birth_date, timezone, personalized, daily_limit_minutes, quiet_hours,
                  sensitive_content, parent_managed, extra, created_at
           FROM users WHERE user_id = ? ORDER BY _loaded_at DESC NULLS LAST LIMIT 1""",
        [user_id],
    )
    names = [d[0] for d in cur.description]
    rows = cur.fetchall()
    return dict(zip(names, rows[0], strict=True)) if rows else None


def _usage(con, user_id: str, now: datetime, tz: str, cfg: WellbeingConfig) -> UsageState:
    # 48 h covers the local day in any timezone and the rolling 24 h sensitive window.
    frame = con.sql(
        """WITH e AS (
               SELECT ts, type, watch_ms, session_id, item_id FROM events
               WHERE user_id = ? AND ts >= ? AND ts < ?),
           i AS (
               SELECT item_id, any_value(topics) AS topics FROM items
               WHERE item_id IN (SELECT item_id FROM e) GROUP BY item_id)
           SELECT e.ts, e.type, e.watch_ms, e.session_id, i.topics
           FROM e LEFT JOIN i ON e.item_id = i.item_id ORDER BY e.ts""",
        params=[user_id, now - timedelta(hours=48), now],
    ).pl()
    return UsageState.from_events(frame, now, tz, cfg)


def profile_from_row(row: dict[str, Any] | None) -> Profile:
    """A profile's stable side (birth date, timezone, settings) from a ``users`` row (None:
    an unknown user, default settings)."""
    if not row:
        return Profile()
    return Profile(birth_date=row.get("birth_date"), timezone=row.get("timezone") or "UTC",
                   settings=load_settings(row), known=True, created_at=row.get("created_at"))


def profile_events(con: duckdb.DuckDBPyConnection, user_id: str | None = None,
                   before: datetime | None = None) -> list[dict[str, Any]]:
    """The events that change profiles, in time order, as contract rows for the fold.

    Args:
        con: the store.
        user_id: only the events this user made or that follow/unfollow them (None: all).
        before: only events strictly before this time (None: all).
    """
    where, params = ["type IN (SELECT unnest(?::VARCHAR[]))"], [list(PROFILE_TYPES)]
    if user_id is not None:
        where.append("(user_id = ? OR (target_user_id = ? AND type IN "
                     "(SELECT unnest(?::VARCHAR[]))))")
        params += [user_id, user_id, list(FOLLOW_TYPES)]
    if before is not None:
        where.append("ts < ?")
        params.append(before)
    cur = con.execute(
        f"""SELECT user_id, type, item_id, target_user_id, ts FROM events
            WHERE {' AND '.join(where)} ORDER BY ts, event_id""", params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def load_viewer_context(
    con: duckdb.DuckDBPyConnection,
    user_id: str,
    now: datetime,
    usage: UsageState | None = None,
    cfg: WellbeingConfig | None = None,
    age_at: datetime | None = None,
) -> ViewerContext:
    """The viewer's context at ``now`` (unknown user: unknown age, default settings).

    Args:
        con: the store.
        user_id: the viewer.
        now: request time; events at or after it are ignored.
        usage: in-memory usage kept by the service; rebuilt from events when None.
        cfg: thresholds (feedback half-life, windows).
        age_at: a second clock (the server's, when ``now`` came from a client); the age band
            is the younger of the two.
    """
    cfg = cfg or WellbeingConfig()
    now = to_utc_naive(now)
    row = _user_row(con, user_id)
    p = profile_from_row(row)
    p.reset = con.execute(
        "SELECT max(ts) FROM user_resets WHERE user_id = ? AND ts < ?", [user_id, now]
    ).fetchall()[0][0]
    p.last_checkin = _last_checkin(con, user_id, now)
    events = profile_events(con, user_id, now)
    items = load_item_facts(con, {e["item_id"] for e in events
                                  if e["item_id"] and e["user_id"] == user_id})
    for ev in events:
        if ev["user_id"] == user_id:
            fold_event(p, ev, items.get(ev["item_id"] or ""), cfg)
        if ev["target_user_id"] == user_id:
            fold_follower(p, ev)
    if usage is None:
        usage = _usage(con, user_id, now, p.timezone, cfg)
    else:
        usage.advance(now)
    return viewer_context(user_id, p, now, usage, cfg,
                          None if age_at is None else to_utc_naive(age_at))


def _last_checkin(con: duckdb.DuckDBPyConnection, user_id: str, now: datetime) -> datetime | None:
    try:
        rows = con.execute("SELECT max(ts) FROM user_checkins WHERE user_id = ? AND ts < ?",
                           [user_id, now]).fetchall()
    except duckdb.CatalogException:  # a store opened read-only before the table existed
        return None
    return rows[0][0] if rows else None
