"""Tiny worlds with known answers for the ranking tests."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import polars as pl

T0 = datetime(2024, 3, 1)


def events_frame(rows: list[tuple]) -> pl.DataFrame:
    """Rows ``(user_id, item_id, type, watch_ms, minutes)`` -> an events frame."""
    return pl.DataFrame({
        "user_id": [r[0] for r in rows], "item_id": [r[1] for r in rows],
        "type": [r[2] for r in rows], "watch_ms": [r[3] for r in rows],
        "ts": [T0 + timedelta(minutes=r[4]) for r in rows],
        "target_user_id": [None] * len(rows),
    }, schema_overrides={"watch_ms": pl.Int64, "target_user_id": pl.String})


def checkerboard(n_users: int = 40, n_items: int = 40, seed: int = 0
                 ) -> tuple[pl.DataFrame, dict[str, str]]:
    """Two taste groups (even/odd users x even/odd items); each user misses one item of theirs.

    Returns the events and, per user, the one same-group item they have not seen.
    """
    rng = np.random.default_rng(seed)
    rows, best = [], {}
    for u in range(n_users):
        mine = [i for i in range(n_items) if i % 2 == u % 2]
        missing = mine[(u // 2) % len(mine)]
        best[f"u{u}"] = f"i{missing}"
        for k, i in enumerate(mine):
            if i != missing:
                rows.append((f"u{u}", f"i{i}", "view", 20_000, k + int(rng.integers(0, 5))))
    return events_frame(rows), best


def taste_world(n_users: int = 150, n_items: int = 200, per_user: int = 30, seed: int = 0,
                hide_below: float | None = None) -> pl.DataFrame:
    """Low-rank taste with popularity: views (watch by affinity) and likes for high affinity;
    with ``hide_below``, a watched video of lower affinity is hidden too."""
    rng = np.random.default_rng(seed)
    u = rng.normal(size=(n_users, 4))
    v = rng.normal(size=(n_items, 4))
    pop = np.log(1 / np.arange(1, n_items + 1))
    rows = []
    for k in range(n_users):
        a = u[k] @ v.T
        p = np.exp(0.5 * pop + 1.2 * a)
        p /= p.sum()
        items = rng.permutation(rng.choice(n_items, per_user, replace=False, p=p))
        for j, i in enumerate(items):
            watch = int(10_000 + 4_000 * np.clip(a[i], -2, 3))
            rows.append((f"u{k}", f"i{i}", "view", watch, j * 60))
            if a[i] > 1.0:
                rows.append((f"u{k}", f"i{i}", "like", None, j * 60 + 1))
            elif hide_below is not None and a[i] < hide_below:
                rows.append((f"u{k}", f"i{i}", "hide", None, j * 60 + 1))
    return events_frame(rows)
