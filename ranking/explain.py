"""Explain one (user, video) pair: the policy's verdict rule by rule, and the ranking side."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from ranking.feed.engine import FeedEngine
from ranking.feed.query import hydrate_query
from ranking.feed.types import FeedRequest
from ranking.ltr.objective import ACTIONS
from wellbeing.steering import steering_effect
from wellbeing.verdicts import item_verdict

__all__ = ["explain_pair"]


def explain_pair(engine: FeedEngine, user_id: str, item_id: str, now: datetime,
                 page: int = 50, age_at: datetime | None = None) -> dict[str, Any]:
    """Why ``item_id`` is or is not in ``user_id``'s feed at ``now`` (``age_at``: a second
    clock for the age band, as in ``FeedRequest``).

    Returns:
        ``in_feed``, ``rank`` (within a page of ``page``), ``policy``, ``verdict`` with every
        rule's result, ``interventions``, ``score``, ``predicted`` (the probability of each
        action, None without action heads), ``expected`` (the actions that carry its score
        under the objective in force, as ``expected:<action>`` reasons), ``objective``,
        ``seen`` and a one-line ``summary``.
    """
    viewer = engine.viewer(user_id, now, age_at)
    request = FeedRequest(user_id, now, limit=page, request_id="explain", age_at=age_at)
    # The feed's own query hydrator and verdict function: the explanation is what it decides.
    q = hydrate_query(engine, request, viewer)
    item = engine.item_facts.get(item_id)
    v = item_verdict(q.policy, q.viewer, item, item_id, q.consents, now, q.cfg,
                     q.sensitive_views_24h)
    verdict_info: dict[str, Any] = {"kept": v.kept, "reason": v.reason, "factor": v.factor,
                                    "labels": list(v.labels),
                                    "rules": [r.as_dict() for r in v.results]}
    ivs, policy = q.interventions, q.policy
    # An explanation is not a served feed: run the stages without side effects (no audit rows).
    resp = replace(engine.pipeline, side_effects=[]).run(engine, request, viewer)
    ids = [i.item_id for i in resp.items]
    rank = ids.index(item_id) + 1 if item_id in ids else None
    removed = [r for r in resp.removed if r.item_id == item_id]
    score, predicted, expected = None, None, []
    if engine.ranker is not None:
        s, p = engine.model_predictions(user_id, [item_id], q.recent, q.viewer.following)
        score = s[0]
        if p is not None:
            predicted = {a: (None if v != v else round(float(v), 6))
                         for a, v in zip(ACTIONS, p[0].tolist(), strict=True)}
            expected = [f"expected:{a}" for a in engine.ranker.expected_actions(p)[0]]
    seen = item_id in engine.viewers.seen(user_id, now)
    ended = [iv.type for iv in ivs if iv.ends_feed]
    if ended:
        summary = f"not in feed: the feed is ended by {ended[0]}"
    elif not verdict_info["kept"]:
        summary = f"not in feed: removed by policy {policy.name} ({verdict_info['reason']})"
    elif seen:
        summary = "not in feed: already watched"
    elif removed:
        summary = f"not in feed: removed by {removed[0].stage} ({removed[0].reason})"
    elif rank:
        summary = f"in feed at rank {rank} of {len(ids)}"
        if expected:
            summary += f", carried by {', '.join(expected)}"
    else:
        summary = f"eligible, but not ranked into the top {page}"
    return {
        "user_id": user_id, "item_id": item_id, "now": now, "age_band": viewer.age_band,
        "policy": policy.name, "policy_version": engine.policy_version,
        "model_version": engine.model_version, "in_feed": rank is not None, "rank": rank,
        "score": score, "predicted": predicted, "expected": expected,
        "objective": engine.ranker.objective if engine.ranker is not None else None,
        "seen": seen, "verdict": verdict_info,
        "interventions": [{"type": i.type, "message": i.message} for i in ivs],
        "steering": steering_effect(engine.viewers.steering(user_id), item, now,
                                   engine.cfg.steer_weight),
        "summary": summary,
    }
