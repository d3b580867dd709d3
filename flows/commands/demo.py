"""``feedwell demo``: simulate a world, run every stage, print the evaluation and wellbeing summary."""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="simulate a world, run everything, print the summary")
    p.add_argument("--dir", default="demo_data", help="where the synthetic world is written")
    p.add_argument("--users", type=int, default=2000)
    p.add_argument("--items", type=int, default=3000)
    p.add_argument("--events", type=int, default=300_000)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--report", default="report.html", help="HTML report path")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def _step(name: str, t0: float) -> None:
    print(f"  [{time.perf_counter() - t0:6.1f}s] {name}", flush=True)


def run(args: argparse.Namespace) -> int:
    from features.ingest import ingest_dir
    from features.simulate import simulate
    from features.store import connect
    from flows.cli import emit
    from ranking.demo_summary import demo_summary

    t0 = time.perf_counter()
    db = Path(args.db)
    # The demo owns its database and world: start clean so a re-run gives the same result.
    for p in (db, Path(f"{db}.wal")):
        p.unlink(missing_ok=True)
    from ranking.registry import models_root

    shutil.rmtree(models_root(db), ignore_errors=True)
    shutil.rmtree(args.dir, ignore_errors=True)
    print(f"feedwell demo -> {db}")
    simulate(args.dir, users=args.users, items=args.items, events=args.events, seed=args.seed)
    _step(f"simulated {args.events:,} events into {args.dir}/", t0)
    con = connect(db)
    reports = ingest_dir(con, args.dir)
    _step("ingested: " + ", ".join(f"{n} {r.accepted:,}" for n, r in reports.items()), t0)
    con.close()
    summary = demo_summary(str(db), args.report, lambda s: _step(s, t0))
    summary["seconds"] = round(time.perf_counter() - t0, 1)
    emit(args, summary, summary.pop("text"))
    return 0
