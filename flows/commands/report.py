"""``feedwell report``: write the analysts' HTML report (one self-contained file)."""

from __future__ import annotations

import argparse
from datetime import date


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-10-31") from exc


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="write the analysts' HTML report (works offline)")
    p.add_argument("--out", default="report.html", help="HTML file (default: %(default)s)")
    p.add_argument("--from", dest="start", type=_day, help="first UTC day, YYYY-MM-DD")
    p.add_argument("--to", dest="end", type=_day, help="last UTC day, YYYY-MM-DD")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from features.errors import ConfigError
    from features.marts import MartThresholds
    from features.report import build_report
    from features.store import connect
    from flows.cli import emit
    from wellbeing.config import WellbeingConfig

    if args.start and args.end and args.start > args.end:
        raise ConfigError(f"--from {args.start} is after --to {args.end}")
    con = connect(args.db)
    try:
        path = build_report(con, args.out, args.start, args.end, db_path=args.db,
                            thresholds=MartThresholds.from_config(WellbeingConfig()))
    finally:
        con.close()
    size = path.stat().st_size / 1e6
    emit(args, {"report": str(path.resolve()), "bytes": path.stat().st_size},
         f"wrote {path} ({size:.1f} MB, self-contained: open it in any browser)")
    return 0
