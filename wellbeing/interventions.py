"""Session interventions (no feed, daily limit, quiet hours, breaks, diversification) as rules.

Session caps use the same Rule/Intervene/evaluate machinery as item policies, over session
facts: the thresholds come from ``limits`` and config, the rules stay one line each.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from wellbeing.conditions import And, Gte, IsTrue, Not, Ref
from wellbeing.config import WellbeingConfig
from wellbeing.facts import ViewerContext
from wellbeing.limits import break_after_minutes, daily_limit_minutes, in_quiet_hours
from wellbeing.reasons import Reason as R
from wellbeing.rules import Intervene, Policy, Rule, Verdict, evaluate
from wellbeing.sessions import UsageState, doomscroll_intensity

__all__ = [
    "Intervention",
    "session_interventions",
    "session_facts",
    "session_policy",
    "session_verdict",
    "MESSAGES",
]

MESSAGES = {
    "no_feed_child": "This feed is not available for users under 13.",
    "daily_limit": "You've reached your daily watch time. See you tomorrow.",
    "quiet_hours": "It's quiet hours. The feed will be back in the morning.",
    "break": "You've been watching for a while. Time for a break?",
    "diversify": "Mixing things up with something different.",
    "checkin": "How do you feel about your feed?",
    "non_personalized": "A guardian has turned off personalisation: this feed is not based "
    "on your activity.",
    "end_of_feed": "That's the end of the feed for this session. Come back later for more.",
}


@dataclass(frozen=True)
class Intervention:
    """A session intervention for the response; ``ends_feed`` means no items are served."""

    type: str
    message: str
    ends_feed: bool
    reason: R


@lru_cache(maxsize=16)
def session_policy(cfg: WellbeingConfig | None = None) -> Policy:
    """The session rules, most decisive first (ending the feed beats prompting)."""
    cfg = cfg or WellbeingConfig()
    hi, mid = cfg.doomscroll_high, cfg.doomscroll_medium
    return Policy(
        "SESSION",
        (
            Rule(
                "no_feed_child",
                IsTrue("is_child"),
                Intervene(R.NO_FEED_CHILD, type="no_feed_child", ends_feed=True),
            ),
            Rule(
                "daily_limit",
                Gte("minutes_today", Ref("daily_limit_minutes")),
                Intervene(R.DAILY_LIMIT, type="daily_limit", ends_feed=True),
            ),
            Rule(
                "quiet_hours",
                IsTrue("in_quiet_hours"),
                Intervene(R.QUIET_HOURS, type="quiet_hours", ends_feed=True),
            ),
            # Guardian settings on a minor's account: they only ever tighten.
            Rule(
                "guardian_scroll_limit",
                Gte("session_items", Ref("guardian_session_items")),
                Intervene(R.GUARDIAN_SCROLL_LIMIT, type="end_of_feed", ends_feed=True),
            ),
            Rule(
                "guardian_no_personalization",
                IsTrue("guardian_no_personalization"),
                Intervene(R.GUARDIAN_NO_PERSONALIZATION, type="non_personalized"),
            ),
            Rule(
                "break",
                Gte("session_minutes", Ref("break_after_minutes")),
                Intervene(R.BREAK, type="break"),
            ),
            Rule(
                "doomscroll_break",
                Gte("doomscroll_intensity", hi),
                Intervene(R.DOOMSCROLL_BREAK, type="break"),
            ),
            Rule(
                "doomscroll_diversify",
                And(Gte("doomscroll_intensity", mid), Not(Gte("doomscroll_intensity", hi))),
                Intervene(R.DOOMSCROLL_DIVERSIFY, type="diversify"),
            ),
            # Wellbeing check-ins: periodically, or during a long or late session.
            Rule(
                "checkin_periodic",
                Gte("days_since_checkin", cfg.checkin_every_days),
                Intervene(R.CHECKIN, type="checkin"),
            ),
            Rule(
                "checkin_long_session",
                And(Gte("session_minutes", cfg.checkin_long_session_minutes),
                    Gte("hours_since_checkin", cfg.checkin_min_gap_hours)),
                Intervene(R.CHECKIN, type="checkin"),
            ),
            Rule(
                "checkin_late_session",
                And(IsTrue("late_night"),
                    Gte("session_minutes", cfg.checkin_late_session_minutes),
                    Gte("hours_since_checkin", cfg.checkin_min_gap_hours)),
                Intervene(R.CHECKIN, type="checkin"),
            ),
        ),
        fail_closed=False,
        version=cfg.policy_version,
    )  # a missing limit means "not configured"


def session_facts(ctx: ViewerContext, now: datetime, cfg: WellbeingConfig) -> dict[str, Any]:
    """Named session facts at ``now`` (None = that limit does not apply to this viewer)."""
    usage = (ctx.usage or UsageState(tz=ctx.timezone, cfg=cfg)).advance(now)
    return {
        "is_child": ctx.age_band == "child",
        "minutes_today": usage.today_minutes(now),
        "daily_limit_minutes": daily_limit_minutes(ctx, cfg),
        "in_quiet_hours": in_quiet_hours(ctx, now, cfg),
        "session_minutes": usage.session_minutes(now),
        "break_after_minutes": break_after_minutes(ctx, cfg),
        "doomscroll_intensity": doomscroll_intensity(usage, cfg),
        **_lever_facts(ctx, usage, now, cfg),
    }


_NEVER = 1e9  # hours since a check-in that never happened


def _lever_facts(ctx: ViewerContext, usage: UsageState, now: datetime,
                 cfg: WellbeingConfig) -> dict[str, Any]:
    # Guardian settings count for minors only (None: the rule does not apply).
    s, minor = ctx.settings, ctx.minor
    since = ctx.last_checkin or ctx.created_at
    return {
        "guardian_session_items": s.guardian_session_items if minor else None,
        "session_items": usage.session_items(now),
        "guardian_no_personalization": minor and s.guardian_personalized is False,
        "late_night": usage.is_late_night(now),
        "days_since_checkin": (now - since).total_seconds() / 86400.0 if since else None,
        "hours_since_checkin": ((now - ctx.last_checkin).total_seconds() / 3600.0
                                if ctx.last_checkin else _NEVER),
    }


def session_verdict(
    ctx: ViewerContext, now: datetime, cfg: WellbeingConfig | None = None
) -> Verdict:
    """The session policy's full verdict (every rule's result), for explain and audit."""
    cfg = cfg or WellbeingConfig()
    return evaluate(session_policy(cfg), session_facts(ctx, now, cfg))


def session_interventions(
    ctx: ViewerContext, now: datetime, cfg: WellbeingConfig | None = None
) -> list[Intervention]:
    """Interventions in force for this viewer now, feed-ending ones first, one per type.

    Args:
        ctx: the viewer (age band, settings, usage).
        now: the request time.
        cfg: thresholds.
    """
    out: dict[str, Intervention] = {}
    for a in session_verdict(ctx, now, cfg).fired:
        if isinstance(a, Intervene) and a.type not in out:
            out[a.type] = Intervention(a.type, MESSAGES.get(a.type, a.type), a.ends_feed, a.reason)
    return sorted(out.values(), key=lambda i: not i.ends_feed)
