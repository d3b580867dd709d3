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
    p.add_argument("--full", action="store_true",
                   help="the full world (2,000 users, 3,000 videos, 300k events; minutes) "
                        "instead of the quick one (400 users, 600 videos, 40k events)")
    p.add_argument("--users", type=int, default=None, help="override the world's users")
    p.add_argument("--items", type=int, default=None, help="override the world's videos")
    p.add_argument("--events", type=int, default=None, help="override the world's events")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--report", default="report.html", help="HTML report path")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


QUICK = {"users": 400, "items": 600, "events": 40_000}
"""The default demo world: every stage runs, in about a minute on 2 cores."""
FULL = {"users": 2000, "items": 3000, "events": 300_000}
"""``--full``: the world the README's figures describe."""


def world(args: argparse.Namespace) -> dict[str, int]:
    """The world's size: the quick one, or ``--full``, with any of ``--users``, ``--items``,
    ``--events`` given overriding it."""
    return {k: v if getattr(args, k) is None else getattr(args, k)
            for k, v in (FULL if args.full else QUICK).items()}


def run(args: argparse.Namespace) -> int:
    for key, value in world(args).items():
        setattr(args, key, value)
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
