"""``feedwell run``: the daily flow (ingest, features, train, evaluate, gated publish)."""

from __future__ import annotations

import argparse
import os
from typing import Any


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run the daily flow with Prefect (local, or on Dask)")
    p.add_argument("--now", help="as-of time of features, training, evaluation (default: all)")
    p.add_argument("--data", help="a data directory to ingest first")
    p.add_argument("--k", type=int, default=10, help="metric cut-off for the gate (NDCG@k)")
    p.add_argument("--executor", choices=("local", "dask"), default="local",
                   help="local threads (default) or Prefect's Dask task runner")
    p.add_argument("--scheduler", help="Dask scheduler address (default: a local 2-worker cluster)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def _text(s: dict[str, Any]) -> str:
    ev = s.get("evaluation", {})
    gate = ev.get("gate", {})
    lines = [f"daily flow ({s['engine']}) finished in {s['seconds']} s",
             f"data version: {s['data_version']}"]
    if "ingest" in s:
        lines.append("ingested: " + ", ".join(
            f"{t} +{r['accepted']} (quarantined {r['quarantined']}, duplicates {r['duplicates']})"
            for t, r in s["ingest"].items()))
    lines.append("features: " + ", ".join(f"{n}={rows}" for n, rows in s["features"].items()))
    parts = f" from {s['partitions']} day partitions" if "partitions" in s else ""
    lines.append(f"daily engagement: {s['daily_counts_rows']} days{parts}")
    lines.append(f"trained: {s['version']}")
    if "seconds" in ev:
        parts = [f"{h} holdout {v} s" for h, v in ev.get("holdout_seconds", {}).items()]
        if "guardrails_seconds" in ev:
            parts.append(f"guardrail replay {ev['guardrails_seconds']} s")
        lines.append(f"evaluated in {ev['seconds']} s" + (f" ({', '.join(parts)})" if parts
                                                           else ""))
    lines += ["", ev.get("table", ""), "",
              f"gate: {'passed' if gate.get('passed') else 'failed'} - {gate.get('why', '')}",
              f"published: {s['published']}"]
    return "\n".join(lines)


def _print_rejected(db: str) -> None:
    """On a failed gate, show the rejected version's metrics (the reason is the error)."""
    import sys

    from features.store import connect
    from ranking.evaluation.result import EvaluationResult
    from ranking.evaluation.run import format_table
    from ranking.registry import list_versions

    con = connect(db)
    try:
        rejected = [r for r in list_versions(con) if r.status == "rejected"]
    finally:
        con.close()
    if rejected:
        models = {k: v for k, v in rejected[-1].metrics.items()
                  if k not in ("gate", "selection", "action_figures")}
        print(f"rejected: {rejected[-1].version}\n"
              f"{format_table(EvaluationResult(models=models))}",
              file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    from flows._settings import quiet_prefect

    quiet_prefect()
    from features.errors import ConfigError, PipelineError
    from features.times import parse_time
    from flows.cli import emit

    now = parse_time(args.now, None, "--now")
    db = os.path.abspath(args.db)  # part of the cache keys: one store, one key space
    data = os.path.abspath(args.data) if args.data else None
    if args.scheduler and args.executor != "dask":
        raise ConfigError("--scheduler needs --executor dask")
    from flows._settings import mute_run_tracebacks

    mute_run_tracebacks()
    from prefect.exceptions import TerminationSignal

    from flows._stop import exit_code, stoppable

    try:
        with stoppable("run"):
            if args.executor == "dask":
                from flows.dask import run_daily_dask

                summary = run_daily_dask(db, data, now, args.k, args.scheduler)
            else:
                from flows.daily import daily

                summary = daily(db_path=db, data_dir=data, now=now, k=args.k)
    except PipelineError:
        if not args.json:
            _print_rejected(db)
        raise
    except (KeyboardInterrupt, TerminationSignal) as exc:  # ``Stopped`` is one too
        # the watchdog has said why; the store was left by the rolled-back step
        return exit_code(getattr(exc, "signum", None) or getattr(exc, "signal", 2))
    emit(args, summary, _text(summary))
    return 0
