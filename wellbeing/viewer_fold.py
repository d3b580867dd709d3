"""One fold per viewer fact, whatever the path: stored (point in time), live, batch.

A viewer's blocks, follows and followers, hides and reports (with the creator and topic
feedback they carry), what counts as seen and which cameo consent is in force are decided
here, once. The stored path (``wellbeing.loaders.load_viewer_context``: batch ``score``,
``recommend``, ``explain``, the guardrail replay), the service's start-up load and its live
updates (``ranking.service.viewer_state``) select rows their own way and then call these
functions, so the three cannot drift.

The functions are pure over a ``Profile`` (mutated in place by the folds). Sets on a profile
are replaced, never mutated (copy on write), so a reader holding one never sees it change.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple

from wellbeing.age import younger_band
from wellbeing.config import WellbeingConfig
from wellbeing.facts import Consent, ItemFacts, ViewerContext, ViewerSettings
from wellbeing.sessions import UsageState

__all__ = [
    "SEEN_TYPES",
    "SEEN_SQL",
    "PROFILE_TYPES",
    "FOLLOW_TYPES",
    "Feedback",
    "Profile",
    "counts_as_seen",
    "fold_event",
    "fold_follower",
    "fold_into",
    "feedback_decay",
    "creator_penalties",
    "topic_penalties",
    "viewer_context",
    "consent_in_force",
]

# What counts as already seen: anything the viewer was shown or did to a video, except a bare
# impression (shown is not watched: it may come back).
SEEN_TYPES: frozenset[str] = frozenset(
    ("view", "skip", "like", "share", "remix", "comment", "hide", "report"))
# ``counts_as_seen`` as a SQL condition over ``events`` (for loads that select seen rows).
SEEN_SQL: str = "item_id IS NOT NULL AND type IN ({})".format(
    ", ".join(f"'{t}'" for t in sorted(SEEN_TYPES)))
# The event types that change a profile (everything else is usage or seen).
PROFILE_TYPES: tuple[str, ...] = ("block", "follow", "unfollow", "hide", "report")
FOLLOW_TYPES: tuple[str, ...] = ("follow", "unfollow")
# A topic penalty below this no longer counts (it would only add noise to the scorer).
_TOPIC_MIN = 1e-3


class Feedback(NamedTuple):
    """One hide or report against a creator (and the video's topics), as it was made."""

    creator_id: str
    topics: tuple[str, ...]
    ts: datetime
    weight: float


@dataclass
class Profile:
    """One user's slowly changing side: who they are and what they told us."""

    birth_date: date | None = None
    timezone: str = "UTC"
    settings: ViewerSettings = field(default_factory=ViewerSettings)
    known: bool = False
    blocked: frozenset[str] = frozenset()
    follow: dict[str, bool] = field(default_factory=dict)
    fans: dict[str, bool] = field(default_factory=dict)
    hidden: frozenset[str] = frozenset()
    reported: frozenset[str] = frozenset()
    feedback: list[Feedback] = field(default_factory=list)
    reset: datetime | None = None
    created_at: datetime | None = None
    last_checkin: datetime | None = None


def counts_as_seen(event: Mapping[str, Any]) -> bool:
    """Whether the event marks its video as seen by its viewer."""
    return bool(event.get("item_id")) and event.get("type") in SEEN_TYPES


def fold_event(profile: Profile, event: Mapping[str, Any], item: ItemFacts | None,
               cfg: WellbeingConfig) -> None:
    """Apply one event to its actor's profile (other types are ignored).

    Args:
        profile: the profile of the event's ``user_id``.
        event: a contract row (``type``, ``ts``, ``item_id``, ``target_user_id``).
        item: the catalog facts of ``item_id`` (None: unknown video, no creator feedback);
            only ``creator_id`` and ``topics`` are read.
        cfg: ``report_weight``.
    """
    etype, target, item_id = event["type"], event.get("target_user_id"), event.get("item_id")
    if etype == "block" and target:
        if target not in profile.blocked:
            profile.blocked = profile.blocked | {target}
    elif etype in FOLLOW_TYPES and target:
        profile.follow[target] = etype == "follow"
    elif etype in ("hide", "report") and item_id:
        if etype == "hide":
            if item_id not in profile.hidden:
                profile.hidden = profile.hidden | {item_id}
        elif item_id not in profile.reported:
            profile.reported = profile.reported | {item_id}
        if item is not None and item.creator_id:
            w = cfg.report_weight if etype == "report" else 1.0
            profile.feedback.append(Feedback(item.creator_id, tuple(item.topics or ()),
                                             event["ts"], w))


def fold_follower(profile: Profile, event: Mapping[str, Any]) -> None:
    """Apply a follow or unfollow to the followed user's profile (who follows them)."""
    if event["type"] in FOLLOW_TYPES and event.get("target_user_id"):
        profile.fans[event["user_id"]] = event["type"] == "follow"


def fold_into(profile_of: Callable[[str], Profile], event: Mapping[str, Any],
              item: ItemFacts | None, cfg: WellbeingConfig) -> None:
    """Apply one event to every profile it concerns: its actor's, and a followed user's."""
    if event["type"] not in PROFILE_TYPES:
        return
    fold_event(profile_of(event["user_id"]), event, item, cfg)
    if event["type"] in FOLLOW_TYPES and event.get("target_user_id"):
        fold_follower(profile_of(event["target_user_id"]), event)


def feedback_decay(ts: datetime, now: datetime, half_life_days: float) -> float:
    """The share of a feedback's weight left at ``now``: halves every ``half_life_days``.

    An event after ``now`` (a client clock behind the server's, a replay) counts as made at
    ``now``: never more than its full weight.
    """
    age_days = max(0.0, (now - ts).total_seconds() / 86400.0)
    return 0.5 ** (age_days / half_life_days)


def _in_force(profile: Profile) -> list[Feedback]:
    # Creator and topic fatigue are personalization: a feed reset forgets what came before.
    reset = profile.reset
    return profile.feedback if reset is None else [f for f in profile.feedback if f.ts >= reset]


def creator_penalties(profile: Profile, now: datetime, cfg: WellbeingConfig) -> dict[str, float]:
    """Decayed hide/report weight per creator at ``now`` (since the last reset)."""
    out: dict[str, float] = defaultdict(float)
    hl = cfg.creator_feedback_half_life_days
    for f in _in_force(profile):
        out[f.creator_id] += f.weight * feedback_decay(f.ts, now, hl)
    return dict(out)


def topic_penalties(profile: Profile, now: datetime, cfg: WellbeingConfig) -> dict[str, float]:
    """Decayed hide/report weight per topic of the videos hidden or reported (since the last
    reset); each topic gets ``topic_feedback_weight`` of the creator's weight."""
    out: dict[str, float] = defaultdict(float)
    hl, base = cfg.topic_feedback_half_life_days, cfg.topic_feedback_weight
    for f in _in_force(profile):
        if f.topics:
            decay = feedback_decay(f.ts, now, hl)
            for t in f.topics:
                out[t] += base * f.weight * decay
    return {t: v for t, v in out.items() if v >= _TOPIC_MIN}


def viewer_context(user_id: str, profile: Profile, now: datetime, usage: UsageState | None,
                   cfg: WellbeingConfig, age_at: datetime | None = None) -> ViewerContext:
    """The viewer's context at ``now`` from a folded profile.

    Args:
        user_id: the viewer.
        profile: their folded profile (a default ``Profile`` for an unknown user).
        now: request time (naive UTC).
        usage: the usage state, current at ``now``.
        cfg: thresholds.
        age_at: a second clock; the age band is the younger of the two.
    """
    p = profile
    return ViewerContext(
        user_id=user_id,
        age_band=younger_band(p.birth_date, (now,) if age_at is None else (now, age_at), cfg),
        timezone=p.timezone,
        settings=p.settings,
        blocked_creators=p.blocked,
        following=frozenset(t for t, on in list(p.follow.items()) if on),
        followers=frozenset(u for u, on in list(p.fans.items()) if on),
        hidden_items=p.hidden,
        reported_items=p.reported,
        creator_penalties=creator_penalties(p, now, cfg),
        usage=usage,
        known=p.known,
        topic_penalties=topic_penalties(p, now, cfg),
        last_checkin=p.last_checkin,
        created_at=p.created_at,
    )


def consent_in_force(current: Consent | None, new: Consent) -> Consent:
    """Which of two consents of one subject is in force: the later one; on a tie a
    revocation wins (between two of the same status, the one that arrived last)."""
    if current is None or new.ts > current.ts:
        return new
    if new.ts < current.ts:
        return current
    if current.status == "revoked" and new.status != "revoked":
        return current
    return new
