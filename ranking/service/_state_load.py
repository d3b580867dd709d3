"""Bulk loads behind ``ViewerState``: one scan per table, folded into per-user structures.

The rows are selected here; what they mean is folded by ``wellbeing.viewer_fold`` (the same
functions the stored path and the live updates call).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import duckdb

from wellbeing import ItemFacts, WellbeingConfig
from wellbeing.loaders import profile_events, profile_from_row
from wellbeing.viewer_fold import SEEN_SQL, Profile, fold_into

__all__ = ["Profile", "load_profiles", "load_history"]


_ITEMS = "(SELECT DISTINCT ON (item_id) item_id, creator_id, topics FROM items)"


def load_profiles(con: duckdb.DuckDBPyConnection, items: Mapping[str, ItemFacts],
                  cfg: WellbeingConfig) -> dict[str, Profile]:
    """Every user's profile: settings row, last reset, blocks, follows, hides and reports.

    Args:
        con: the store.
        items: the catalog the live path reads too (creator and topics of a hidden video).
        cfg: ``report_weight``.
    """
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
        profiles[r["user_id"]] = profile_from_row(r)
    for uid, ts in con.execute("SELECT user_id, max(ts) FROM user_resets GROUP BY 1").fetchall():
        profiles.setdefault(uid, Profile()).reset = ts

    def profile_of(user_id: str) -> Profile:
        return profiles.setdefault(user_id, Profile())

    for ev in profile_events(con):
        fold_into(profile_of, ev, items.get(ev["item_id"] or ""), cfg)
    return profiles


def load_history(con: duckdb.DuckDBPyConnection
                 ) -> tuple[dict[str, frozenset[str]], dict[str, list[dict[str, Any]]]]:
    """(seen items per user, the last 48 h of each user's events in time order)."""
    seen = {
        uid: frozenset(ids) for uid, ids in con.execute(
            f"SELECT user_id, list(DISTINCT item_id) FROM events WHERE {SEEN_SQL} GROUP BY 1"
        ).fetchall()
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
