"""``feedwell ingest DATA_DIR``: validated, idempotent load into DuckDB."""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.table import Table

from features.ingest import ingest_dir
from features.store import connect


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ingest", help="load a data directory (users, items, events, consents)")
    p.add_argument("data_dir", help="folder with NAME.parquet|csv|jsonl or NAME/ per table")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from flows.cli import emit

    con = connect(args.db)
    console = Console(stderr=True)
    if args.json:
        reports = ingest_dir(con, args.data_dir)
    else:
        with console.status("ingesting...") as status:
            reports = ingest_dir(
                con, args.data_dir,
                progress=lambda t, i, n: status.update(f"ingested {t} ({i}/{n})"),
            )
    con.close()
    payload = {"tables": {name: rep.as_dict() for name, rep in reports.items()}}
    for t in payload["tables"].values():
        t.pop("files")
    if args.json:
        emit(args, payload)
        return 0
    table = Table(title=f"ingest {args.data_dir} -> {args.db}")
    for col in ("table", "read", "accepted", "quarantined", "duplicates", "reasons"):
        table.add_column(col, justify="left" if col in ("table", "reasons") else "right")
    for name, rep in reports.items():
        reasons = ", ".join(f"{r}={n}" for r, n in rep.quarantine_reasons.items())
        table.add_row(name, str(rep.read), str(rep.accepted), str(rep.quarantined),
                      str(rep.duplicates), reasons or "-")
    Console().print(table)
    return 0
