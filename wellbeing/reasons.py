"""Every reason a wellbeing rule, cap or intervention can give (one enum, stable values)."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Reason"]


class Reason(StrEnum):
    """Why an item was dropped, downranked or labelled, or why an intervention was shown.

    Values are stable strings: they land in ``audit_log.reason`` and API responses.
    """

    # item eligibility, everyone
    UNKNOWN_ITEM = "unknown_item"
    ITEM_REMOVED = "item_removed"
    CREATOR_BLOCKED = "creator_blocked"
    CAMEO_CONSENT = "cameo_consent"
    HIDDEN_BY_VIEWER = "hidden_by_viewer"
    REPORTED_BY_VIEWER = "reported_by_viewer"
    CREATOR_NEGATIVE_FEEDBACK = "creator_negative_feedback"
    REALISTIC_NO_PROVENANCE = "realistic_no_provenance"
    # minors (teens and unknown age)
    MINOR_REALISTIC_NO_PROVENANCE = "minor_realistic_no_provenance"
    MINOR_MATURITY = "minor_maturity"
    MINOR_BANNED_LABEL = "minor_banned_label"
    PARENT_MANAGED_MATURITY = "parent_managed_maturity"
    NO_FEED_CHILD = "no_feed_child"
    # sensitive content preferences and caps
    LESS_SENSITIVE_MATURE = "less_sensitive_mature"
    LESS_SENSITIVE_TOPIC = "less_sensitive_topic"
    SENSITIVE_DAILY_CAP = "sensitive_daily_cap"
    SENSITIVE_PAGE_CAP = "sensitive_page_cap"
    SENSITIVE_IN_ROW_CAP = "sensitive_in_row_cap"
    DIVERSIFY_CREATOR = "diversify_creator"
    DIVERSIFY_TOPIC = "diversify_topic"
    SESSION_TOPIC_CAP = "session_topic_cap"
    # session interventions
    DAILY_LIMIT = "daily_limit"
    QUIET_HOURS = "quiet_hours"
    BREAK = "break"
    DOOMSCROLL_DIVERSIFY = "doomscroll_diversify"
    DOOMSCROLL_BREAK = "doomscroll_break"
    # the user's own levers (steering in words, explicit feedback, check-ins, guardians)
    STEERING_NEVER = "steering_never"
    STEERING_MORE = "steering_more"
    STEERING_LESS = "steering_less"
    EXPLICIT_FEEDBACK = "explicit_feedback"
    CHECKIN = "checkin"
    GUARDIAN_NO_PERSONALIZATION = "guardian_no_personalization"
    GUARDIAN_SCROLL_LIMIT = "guardian_scroll_limit"
    # fail-closed outcomes (the detail names the fact or rule)
    ALREADY_SEEN = "already_seen"
    EXCLUDED_BY_CLIENT = "excluded_by_client"
    MISSING_FACT = "missing_fact"
    RULE_FAILED = "rule_failed"
