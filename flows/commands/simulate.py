"""``feedwell simulate OUT_DIR``: write a synthetic AI-video world as a contract data directory."""

from __future__ import annotations

import argparse

from flows.cli import emit

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "simulate",
        help="write a synthetic data directory (users, items, events, consents)",
        description="Write a deterministic synthetic Sora-style world; --db is not used.",
    )
    p.add_argument("out_dir", metavar="OUT_DIR", help="data directory to write")
    p.add_argument("--users", type=int, default=2000, help="users (default: %(default)s)")
    p.add_argument("--items", type=int, default=3000, help="videos (default: %(default)s)")
    p.add_argument("--events", type=int, default=300_000,
                   help="approximate event rows (default: %(default)s)")
    p.add_argument("--days", type=int, default=28, help="window length (default: %(default)s)")
    p.add_argument("--seed", type=int, default=7, help="random seed (default: %(default)s)")
    p.add_argument("--format", dest="fmt", choices=("parquet", "csv", "jsonl"),
                   default="parquet", help="file format (default: %(default)s)")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    p.set_defaults(func=handler)


def _text(s: dict) -> str:
    rows, ages, it = s["rows"], s["ages"], s["items_detail"]
    lines = [
        f"wrote {s['out_dir']} ({s['format']}, seed {s['seed']})",
        "rows: " + ", ".join(f"{k} {v:,}" for k, v in rows.items()),
        f"window: {s['window']['start']} .. {s['window']['end']}",
        f"events: {s['events_time_range']['min']} .. {s['events_time_range']['max']}, "
        f"{s['sessions']:,} sessions with an id",
        f"users: {ages['adults']:,} adults, {ages['teens']:,} teens "
        f"({ages['teens_13_15']:,} aged 13-15, {ages['teens_16_17']:,} aged 16-17), "
        f"{ages['children_under_13']:,} under 13, {ages['unknown_age']:,} unknown age",
        f"items: {s['creators']:,} creators, {it['realistic_person']:,} realistic, "
        f"{it['with_cameo']:,} with cameos, {it['unrated']:,} unrated, "
        f"{it['unlabelled']:,} unlabelled, {it['removed']:,} removed",
        f"consents: {s['consents_detail']['subjects']:,} subjects, "
        f"{s['consents_detail']['revoked_rows']:,} revocations",
        "event types: " + ", ".join(f"{k} {v:,}" for k, v in s["event_types"].items()),
    ]
    return "\n".join(lines)


def handler(args: argparse.Namespace) -> int:
    from features.simulator import simulate

    summary = simulate(args.out_dir, users=args.users, items=args.items, events=args.events,
                       days=args.days, seed=args.seed, fmt=args.fmt)
    emit(args, summary, _text(summary))
    return 0
