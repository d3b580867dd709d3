"""``feedwell marts``: list the analyst marts (DuckDB views) and what they hold."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("marts", help="list the analyst marts and their columns")
    p.add_argument("--columns", action="store_true", help="also list each mart's columns")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from features.marts import MartThresholds, create_marts
    from features.store import connect
    from flows.cli import emit
    from wellbeing.config import WellbeingConfig

    con = connect(args.db)
    try:
        marts = create_marts(con, MartThresholds.from_config(WellbeingConfig()))
    finally:
        con.close()
    payload = {"marts": [{"name": m.name, "description": m.description, "columns": m.columns}
                         for m in marts]}
    lines = []
    for m in marts:
        lines.append(f"{m.name}\n    {m.description}")
        if args.columns:
            lines += [f"      {c}: {d}" for c, d in m.columns.items()]
    lines.append('\nQuery them with: feedwell sql "SELECT * FROM mart_daily_engagement"')
    emit(args, payload, "\n".join(lines))
    return 0
