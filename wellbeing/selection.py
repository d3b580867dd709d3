"""Page-level caps over an already-ranked, already-filtered page, declared as rules.

Each ``PageCap`` is one line: what it counts (sensitive videos, one creator, one primary topic),
over what span (in a row, or the whole page), the config field that holds its limit, the
reason it gives and, as a condition over the viewer's page facts, whom it applies to.
Sensitive-topic caps protect minors and adults who chose ``sensitive_content="less"``;
diversification applies while a doomscroll intervention is in force. The daily sensitive cap
is the policy's own condition (``policies.SENSITIVE_OVER_DAY``), applied again as the page
fills: a sensitive video is removed once the day's views plus this page's reach the cap.

A video that only breaks an in-row cap is deferred to the next slot where it fits; one that
breaks a page cap, or never fits, is removed with its reason.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from wellbeing.conditions import And, Condition, Eq, Gte, IsTrue, Or, Ref
from wellbeing.config import WellbeingConfig
from wellbeing.facts import ItemFacts, ViewerContext
from wellbeing.policies import SENSITIVE_OVER_DAY
from wellbeing.reasons import Reason as R

__all__ = ["PageCap", "PAGE_CAPS", "page_caps_in_force", "apply_page_caps", "CAP_RULES"]

_SENSITIVE_AUDIENCE = Or(IsTrue("minor"), Eq("sensitive_content", "less"))
_DIVERSIFYING = And(IsTrue("diversify"), Gte("diversify_max_in_row", 1))


@dataclass(frozen=True)
class PageCap:
    """At most ``limit`` (a config field) videos sharing ``counts`` ``per`` row or page, for
    viewers ``applies`` holds for; or, with ``over`` instead of a limit, a page cap reached
    when ``over`` holds of the page facts with this page's videos counted into the day's."""

    name: str
    counts: Literal["sensitive", "creator", "topic"]
    per: Literal["page", "in_row", "session"]
    limit: str | None
    reason: R
    applies: Condition
    over: Condition | None = None


# Page caps first (they remove), then the in-row caps (they defer), each in this order.
PAGE_CAPS: tuple[PageCap, ...] = (
    PageCap("sensitive_page_cap", "sensitive", "page", "sensitive_cap_per_page",
            R.SENSITIVE_PAGE_CAP, _SENSITIVE_AUDIENCE),
    PageCap("sensitive_daily_cap", "sensitive", "page", None, R.SENSITIVE_DAILY_CAP,
            _SENSITIVE_AUDIENCE, over=SENSITIVE_OVER_DAY),
    PageCap("sensitive_in_row_cap", "sensitive", "in_row", "sensitive_cap_in_row",
            R.SENSITIVE_IN_ROW_CAP, _SENSITIVE_AUDIENCE),
    PageCap("diversify_creator", "creator", "in_row", "diversify_max_in_row",
            R.DIVERSIFY_CREATOR, _DIVERSIFYING),
    PageCap("diversify_topic", "topic", "in_row", "diversify_max_in_row",
            R.DIVERSIFY_TOPIC, _DIVERSIFYING),
    # Everyone: the feed follows a session fast, so it must not dig one topic's rabbit hole.
    PageCap("session_topic_cap", "topic", "session", "session_topic_max_share",
            R.SESSION_TOPIC_CAP, Gte("session_views", Ref("session_topic_min_views"))),
)
# The rule name of each cap's reason (the audit log's ``rule``).
CAP_RULES: dict[str, str] = {c.reason.value: c.name for c in PAGE_CAPS}


def _page_facts(ctx: ViewerContext, cfg: WellbeingConfig, diversify: bool,
                now: datetime | None, seen_day: int | None) -> dict[str, Any]:
    if seen_day is None:
        clock = now or (ctx.usage.as_of if ctx.usage is not None else None)
        seen_day = ctx.sensitive_views_24h(clock) if clock is not None else 0
    return {"minor": ctx.minor, "sensitive_content": ctx.settings.sensitive_content,
            "diversify": diversify, "diversify_max_in_row": cfg.diversify_max_in_row,
            "sensitive_cap_per_page": cfg.sensitive_cap_per_page,
            "sensitive_cap_per_day": cfg.sensitive_cap_per_day, "sensitive_views_24h": seen_day,
            "sensitive_cap_in_row": cfg.sensitive_cap_in_row,
            "session_topic_max_share": cfg.session_topic_max_share,
            "session_topic_min_views": cfg.session_topic_min_views,
            "session_topics": (st := _session_topics(ctx)),
            "session_views": sum(st.values())}


def _session_topics(ctx: ViewerContext) -> Counter:
    """Primary topics of the videos watched in the live session."""
    u = ctx.usage
    return u.session_topics if u is not None else Counter()


def page_caps_in_force(ctx: ViewerContext, cfg: WellbeingConfig, diversify: bool = False,
                       now: datetime | None = None, sensitive_views_24h: int | None = None
                       ) -> list[PageCap]:
    """The caps that apply to this viewer's page (empty: none); ``sensitive_views_24h``: the
    viewer's count when the caller has it (the feed's query)."""
    facts = _page_facts(ctx, cfg, diversify, now, sensitive_views_24h)
    return [c for c in PAGE_CAPS if c.applies(facts)]


def _key(cap: PageCap, f: ItemFacts, sensitive: frozenset[str]) -> object:
    if cap.counts == "sensitive":
        return True if not sensitive.isdisjoint(f.topics or ()) else None
    if cap.counts == "creator":
        return f.creator_id
    return f.topics[0] if f.topics else None


def apply_page_caps(
    ranked: list[tuple[str, ItemFacts]],
    ctx: ViewerContext,
    cfg: WellbeingConfig | None = None,
    diversify: bool = False,
    now: datetime | None = None,
    sensitive_views_24h: int | None = None,
) -> tuple[list[str], list[tuple[str, R]]]:
    """Enforce the page caps in force, keeping rank order wherever possible.

    Args:
        ranked: (item_id, facts) in rank order.
        ctx: the viewer (age band, settings, usage for the rolling-day count).
        cfg: the limits.
        diversify: a doomscroll intervention is in force.
        now: the request time for the rolling day (defaults to the usage clock).
        sensitive_views_24h: the viewer's count at ``now`` when the caller has it.

    Returns:
        (kept item ids in served order, [(removed item id, reason)]).
    """
    cfg = cfg or WellbeingConfig()
    facts = _page_facts(ctx, cfg, diversify, now, sensitive_views_24h)
    caps = [c for c in PAGE_CAPS if c.applies(facts)]
    if not caps:
        return [i for i, _ in ranked], []
    sens = frozenset(cfg.sensitive_topics)
    kept: list[tuple[str, ItemFacts]] = []
    on_page = [0] * len(caps)
    # Per cap, each kept video's key in page order and how often each key is on the page:
    # a placement reads them instead of working out every kept video's key again.
    kept_keys: list[list[object]] = [[] for _ in caps]
    key_counts: list[Counter[object]] = [Counter() for _ in caps]

    def reached(n: int, c: PageCap, key: object) -> bool:
        if c.over is not None:
            # The policy's own condition, with this page's videos counted into the day.
            return c.over({**facts, "sensitive_topic": True,
                           "sensitive_views_24h": facts["sensitive_views_24h"] + on_page[n]})
        if c.per == "session":
            # This video's topic share of the session so far plus the page, were it placed.
            seen = facts["session_topics"]
            total = sum(seen.values()) + len(kept) + 1
            mine = seen.get(key, 0) + key_counts[n][key] + 1
            return mine / total > facts[c.limit]
        limit = int(facts[c.limit])
        if c.per == "page":
            return on_page[n] >= limit
        return limit <= 0 or (len(kept) >= limit and all(
            k == key for k in kept_keys[n][-limit:]))

    def place(item_id: str, f: ItemFacts) -> R | None:
        keys = [_key(c, f, sens) for c in caps]
        for n, c in enumerate(caps):
            if keys[n] is not None and reached(n, c, keys[n]):
                return c.reason
        kept.append((item_id, f))
        for n, k in enumerate(keys):
            on_page[n] += k is not None
            kept_keys[n].append(k)
            key_counts[n][k] += 1
        return None

    def hard(why: R) -> bool:
        return any(c.reason is why and c.per == "page" for c in caps)

    removed: list[tuple[str, R]] = []
    deferred: list[tuple[str, ItemFacts, R]] = []
    for item_id, f in ranked:
        why = place(item_id, f)
        if why is not None:
            (removed.append((item_id, why)) if hard(why) else deferred.append((item_id, f, why)))
            continue
        # A slot opened up: earlier-ranked deferred items get the next chances.
        progress = True
        while progress and deferred:
            progress = False
            for k, (did, df, _) in enumerate(deferred):
                why = place(did, df)
                if why is None:
                    deferred.pop(k)
                    progress = True
                    break
                if hard(why):
                    deferred.pop(k)
                    removed.append((did, why))
                    progress = True
                    break
    removed += [(did, why) for did, _, why in deferred]
    return [i for i, _ in kept], removed
