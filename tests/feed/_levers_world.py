"""A generated world for the user's levers: 240 videos over 8 topics and 24 creators, with a
seeded crowd of views so popularity ranks them (no model: the popularity fallback)."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

NOW = datetime(2026, 6, 1, 12, 0)
TOPICS = ("pets", "sports", "dance", "cooking", "music", "gaming", "travel", "dieting")


def build_levers_world(con, seed: int = 3, n_items: int = 240) -> dict[str, dict]:
    """Fill ``con``; returns item_id -> {"creator", "topics", "maturity"}."""
    rng = np.random.default_rng(seed)
    con.execute("INSERT INTO users (user_id, birth_date, timezone, created_at) VALUES "
                "('adult', DATE '1990-01-01', 'UTC', ?), ('teen', DATE '2011-01-01', 'UTC', ?)",
                [NOW - timedelta(days=30), NOW - timedelta(days=30)])
    items, rows = {}, []
    for n in range(n_items):
        k = 1 + int(rng.random() < 0.3)
        topics = [str(t) for t in rng.choice(TOPICS, size=k, replace=False)]
        maturity = "mature" if n % 9 == 0 else "general"
        iid, creator = f"i{n:03d}", f"c{n % 24:02d}"
        items[iid] = {"creator": creator, "topics": topics, "maturity": maturity}
        rows.append((iid, creator, maturity, topics, NOW - timedelta(days=3)))
    con.executemany(
        "INSERT INTO items (item_id, creator_id, maturity, labels, topics, realistic_person, "
        "provenance, cameo_subjects, status, duration_ms, created_at) "
        "VALUES (?, ?, ?, [], ?, false, true, [], 'active', 10000, ?)", rows)
    ev, e = [], 0
    for iid in items:
        for v in range(int(rng.integers(1, 12))):
            e += 1
            ev.append((f"e{e}", f"crowd{v}", NOW - timedelta(hours=20, minutes=e % 600), iid))
    con.executemany("INSERT INTO events (event_id, user_id, ts, type, item_id, watch_ms) "
                    "VALUES (?, ?, ?, 'view', ?, 9000)", ev)
    return items


def share(ids: list[str], items: dict[str, dict], topic: str) -> float:
    """The share of ``ids`` carrying ``topic``."""
    return sum(topic in items[i]["topics"] for i in ids) / max(1, len(ids))
