"""The audit log: every removal and intervention, with rule, action, reason and policy version.

Analysts query ``audit_log`` directly. ``explain`` replays one (viewer, item) pair.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import duckdb

from features.schema import AUDIT_COLUMNS, ensure_audit_table
from features.times import to_utc_naive
from wellbeing.config import WellbeingConfig
from wellbeing.facts import facts_for
from wellbeing.interventions import Intervention, session_verdict
from wellbeing.loaders import latest_consents, load_item_facts, load_viewer_context
from wellbeing.policies import policy_for
from wellbeing.rules import Verdict, evaluate

__all__ = [
    "AuditRow",
    "ensure_audit_table",
    "record",
    "explain",
    "verdict_row",
    "intervention_row",
    "AUDIT_COLUMNS",
]

@dataclass(frozen=True)
class AuditRow:
    """One audited decision; ``item_id`` is None for a session intervention."""

    ts: datetime
    request_id: str | None
    user_id: str
    item_id: str | None
    rule: str
    action: str
    reason: str
    policy_version: str


def record(con: duckdb.DuckDBPyConnection, rows: Iterable[AuditRow | Mapping[str, Any]]) -> int:
    """Append rows to ``audit_log`` (creating it if needed); returns the number written."""
    data = []
    for r in rows:
        d = asdict(r) if isinstance(r, AuditRow) else dict(r)
        d["ts"] = to_utc_naive(d["ts"]) if isinstance(d.get("ts"), datetime) else d.get("ts")
        d["reason"] = getattr(d.get("reason"), "value", d.get("reason"))
        data.append(tuple(d.get(c) for c in AUDIT_COLUMNS))
    if not data:
        return 0
    ensure_audit_table(con)
    con.executemany(
        f"INSERT INTO audit_log ({', '.join(AUDIT_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", data
    )
    return len(data)


def explain(
    con: duckdb.DuckDBPyConnection,
    user_id: str,
    item_id: str,
    now: datetime,
    cfg: WellbeingConfig | None = None,
) -> dict[str, Any]:
    """Every wellbeing rule's result for (user, item) at ``now`` and whether it is eligible.

    Returns:
        A JSON-ready dict: policy, version, age band, eligible, action, reason, factor,
        labels, per-rule results, the facts used and the session interventions in force.
    """
    cfg = cfg or WellbeingConfig()
    ctx = load_viewer_context(con, user_id, now, cfg=cfg)
    item = load_item_facts(con, [item_id]).get(item_id)
    out: dict[str, Any] = {"user_id": user_id, "item_id": item_id, "age_band": ctx.age_band}
    session = session_verdict(ctx, now, cfg)
    out["session"] = [r.as_dict() for r in session.results]
    ends = [a.reason_text for a in session.fired if getattr(a, "ends_feed", False)]
    if item is None:
        return out | {
            "eligible": False,
            "reason": "unknown_item",
            "rules": [],
            "facts": {},
            "policy": policy_for(ctx, cfg).name,
            "policy_version": cfg.policy_version,
        }
    facts = facts_for(item, ctx, latest_consents(con, now), now, cfg)
    verdict = evaluate(policy_for(ctx, cfg), facts)
    return out | {
        "policy": verdict.policy,
        "policy_version": verdict.version,
        "eligible": verdict.kept and not ends,
        "action": verdict.action.kind if verdict.action else None,
        "reason": verdict.reason or (ends[0] if ends else None),
        "factor": verdict.factor,
        "labels": list(verdict.labels),
        "rules": [r.as_dict() for r in verdict.results],
        "facts": {k: list(v) if isinstance(v, tuple) else v for k, v in facts.items()},
    }


def verdict_row(
    ts: datetime, request_id: str | None, user_id: str, item_id: str | None, verdict: Verdict
) -> AuditRow | None:
    """The audit row for a verdict's decisive action (None when nothing fired)."""
    a = verdict.action
    if a is None:
        return None
    rule = next((r.rule for r in verdict.results if r.action is a), "?")
    return AuditRow(ts, request_id, user_id, item_id, rule, a.kind, a.reason_text, verdict.version)


def intervention_row(
    ts: datetime,
    request_id: str | None,
    user_id: str,
    intervention: Intervention,
    policy_version: str,
) -> AuditRow:
    """The audit row for a session intervention (no item)."""
    return AuditRow(
        ts,
        request_id,
        user_id,
        None,
        intervention.type,
        "intervene",
        intervention.reason.value,
        policy_version,
    )
