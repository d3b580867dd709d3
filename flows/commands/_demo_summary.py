"""The demo's second half: features, train, evaluate, publish, serve a sample, summarise.

Orchestration, so it lives with the ``demo`` command, not in the library. Every step is
required: an import or build failure surfaces instead of being skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from features.build import build_feature_tables
from features.errors import PipelineError
from features.marts import MartThresholds
from features.report import build_report
from features.store import connect
from ranking.batch import recommend_batch
from ranking.evaluation.guardrails import format_guardrails
from ranking.evaluation.run import format_table
from ranking.feed.engine import FeedEngine
from ranking.lifecycle import evaluate_version, publish_version, train_model
from wellbeing.config import WellbeingConfig

__all__ = ["demo_summary", "counts_table"]


def counts_table(title: str, unit: str, counts: Iterable[tuple[str, int]]) -> list[str]:
    """Lines of a two-column table, largest count first (``none`` when empty)."""
    rows = sorted(counts, key=lambda r: (-r[1], r[0]))
    if not rows:
        return [f"{title}: none"]
    width = max(40, *(len(str(k)) + 2 for k, _ in rows))
    return [f"{title:<{width}}{unit:>8}", *[f"  {k:<{width - 2}}{n:>8,}" for k, n in rows]]


def demo_summary(db: str, report: str | None, step: Callable[[str], None],
                 during: Callable[[str], AbstractContextManager[None]] | None = None
                 ) -> dict[str, Any]:
    """Run the batch half on the store at ``db`` and return a summary (``text`` is printable).

    Args:
        db: the store, with a world ingested.
        report: where to write the HTML report (None: no report).
        step: called with a short line when a step finishes.
        during: wraps a long step (training, evaluation) so its progress can be shown.
    """
    during = during or (lambda _text: nullcontext())
    con = connect(db)
    out: dict[str, Any] = {}
    feats = build_feature_tables(con)
    step(f"features: {len(feats)} sets")
    with during("training the ranker (candidate models, then LightGBM)"):
        res = train_model(con, db)
    step(f"trained {res.version}")
    with during("evaluating the ranker against the baselines"):
        ev = evaluate_version(con, res.version)
    step("evaluated ranker vs baselines")
    try:
        publish_version(con, ev)
        step(f"published {res.version}")
    except PipelineError as exc:  # the gate said no: the demo still shows why
        step(f"not published: {exc}")
    con.close()
    engine = FeedEngine(db)
    users = engine.con.sql("SELECT user_id FROM users ORDER BY user_id LIMIT 400").pl()
    now = engine.latest_event_time()
    with during(f"serving {users.height} feeds through the wellbeing policy"):
        recs, rsum = recommend_batch(engine, users, 20, now)
    engine.close()
    step(f"served {rsum['users']} feeds through the wellbeing policy")
    con = connect(db)
    removals = con.sql("""SELECT reason, count(*) AS n FROM audit_log WHERE action <> 'intervene'
                          GROUP BY 1 ORDER BY 2 DESC LIMIT 8""").pl()
    ivs = con.sql("""SELECT rule AS intervention, count(*) AS n FROM audit_log
                     WHERE action = 'intervene' GROUP BY 1 ORDER BY 2 DESC""").pl()
    if report:
        with during("writing the report"):
            build_report(con, report, db_path=db,
                         thresholds=MartThresholds.from_config(WellbeingConfig()))
        step(f"report written to {report}")
        out["report"] = report
    con.close()
    text = [
        "", "== evaluation (per-user random and time-forward holdouts) ==", format_table(ev),
        f"gate: {ev.gate.why}",
        "", "== wellbeing ==",
        f"feeds served: {rsum['users']} users, {rsum['fed']} fed",
        *counts_table("policy applied", "users", rsum["policies"].items()),
        *counts_table("interventions", "shown", ivs.iter_rows()),
        *counts_table("removals by reason (top 8)", "items", removals.iter_rows()),
    ]
    if ev.guardrails is not None:
        text.append(format_guardrails(ev.guardrails))
    out.update(evaluation=ev.to_dict(), wellbeing={"served": rsum, "removals": removals.to_dicts(),
                                         "interventions": ivs.to_dicts()},
               sample_rows=recs.height, text="\n".join(text))
    return out
