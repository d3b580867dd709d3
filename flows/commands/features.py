"""``feedwell features``: refresh the partials, compute every feature set as of ``--now``.

By default only what new events touch is recomputed; ``--full`` rebuilds from every event.
"""

from __future__ import annotations

import argparse
from datetime import datetime


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("features", help="compute feature sets as of a time (or list the catalog)")
    p.add_argument(
        "--now",
        type=datetime.fromisoformat,
        default=None,
        help="as-of time, UTC ISO (default: latest event; only events before it count)",
    )
    p.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=None,
        help="build only this set (repeatable; dependencies are built too)",
    )
    p.add_argument("--full", action="store_true",
                   help="rebuild the kept partial aggregates from every event (default: refresh "
                        "only what events loaded since the last run touch)")
    p.add_argument("--list", action="store_true", help="print the feature catalog and exit")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def _catalog(args: argparse.Namespace) -> int:
    from features.catalog import load_catalog
    from flows.cli import emit

    cat = load_catalog()
    payload = {
        name: {
            "key": fs.key,
            "windows": fs.windows,
            "personal": fs.personal,
            "materialized": fs.materialized,
            "depends_on": fs.depends_on,
            "description": fs.description,
            "columns": list(fs.expanded_columns()),
        }
        for name, fs in cat.sets.items()
    }
    lines = [f"{'set':24} {'key':22} {'cols':>4}  description"]
    for name, p in payload.items():
        lines.append(
            f"{name:24} {','.join(p['key']) or '-':22} {len(p['columns']):>4}  "
            f"{p['description'][:70]}"
        )
    emit(args, {"sets": payload, "features": len(cat.feature_names())}, "\n".join(lines))
    return 0


def run(args: argparse.Namespace) -> int:
    import time

    from features.build import default_now, run_features
    from features.store import connect
    from features.times import to_utc_naive
    from flows.cli import emit

    if args.list:
        return _catalog(args)
    con = connect(args.db)
    try:
        # Reported as the naive UTC time the sets were built at, whatever offset was given.
        now = to_utc_naive(args.now) if args.now else default_now(con)
        t0 = time.perf_counter()
        run = run_features(con, now=now, sets=args.sets, full=args.full)
        seconds = time.perf_counter() - t0
    finally:
        con.close()
    rows = {name: b.rows for name, b in run.built.items()}
    how = run.partials + (f" ({run.reason})" if run.reason else "")
    if run.partials == "refresh":
        how += f": {run.new_events:,} new events in {run.dirty_buckets:,} hour buckets"
    text = "\n".join(
        [f"features as of {now} (events strictly before it), {seconds:.2f}s; partials {how}"]
        + [f"  feat_{n:24} {r:>10,} rows" for n, r in rows.items()]
    )
    payload = {"as_of": now.isoformat(), "seconds": round(seconds, 3), "rows": rows,
               "partials": run.partials, "reason": run.reason, "new_events": run.new_events,
               "dirty_buckets": run.dirty_buckets}
    emit(args, payload, text)
    return 0
