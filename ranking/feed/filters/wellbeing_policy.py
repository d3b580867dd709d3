"""Apply the viewer's wellbeing policy to every candidate; drops are audited with reasons.

Teen and unknown-age policies fail closed: a video with no facts at all (not in the catalog)
is dropped for them; for adults it is evaluated on what is known.

Most verdicts do not depend on who is watching: when the viewer has not blocked, hidden,
reported or penalised the creator/video and the video shows no one's likeness, the verdict
depends only on the policy, the video and whether the viewer is past the daily sensitive
cap. Those verdicts are cached on the engine (cleared on every catalog reload).
"""

from __future__ import annotations

import polars as pl

from ranking.feed.types import FilterResult, Removal, RequestState
from wellbeing import ItemFacts, evaluate, facts_for

_CACHE_MAX = 500_000
# A video the catalog has never seen: minors' policies drop it with this reason.
UNKNOWN_ITEM_REASON = "missing_fact:item"


def unknown_item(item_id: str) -> ItemFacts:
    """All that is known of a video missing from the catalog (adults' rules skip the rest)."""
    return ItemFacts(item_id=item_id, creator_id="", status=None, maturity=None, labels=None,
                     cameo_subjects=(), provenance=None)


class WellbeingPolicyFilter:
    name = "WellbeingPolicy"

    def __call__(self, state: RequestState) -> FilterResult:
        engine, viewer, now = state.engine, state.viewer, state.request.now
        policy = engine.policy(viewer)
        cfg = engine.cfg
        facts_by_id = state.extra.get("facts", {})
        catalog = engine.item_facts
        cache = engine.verdicts
        sensitive_24h = viewer.sensitive_views_24h(now)  # counted once per request, not per item
        over_cap = sensitive_24h >= cfg.sensitive_cap_per_day
        blocked, hidden, reported = (viewer.blocked_creators, viewer.hidden_items,
                                     viewer.reported_items)
        penalties = viewer.creator_penalties
        keep: list[bool] = []
        removed: list[Removal] = []
        downrank = state.extra.setdefault("downrank", {})
        for item_id in state.candidates["item_id"].to_list():
            item = facts_by_id.get(item_id) or catalog.get(item_id)
            if item is None:
                if policy.fail_closed:
                    keep.append(False)
                    removed.append(Removal(item_id, self.name, "unknown_item", "drop",
                                           UNKNOWN_ITEM_REASON))
                    continue
                item = unknown_item(item_id)
            neutral = (
                not item.cameo_subjects
                and item.creator_id not in blocked and item.creator_id not in penalties
                and item_id not in hidden and item_id not in reported
            )
            key = (policy.name, over_cap, item_id)
            verdict = cache.get(key) if neutral else None
            if verdict is None:
                verdict = evaluate(policy, facts_for(item, viewer, engine.consents, now, cfg,
                                                     sensitive_views_24h=sensitive_24h))
                if neutral and len(cache) < _CACHE_MAX:
                    cache[key] = verdict
            if not verdict.kept:
                keep.append(False)
                rule = next((r.rule for r in verdict.results if r.action is verdict.action), "")
                removed.append(Removal(item_id, self.name, rule, verdict.action.kind,
                                       verdict.reason or ""))
                continue
            keep.append(True)
            if verdict.factor != 1.0:
                downrank[item_id] = verdict.factor
                state.reasons.setdefault(item_id, []).extend(
                    a.reason_text for a in verdict.fired if a.kind == "downrank")
            if verdict.labels:
                state.labels[item_id] = list(verdict.labels)
        if not removed:
            return FilterResult(state.candidates, removed)
        kept = state.candidates.filter(pl.Series(keep, dtype=pl.Boolean))
        return FilterResult(kept, removed)
