"""``feedwell explain USER ITEM``: why a video is or is not in a user's feed."""

from __future__ import annotations

import argparse
import json
from datetime import datetime

from flows.commands.recommend import parse_now


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("explain", help="why a video is or is not in a user's feed")
    p.add_argument("user_id")
    p.add_argument("item_id")
    p.add_argument("--now", help="request time (default: just after the latest event)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from flows.cli import emit
    from ranking.explain import explain_pair
    from ranking.feed.engine import FeedEngine

    engine = FeedEngine(args.db)
    now = parse_now(args.now) or engine.latest_event_time() or datetime.now()
    res = explain_pair(engine, args.user_id, args.item_id, now)
    engine.close()
    emit(args, res, res["summary"] + "\n" + json.dumps(res, indent=2, default=str))
    return 0
