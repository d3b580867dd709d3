"""``feedwell run``: the daily flow (ingest, features, train, evaluate, gated publish)."""

from __future__ import annotations

import argparse
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
    lines += [f"trained: {s['version']}", "", ev.get("table", ""), "",
              f"gate: {'passed' if gate.get('passed') else 'failed'} - {gate.get('why', '')}",
              f"published: {s['published']}"]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from flows._settings import quiet_prefect

    quiet_prefect()
    from flows.cli import emit
    from flows.commands.recommend import parse_now

    now = parse_now(args.now)
    if args.executor == "dask":
        from flows.dask import run_daily_dask

        summary = run_daily_dask(args.db, args.data, now, args.k, args.scheduler)
    else:
        if args.scheduler:
            from features.errors import ConfigError

            raise ConfigError("--scheduler needs --executor dask")
        from flows.daily import daily

        summary = daily(db_path=args.db, data_dir=args.data, now=now, k=args.k)
    emit(args, summary, _text(summary))
    return 0
