"""``feedwell sql "QUERY"``: run SQL on the store, with every analyst mart available."""

from __future__ import annotations

import argparse
import shutil
from datetime import date, datetime
from typing import Any


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sql", help="run a SQL query on the store (marts included)",
                       description="Run a SQL query on the store. The analyst marts "
                       "(`feedwell marts` lists them) are created first.")
    p.add_argument("query", help='the SQL to run, e.g. "SELECT * FROM mart_daily_engagement"')
    p.add_argument("--max-rows", type=int, default=100,
                   help="rows shown in the table (default: %(default)s; --json returns all)")
    p.add_argument("--write", action="store_true",
                   help="allow statements that change the store (default: read-only)")
    p.add_argument("--json", action="store_true", help="print {columns, rows, row_count} as JSON")
    p.set_defaults(func=run)


def _cell(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, datetime | date):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    return str(value)


def run_query(db: str, query: str, write: bool = False) -> tuple[list[str], list[tuple]]:
    """Create the marts and run ``query``; returns (column names, rows).

    Args:
        db: the store.
        query: one or more SQL statements; the last one's result is returned.
        write: run on a writable connection (default: read-only, so ``DROP TABLE`` is refused).

    Raises:
        DataError: an empty query, or the query failed (the message is DuckDB's).
    """
    import duckdb

    from features.errors import DataError
    from features.marts import MartThresholds, create_marts
    from features.store import connect
    from wellbeing.config import WellbeingConfig

    if not query.strip():
        raise DataError('empty query: give the SQL to run, e.g. "SELECT * FROM users LIMIT 5"')
    con = connect(db)
    try:
        create_marts(con, MartThresholds.from_config(WellbeingConfig()))
        if not write:
            # The marts are views in the store: create them writable, then query read-only.
            con.close()
            con = connect(db, read_only=True)
        cur = con.execute(query)
        columns = [d[0] for d in cur.description] if cur.description else []
        rows = cur.fetchall() if columns else []
    except duckdb.Error as exc:
        if "read-only mode" in str(exc):
            raise DataError(f"{str(exc).splitlines()[0]} (feedwell sql is read-only: add "
                            "--write to change the store)") from exc
        raise DataError(f"query failed: {exc}") from exc
    finally:
        con.close()
    return columns, rows


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from flows.cli import emit

    columns, rows = run_query(args.db, args.query, args.write)
    if args.json:
        emit(args, {"columns": columns, "rows": [dict(zip(columns, r, strict=True)) for r in rows],
                    "row_count": len(rows)})
        return 0
    table = Table(show_lines=False, header_style="bold")
    for c in columns:
        table.add_column(c, overflow="fold")
    for r in rows[: args.max_rows]:
        table.add_row(*(_cell(v) for v in r))
    console = Console(width=max(shutil.get_terminal_size((160, 24)).columns, 100))
    console.print(table)
    more = f", showing {args.max_rows}" if len(rows) > args.max_rows else ""
    console.print(f"{len(rows)} row{'s' if len(rows) != 1 else ''}{more}")
    return 0
