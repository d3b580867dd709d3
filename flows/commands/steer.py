"""``feedwell steer USER "TEXT"``: steer a user's feed in words; ``--clear`` removes it."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("steer", help="steer a user's feed in words (more / less / never, a mood)",
                       description='Understand TEXT ("more pets and sports, less dance", "never '
                       'diet videos", "something calm tonight") against the catalog, store it '
                       "with its history, and echo what was understood. The feed applies it "
                       "on the next request; it never widens the user's wellbeing policy.")
    p.add_argument("user_id")
    p.add_argument("text", nargs="?", help="what the user wants, in English")
    p.add_argument("--clear", action="store_true", help="remove the user's steering")
    p.add_argument("--now", help="when it was said (default: now)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from features.errors import ConfigError
    from features.store import connect
    from features.times import parse_time
    from flows.cli import emit
    from wellbeing.config import WellbeingConfig
    from wellbeing.levers_store import catalog_vocabulary, clear_steering, save_steering
    from wellbeing.steering import parse_steering

    if args.clear == bool(args.text):
        raise ConfigError('give either TEXT or --clear, e.g. feedwell steer u1 "less dance"')
    now = parse_time(args.now, None, "--now") or datetime.now(UTC).replace(tzinfo=None)
    con = connect(args.db)
    try:
        if args.clear:
            had = clear_steering(con, args.user_id, now, source="cli")
            emit(args, {"user_id": args.user_id, "cleared": had},
                 f"{args.user_id}: steering cleared" if had
                 else f"{args.user_id}: had no steering (recorded as cleared)")
            return 0
        rows = con.execute("SELECT timezone FROM users WHERE user_id = ? "
                           "ORDER BY _loaded_at DESC NULLS LAST LIMIT 1",
                           [args.user_id]).fetchall()
        tz = (rows[0][0] if rows else None) or "UTC"
        topics, creators = catalog_vocabulary(con)
        s = parse_steering(args.text, topics, creators, now, tz,
                           WellbeingConfig().steer_mood_hours)
        save_steering(con, args.user_id, s, now, source="cli")
    finally:
        con.close()
    echo = s.echo()
    lines = [f"{args.user_id}: steering stored, applied from the next feed request"]
    lines += [f"  {k:<6} {', '.join(echo[k])}" for k in ("more", "less", "never") if echo[k]]
    if echo["mood"]:
        lines.append(f"  mood   {echo['mood']} ({', '.join(echo['mood_topics'])}) "
                     f"until {echo['expires']}")
    if s.ignored:
        lines.append(f"  not understood: {' '.join(s.ignored)}")
    emit(args, {"user_id": args.user_id, **echo, "ignored": list(s.ignored)}, "\n".join(lines))
    return 0
