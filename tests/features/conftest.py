"""A tiny hand-computable world: 3 users, 3 videos, 2 creators (now = 2024-01-10 12:00)."""

from __future__ import annotations

from datetime import datetime

import pytest

NOW = datetime(2024, 1, 10, 12, 0)
EVENT_COLS = "event_id, user_id, ts, type, item_id, target_user_id, watch_ms, session_id"

# u1 (New York, no session ids): an old view, then two gap-derived sessions today.
# u2 (UTC by NULL timezone, client session s1): view, hide, follow of c1, skip.
EVENTS = [
    ("e01", "u1", "2024-01-05 12:00:00", "view", "i1", None, 2000, None),
    ("e02", "u1", "2024-01-10 10:00:00", "impression", "i1", None, None, None),
    ("e03", "u1", "2024-01-10 10:00:01", "view", "i1", None, 5000, None),
    ("e04", "u1", "2024-01-10 10:01:00", "like", "i1", None, None, None),
    ("e05", "u1", "2024-01-10 10:20:00", "view", "i2", None, 20000, None),
    ("e06", "u1", "2024-01-10 11:00:00", "view", "i1", None, 10000, None),
    ("e07", "u2", "2024-01-10 03:00:00", "view", "i2", None, 10000, "s1"),
    ("e08", "u2", "2024-01-10 03:05:00", "hide", "i2", None, None, "s1"),
    ("e09", "u2", "2024-01-10 03:06:00", "follow", None, "c1", None, "s1"),
    ("e10", "u2", "2024-01-10 03:10:00", "skip", "i1", None, None, "s1"),
]


def insert_events(con, rows) -> None:
    con.executemany(f"INSERT INTO events ({EVENT_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)


@pytest.fixture()
def world(con):
    """The ``con`` store loaded with the tiny world."""
    con.execute(
        "INSERT INTO users (user_id, timezone) VALUES "
        "('u1', 'America/New_York'), ('u2', NULL), ('u3', 'Asia/Tokyo')"
    )
    con.execute(
        "INSERT INTO items (item_id, creator_id, created_at, duration_ms, topics) VALUES "
        "('i1', 'c1', '2024-01-01 00:00', 10000, ['cats', 'dogs']), "
        "('i2', 'c2', '2024-01-09 12:00', 20000, ['cats']), "
        "('i3', 'c1', '2024-01-11 00:00', 5000, ['news'])"
    )
    insert_events(con, EVENTS)
    return con
