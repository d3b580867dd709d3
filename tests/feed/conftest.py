"""A tiny world with known answers for the feed pipeline (no model: popularity fallback)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

NOW = datetime(2026, 6, 1, 12, 0)


def _items() -> list[tuple]:
    # item_id, creator, maturity, labels, topics, realistic, provenance, cameo, status
    return [
        ("safe1", "c1", "general", [], ["cats"], False, True, [], "active"),
        ("safe2", "c2", "teen", [], ["dogs"], False, True, [], "active"),
        ("safe3", "c3", "general", [], ["music"], False, True, [], "active"),
        ("mature", "c1", "mature", [], ["cats"], False, True, [], "active"),
        ("unrated", "c2", None, [], ["cats"], False, True, [], "active"),
        ("selfharm", "c3", "general", ["self_harm"], ["sadness"], False, True, [], "active"),
        ("nolabels", "c1", "general", None, ["cats"], False, True, [], "active"),
        ("deepfake", "c2", "general", [], ["news"], True, False, [], "active"),
        ("cameo_ok", "c3", "general", [], ["fun"], True, True, ["subj"], "active"),
        ("cameo_revoked", "c3", "general", [], ["fun"], True, True, ["gone"], "active"),
        ("removed", "c1", "general", [], ["cats"], False, True, [], "removed"),
    ]


@pytest.fixture()
def world(con):
    users = [
        ("adult", datetime(1990, 1, 1).date(), "UTC"),
        ("teen", datetime(2011, 1, 1).date(), "UTC"),
        ("child", datetime(2017, 1, 1).date(), "UTC"),
        ("nobody", None, "UTC"),
    ]
    for u, bd, tz in users:
        con.execute("INSERT INTO users (user_id, birth_date, timezone) VALUES (?, ?, ?)",
                    [u, bd, tz])
    for it in _items():
        con.execute(
            "INSERT INTO items (item_id, creator_id, maturity, labels, topics, realistic_person,"
            " provenance, cameo_subjects, status, duration_ms, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 10000, ?)",
            [*it, NOW - timedelta(days=3)],
        )
    con.execute("INSERT INTO consents VALUES ('subj', ?, 'granted', 'everyone', NULL, NULL, NULL)",
                [NOW - timedelta(days=5)])
    con.execute("INSERT INTO consents VALUES ('gone', ?, 'granted', 'everyone', NULL, NULL, NULL)",
                [NOW - timedelta(days=5)])
    con.execute("INSERT INTO consents VALUES ('gone', ?, 'revoked', 'everyone', NULL, NULL, NULL)",
                [NOW - timedelta(days=1)])
    # Popularity: every item viewed and liked by a crowd of other users a day ago.
    n = 0
    for k, it in enumerate(_items()):
        for v in range(3 + k):
            n += 1
            con.execute(
                "INSERT INTO events (event_id, user_id, ts, type, item_id, watch_ms) "
                "VALUES (?, ?, ?, 'view', ?, 9000)",
                [f"e{n}", f"crowd{v}", NOW - timedelta(days=1, minutes=k), it[0]],
            )
    return con
