"""Benchmark: every feature set vs one bare DuckDB ``GROUP BY user_id`` over the same events.

For each size the simulator writes a world (``features/simulate.py``), the parquet files are
loaded straight into the raw tables, and a fresh child process times, side by side and
alternating, (a) ``SELECT user_id, count(*) FROM events GROUP BY user_id`` into a table, (a')
the same group-by reading every events column the sets read (a floor for any build over the
events) and (b) ``build_feature_tables`` (all sets materialised as ``feat_*`` tables and checked:
what ``feedwell features`` runs). The marginal cost per event is the slope between the two
sizes; the child reports its peak RSS.

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
    "CREATE OR REPLACE TEMP TABLE _bare AS "
    "SELECT user_id, count(*) AS n FROM events GROUP BY user_id"
)
# A floor for any build that reads the events: the same one group-by, touching every column of
# `events` the feature sets are defined on (what a single shared pass would have to read).
READ = (
    "CREATE OR REPLACE TEMP TABLE _read AS "
    "SELECT user_id, count(*) AS n, max(ts) AS ts, count_if(type = 'view') AS views, "
    "count(item_id) AS items, sum(watch_ms) AS watch_ms, count(session_id) AS sessions "
    "FROM events GROUP BY user_id"
)


def prepare(n_events: int, workdir: Path, seed: int = 1) -> Path:
    """Simulate a world of ``n_events`` and load it into a fresh DuckDB file."""
    from features.simulate import simulate
    from features.store import connect

    data, db = workdir / f"sim_{n_events}", workdir / f"bench_{n_events}.duckdb"
    if db.exists():  # a kept --workdir: reuse the loaded store
        return db
    summary = simulate(data, users=max(n_events // 200, 100), items=max(n_events // 100, 100),
                       events=n_events, seed=seed)
    con = connect(db)
    for table in ("users", "items", "events"):
        files = summary["files"][table]  # one file, or part files above 1M rows
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM read_parquet({files!r})")
    con.close()
    return db


def measure(db: str, repeat: int) -> dict:
    """Child process: time the bare group-by and all feature sets on one store."""
    from features.build import build_feature_tables
    from features.store import connect

    per_set: dict[str, float] = {}

    class _Timings(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            name, secs = record.args
            per_set[name] = min(per_set.get(name, float("inf")), secs)

    logging.getLogger("features.build").addHandler(_Timings())
    logging.getLogger("features.build").setLevel(logging.INFO)
    con = connect(db)
    events = con.execute("SELECT count(*) FROM events").fetchall()[0][0]
    bare, feats, bare_cpu, feats_cpu, rows = [], [], [], [], {}
    read, read_cpu = [], []
    for _ in range(repeat):
        for sql, wall, cpu in ((BARE, bare, bare_cpu), (READ, read, read_cpu)):
            t, c = time.perf_counter(), time.process_time()
            con.execute(sql).fetchall()
            wall.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
        t, c = time.perf_counter(), time.process_time()
        built = build_feature_tables(con)
        feats.append(time.perf_counter() - t)
        feats_cpu.append(time.process_time() - c)
        rows = {k: b.rows for k, b in built.items()}
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"events": events, "bare_s": min(bare), "features_s": min(feats),
            "bare_cpu_s": min(bare_cpu), "features_cpu_s": min(feats_cpu), "rows": rows,
            "read_s": min(read), "read_cpu_s": min(read_cpu),
            "per_set_s": per_set, "peak_rss_mb": round(peak_mb)}


def report(results: list[dict]) -> str:
    lines = ["| events | bare GROUP BY user_id (wall / CPU) | same, reading every column the "
             "sets read (wall / CPU) | all feature sets (wall / CPU) | ratio to bare (wall) "
             "| peak RSS |", "|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r['events']:,} | {r['bare_s']:.3f} / {r['bare_cpu_s']:.3f} s | "
                     f"{r['read_s']:.3f} / {r['read_cpu_s']:.3f} s | "
                     f"{r['features_s']:.2f} / {r['features_cpu_s']:.2f} s | "
                     f"{r['features_s'] / r['bare_s']:.0f}x | {r['peak_rss_mb']:,} MB |")
    if len(results) >= 2:
        a, b = results[0], results[-1]
        dn = b["events"] - a["events"]
        for label, sfx in (("wall", "_s"), ("CPU", "_cpu_s")):
            keys = ("bare", "read", "features")
            mb, mr, mf = ((b[k + sfx] - a[k + sfx]) / dn * 1e9 for k in keys)
            lines += ["", f"Marginal {label} cost per event ({a['events']:,} -> {b['events']:,}): "
                      f"bare {mb:.0f} ns, reading the columns {mr:.0f} ns ({mr / mb:.1f}x), "
                      f"all feature sets {mf:.0f} ns, ratio {mf / mb:.0f}x (target <= 3x)."]
    last = results[-1]
    lines += ["", f"Per set at {last['events']:,} events (s, dependencies built once):", ""]
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
        text = text[:start] + section + (text[nxt + 1:] if nxt >= 0 else "")
    path.write_text(text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--repeat", type=int, default=3)
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
        write_readme(body, f".venv/bin/python bench/features.py --events {sizes} --readme")


if __name__ == "__main__":
    main()
