"""Wellbeing configuration: every threshold of the policies, with its default from DESIGN.md."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["WellbeingConfig", "POLICY_VERSION", "parse_window"]

# Bump whenever a rule, a default or the meaning of a fact changes: audit rows carry it.
POLICY_VERSION = "wb-2026.11.1"

_WINDOW = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")


def parse_window(text: str) -> tuple[int, int]:
    """Parse ``HH:MM-HH:MM`` into (start, end) minutes after local midnight.

    Raises:
        ValueError: the text is not a valid window.
    """
    m = _WINDOW.match(text.strip())
    if not m:
        raise ValueError(f"time window {text!r} must look like 'HH:MM-HH:MM', e.g. '22:00-07:00'")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    return h1 * 60 + m1, h2 * 60 + m2


class WellbeingConfig(BaseModel):
    """Thresholds for age bands, item policies, page caps, usage limits and doomscroll signals."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    policy_version: str = Field(
        POLICY_VERSION,
        description="Version stamped on verdicts and audit rows; bump when rules change.",
    )
    child_age: int = Field(13, description="Below this age there is no feed at all.")
    teen_max_age: int = Field(17, description="Highest age that still gets the teen policy.")
    teen_daily_limit_minutes: int = Field(
        60, description="Teen daily watch budget; then the feed ends (TikTok default)."
    )
    teen_break_after_minutes: int = Field(
        20, description="Teens get a break prompt after this many continuous minutes."
    )
    adult_break_after_minutes: int | None = Field(
        None, description="Adult break prompt; None = opt-in via the user's setting."
    )
    teen_quiet_hours: str = Field(
        "22:00-07:00", description="Teen quiet hours in the user's local time (Meta sleep mode)."
    )
    session_gap_minutes: int = Field(
        30, description="A gap longer than this starts a new session when session_id is absent."
    )
    sensitive_topics: tuple[str, ...] = Field(
        ("body_image", "dieting", "sadness", "aggression"),
        description="Topics capped for teens (and adults choosing less sensitive content).",
    )
    sensitive_cap_in_row: int = Field(
        1, description="At most this many sensitive-topic items in a row."
    )
    sensitive_cap_per_page: int = Field(
        2, description="At most this many sensitive-topic items per page."
    )
    sensitive_cap_per_day: int = Field(
        6, description="At most this many sensitive-topic views per rolling 24 h."
    )
    teen_banned_labels: tuple[str, ...] = Field(
        ("self_harm", "eating_disorder", "sexual", "dangerous_challenge"),
        description="Moderation labels never shown to minors or unknown-age viewers.",
    )
    teen_allowed_maturity: tuple[str, ...] = Field(
        ("general", "teen"), description="Maturity ratings minors may see."
    )
    parent_managed_allowed_maturity: tuple[str, ...] = Field(
        ("general",), description="Maturity ratings a parent-managed teen may see."
    )
    less_sensitive_topic_factor: float = Field(
        0.5,
        gt=0,
        le=1,
        description="Downrank factor for sensitive topics when an adult chose 'less'.",
    )
    creator_feedback_half_life_days: float = Field(
        14.0, gt=0, description="Half-life of a hide/report against a creator (gradual recovery)."
    )
    report_weight: float = Field(2.0, ge=0, description="A report weighs this many hides.")
    creator_penalty_min_weight: float = Field(
        0.05, ge=0, description="Below this decayed weight the creator penalty no longer applies."
    )
    doomscroll_window_minutes: int = Field(
        15, description="Recent window for swipe rate, skip rate and topic entropy."
    )
    doomscroll_session_minutes: float = Field(
        45.0, description="Session length at which the session signal saturates."
    )
    doomscroll_swipes_per_minute: float = Field(
        6.0, description="Swipe rate at which the swipe signal saturates."
    )
    doomscroll_skip_rate: float = Field(
        0.7, description="Skip rate at which the skip signal saturates."
    )
    doomscroll_min_views_for_entropy: int = Field(
        5, description="Fewer recent views than this give no narrowing signal."
    )
    late_night: str = Field("23:00-05:00", description="Local window counted as late-night use.")
    doomscroll_medium: float = Field(
        0.5, description="Intensity from which the feed is diversified."
    )
    doomscroll_high: float = Field(
        0.75, description="Intensity from which a break prompt is shown."
    )
    diversify_max_in_row: int = Field(
        1, description="When diversifying, at most this many items of one creator/topic in a row."
    )
    session_topic_max_share: float = Field(
        0.6, gt=0, le=1, description="Dispersion under live adaptation: no primary topic may "
        "take more than this share of a session's videos (its views so far plus this page); "
        "a video past it waits for a slot where it fits."
    )
    session_topic_min_views: int = Field(
        10, ge=1, description="The session-topic share applies once the session has watched "
        "this many videos (a short session may follow one taste freely)."
    )

    topic_feedback_weight: float = Field(
        0.5, ge=0, description="A hide's weight on each of the hidden video's topics "
        "(its creator gets 1; a report multiplies both by report_weight)."
    )
    topic_feedback_half_life_days: float = Field(
        3.0, gt=0, description="Half-life of a hide against a topic (shorter than a creator's)."
    )
    feedback_weight: float = Field(
        0.6, ge=0, le=1, description="Explicit feedback's score shift, as a share of the "
        "page's score range, at a full penalty (bounded: 1 = from top to bottom)."
    )
    steer_weight: float = Field(
        0.5, ge=0, le=1, description="Steering's 'more'/'less' score shift, as a share of the "
        "page's score range (bounded: steering reorders, it never overrides a policy)."
    )
    steer_mood_hours: float = Field(
        12.0, gt=0, description="How long a steering mood lasts when the text names no time."
    )
    checkin_every_days: float = Field(
        7.0, gt=0, description="Offer a check-in this many days after the last answer "
        "(or after account creation)."
    )
    checkin_long_session_minutes: float = Field(
        60.0, gt=0, description="Offer a check-in during a session this long."
    )
    checkin_late_session_minutes: float = Field(
        20.0, gt=0, description="Offer a check-in during a late-night session this long."
    )
    checkin_min_gap_hours: float = Field(
        24.0, ge=0, description="No session-triggered check-in within this many hours of "
        "the last answer."
    )
    guardian_session_items: int = Field(
        30, ge=1, description="Items per session once a guardian turns off continuous scroll."
    )

    @field_validator("teen_quiet_hours", "late_night")
    @classmethod
    def _window(cls, v: str) -> str:
        parse_window(v)
        return v
