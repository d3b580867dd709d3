"""The item policies, one ordered rule list per audience, read top to bottom.

Variants from settings only tighten: parent-managed teens see only ``general`` maturity;
``sensitive_content="less"`` drops sensitive topics for minors and, for adults, drops mature
items, downranks sensitive topics and applies the daily sensitive cap.
"""

from __future__ import annotations

from functools import lru_cache

from wellbeing.age import Audience, audience_for
from wellbeing.conditions import Always, And, Eq, Gte, In, Intersects, IsTrue, Not, Ref
from wellbeing.config import WellbeingConfig
from wellbeing.facts import ViewerContext
from wellbeing.reasons import Reason as R
from wellbeing.rules import Downrank, Drop, Label, Policy, Rule

__all__ = ["build_policy", "policy_for", "CHILD", "TEEN", "ADULT", "UNKNOWN_AGE", "REALISTIC_LABEL",
           "SENSITIVE_OVER_DAY"]

REALISTIC_LABEL = "AI-generated realistic content"
_UNPROVENANCED = And(IsTrue("realistic_person"), Not(IsTrue("provenance")))
# The daily sensitive cap, declared once: the policies drop a sensitive video once the day is
# used up, and the page caps (``wellbeing.selection``) apply the same condition as a page fills.
SENSITIVE_OVER_DAY = And(
    IsTrue("sensitive_topic"), Gte("sensitive_views_24h", Ref("sensitive_cap_per_day"))
)


def _everyone(cfg: WellbeingConfig) -> list[Rule]:
    return [
        # First, so that an unknown video's verdict names this rule ("missing_fact:item").
        Rule("unknown_item", Not(IsTrue("item")), Drop(R.UNKNOWN_ITEM)),
        Rule("item_removed", Eq("status", "removed"), Drop(R.ITEM_REMOVED)),
        Rule("creator_blocked", IsTrue("creator_blocked"), Drop(R.CREATOR_BLOCKED)),
        # Consent protects the subject, not the viewer: unknown consent drops for everyone.
        Rule(
            "cameo_consent",
            Not(IsTrue("cameo_consent_ok")),
            Drop(R.CAMEO_CONSENT),
            fail_closed=True,
        ),
        Rule("hidden_by_viewer", IsTrue("hidden_by_viewer"), Drop(R.HIDDEN_BY_VIEWER)),
        Rule("reported_by_viewer", IsTrue("reported_by_viewer"), Drop(R.REPORTED_BY_VIEWER)),
    ]


def _minor(cfg: WellbeingConfig) -> list[Rule]:
    return [
        Rule(
            "minor_realistic_no_provenance", _UNPROVENANCED, Drop(R.MINOR_REALISTIC_NO_PROVENANCE)
        ),
        Rule(
            "minor_maturity", Not(In("maturity", cfg.teen_allowed_maturity)), Drop(R.MINOR_MATURITY)
        ),
        Rule(
            "minor_banned_label",
            Intersects("labels", cfg.teen_banned_labels),
            Drop(R.MINOR_BANNED_LABEL),
        ),
        Rule("sensitive_daily_cap", SENSITIVE_OVER_DAY, Drop(R.SENSITIVE_DAILY_CAP)),
    ]


def _feedback(cfg: WellbeingConfig) -> list[Rule]:
    factor = Ref("creator_feedback_factor")
    return [
        Rule(
            "creator_negative_feedback",
            Gte("creator_penalty", cfg.creator_penalty_min_weight),
            Downrank(R.CREATOR_NEGATIVE_FEEDBACK, factor=factor),
        ),
    ]


def _adult(cfg: WellbeingConfig) -> list[Rule]:
    return [
        Rule(
            "realistic_no_provenance",
            _UNPROVENANCED,
            Label(R.REALISTIC_NO_PROVENANCE, text=REALISTIC_LABEL),
        ),
    ]


def _parent_managed(cfg: WellbeingConfig) -> list[Rule]:
    allowed = cfg.parent_managed_allowed_maturity
    return [
        Rule(
            "parent_managed_maturity", Not(In("maturity", allowed)), Drop(R.PARENT_MANAGED_MATURITY)
        )
    ]


def _less_minor(cfg: WellbeingConfig) -> list[Rule]:
    return [Rule("less_sensitive_topic", IsTrue("sensitive_topic"), Drop(R.LESS_SENSITIVE_TOPIC))]


def _less_adult(cfg: WellbeingConfig) -> list[Rule]:
    f = cfg.less_sensitive_topic_factor
    return [
        Rule("less_sensitive_mature", Eq("maturity", "mature"), Drop(R.LESS_SENSITIVE_MATURE)),
        Rule("sensitive_daily_cap", SENSITIVE_OVER_DAY, Drop(R.SENSITIVE_DAILY_CAP)),
        Rule(
            "less_sensitive_topic",
            IsTrue("sensitive_topic"),
            Downrank(R.LESS_SENSITIVE_TOPIC, factor=f),
        ),
    ]


@lru_cache(maxsize=64)
def build_policy(
    audience: Audience,
    parent_managed: bool = False,
    less_sensitive: bool = False,
    cfg: WellbeingConfig | None = None,
) -> Policy:
    """Assemble the policy for an audience and its setting variants (cached).

    Args:
        audience: CHILD, TEEN, ADULT or UNKNOWN_AGE.
        parent_managed: add the parent-managed tightening (minors only).
        less_sensitive: the viewer chose ``sensitive_content="less"``.
        cfg: thresholds; the default config when None.
    """
    cfg = cfg or WellbeingConfig()
    if audience is Audience.CHILD:
        # Under 13: no feed at all, whatever the item.
        return Policy(
            "CHILD",
            (Rule("no_feed_child", Always(), Drop(R.NO_FEED_CHILD)),),
            True,
            cfg.policy_version,
        )
    name = audience.value
    rules = _everyone(cfg)
    if audience is Audience.ADULT:
        rules += _adult(cfg)
        if less_sensitive:
            rules += _less_adult(cfg)
            name += "_LESS"
    else:
        rules += _minor(cfg)
        if parent_managed:
            rules += _parent_managed(cfg)
            name += "_PARENT_MANAGED"
        if less_sensitive:
            rules += _less_minor(cfg)
            name += "_LESS"
    rules += _feedback(cfg)
    return Policy(name, tuple(rules), audience is not Audience.ADULT, cfg.policy_version)


def policy_for(ctx: ViewerContext, cfg: WellbeingConfig | None = None) -> Policy:
    """The policy for a viewer: their age band's audience plus their settings' variants."""
    s = ctx.settings
    return build_policy(
        audience_for(ctx.age_band), bool(s.parent_managed), s.sensitive_content == "less", cfg
    )


CHILD = build_policy(Audience.CHILD)
TEEN = build_policy(Audience.TEEN)
ADULT = build_policy(Audience.ADULT)
UNKNOWN_AGE = build_policy(Audience.UNKNOWN_AGE)
