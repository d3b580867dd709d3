"""The streaming replay: the only protocol that sees what the live path adds.

After the time cut, each test user's events are walked in order. Before every ``step`` new
videos, the page the feed would serve at that moment is taken twice: **live**, from the model
run on the user's history as of then (the trained part plus the events replayed so far, as the
service folds posted events), and **frozen**, from the model as trained, leaving out what the
user watched since the cut (what a client's ``exclude_ids`` does). Each page is scored with
NDCG@k against the next ``k`` distinct videos the user engaged with (viewed or acted on; a
skip, hide or impression alone is no target). A user's figure is the
mean over their steps; new users (no history at the cut) are reported apart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from ranking.evaluation.metrics import ndcg_at_k
from ranking.serving import ServingChoice

__all__ = ["StreamingConfig", "StreamingResult", "streaming_replay"]

_EVENT_COLS = ("user_id", "ts", "type", "item_id", "target_user_id", "watch_ms")


@dataclass(frozen=True)
class StreamingConfig:
    """How much of the time-forward holdout the streaming replay walks."""

    step: int = 5
    """New videos replayed between two pages."""
    max_users: int = 60
    """Test users replayed (a seeded sample of those with at least ``step`` + 1 videos)."""
    max_steps: int = 6
    """Pages scored per user (60 x 6 pages cost a few seconds on the demo world)."""
    seed: int = 42
    """Seed of the user sample."""


@dataclass
class StreamingResult:
    """Per-user mean NDCG@k, live and frozen, per model (aligned with ``users``)."""

    users: list[str]
    history: np.ndarray
    live: dict[str, np.ndarray] = field(default_factory=dict)
    frozen: dict[str, np.ndarray] = field(default_factory=dict)
    n_pages: int = 0

    def summary(self) -> dict[str, Any]:
        """Mean live and frozen NDCG per model, over every replayed user and the new ones."""
        new = self.history == 0
        out: dict[str, Any] = {"n_users": len(self.users), "n_new_users": int(new.sum()),
                               "n_pages": self.n_pages, "models": {}}
        for name, live in self.live.items():
            frozen = self.frozen[name]
            row = {"live": _mean(live), "frozen": _mean(frozen),
                   "live_new_users": _mean(live[new]), "frozen_new_users": _mean(frozen[new])}
            row["gain"] = (row["live"] / row["frozen"] if row["frozen"] and row["frozen"] > 0
                           else float("nan"))
            out["models"][name] = row
        return out


def _mean(v: np.ndarray) -> float:
    v = v[~np.isnan(v)]
    return float(v.mean()) if v.size else float("nan")


# What makes a video a target: positive engagement, as the holdouts' relevance (a skip, a
# hide or a bare impression is not a video the user went on to want).
_ENGAGED = frozenset(("view", "like", "share", "remix", "comment"))


def _walk(events: pl.DataFrame) -> tuple[list[dict], list[str], list[int]]:
    """A user's events in order, their distinct engaged videos in order of first engagement,
    and the index of the first engaging event of each of those videos."""
    rows = events.sort("ts").select(
        [c for c in _EVENT_COLS if c in events.columns]).to_dicts()
    items, first = [], []
    seen: set[str] = set()
    for n, e in enumerate(rows):
        i = e.get("item_id")
        if i and i not in seen and e.get("type") in _ENGAGED:
            seen.add(i)
            items.append(i)
            first.append(n)
    return rows, items, first


def streaming_replay(ranker: Any, choices: dict[str, ServingChoice],
                     fallbacks: dict[str, Callable[[str, int], list[str]]],
                     test_events: pl.DataFrame, k: int = 10,
                     cfg: StreamingConfig | None = None) -> StreamingResult:
    """Replay the time-forward holdout step by step (see module docstring).

    Args:
        ranker: the ranker trained on the history before the cut.
        choices: model name -> how the feed would serve it (the blend, a source, ``+fb``).
        fallbacks: popularity variant name -> ``(user_id, n) -> ids`` (no history is used).
        test_events: the events after the cut.
        k: page size and target length.
        cfg: replay settings.
    """
    cfg = cfg or StreamingConfig()
    by_user = {u: g for (u,), g in test_events.filter(pl.col("item_id").is_not_null())
               .group_by(["user_id"], maintain_order=True)}
    walks = {u: _walk(g) for u, g in sorted(by_user.items())}
    users = [u for u, w in walks.items() if len(w[1]) > cfg.step]
    if len(users) > cfg.max_users:
        rng = np.random.default_rng(cfg.seed)
        users = sorted(rng.choice(users, cfg.max_users, replace=False).tolist())
    names = list(choices) + list(fallbacks)
    live = {n: np.full(len(users), np.nan) for n in names}
    frozen = {n: np.full(len(users), np.nan) for n in names}
    hist = np.array([int(ranker.history(u).n_positives) for u in users], np.int64)
    order = list(choices.values())
    pages = 0
    for j, u in enumerate(users):
        rows, items, first = walks[u]
        steps = list(range(0, len(items) - 1, cfg.step))[:cfg.max_steps]
        total = len(items)
        # Frozen: the trained model's page, less what was watched since the cut.
        frozen_all = ranker.live_pages(u, (), order, k + total)
        fb_all = {n: f(u, k + total) for n, f in fallbacks.items()}
        got_live: dict[str, list] = {n: [] for n in names}
        got_frozen: dict[str, list] = {n: [] for n in names}
        rels = []
        for p in steps:
            done = set(items[:p])
            rels.append(set(items[p:p + k]))
            pages += 1
            now_pages = ranker.live_pages(u, rows[:first[p]], order, k, frozenset(done))
            for n, page, fz in zip(choices, now_pages, frozen_all, strict=True):
                got_live[n].append(page)
                got_frozen[n].append([i for i in fz if i not in done][:k])
            for n, full in fb_all.items():
                page = [i for i in full if i not in done][:k]
                got_live[n].append(page)
                got_frozen[n].append(page)
        for n in names:
            live[n][j] = ndcg_at_k(got_live[n], rels, k)
            frozen[n][j] = ndcg_at_k(got_frozen[n], rels, k)
    return StreamingResult(users, hist, live, frozen, pages)
