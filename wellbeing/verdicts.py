"""The one wellbeing verdict per (viewer, video): what the feed, ``score``, ``explain``, the
audit log and the guardrail replay all read.

``item_verdicts`` evaluates the viewer's policy over candidates and returns one
``ItemVerdict`` per candidate: kept or the drop's rule and reason, the downrank factor and its
reasons, the labels to show. A video the catalog has never seen is evaluated as
``unknown_item``: the fail-closed policies drop it by their ``unknown_item`` rule.

Most verdicts do not depend on who is watching. When the viewer has not blocked, hidden,
reported or penalised the creator/video, the facts of a video are its own, plus whether the
viewer is past the daily sensitive cap and, for a video showing someone's likeness, whether
the consents in force let this viewer see every subject (worked out on every call, so a
revocation counts at once). Such outcomes are cached in a ``VerdictCache`` under those
inputs; the owner clears it whenever the catalog reloads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from wellbeing.config import WellbeingConfig
from wellbeing.facts import Consent, ItemFacts, ViewerContext, consent_allows, facts_for
from wellbeing.facts import unknown_item as _unknown
from wellbeing.rules import Policy, Verdict, evaluate

__all__ = ["ItemVerdict", "VerdictCache", "item_verdicts", "item_verdict"]

_CACHE_MAX = 500_000


class ItemVerdict(NamedTuple):
    """A verdict as columns: kept, or the drop's rule, action and reason; downranks; labels.

    A kept verdict's ``reason`` is its most severe action's (a downrank or a label), or ""."""

    kept: bool
    rule: str
    action: str
    reason: str
    factor: float
    downrank_reasons: tuple[str, ...]
    labels: tuple[str, ...]

    @classmethod
    def of(cls, verdict: Verdict) -> ItemVerdict:
        if not verdict.kept:
            rule = next((r.rule for r in verdict.results if r.action is verdict.action), "")
            return cls(False, rule, verdict.action.kind, verdict.reason or "", 1.0, (), ())
        downranks = tuple(a.reason_text for a in verdict.fired if a.kind == "downrank")
        return cls(True, "", "", verdict.reason or "", verdict.factor, downranks,
                   tuple(verdict.labels))


class VerdictCache:
    """Viewer-independent outcomes per (policy, over the daily sensitive cap), bounded."""

    def __init__(self) -> None:
        self._by: dict[tuple[str, bool], dict[Any, ItemVerdict]] = {}

    def table(self, policy: str, over_cap: bool) -> dict[Any, ItemVerdict]:
        got = self._by.get((policy, over_cap))
        return got if got is not None else self._by.setdefault((policy, over_cap), {})


def item_verdict(policy: Policy, viewer: ViewerContext, item: ItemFacts | None, item_id: str,
                 consents: Mapping[str, Consent], now: datetime, cfg: WellbeingConfig,
                 sensitive_views_24h: int | None = None) -> Verdict:
    """The full verdict (every rule's result) on one video; ``item`` None: not in the catalog."""
    return evaluate(policy, facts_for(item if item is not None else _unknown(item_id), viewer,
                                      consents, now, cfg, sensitive_views_24h))


def item_verdicts(policy: Policy, viewer: ViewerContext,
                  items: Sequence[tuple[str, ItemFacts | None]], consents: Mapping[str, Consent],
                  now: datetime, cfg: WellbeingConfig, cache: VerdictCache | None = None,
                  sensitive_views_24h: int | None = None) -> list[ItemVerdict]:
    """One ``ItemVerdict`` per ``(item_id, facts or None)``, in input order.

    Args:
        policy: the viewer's policy (``policy_for``).
        viewer: the viewer at ``now``.
        items: the candidates and their catalog facts (None: unknown to the catalog).
        consents: the cameo consents in force.
        now: the request time.
        cfg: wellbeing thresholds.
        cache: viewer-independent outcomes to reuse (None: evaluate every item).
        sensitive_views_24h: the viewer's count, when the caller already has it.
    """
    sensitive = (viewer.sensitive_views_24h(now) if sensitive_views_24h is None
                 else sensitive_views_24h)
    table = (cache.table(policy.name, sensitive >= cfg.sensitive_cap_per_day)
             if cache is not None else None)
    # Videos whose facts are this viewer's own: their verdicts are never cached.
    own_creators = viewer.blocked_creators.union(viewer.creator_penalties)
    own_items = viewer.hidden_items | viewer.reported_items
    out: list[ItemVerdict] = []
    for item_id, item in items:
        if table is None or item_id in own_items or (
                item is not None and item.creator_id in own_creators):
            key = None
        elif item is not None and item.cameo_subjects:
            key = (item_id, all(consent_allows(consents.get(s), s, viewer)
                                for s in item.cameo_subjects))
        else:
            key = item_id
        got = table.get(key) if key is not None else None
        if got is None:
            got = ItemVerdict.of(item_verdict(policy, viewer, item, item_id, consents, now, cfg,
                                              sensitive))
            if key is not None and len(table) < _CACHE_MAX:
                table[key] = got
        out.append(got)
    return out
