"""Page-level caps over an already-ranked, already-filtered page.

Sensitive topics (teens, unknown age, and adults who chose "less"): at most
``sensitive_cap_in_row`` in a row, ``sensitive_cap_per_page`` per page and
``sensitive_cap_per_day`` per rolling 24 h including the viewer's recent views. When
diversifying, at most ``diversify_max_in_row`` items of one creator or primary topic in a row.
An item that only breaks an in-row cap is deferred to the next slot where it fits; one that
never fits is removed with its reason.
"""

from __future__ import annotations

from datetime import datetime

from wellbeing.config import WellbeingConfig
from wellbeing.facts import ItemFacts, ViewerContext
from wellbeing.reasons import Reason

__all__ = ["apply_page_caps", "caps_apply"]


def caps_apply(ctx: ViewerContext) -> bool:
    """Whether sensitive-topic caps apply to this viewer."""
    return ctx.minor or ctx.settings.sensitive_content == "less"


def apply_page_caps(
    ranked: list[tuple[str, ItemFacts]],
    ctx: ViewerContext,
    cfg: WellbeingConfig | None = None,
    diversify: bool = False,
    now: datetime | None = None,
) -> tuple[list[str], list[tuple[str, Reason]]]:
    """Enforce the page caps, keeping rank order wherever possible.

    Args:
        ranked: (item_id, facts) in rank order.
        ctx: the viewer (age band, settings, usage for the rolling-day count).
        cfg: the caps.
        diversify: also limit runs of one creator / primary topic.
        now: the request time for the rolling day (defaults to the usage clock).

    Returns:
        (kept item ids in served order, [(removed item id, reason)]).
    """
    cfg = cfg or WellbeingConfig()
    capped = caps_apply(ctx)
    sens = set(cfg.sensitive_topics)
    clock = now or (ctx.usage.as_of if ctx.usage is not None else None)
    seen_day = ctx.sensitive_views_24h(clock) if clock is not None else 0
    kept: list[tuple[str, ItemFacts]] = []
    removed: list[tuple[str, Reason]] = []
    page_sensitive = 0

    def is_sensitive(f: ItemFacts) -> bool:
        return capped and not sens.isdisjoint(f.topics or ())

    def run_violation(f: ItemFacts) -> Reason | None:
        if is_sensitive(f):
            tail = kept[-cfg.sensitive_cap_in_row :] if cfg.sensitive_cap_in_row else []
            if len(tail) >= cfg.sensitive_cap_in_row and all(is_sensitive(g) for _, g in tail):
                return Reason.SENSITIVE_IN_ROW_CAP
        if diversify and cfg.diversify_max_in_row > 0:
            tail = [g for _, g in kept[-cfg.diversify_max_in_row :]]
            if len(tail) == cfg.diversify_max_in_row:
                if all(g.creator_id == f.creator_id for g in tail):
                    return Reason.DIVERSIFY_CREATOR
                topic = f.topics[0] if f.topics else None
                if topic is not None and all(g.topics[:1] == (topic,) for g in tail):
                    return Reason.DIVERSIFY_TOPIC
        return None

    deferred: list[tuple[str, ItemFacts, Reason]] = []

    def place(item_id: str, f: ItemFacts) -> Reason | None:
        nonlocal page_sensitive
        if is_sensitive(f):
            if page_sensitive >= cfg.sensitive_cap_per_page:
                return Reason.SENSITIVE_PAGE_CAP
            if seen_day + page_sensitive >= cfg.sensitive_cap_per_day:
                return Reason.SENSITIVE_DAILY_CAP
        why = run_violation(f)
        if why is None:
            kept.append((item_id, f))
            page_sensitive += is_sensitive(f)
        return why

    def hard(why: Reason) -> bool:
        return why in (Reason.SENSITIVE_PAGE_CAP, Reason.SENSITIVE_DAILY_CAP)

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
