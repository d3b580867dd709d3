"""Effective time limits for a viewer: defaults by age, the user's settings, parental tightening.

A parent-managed teen's settings can only make limits stricter (a lower daily budget, an
earlier break, wider quiet hours). A teen without parental management may set their own.
Adults have no limit unless they set one.
"""

from __future__ import annotations

from datetime import datetime

from wellbeing.config import WellbeingConfig, parse_window
from wellbeing.facts import ViewerContext
from wellbeing.sessions import in_window, local_time

__all__ = ["daily_limit_minutes", "break_after_minutes", "quiet_windows", "in_quiet_hours"]


def _stricter(default: int, own: int | None, parent_managed: bool) -> int:
    if own is None or own <= 0:
        return default
    return min(default, own) if parent_managed else own


def daily_limit_minutes(ctx: ViewerContext, cfg: WellbeingConfig) -> int | None:
    """The daily watch budget in minutes, or None for no budget."""
    own = ctx.settings.daily_limit_minutes
    if not ctx.minor:
        return own if own and own > 0 else None
    return _stricter(cfg.teen_daily_limit_minutes, own, ctx.settings.parent_managed)


def break_after_minutes(ctx: ViewerContext, cfg: WellbeingConfig) -> int | None:
    """Continuous minutes before a break prompt, or None when breaks are off (adult default)."""
    own = ctx.settings.break_after_minutes
    if not ctx.minor:
        return own if own and own > 0 else cfg.adult_break_after_minutes
    return _stricter(cfg.teen_break_after_minutes, own, ctx.settings.parent_managed)


def _valid(window: str | None) -> str | None:
    try:
        return window if window and parse_window(window) else None
    except ValueError:
        return None


def quiet_windows(ctx: ViewerContext, cfg: WellbeingConfig) -> tuple[str, ...]:
    """Quiet-hour windows in force (local time); an invalid user window is ignored."""
    own = _valid(ctx.settings.quiet_hours)
    if not ctx.minor:
        return (own,) if own else ()
    if ctx.settings.parent_managed:
        # Parents can only widen quiet hours: both windows apply.
        return (cfg.teen_quiet_hours, own) if own else (cfg.teen_quiet_hours,)
    return (own or cfg.teen_quiet_hours,)


def in_quiet_hours(ctx: ViewerContext, now: datetime, cfg: WellbeingConfig) -> bool | None:
    """Whether ``now`` is in the viewer's quiet hours (None when they have none)."""
    windows = quiet_windows(ctx, cfg)
    if not windows:
        return None
    local = local_time(now, ctx.timezone)
    return any(in_window(local, w) for w in windows)
