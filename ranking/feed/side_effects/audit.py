"""Record every wellbeing removal and intervention of a response in the audit log."""

from __future__ import annotations

from ranking.feed.query import Query
from ranking.feed.resources import CandidateStore
from ranking.feed.types import FeedResponse


class AuditSideEffect:
    name = "Audit"

    def __call__(self, query: Query, response: FeedResponse, store: CandidateStore) -> None:
        req, version = response.request, response.policy_version
        # ``filter`` removals (already seen, excluded by the client) are not wellbeing.
        rows = [
            {"ts": req.now, "request_id": req.request_id, "user_id": req.user_id,
             "item_id": r.item_id, "rule": r.rule, "action": r.action, "reason": r.reason,
             "policy_version": version}
            for r in response.removed if r.action != "filter"
        ]
        rows += [
            {"ts": req.now, "request_id": req.request_id, "user_id": req.user_id,
             "item_id": None, "rule": iv.type, "action": "intervene",
             "reason": getattr(iv.reason, "value", str(iv.reason)),
             "policy_version": version}
            for iv in response.interventions
        ]
        if rows:
            store.audit(rows)
