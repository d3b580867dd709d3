"""Guardrail metrics over served pages, for comparing feeds with and without the policy.

Pure functions over plain data: the evaluation side builds ``ServedPage`` rows from a replay
or a simulation and calls ``guardrail_summary`` / ``compare_guardrails``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from wellbeing.age import AgeBand
from wellbeing.config import WellbeingConfig
from wellbeing.facts import ItemFacts
from wellbeing.sessions import in_window, local_time

__all__ = [
    "ServedPage",
    "minutes_past_budget",
    "late_night_minutes",
    "teen_exposure",
    "topic_concentration",
    "guardrail_summary",
    "compare_guardrails",
]


@dataclass(frozen=True)
class ServedPage:
    """One page served to a user and the minutes they watched from it."""

    user_id: str
    ts: datetime
    age_band: AgeBand
    items: Sequence[ItemFacts]
    watch_minutes: float
    timezone: str = "UTC"
    daily_limit_minutes: int | None = None  # the user's own budget, if any


def _budget(p: ServedPage, cfg: WellbeingConfig) -> float | None:
    if p.age_band == "adult":
        return p.daily_limit_minutes
    if p.age_band == "child":
        return 0.0
    return min(cfg.teen_daily_limit_minutes, p.daily_limit_minutes or cfg.teen_daily_limit_minutes)


def minutes_past_budget(pages: Iterable[ServedPage], cfg: WellbeingConfig | None = None) -> float:
    """Minutes watched beyond each user's daily budget (local days; adults without one: 0)."""
    cfg = cfg or WellbeingConfig()
    used: dict[tuple[str, object], float] = defaultdict(float)
    over = 0.0
    for p in sorted(pages, key=lambda p: p.ts):
        budget = _budget(p, cfg)
        key = (p.user_id, local_time(p.ts, p.timezone).date())
        before = used[key]
        used[key] += p.watch_minutes
        if budget is not None:
            over += max(0.0, used[key] - max(budget, before))
    return over


def late_night_minutes(
    pages: Iterable[ServedPage], cfg: WellbeingConfig | None = None, minors_only: bool = False
) -> float:
    """Minutes watched from pages served in the late-night window, local time."""
    cfg = cfg or WellbeingConfig()
    return sum(
        p.watch_minutes
        for p in pages
        if (not minors_only or p.age_band != "adult")
        and in_window(local_time(p.ts, p.timezone), cfg.late_night)
    )


def teen_exposure(
    pages: Iterable[ServedPage], cfg: WellbeingConfig | None = None
) -> dict[str, int]:
    """Items served to minors (incl. unknown age) that the teen policy guards against."""
    cfg = cfg or WellbeingConfig()
    sens, banned = set(cfg.sensitive_topics), set(cfg.teen_banned_labels)
    out = dict.fromkeys(
        ("items", "sensitive_topic", "banned_label", "unlabelled", "unrated", "mature"), 0
    )
    for p in pages:
        if p.age_band == "adult":
            continue
        for it in p.items:
            out["items"] += 1
            out["sensitive_topic"] += not sens.isdisjoint(it.topics or ())
            out["banned_label"] += it.labels is not None and not banned.isdisjoint(it.labels)
            out["unlabelled"] += it.labels is None
            out["unrated"] += it.maturity is None
            out["mature"] += it.maturity not in (None, *cfg.teen_allowed_maturity)
    return out


def topic_concentration(pages: Iterable[ServedPage], min_items: int = 5) -> float:
    """Mean over users of the largest share one primary topic takes of the videos served to
    them (the replayed pages of a user are one session); users served fewer than
    ``min_items`` videos are left out."""
    by_user: dict[str, Counter] = defaultdict(Counter)
    for p in pages:
        for it in p.items:
            if it.topics:
                by_user[p.user_id][it.topics[0]] += 1
    shares = [max(c.values()) / sum(c.values()) for c in by_user.values()
              if sum(c.values()) >= min_items]
    return sum(shares) / len(shares) if shares else 0.0


def guardrail_summary(
    pages: Sequence[ServedPage], cfg: WellbeingConfig | None = None
) -> dict[str, float]:
    """All guardrail metrics for one set of served pages, flat."""
    cfg = cfg or WellbeingConfig()
    out: dict[str, float] = {
        "minutes_past_budget": minutes_past_budget(pages, cfg),
        "late_night_minutes": late_night_minutes(pages, cfg),
        "minor_late_night_minutes": late_night_minutes(pages, cfg, minors_only=True),
        "total_minutes": sum(p.watch_minutes for p in pages),
        "session_topic_concentration": topic_concentration(pages),
    }
    out |= {f"minor_{k}": v for k, v in teen_exposure(pages, cfg).items()}
    return out


def compare_guardrails(
    with_policy: Sequence[ServedPage],
    without_policy: Sequence[ServedPage],
    cfg: WellbeingConfig | None = None,
) -> dict[str, dict[str, float]]:
    """Each metric with and without the policy and the difference (with - without)."""
    a, b = guardrail_summary(with_policy, cfg), guardrail_summary(without_policy, cfg)
    return {k: {"with": a[k], "without": b[k], "delta": a[k] - b[k]} for k in a}
