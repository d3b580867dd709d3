"""Around every CLI command: check the store it needs, read a snapshot when the store is busy,
and turn whatever goes wrong into one line on stderr.

Which commands may create the store, which only read it, and which write it is decided here in
one table, so a new command is safe by default: it needs an existing store and gets a clear
error when another process holds it.
"""

from __future__ import annotations

import argparse
import sys

from features.errors import DataError
from features.snapshot import check_store, is_lock_error, lock_holder, snapshot

__all__ = ["store_use", "run_command", "one_line"]

# May create the store (or, for run and deploy, when given a data directory to ingest).
_CREATES = frozenset({"ingest", "demo"})
_NO_STORE = frozenset({"simulate"})
# Only read the store, so they can read a snapshot while another process holds it.
_READS = frozenset({"explain", "recommend", "score", "report", "marts", "models"})


def store_use(args: argparse.Namespace) -> str:
    """How a command uses ``--db``: ``none``, ``create``, ``read`` or ``write``."""
    cmd = args.command
    if cmd in _NO_STORE:
        return "none"
    if cmd in _CREATES or (cmd in ("run", "deploy") and getattr(args, "data", None)):
        return "create"
    if cmd in _READS or (cmd == "sql" and not getattr(args, "write", False)):
        return "read"
    return "write"


def run_command(args: argparse.Namespace) -> int:
    """Run ``args.func`` after checking the store; read a snapshot if a reader finds it busy.

    Raises:
        DataError: a missing or unusable store, or a busy one for a command that writes.
    """
    use = store_use(args)
    db = str(args.db)
    if db != ":memory:" and (use in ("read", "write") or (use == "create" and _exists(db))):
        check_store(db)
    try:
        return int(args.func(args) or 0)
    except Exception as exc:
        if not is_lock_error(exc):
            raise
        holder = lock_holder(exc)
        if use != "read":
            raise DataError(_busy_writer(db, holder, args.command)) from None
    print(f"feedwell {args.command}: {db} is in use by {holder}: reading a snapshot of it",
          file=sys.stderr)
    with snapshot(db) as snap:
        args.db = str(snap)
        try:
            return int(args.func(args) or 0)
        finally:
            args.db = db


def _busy_writer(db: str, holder: str, command: str) -> str:
    """Why a writing command cannot run while ``holder`` holds ``db``, and what to do instead.

    Ingest has a way round: the service it is most likely blocked by takes the same rows over
    HTTP, with the same checks.
    """
    fix = "stop that process and re-run"
    if command == "ingest":
        # The store could not be opened, and ingest is one transaction: nothing was written.
        fix = ("nothing was loaded: post the rows through POST /v1/events and POST /v1/items "
               "instead, or stop that process and re-run")
    return (f"the store {db} is held by {holder} (a running `feedwell serve`?) and "
            f"`feedwell {command}` writes to it: {fix}")


def _exists(db: str) -> bool:
    from pathlib import Path

    return Path(db).exists()


def one_line(exc: BaseException) -> str:
    """An exception's message on one line (DuckDB's carry a caret line and blank lines)."""
    parts = [s.strip() for s in str(exc).splitlines()]
    text = " ".join(s for s in parts if s and set(s) != {"^"})
    return text or type(exc).__name__
