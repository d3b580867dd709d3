"""Apply the viewer's wellbeing policy to every candidate; drops are audited with reasons.

Teen and unknown-age policies fail closed: a video with no facts at all (not in the catalog)
is dropped for them; for adults it is evaluated on what is known.

Most verdicts do not depend on who is watching. When the viewer has not blocked, hidden,
reported or penalised the creator/video, the facts of a video are its own, plus whether the
viewer is past the daily sensitive cap and, for a video showing someone's likeness, whether
the consents in force let this viewer see every subject (worked out on every request, so a
revocation counts at once). The outcome of such a verdict is cached on the engine under
those inputs (cleared on every catalog reload); the others are evaluated per request.
"""

from __future__ import annotations

from typing import NamedTuple

from ranking.feed._frames import keep
from ranking.feed.types import FilterResult, Removal, RequestState
from wellbeing import ItemFacts, Verdict, consent_allows, evaluate, facts_for

_CACHE_MAX = 500_000
# A video the catalog has never seen: minors' policies drop it with this reason.
UNKNOWN_ITEM_REASON = "missing_fact:item"


def unknown_item(item_id: str) -> ItemFacts:
    """All that is known of a video missing from the catalog (adults' rules skip the rest)."""
    return ItemFacts(item_id=item_id, creator_id="", status=None, maturity=None, labels=None,
                     cameo_subjects=(), provenance=None)


class Outcome(NamedTuple):
    """What the filter needs of a verdict: kept or the drop's rule and reason; downranks."""

    kept: bool
    rule: str
    action: str
    reason: str
    factor: float
    downrank_reasons: tuple[str, ...]
    labels: tuple[str, ...]

    @classmethod
    def of(cls, verdict: Verdict) -> Outcome:
        if not verdict.kept:
            rule = next((r.rule for r in verdict.results if r.action is verdict.action), "")
            return cls(False, rule, verdict.action.kind, verdict.reason or "", 1.0, (), ())
        downranks = tuple(a.reason_text for a in verdict.fired if a.kind == "downrank")
        return cls(True, "", "", "", verdict.factor, downranks, tuple(verdict.labels))


class WellbeingPolicyFilter:
    name = "WellbeingPolicy"

    def __call__(self, state: RequestState) -> FilterResult:
        engine, viewer, now = state.engine, state.viewer, state.request.now
        policy = engine.policy(viewer)
        cfg = engine.cfg
        facts_by_id = state.extra.get("facts", {})
        catalog, consents = engine.item_facts, engine.consents
        sensitive_24h = viewer.sensitive_views_24h(now)  # counted once per request, not per item
        over_cap = sensitive_24h >= cfg.sensitive_cap_per_day
        # One cache per (policy, over the cap): keyed by the video alone, or by the video and
        # the consent outcome when it shows someone's likeness.
        cache = engine.verdicts.get((policy.name, over_cap))
        if cache is None:
            cache = engine.verdicts.setdefault((policy.name, over_cap), {})
        # Videos whose facts are this viewer's own: their verdicts are never cached.
        own_creators = viewer.blocked_creators.union(viewer.creator_penalties)
        own_items = viewer.hidden_items | viewer.reported_items
        mask: list[bool] = []
        removed: list[Removal] = []
        downrank = state.extra.setdefault("downrank", {})
        for item_id in state.candidates.get_column("item_id").to_list():
            item = facts_by_id.get(item_id) or catalog.get(item_id)
            if item is None:
                if policy.fail_closed:
                    mask.append(False)
                    removed.append(Removal(item_id, self.name, "unknown_item", "drop",
                                           UNKNOWN_ITEM_REASON))
                    continue
                item = unknown_item(item_id)
            if item.creator_id in own_creators or item_id in own_items:
                key = None
            elif item.cameo_subjects:
                key = (item_id, all(consent_allows(consents.get(s), s, viewer)
                                    for s in item.cameo_subjects))
            else:
                key = item_id
            out = cache.get(key) if key is not None else None
            if out is None:
                out = Outcome.of(evaluate(policy, facts_for(
                    item, viewer, consents, now, cfg, sensitive_views_24h=sensitive_24h)))
                if key is not None and len(cache) < _CACHE_MAX:
                    cache[key] = out
            mask.append(out.kept)
            if not out.kept:
                removed.append(Removal(item_id, self.name, out.rule, out.action, out.reason))
                continue
            if out.factor != 1.0:
                downrank[item_id] = out.factor
                state.reasons.setdefault(item_id, []).extend(out.downrank_reasons)
            if out.labels:
                state.labels[item_id] = list(out.labels)
        if not removed:
            return FilterResult(state.candidates, removed)
        return FilterResult(keep(state.candidates, mask), removed)
