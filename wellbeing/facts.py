"""Item facts, viewer context, cameo consent, and the named facts the policies read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from wellbeing.age import AgeBand
from wellbeing.config import WellbeingConfig

if TYPE_CHECKING:
    from wellbeing.sessions import UsageState

__all__ = [
    "ItemFacts",
    "Consent",
    "ViewerSettings",
    "ViewerContext",
    "consent_allows",
    "facts_for",
    "unknown_item",
    "FACT_NAMES",
]


@dataclass(frozen=True)
class ItemFacts:
    """The safety-relevant columns of one ``items`` row. None means unknown (teen drops)."""

    item_id: str
    creator_id: str
    status: str | None = "active"
    maturity: str | None = None
    labels: tuple[str, ...] | None = None
    topics: tuple[str, ...] = ()
    ai_generated: bool | None = None
    realistic_person: bool | None = None
    cameo_subjects: tuple[str, ...] | None = ()
    provenance: bool | None = None
    # False for a video the catalog has never seen (``unknown_item``): minors' policies drop it.
    known: bool = True


def unknown_item(item_id: str) -> ItemFacts:
    """All that is known of a video missing from the catalog (adults' rules skip the rest)."""
    return ItemFacts(item_id=item_id, creator_id="", status=None, maturity=None, labels=None,
                     cameo_subjects=(), provenance=None, known=False)


@dataclass(frozen=True)
class Consent:
    """The consent in force for one cameo subject (the latest row)."""

    subject_id: str
    ts: datetime
    status: str
    audience: str | None = None
    approved: frozenset[str] | None = None


@dataclass(frozen=True)
class ViewerSettings:
    """The user's own settings (``users`` columns plus ``extra.break_after_minutes``)."""

    personalized: bool = True
    daily_limit_minutes: int | None = None
    quiet_hours: str | None = None
    sensitive_content: str = "standard"
    parent_managed: bool = False
    break_after_minutes: int | None = None
    # Guardian settings (``extra``): they apply to minors only and can only tighten.
    guardian_personalized: bool = True
    guardian_session_items: int | None = None


@dataclass
class ViewerContext:
    """Everything the policies know about the viewer at request time."""

    user_id: str
    age_band: AgeBand = "unknown"
    timezone: str = "UTC"
    settings: ViewerSettings = field(default_factory=ViewerSettings)
    blocked_creators: frozenset[str] = frozenset()
    following: frozenset[str] = frozenset()
    followers: frozenset[str] = frozenset()
    hidden_items: frozenset[str] = frozenset()
    reported_items: frozenset[str] = frozenset()
    creator_penalties: Mapping[str, float] = field(default_factory=dict)
    usage: UsageState | None = None
    known: bool = True
    # Decayed hide/report weight per topic of the videos hidden (explicit feedback).
    topic_penalties: Mapping[str, float] = field(default_factory=dict)
    # The latest check-in answer, and when the account was created (check-in cadence).
    last_checkin: datetime | None = None
    created_at: datetime | None = None

    @property
    def minor(self) -> bool:
        return self.age_band != "adult"

    def sensitive_views_24h(self, now: datetime) -> int:
        """Views of sensitive-topic items in the 24 h before ``now`` (0 without usage)."""
        return self.usage.sensitive_views_24h(now) if self.usage is not None else 0


def consent_allows(consent: Consent | None, subject_id: str, ctx: ViewerContext) -> bool:
    """Whether ``ctx``'s viewer may see ``subject_id``'s likeness under the consent in force.

    The subject always sees themself; otherwise the consent must be ``granted`` and the viewer
    in its audience (``everyone``; ``mutuals``: both follow each other; ``only_me``: nobody
    else; ``approved``: listed, and nobody when no list is given).
    """
    if ctx.user_id == subject_id:
        return True
    if consent is None or consent.status != "granted":
        return False
    aud = consent.audience
    if aud == "everyone":
        return True
    if aud == "mutuals":
        return subject_id in ctx.following and subject_id in ctx.followers
    if aud == "approved":
        return consent.approved is not None and ctx.user_id in consent.approved
    return False  # only_me, or an unknown/missing audience


# Facts every item evaluation provides (None = unknown); policies read these names only.
FACT_NAMES = (
    "item",
    "status",
    "maturity",
    "labels",
    "topics",
    "realistic_person",
    "provenance",
    "cameo_consent_ok",
    "creator_blocked",
    "hidden_by_viewer",
    "reported_by_viewer",
    "creator_penalty",
    "creator_feedback_factor",
    "sensitive_topic",
    "sensitive_views_24h",
    "sensitive_cap_per_day",
)


def facts_for(
    item: ItemFacts,
    ctx: ViewerContext,
    consents: Mapping[str, Consent],
    now: datetime,
    cfg: WellbeingConfig | None = None,
    sensitive_views_24h: int | None = None,
) -> dict[str, Any]:
    """Named facts for one (viewer, item) pair, as the policies read them.

    Pass ``sensitive_views_24h`` when evaluating many items for one viewer (computed once).

    Unknown provenance counts as no provenance. ``cameo_subjects`` NULL is unknown unless the
    item is known not to show a realistic person (then it cannot carry anyone's likeness).
    """
    cfg = cfg or WellbeingConfig()
    subjects = item.cameo_subjects
    # Unknown subjects matter only for a video that may show a real person: a catalog with no
    # likeness data must not empty adults' feeds. Minors stay covered: their policy drops a
    # video whose realistic_person fact is unknown.
    if subjects is None and item.realistic_person is not True:
        subjects = ()
    cameo_ok = (
        None if subjects is None else all(consent_allows(consents.get(s), s, ctx) for s in subjects)
    )
    penalty = float(ctx.creator_penalties.get(item.creator_id, 0.0))
    return {
        # True for a catalog video, None (unknown) otherwise: the fail-closed policies drop it.
        "item": True if item.known else None,
        "status": item.status,
        "maturity": item.maturity,
        "labels": item.labels,
        "topics": item.topics,
        "realistic_person": item.realistic_person,
        "provenance": bool(item.provenance),
        "cameo_consent_ok": cameo_ok,
        "creator_blocked": item.creator_id in ctx.blocked_creators,
        "hidden_by_viewer": item.item_id in ctx.hidden_items,
        "reported_by_viewer": item.item_id in ctx.reported_items,
        "creator_penalty": penalty,
        # Gradual recovery: the factor climbs back to 1 as the decayed weight fades.
        "creator_feedback_factor": 1.0 / (1.0 + penalty),
        "sensitive_topic": not set(item.topics or ()).isdisjoint(cfg.sensitive_topics),
        "sensitive_views_24h": (
            ctx.sensitive_views_24h(now) if sensitive_views_24h is None else sensitive_views_24h
        ),
        "sensitive_cap_per_day": cfg.sensitive_cap_per_day,
    }
