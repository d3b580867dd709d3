"""Benchmark: the feature sets' full build and incremental refresh vs one bare DuckDB group-by.

For each size the simulator writes a 29-day world (``features/simulator/``); its events are
loaded in time order into a DuckDB store as 28 days of history (one ``_loaded_at``), and the
29th day is kept aside. A fresh child process then, per repeat and side by side:

1. rebuilds the kept partials over the history (untimed: the state before the new day lands);
2. appends the day (a new ``_loaded_at``, as an ingest would) and times ``run_features``:
   the **refresh** (``feedwell features``);
3. times the **bare group-by** over the same 29 days of events in the same file,
   ``SELECT user_id, count(*), count(DISTINCT item_id), avg(watch_ms) ... GROUP BY user_id``;
4. times the **full build** over the same events (``feedwell features --full``: every partial
   rebuilt, every public set computed and checked) and checks that every feature table equals
   the refresh's (counts exactly, decayed sums to 1e-12 relative);
5. deletes the day again;
6. the **hourly refresh**: the day but its last hour is loaded and every table built (untimed),
   then the last hour is appended (a new ``_loaded_at``) and ``run_features`` timed, and checked
   against a full build (untimed) over the same events; the day is deleted again.

The refresh folds the new events into the kept partials (only the buckets they touch) and
then derives every public set from the partials at the new ``now``.

The marginal cost per event is the slope between the smallest and largest size; the child
reports its peak RSS. Wall and CPU (all threads of the child) are the best of the repeats.

    .venv/bin/python bench/features.py --events 1000000 10000000 --readme
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BARE = (
    "CREATE OR REPLACE TEMP TABLE _bare AS SELECT user_id, count(*) AS n, "
    "count(DISTINCT item_id) AS items, avg(watch_ms) AS watch FROM events GROUP BY user_id"
)


def prepare(n_events: int, workdir: Path, seed: int = 1) -> Path:
    """Simulate a 29-day world; load 28 days of history and keep the last day aside."""
    from features.simulator import simulate
    from features.store import connect

    data, db = workdir / f"sim_{n_events}", workdir / f"bench_{n_events}.duckdb"
    if db.exists():  # a kept --workdir: reuse the loaded store
        return db
    summary = simulate(data, users=max(n_events // 200, 100), items=max(n_events // 100, 100),
                       events=n_events, days=29, seed=seed)
    con = connect(db)
    for table in ("users", "items"):
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM "
                    f"read_parquet({summary['files'][table]!r})")
    files = summary["files"]["events"]
    con.execute("SET VARIABLE cut = (SELECT max(ts) - INTERVAL 1 DAY FROM read_parquet($f))",
                {"f": files})
    con.execute("INSERT INTO events BY NAME SELECT *, now()::TIMESTAMP AS _loaded_at "
                "FROM read_parquet($f) WHERE ts <= getvariable('cut') ORDER BY ts", {"f": files})
    con.execute("CREATE TABLE _bench_day AS SELECT * FROM read_parquet($f) "
                "WHERE ts > getvariable('cut') ORDER BY ts", {"f": files})
    con.close()
    return db


def _timed(fn) -> tuple[object, float, float]:
    t, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - t, time.process_time() - c


def _frames(con, built) -> dict:
    from features.catalog import load_catalog

    cat = load_catalog()
    return {n: con.sql(f"SELECT * EXCLUDE (as_of) FROM {b.table}").pl().sort(cat.sets[n].key)
            for n, b in built.items()}


def measure(db: str, repeat: int) -> dict:
    """Child process: history build, then refresh / bare / full side by side per repeat."""
    from polars.testing import assert_frame_equal

    from features.build import run_features
    from features.store import connect

    per_set: dict[str, float] = {}
    collect = {"on": False}  # only the timed full build's steps

    class _Timings(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if (collect["on"] and record.args and len(record.args) == 2
                    and isinstance(record.args[1], float)):
                name, secs = record.args
                per_set[name] = min(per_set.get(name, float("inf")), secs)

    for name in ("features.build", "features.partials"):
        logging.getLogger(name).addHandler(_Timings())
        logging.getLogger(name).setLevel(logging.INFO)
    con = connect(db)
    day = con.execute("SELECT count(*) FROM _bench_day").fetchall()[0][0]
    res: dict[str, list[float]] = {k: [] for k in (
        "refresh_s", "refresh_cpu_s", "bare_s", "bare_cpu_s", "full_s", "full_cpu_s",
        "hour_s", "hour_cpu_s")}
    rows: dict[str, int] = {}
    for _ in range(repeat):
        run_features(con, full=True)  # the kept partials over the 28 days of history
        con.execute("INSERT INTO events BY NAME "
                    "SELECT *, now()::TIMESTAMP AS _loaded_at FROM _bench_day")
        refreshed, wall, cpu = _timed(lambda: run_features(con))
        assert refreshed.partials == "refresh", refreshed
        res["refresh_s"].append(wall)
        res["refresh_cpu_s"].append(cpu)
        got = _frames(con, refreshed.built)
        _, wall, cpu = _timed(lambda: con.execute(BARE).fetchall())
        res["bare_s"].append(wall)
        res["bare_cpu_s"].append(cpu)
        collect["on"] = True
        full, wall, cpu = _timed(lambda: run_features(con, full=True))
        collect["on"] = False
        res["full_s"].append(wall)
        res["full_cpu_s"].append(cpu)
        want = _frames(con, full.built)
        for name, frame in want.items():
            assert_frame_equal(got[name], frame, check_exact=False, rel_tol=1e-12, abs_tol=1e-12)
        rows = {k: b.rows for k, b in full.built.items()}
        con.execute("DELETE FROM events WHERE event_id IN (SELECT event_id FROM _bench_day)")
        cut = "(SELECT max(ts) - INTERVAL 1 HOUR FROM _bench_day)"
        con.execute("INSERT INTO events BY NAME SELECT *, now()::TIMESTAMP AS _loaded_at "
                    f"FROM _bench_day WHERE ts <= {cut}")
        run_features(con, full=True)
        hour_events = con.execute(f"SELECT count(*) FROM _bench_day WHERE ts > {cut}"
                                  ).fetchall()[0][0]
        con.execute("INSERT INTO events BY NAME SELECT *, now()::TIMESTAMP AS _loaded_at "
                    f"FROM _bench_day WHERE ts > {cut}")
        hourly, wall, cpu = _timed(lambda: run_features(con))
        assert hourly.partials == "refresh", hourly
        res["hour_s"].append(wall)
        res["hour_cpu_s"].append(cpu)
        got = _frames(con, hourly.built)
        want = _frames(con, run_features(con, full=True).built)
        for name, frame in want.items():
            assert_frame_equal(got[name], frame, check_exact=False, rel_tol=1e-12, abs_tol=1e-12)
        con.execute("DELETE FROM events WHERE event_id IN (SELECT event_id FROM _bench_day)")
    events = con.execute("SELECT count(*) FROM events").fetchall()[0][0] + day
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"events": events, "day_events": day, "hour_events": hour_events,
            **{k: min(v) for k, v in res.items()},
            "identical": True, "rows": rows, "per_set_s": per_set,
            "peak_rss_mb": round(peak_mb), "load": os.getloadavg()[0]}


def report(results: list[dict]) -> str:
    lines = ["| events (day appended) | bare group-by (wall / CPU) | full build (wall / CPU) "
             "| full / bare (wall) | refresh (wall / CPU) | refresh / full (wall / CPU) "
             "| hourly refresh (events) | hourly / full (wall / CPU) "
             "| identical | peak RSS | load |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|:---:|---:|---:|"]
    for r in results:
        lines.append(
            f"| {r['events']:,} ({r['day_events']:,}) | {r['bare_s']:.3f} / {r['bare_cpu_s']:.3f} s"
            f" | {r['full_s']:.2f} / {r['full_cpu_s']:.2f} s | {r['full_s'] / r['bare_s']:.0f}x"
            f" | {r['refresh_s']:.2f} / {r['refresh_cpu_s']:.2f} s"
            f" | {r['refresh_s'] / r['full_s']:.2f}x / {r['refresh_cpu_s'] / r['full_cpu_s']:.2f}x"
            f" | {r['hour_s']:.2f} / {r['hour_cpu_s']:.2f} s ({r['hour_events']:,})"
            f" | {r['hour_s'] / r['full_s']:.2f}x / {r['hour_cpu_s'] / r['full_cpu_s']:.2f}x"
            f" | {'yes' if r['identical'] else 'NO'} | {r['peak_rss_mb']:,} MB"
            f" | {r['load']:.1f} |")
    if len(results) >= 2:
        a, b = results[0], results[-1]
        dn = b["events"] - a["events"]
        for label, sfx in (("wall", "_s"), ("CPU", "_cpu_s")):
            mb, mf = ((b[k + sfx] - a[k + sfx]) / dn * 1e9 for k in ("bare", "full"))
            lines += ["", f"Marginal {label} cost per event ({a['events']:,} -> "
                      f"{b['events']:,}): bare group-by {mb:.0f} ns, full build {mf:.0f} ns, "
                      f"ratio {mf / mb:.1f}x (target <= 8x, goal 3x)."]
    last = results[-1]
    lines += ["", f"Per step of the full build at {last['events']:,} events (s, best):", ""]
    ranked = sorted(last["per_set_s"].items(), key=lambda kv: -kv[1])
    lines += [f"- `{k}`: {v:.2f}" for k, v in ranked]
    return "\n".join(lines)


def write_readme(body: str, cmd: str) -> None:
    """Replace (or add) the ``## features`` section of bench/README.md, leaving others alone."""
    path = ROOT / "bench" / "README.md"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    section = f"## features\n\n`{cmd}`\n\n{body}\n"
    start = text.find("## features\n")
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        nxt = text.find("\n## ", start + 1)
        text = text[:start] + section + ("\n" + text[nxt + 1:] if nxt >= 0 else "")
    path.write_text(text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--workdir", default=None, help="keep simulated worlds here (default: temp)")
    ap.add_argument("--readme", action="store_true", help="write figures into bench/README.md")
    ap.add_argument("--memory-limit", default=None,
                    help="DuckDB memory_limit for the measured builds (FEEDWELL_MEMORY_LIMIT)")
    ap.add_argument("--measure", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.repeat)))
        return
    work = Path(args.workdir or tempfile.mkdtemp(prefix="fw_bench_"))
    work.mkdir(parents=True, exist_ok=True)
    results = []
    for n in args.events:
        db = prepare(n, work)
        env = dict(os.environ)
        if args.memory_limit:
            env["FEEDWELL_MEMORY_LIMIT"] = args.memory_limit
        out = subprocess.run([sys.executable, __file__, "--measure", str(db), "--repeat",
                              str(args.repeat)], check=True, capture_output=True, text=True,
                             env=env)
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(json.dumps(results[-1]), flush=True)
    body = report(results)
    print(body)
    if args.readme:
        sizes = " ".join(str(n) for n in args.events)
        write_readme(body, f".venv/bin/python bench/features.py --events {sizes} "
                           f"--repeat {args.repeat} --readme")


if __name__ == "__main__":
    main()
