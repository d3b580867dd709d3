"""Where the user's levers are kept: steerings (with history) and check-in answers.

``user_steering`` keeps every steering a user set or cleared; the latest row per user is the
one in force (a ``cleared`` row means none). ``user_checkins`` keeps every check-in answer and
what it changed. Both tables are created by ``features.store.ensure_schema``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import duckdb

from wellbeing.steering import Steering

__all__ = ["save_steering", "clear_steering", "load_steerings", "catalog_vocabulary",
           "save_checkin", "last_checkins", "vocabulary_from_facts"]


def save_steering(con: duckdb.DuckDBPyConnection, user_id: str, steering: Steering,
                  ts: datetime, source: str = "api") -> None:
    """Append ``steering`` as the user's steering in force from ``ts``."""
    con.execute("INSERT INTO user_steering VALUES (?, ?, ?, ?, false, ?)",
                [user_id, ts, steering.text, steering.to_json(), source]).fetchall()


def clear_steering(con: duckdb.DuckDBPyConnection, user_id: str, ts: datetime,
                   source: str = "api") -> bool:
    """Record that the user has no steering from ``ts``; False if there was none to clear."""
    current = load_steerings(con, [user_id])
    con.execute("INSERT INTO user_steering VALUES (?, ?, NULL, NULL, true, ?)",
                [user_id, ts, source]).fetchall()
    return user_id in current


def load_steerings(con: duckdb.DuckDBPyConnection, user_ids: Iterable[str] | None = None
                   ) -> dict[str, Steering]:
    """The steering in force per user (users whose latest row cleared it are absent)."""
    where, params = "", []
    if user_ids is not None:
        where, params = "WHERE user_id IN (SELECT unnest(?::VARCHAR[]))", [list(user_ids)]
    rows = con.execute(
        f"""SELECT user_id, steering, cleared FROM user_steering {where}
            QUALIFY row_number() OVER (PARTITION BY user_id ORDER BY ts DESC, rowid DESC) = 1""",
        params).fetchall()
    return {uid: Steering.from_json(raw) for uid, raw, cleared in rows if not cleared and raw}


def catalog_vocabulary(con: duckdb.DuckDBPyConnection) -> tuple[set[str], set[str]]:
    """(every topic, every creator id) in the catalog: what a steering may name."""
    topics = {r[0] for r in con.execute(
        "SELECT DISTINCT unnest(topics) FROM items WHERE topics IS NOT NULL").fetchall() if r[0]}
    creators = {r[0] for r in con.execute(
        "SELECT DISTINCT creator_id FROM items WHERE creator_id IS NOT NULL").fetchall()}
    return topics, creators


def vocabulary_from_facts(facts: Iterable[Any]) -> tuple[set[str], set[str]]:
    """The same vocabulary from in-memory ``ItemFacts`` (the service's catalog)."""
    topics: set[str] = set()
    creators: set[str] = set()
    for f in facts:
        topics.update(f.topics)
        if f.creator_id:
            creators.add(f.creator_id)
    return topics, creators


def save_checkin(con: duckdb.DuckDBPyConnection, user_id: str, ts: datetime, rating: int,
                 text: str | None, applied: dict[str, Any]) -> None:
    """Append one check-in answer and what it changed."""
    con.execute("INSERT INTO user_checkins VALUES (?, ?, ?, ?, ?)",
                [user_id, ts, rating, text, json.dumps(applied, default=str)]).fetchall()


def last_checkins(con: duckdb.DuckDBPyConnection) -> dict[str, datetime]:
    """Each user's latest check-in answer time."""
    return dict(con.execute(
        "SELECT user_id, max(ts) FROM user_checkins GROUP BY 1").fetchall())
