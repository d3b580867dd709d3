"""feedwell wellbeing: safety policies as data, age bands, usage limits, interventions, audit.

Public API (what ranking/feed, the service and evaluation call):

- ``WellbeingConfig`` (pydantic, frozen), ``POLICY_VERSION`` ("wb-2026.11.1").
- ``age_band(birth_date, at, cfg=None) -> "child"|"teen_13_15"|"teen_16_17"|"adult"|"unknown"``,
  ``audience_for(band) -> Audience``.
- Rules engine: conditions ``Always IsTrue Eq In Intersects Gte And Or Not Ref``; actions
  ``Drop Downrank Label Intervene`` (each carries a ``Reason``); ``Rule``, ``Policy``,
  ``evaluate(policy, facts) -> Verdict`` (``kept``, ``action``, ``reason``, ``factor``,
  ``labels``, ``results`` with status evaluated/missing_feature/failed/disabled).
- Policies: ``CHILD TEEN ADULT UNKNOWN_AGE``, ``build_policy(audience, parent_managed,
  less_sensitive, cfg)``, ``policy_for(ctx, cfg) -> Policy``.
- Facts: ``ItemFacts``, ``Consent``, ``ViewerSettings``, ``ViewerContext``,
  ``facts_for(item, ctx, consents, now, cfg) -> dict``, ``consent_allows``.
- Loaders: ``load_item_facts(con, item_ids=None)`` (``item_facts_of(row)`` for one row),
  ``latest_consents(con, now)``, ``load_viewer_context(con, user_id, now, usage=None, cfg=None)``.
- The viewer fold (``wellbeing.viewer_fold``; the stored, live and batch paths all call it):
  ``Profile``, ``fold_event``, ``fold_follower``, ``fold_into``, ``creator_penalties``,
  ``topic_penalties``, ``viewer_context``, ``consent_in_force``, ``SEEN_TYPES``.
- Verdicts (the one path the feed, score, explain and the audit read):
  ``item_verdicts(policy, viewer, [(item_id, facts or None)], consents, now, cfg, cache)
  -> [ItemVerdict]``, ``item_verdict(...) -> Verdict`` (every rule's result), ``VerdictCache``.
- Usage: ``UsageState`` (``from_events``, ``observe``, ``advance``, ``today_minutes``,
  ``session_minutes``, ``sensitive_views_24h``), ``doomscroll_intensity(state, cfg)``.
- Interventions: ``Intervention``, ``session_interventions(ctx, now, cfg) -> list``,
  ``session_verdict``; limits ``daily_limit_minutes``, ``break_after_minutes``,
  ``quiet_windows``.
- Page caps (declared in ``PAGE_CAPS``): ``apply_page_caps(ranked, ctx, cfg, diversify,
  now=None) -> (kept_ids, removed)``.
- Audit: ``ensure_audit_table``, ``record``.
- Guardrails: ``ServedPage``, ``guardrail_summary``, ``compare_guardrails``,
  ``minutes_past_budget``, ``late_night_minutes``, ``teen_exposure``.
"""

from wellbeing.age import AgeBand, Audience, age_band, audience_for, is_minor, younger_band
from wellbeing.audit import ensure_audit_table, record
from wellbeing.conditions import Always, And, Eq, Gte, In, Intersects, IsTrue, Not, Or, Ref
from wellbeing.config import POLICY_VERSION, WellbeingConfig
from wellbeing.facts import (
    Consent,
    ItemFacts,
    ViewerContext,
    ViewerSettings,
    consent_allows,
    facts_for,
    unknown_item,
)
from wellbeing.guardrails import (
    ServedPage,
    compare_guardrails,
    guardrail_summary,
    late_night_minutes,
    minutes_past_budget,
    teen_exposure,
)
from wellbeing.interventions import Intervention, session_interventions, session_verdict
from wellbeing.limits import break_after_minutes, daily_limit_minutes, quiet_windows
from wellbeing.loaders import (
    item_facts_of,
    latest_consents,
    load_item_facts,
    load_viewer_context,
)
from wellbeing.policies import ADULT, CHILD, TEEN, UNKNOWN_AGE, build_policy, policy_for
from wellbeing.reasons import Reason
from wellbeing.rules import (
    Downrank,
    Drop,
    Intervene,
    Label,
    Policy,
    Rule,
    RuleResult,
    Verdict,
    evaluate,
)
from wellbeing.selection import apply_page_caps
from wellbeing.sessions import UsageState, doomscroll_intensity
from wellbeing.verdicts import ItemVerdict, VerdictCache, item_verdict, item_verdicts
from wellbeing.viewer_fold import SEEN_TYPES, Profile, consent_in_force, fold_event

__all__ = [
    "ItemVerdict",
    "VerdictCache",
    "item_verdict",
    "item_verdicts",
    "unknown_item",
    "WellbeingConfig",
    "POLICY_VERSION",
    "AgeBand",
    "Audience",
    "age_band",
    "audience_for",
    "is_minor",
    "younger_band",
    "Always",
    "And",
    "Eq",
    "Gte",
    "In",
    "Intersects",
    "IsTrue",
    "Not",
    "Or",
    "Ref",
    "Drop",
    "Downrank",
    "Label",
    "Intervene",
    "Rule",
    "RuleResult",
    "Policy",
    "Verdict",
    "evaluate",
    "Reason",
    "CHILD",
    "TEEN",
    "ADULT",
    "UNKNOWN_AGE",
    "build_policy",
    "policy_for",
    "ItemFacts",
    "Consent",
    "ViewerSettings",
    "ViewerContext",
    "consent_allows",
    "facts_for",
    "load_item_facts",
    "item_facts_of",
    "latest_consents",
    "load_viewer_context",
    "SEEN_TYPES",
    "Profile",
    "consent_in_force",
    "fold_event",
    "UsageState",
    "doomscroll_intensity",
    "Intervention",
    "session_interventions",
    "session_verdict",
    "daily_limit_minutes",
    "break_after_minutes",
    "quiet_windows",
    "apply_page_caps",
    "ensure_audit_table",
    "record",
    "ServedPage",
    "guardrail_summary",
    "compare_guardrails",
    "minutes_past_budget",
    "late_night_minutes",
    "teen_exposure",
]
