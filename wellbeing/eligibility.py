"""One call for the feed's wellbeing filter: a verdict per candidate, kept and removed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from wellbeing.config import WellbeingConfig
from wellbeing.facts import Consent, ItemFacts, ViewerContext, facts_for
from wellbeing.policies import policy_for
from wellbeing.rules import Verdict, evaluate

__all__ = ["evaluate_item", "filter_items"]


def evaluate_item(
    ctx: ViewerContext,
    item: ItemFacts,
    consents: Mapping[str, Consent],
    now: datetime,
    cfg: WellbeingConfig | None = None,
) -> Verdict:
    """The viewer's policy verdict on one item."""
    cfg = cfg or WellbeingConfig()
    return evaluate(policy_for(ctx, cfg), facts_for(item, ctx, consents, now, cfg))


def filter_items(
    ctx: ViewerContext,
    items: Iterable[ItemFacts],
    consents: Mapping[str, Consent],
    now: datetime,
    cfg: WellbeingConfig | None = None,
) -> tuple[list[tuple[str, Verdict]], list[tuple[str, Verdict]]]:
    """Split candidates into (kept, removed), each as (item_id, verdict), input order kept.

    Kept verdicts carry ``factor`` (multiply the score) and ``labels`` (show them).
    """
    cfg = cfg or WellbeingConfig()
    policy = policy_for(ctx, cfg)
    seen = ctx.sensitive_views_24h(now)
    kept, removed = [], []
    for item in items:
        v = evaluate(policy, facts_for(item, ctx, consents, now, cfg, seen))
        (kept if v.kept else removed).append((item.item_id, v))
    return kept, removed
