"""``feedwell recommend`` and ``feedwell score``: batch feeds and batch scoring."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

from features.errors import DataError
from features.times import parse_time


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("recommend", help="serve a k-video page to every user in a file")
    p.add_argument("--users", required=True, help="csv/parquet with user_id (and optional now)")
    p.add_argument("--k", type=int, default=10, help="page size (default: %(default)s)")
    p.add_argument("--out", required=True, help="output .csv or .parquet")
    p.add_argument("--now", help="request time (default: just after the latest event)")
    p.add_argument("--json", action="store_true", help="print a JSON summary")
    p.set_defaults(func=run_recommend)

    s = sub.add_parser("score", help="score request rows and say what the policy would do")
    s.add_argument("--requests", required=True, help="csv/parquet: request_id,user_id,ts,item_id")
    s.add_argument("--out", required=True, help="output .csv or .parquet")
    s.add_argument("--json", action="store_true", help="print a JSON summary")
    s.set_defaults(func=run_score)


def run_recommend(args: argparse.Namespace) -> int:
    from flows.cli import emit
    from ranking.batch import read_table, recommend_batch, write_table
    from ranking.feed.engine import FeedEngine

    if args.k < 1:
        raise DataError("--k must be at least 1")
    users = read_table(args.users, ("user_id",))
    engine = FeedEngine(args.db)
    now = parse_time(args.now, None, "--now") or engine.latest_event_time() or datetime.now()

    def progress(i: int, n: int) -> None:
        if not args.json and sys.stderr.isatty():
            print(f"\rrecommend: {i}/{n} users", end="", file=sys.stderr)

    out, summary = recommend_batch(engine, users, args.k, now, progress)
    engine.close()
    write_table(out, args.out)
    summary.update(out=args.out, model_version=engine.model_version, now=now)
    emit(args, summary, (f"wrote {out.height} rows for {summary['users']} users "
                         f"({summary['fed']} fed) to {args.out}; model "
                         f"{engine.model_version or 'none (popularity fallback)'}; "
                         "interventions " + (", ".join(
                             f"{k} {n}" for k, n in sorted(summary["interventions"].items(),
                                                           key=lambda kv: -kv[1])) or "none")))
    return 0


def run_score(args: argparse.Namespace) -> int:
    from flows.cli import emit
    from ranking.batch import read_table, score_requests, write_table
    from ranking.feed.engine import FeedEngine

    req = read_table(args.requests, ("request_id", "user_id", "ts", "item_id"))
    engine = FeedEngine(args.db)
    out = score_requests(engine, req)
    engine.close()
    write_table(out, args.out)
    kept = int(out["kept"].sum())
    emit(args, {"rows": out.height, "kept": kept, "removed": out.height - kept, "out": args.out,
                "model_version": engine.model_version},
         f"scored {out.height} rows ({kept} kept, {out.height - kept} removed) -> {args.out}")
    return 0
