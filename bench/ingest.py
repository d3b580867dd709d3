"""Benchmark: ingest throughput from Parquet (events/s), fresh load and idempotent re-load.

Usage: .venv/bin/python -m bench.ingest [--events 1000000 10000000] [--keep DIR]
Writes nothing but a temp folder; prints one line per size and a JSON summary.

Each load is timed in wall and CPU seconds (``process_time``: all threads of this process)
next to a bare ``CREATE TABLE AS SELECT * FROM read_parquet(...)`` of the same events file in
the same run, so figures taken while other work shares the machine can still be compared.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

import duckdb

from features.ingest import ingest_dir
from features.simulator import simulate
from features.store import connect


def _timed(fn) -> tuple[object, float, float]:
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w, time.process_time() - c


def _bare_copy(events: Path, db: Path) -> tuple[float, float]:
    """Wall and CPU seconds of a plain copy of the events file into a new DuckDB file."""
    db.unlink(missing_ok=True)
    con = duckdb.connect(str(db))
    try:
        sql = f"CREATE TABLE e AS SELECT * FROM read_parquet('{events}')"
        _, wall, cpu = _timed(lambda: con.execute(sql).fetchall())
    finally:
        con.close()
        db.unlink(missing_ok=True)
    return wall, cpu


def run(n_events: int, root: Path) -> dict:
    data = root / f"world_{n_events}"
    if not data.exists():
        simulate(data, users=max(1000, n_events // 100), items=max(2000, n_events // 50),
                 events=n_events, seed=11)
    bare_wall, bare_cpu = _bare_copy(data / "events.parquet", root / f"bare_{n_events}.duckdb")
    db = root / f"bench_{n_events}.duckdb"
    db.unlink(missing_ok=True)
    con = connect(db)
    rep, first, first_cpu = _timed(lambda: ingest_dir(con, data))
    rep2, second, second_cpu = _timed(lambda: ingest_dir(con, data))
    con.close()
    ev = rep["events"]
    return {
        "events_read": ev.read, "accepted": ev.accepted, "seconds": round(first, 2),
        "cpu_seconds": round(first_cpu, 2), "events_per_s": round(ev.read / first),
        "reload_seconds": round(second, 2), "reload_cpu_seconds": round(second_cpu, 2),
        "reload_events_per_s": round(rep2["events"].read / second),
        "reload_duplicates": rep2["events"].duplicates,
        "bare_copy_seconds": round(bare_wall, 2), "bare_copy_cpu_seconds": round(bare_cpu, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "load_avg_1m": round(os.getloadavg()[0], 2),
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
            print(f"{n:>11,} events: {r['seconds']:6.2f} s (cpu {r['cpu_seconds']:.2f} s) = "
                  f"{r['events_per_s']:>10,} events/s; re-load {r['reload_seconds']:.2f} s "
                  f"(cpu {r['reload_cpu_seconds']:.2f} s, {r['reload_duplicates']:,} duplicates); "
                  f"bare copy {r['bare_copy_seconds']:.2f} s "
                  f"(cpu {r['bare_copy_cpu_seconds']:.2f} s); "
                  f"peak RSS {r['peak_rss_mb']} MB; load {r['load_avg_1m']}", flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
