"""Explain one (user, video) pair: the policy's verdict rule by rule, and the ranking side."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

import polars as pl

from ranking.feed.engine import FeedEngine
from ranking.feed.filters.wellbeing_policy import UNKNOWN_ITEM_REASON, unknown_item
from ranking.feed.types import FeedRequest
from wellbeing import evaluate, facts_for
from wellbeing.steering import steering_effect

__all__ = ["explain_pair"]


def explain_pair(engine: FeedEngine, user_id: str, item_id: str, now: datetime,
                 page: int = 50, age_at: datetime | None = None) -> dict[str, Any]:
    """Why ``item_id`` is or is not in ``user_id``'s feed at ``now`` (``age_at``: a second
    clock for the age band, as in ``FeedRequest``).

    Returns:
        ``in_feed``, ``rank`` (within a page of ``page``), ``policy``, ``verdict`` with every
        rule's result, ``interventions``, ``score``, ``seen`` and a one-line ``summary``.
    """
    viewer = engine.viewer(user_id, now, age_at)
    policy = engine.policy(viewer)
    item = engine.item_facts.get(item_id)
    if item is None and policy.fail_closed:
        verdict_info: dict[str, Any] = {"kept": False, "reason": UNKNOWN_ITEM_REASON,
                                        "rules": []}
    else:
        v = evaluate(policy, facts_for(item or unknown_item(item_id), viewer, engine.consents,
                                       now, engine.cfg))
        verdict_info = {"kept": v.kept, "reason": v.reason, "factor": v.factor,
                        "labels": list(v.labels), "rules": [r.as_dict() for r in v.results]}
    ivs = engine.interventions(viewer, now)
    # An explanation is not a served feed: run the stages without side effects (no audit rows).
    quiet = replace(engine.pipeline, side_effects=[])
    request = FeedRequest(user_id, now, limit=page, request_id="explain", age_at=age_at)
    resp = quiet.run(engine, request, viewer)
    ids = [i.item_id for i in resp.items]
    rank = ids.index(item_id) + 1 if item_id in ids else None
    removed = [r for r in resp.removed if r.item_id == item_id]
    score = None
    if engine.ranker is not None:
        score = float(engine.model_score(user_id, pl.DataFrame({"item_id": [item_id]}))[0])
    seen = item_id in engine.seen_items(user_id, now)
    ended = [iv.type for iv in ivs if iv.ends_feed]
    if ended:
        summary = f"not in feed: the feed is ended by {ended[0]}"
    elif not verdict_info["kept"]:
        summary = f"not in feed: removed by policy {policy.name} ({verdict_info['reason']})"
    elif removed:
        summary = f"not in feed: removed by {removed[0].stage} ({removed[0].reason})"
    elif seen:
        summary = "not in feed: already watched"
    elif rank:
        summary = f"in feed at rank {rank} of {len(ids)}"
    else:
        summary = f"eligible, but not ranked into the top {page}"
    return {
        "user_id": user_id, "item_id": item_id, "now": now, "age_band": viewer.age_band,
        "policy": policy.name, "policy_version": engine.policy_version,
        "model_version": engine.model_version, "in_feed": rank is not None, "rank": rank,
        "score": score, "seen": seen, "verdict": verdict_info,
        "interventions": [{"type": i.type, "message": i.message} for i in ivs],
        "steering": steering_effect(engine.steering(user_id), item, now, engine.cfg.steer_weight),
        "summary": summary,
    }
