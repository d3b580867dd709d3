"""``feedwell demo``: simulate a world, run every stage, print the evaluation and wellbeing
summary. Progress goes to stderr as short lines (none with ``--json``)."""

from __future__ import annotations

import argparse
import shutil
import sys
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


def run(args: argparse.Namespace) -> int:
    from flows._progress import Progress
    from flows._settings import quiet_prefect

    quiet_prefect()  # also silences the ranker libraries' known warnings
    from features.ingest import ingest_dir
    from features.simulator import simulate
    from features.store import connect
    from flows.cli import emit
    from flows.commands._demo_summary import demo_summary
    from ranking.registry import models_root

    progress = Progress(quiet=args.json)
    db = Path(args.db)
    # The demo owns its database and world: start clean so a re-run gives the same result.
    for p in (db, Path(f"{db}.wal")):
        p.unlink(missing_ok=True)
    shutil.rmtree(models_root(db), ignore_errors=True)
    shutil.rmtree(args.dir, ignore_errors=True)
    if not args.json:
        print(f"feedwell demo -> {db}", file=sys.stderr, flush=True)
    with progress.during(f"simulating {args.users:,} users and {args.events:,} events"):
        simulate(args.dir, users=args.users, items=args.items, events=args.events,
                 seed=args.seed)
    progress.step(f"simulated {args.events:,} events into {args.dir}/")
    con = connect(db)
    with progress.during("ingesting"):
        reports = ingest_dir(con, args.dir)
    progress.step("ingested: " + ", ".join(f"{n} {r.accepted:,}" for n, r in reports.items()))
    con.close()
    summary = demo_summary(str(db), args.report, progress.step, progress.during)
    summary["seconds"] = round(time.perf_counter() - progress.t0, 1)
    emit(args, summary, summary.pop("text"))
    return 0
