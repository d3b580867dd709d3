"""Bulk loads behind ``ViewerState``: one scan per table, folded into per-user structures."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import duckdb

from ranking.service.session_store import SEEN_TYPES
from wellbeing import ViewerSettings
from wellbeing.loaders import load_settings

__all__ = ["Profile", "load_profiles", "load_history"]


@dataclass
class Profile:
    """One user's slowly changing side: who they are and what they told us."""

    birth_date: date | None = None
    timezone: str = "UTC"
    settings: ViewerSettings = field(default_factory=ViewerSettings)
    known: bool = False
    blocked: frozenset[str] = frozenset()
    follow: dict[str, bool] = field(default_factory=dict)
    fans: dict[str, bool] = field(default_factory=dict)
    hidden: frozenset[str] = frozenset()
    reported: frozenset[str] = frozenset()
    feedback: list[tuple[str, datetime, float]] = field(default_factory=list)
    reset: datetime | None = None
    topic_feedback: list[tuple[tuple[str, ...], datetime, float]] = field(default_factory=list)
    created_at: datetime | None = None
    last_checkin: datetime | None = None


_ITEMS = "(SELECT DISTINCT ON (item_id) item_id, creator_id, topics FROM items)"


def load_profiles(con: duckdb.DuckDBPyConnection, report_weight: float = 2.0
                  ) -> dict[str, Profile]:
    """Every user's profile: settings row, last reset, blocks, follows, hides and reports."""
    profiles: dict[str, Profile] = {}
    cur = con.execute(
        """SELECT user_id, birth_date, timezone, personalized, daily_limit_minutes, quiet_hours,
                  sensitive_content, parent_managed, extra, created_at FROM users
           QUALIFY row_number() OVER (
               PARTITION BY user_id ORDER BY _loaded_at DESC NULLS LAST) = 1"""
    )
    names = [d[0] for d in cur.description]
    for row in cur.fetchall():
        r = dict(zip(names, row, strict=True))
        profiles[r["user_id"]] = Profile(birth_date=r["birth_date"],
                                         timezone=r["timezone"] or "UTC",
                                         settings=load_settings(r), known=True,
                                         created_at=r["created_at"])
    for uid, ts in con.execute("SELECT user_id, max(ts) FROM user_resets GROUP BY 1").fetchall():
        profiles.setdefault(uid, Profile()).reset = ts
    rows = con.execute(
        f"""SELECT e.user_id, e.type, e.item_id, e.target_user_id, e.ts, i.creator_id, i.topics
            FROM events e LEFT JOIN {_ITEMS} i ON e.item_id = i.item_id
            WHERE e.type IN ('block', 'follow', 'unfollow', 'hide', 'report') ORDER BY e.ts"""
    ).fetchall()
    blocked: dict[str, set[str]] = {}
    hidden: dict[str, set[str]] = {}
    reported: dict[str, set[str]] = {}
    for uid, etype, item, target, ts, creator, topics in rows:
        p = profiles.setdefault(uid, Profile())
        if etype == "block" and target:
            blocked.setdefault(uid, set()).add(target)
        elif etype in ("follow", "unfollow") and target:
            p.follow[target] = etype == "follow"
            profiles.setdefault(target, Profile()).fans[uid] = etype == "follow"
        elif etype in ("hide", "report") and item:
            (hidden if etype == "hide" else reported).setdefault(uid, set()).add(item)
            if creator:
                w = report_weight if etype == "report" else 1.0
                p.feedback.append((creator, ts, w))
                if topics:
                    p.topic_feedback.append((tuple(topics), ts, w))
    for uid, s in blocked.items():
        profiles[uid].blocked = frozenset(s)
    for uid, s in hidden.items():
        profiles[uid].hidden = frozenset(s)
    for uid, s in reported.items():
        profiles[uid].reported = frozenset(s)
    return profiles


def load_history(con: duckdb.DuckDBPyConnection
                 ) -> tuple[dict[str, frozenset[str]], dict[str, list[dict[str, Any]]]]:
    """(seen items per user, the last 48 h of each user's events in time order)."""
    types = sorted(SEEN_TYPES)
    seen = {
        uid: frozenset(ids) for uid, ids in con.execute(
            "SELECT user_id, list(DISTINCT item_id) FROM events WHERE item_id IS NOT NULL "
            "AND type IN (SELECT unnest(?::VARCHAR[])) GROUP BY 1", [types]).fetchall()
    }
    latest = con.execute("SELECT max(ts) FROM events").fetchall()[0][0]
    usage: dict[str, list[dict[str, Any]]] = {}
    if latest is None:
        return seen, usage
    # 48 h covers the local day in any timezone and the rolling 24 h sensitive window.
    rows = con.execute(
        f"""SELECT e.user_id, e.event_id, e.ts, e.type, e.watch_ms, e.session_id, e.item_id,
                   i.topics
            FROM events e LEFT JOIN {_ITEMS} i ON e.item_id = i.item_id
            WHERE e.ts >= ? ORDER BY e.ts""", [latest - timedelta(hours=48)]).fetchall()
    for uid, eid, ts, etype, watch, sid, item, topics in rows:
        usage.setdefault(uid, []).append({
            "event_id": eid, "ts": ts, "type": etype, "watch_ms": watch, "session_id": sid,
            "item_id": item, "topics": tuple(topics or ())})
    return seen, usage
