"""``feedwell explain USER ITEM``: why a video is or is not in a user's feed."""

from __future__ import annotations

import argparse
import json
from datetime import datetime

import duckdb

from features.times import parse_time


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("explain", help="why a video is or is not in a user's feed")
    p.add_argument("user_id")
    p.add_argument("item_id")
    p.add_argument("--now", help="request time (default: just after the latest event)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def unknown(con: duckdb.DuckDBPyConnection, user_id: str, item_id: str) -> list[str]:
    """What the store has never heard of: ``user ...`` and/or ``video ...`` (none: empty).

    Events may name users and videos before their rows arrive, so either kind of row counts.
    """
    rows = con.execute(
        """SELECT (SELECT count(*) FROM users WHERE user_id = $u)
                  + (SELECT count(*) FROM (SELECT 1 FROM events WHERE user_id = $u LIMIT 1)),
                  (SELECT count(*) FROM items WHERE item_id = $i)
                  + (SELECT count(*) FROM (SELECT 1 FROM events WHERE item_id = $i LIMIT 1))""",
        {"u": user_id, "i": item_id}).fetchall()
    n_user, n_item = rows[0]
    return ([f"user {user_id!r}"] if not n_user else []) + (
        [f"video {item_id!r}"] if not n_item else [])


def run(args: argparse.Namespace) -> int:
    from features.errors import DataError
    from flows.cli import emit
    from ranking.explain import explain_pair
    from ranking.feed.engine import FeedEngine

    now = parse_time(args.now, None, "--now")
    engine = FeedEngine(args.db)
    try:
        if missing := unknown(engine.con, args.user_id, args.item_id):
            raise DataError(f"no {' and no '.join(missing)} in {args.db}: nothing to explain")
        now = now or engine.latest_event_time() or datetime.now()
        res = explain_pair(engine, args.user_id, args.item_id, now)
    finally:
        engine.close()
    emit(args, res, res["summary"] + "\n" + json.dumps(res, indent=2, default=str))
    return 0
