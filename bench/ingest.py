"""Benchmark: ingest throughput from Parquet (events/s), fresh load and idempotent re-load.

Usage: .venv/bin/python -m bench.ingest [--events 1000000 10000000] [--keep DIR]
Writes nothing but a temp folder; prints one line per size and a JSON summary.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import tempfile
import time
from pathlib import Path

from features.ingest import ingest_dir
from features.simulate import simulate
from features.store import connect


def run(n_events: int, root: Path) -> dict:
    data = root / f"world_{n_events}"
    if not data.exists():
        simulate(data, users=max(1000, n_events // 100), items=max(2000, n_events // 50),
                 events=n_events, seed=11)
    db = root / f"bench_{n_events}.duckdb"
    db.unlink(missing_ok=True)
    con = connect(db)
    t0 = time.perf_counter()
    rep = ingest_dir(con, data)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    rep2 = ingest_dir(con, data)
    second = time.perf_counter() - t0
    con.close()
    ev = rep["events"]
    return {
        "events_read": ev.read, "accepted": ev.accepted, "seconds": round(first, 2),
        "events_per_s": round(ev.read / first), "reload_seconds": round(second, 2),
        "reload_events_per_s": round(rep2["events"].read / second),
        "reload_duplicates": rep2["events"].duplicates,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, nargs="+", default=[1_000_000])
    ap.add_argument("--keep", help="reuse/keep simulated worlds in this folder")
    args = ap.parse_args()
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="fw_bench_"))
    root.mkdir(parents=True, exist_ok=True)
    out = {}
    try:
        for n in args.events:
            out[n] = r = run(n, root)
            print(f"{n:>11,} events: {r['seconds']:6.2f} s = {r['events_per_s']:>10,} events/s; "
                  f"re-load {r['reload_seconds']:.2f} s ({r['reload_duplicates']:,} duplicates); "
                  f"peak RSS {r['peak_rss_mb']} MB", flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
