"""Tiny builders for wellbeing tests: safe items, viewers and complete fact sets."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from wellbeing import ItemFacts, ViewerContext, ViewerSettings, WellbeingConfig, facts_for

NOW = datetime(2026, 6, 15, 12, 0)
CFG = WellbeingConfig()


def item(item_id: str = "i1", **kw) -> ItemFacts:
    """A plainly safe item; override fields to make it unsafe."""
    base = ItemFacts(
        item_id=item_id,
        creator_id=kw.pop("creator_id", "c1"),
        status="active",
        maturity="general",
        labels=(),
        topics=("cooking",),
        ai_generated=True,
        realistic_person=False,
        cameo_subjects=(),
        provenance=True,
    )
    return replace(base, **kw)


def viewer(band: str = "adult", user_id: str = "u1", **settings) -> ViewerContext:
    extra = {k: settings.pop(k) for k in list(settings) if k in ViewerContext.__dataclass_fields__}
    return ViewerContext(
        user_id=user_id, age_band=band, settings=ViewerSettings(**settings), **extra
    )


def facts(it: ItemFacts | None = None, ctx: ViewerContext | None = None, consents=None) -> dict:
    return facts_for(it or item(), ctx or viewer(), consents or {}, NOW, CFG)
