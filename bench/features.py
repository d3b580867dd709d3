"""Benchmark: every feature set vs one bare DuckDB ``GROUP BY user_id`` over the same events.

For each size the simulator writes a world (``features/simulate.py``), the parquet files are
loaded straight into the raw tables, and a fresh child process times, side by side and
alternating, (a) ``SELECT user_id, count(*) FROM events GROUP BY user_id`` into a table and
(b) ``build_features`` (all sets, materialised, checked, returned as polars frames). The
marginal cost per event is the slope between the two sizes; the child reports its peak RSS.

    .venv/bin/python -m bench.features --events 1000000 10000000 --readme
"""

from __future__ import annotations

import argparse
import json
import logging
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
BARE_NEW = (
    "CREATE OR REPLACE TEMP TABLE _bare_new AS "
    "SELECT user_id, count(*) AS n FROM _bench_new GROUP BY user_id"
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
        con.execute(f"INSERT INTO {table} BY NAME SELECT *, "
                    f"TIMESTAMP '2024-01-01' AS _loaded_at FROM read_parquet({files!r})")
    # the last day's events arrive later: the incremental build folds them in
    con.execute("CREATE TABLE _bench_new AS SELECT * FROM events "
                "WHERE ts >= (SELECT max(ts) - INTERVAL 1 DAY FROM events)")
    con.close()
    return db


def _timed(fn) -> tuple[float, float, object]:
    t, c = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - t, time.process_time() - c, out


def measure(db: str, repeat: int) -> dict:
    """Child process: bare group-by vs full rebuild vs incremental build on one store.

    The store holds every event but the last day's, which wait in ``_bench_new``. Each round:
    drop the last day, full rebuild (``full=True``: every set from every event), then load the
    last day (new ``_loaded_at``) and build again incrementally (default path). Bare group-bys
    run over all events and over the new day's events only, side by side.
    """
    from features.build import build_features
    from features.store import connect

    per_set: dict[str, dict[str, float]] = {"full": {}, "incremental": {}}
    phase = ["full"]

    class _Timings(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.msg.startswith("feature set"):
                name, secs = record.args
                d = per_set[phase[0]]
                d[name] = min(d.get(name, float("inf")), secs)

    logging.getLogger("features.build").addHandler(_Timings())
    logging.getLogger("features.build").setLevel(logging.INFO)
    con = connect(db)
    new_n = con.execute("SELECT count(*) FROM _bench_new").fetchall()[0][0]
    res: dict[str, list] = {k: [] for k in ("bare", "bare_new", "full", "inc")}
    rows = {}
    for _ in range(repeat):
        con.execute("DELETE FROM events WHERE event_id IN (SELECT event_id FROM _bench_new)")
        phase[0] = "full"
        w, c, frames = _timed(lambda: build_features(con, full=True))
        res["full"].append((w, c))
        del frames
        con.execute("INSERT INTO events BY NAME SELECT * REPLACE (now()::TIMESTAMP AS _loaded_at) "
                    "FROM _bench_new")
        res["bare"].append(_timed(lambda: con.execute(BARE).fetchall())[:2])
        res["bare_new"].append(_timed(lambda: con.execute(BARE_NEW).fetchall())[:2])
        phase[0] = "incremental"
        w, c, frames = _timed(lambda: build_features(con))
        res["inc"].append((w, c))
        rows = {k: v.height for k, v in frames.items()}
        del frames
    events = con.execute("SELECT count(*) FROM events").fetchall()[0][0]
    agg_rows = con.execute("SELECT count(*) FROM agg_events").fetchall()[0][0]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    best = {k: min(v) for k, v in res.items()}  # by wall
    return {"events": events, "new_events": new_n, "agg_rows": agg_rows, "rows": rows,
            **{f"{k}_s": v[0] for k, v in best.items()},
            **{f"{k}_cpu_s": v[1] for k, v in best.items()},
            "per_set_s": per_set, "peak_rss_mb": round(peak_mb)}


def report(results: list[dict]) -> str:
    lines = ["| events (new) | bare GROUP BY user_id: all / new (wall / CPU) "
             "| full rebuild (wall / CPU) | incremental, +1 day (wall / CPU) "
             "| of which agg_events fold-in | peak RSS |", "|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        fold = r["per_set_s"]["incremental"].get("agg_events", float("nan"))
        lines.append(
            f"| {r['events']:,} ({r['new_events']:,}) | {r['bare_s']:.3f} / {r['bare_cpu_s']:.3f}"
            f" s; {r['bare_new_s']:.3f} / {r['bare_new_cpu_s']:.3f} s | "
            f"{r['full_s']:.2f} / {r['full_cpu_s']:.2f} s | {r['inc_s']:.2f} / {r['inc_cpu_s']:.2f}"
            f" s | {fold:.2f} s | {r['peak_rss_mb']:,} MB |")
    if len(results) >= 2:
        a, b = results[0], results[-1]
        dn, dnew = b["events"] - a["events"], b["new_events"] - a["new_events"]
        for label, sfx in (("wall", "_s"), ("CPU", "_cpu_s")):
            mb = (b["bare" + sfx] - a["bare" + sfx]) / dn * 1e9
            mf = (b["full" + sfx] - a["full" + sfx]) / dn * 1e9
            mbn = (b["bare_new" + sfx] - a["bare_new" + sfx]) / dnew * 1e9
            mi = (b["inc" + sfx] - a["inc" + sfx]) / dnew * 1e9
            lines += ["", f"Marginal {label} cost per event ({a['events']:,} -> {b['events']:,}): "
                      f"bare {mb:.0f} ns, full rebuild of all sets {mf:.0f} ns, "
                      f"ratio {mf / mb:.1f}x (target <= 3x).",
                      "", f"Incremental {label}, per new event ({a['new_events']:,} -> "
                      f"{b['new_events']:,} new; the world grows too): bare over the new events "
                      f"{mbn:.0f} ns, incremental build {mi:.0f} ns, ratio {mi / mbn:.1f}x."]
    last = results[-1]
    for phase in ("full", "incremental"):
        lines += ["", f"Per step at {last['events']:,} events, {phase} (s):", ""]
        ranked = sorted(last["per_set_s"][phase].items(), key=lambda kv: -kv[1])
        lines += ["- " + ", ".join(f"`{k}` {v:.2f}" for k, v in ranked)]
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
        out = subprocess.run([sys.executable, "-m", "bench.features", "--measure", str(db),
                              "--repeat", str(args.repeat)], check=True, capture_output=True,
                             text=True, cwd=ROOT)
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(json.dumps(results[-1]), flush=True)
    body = report(results)
    print(body)
    if args.readme:
        sizes = " ".join(str(n) for n in args.events)
        write_readme(body, f".venv/bin/python -m bench.features --events {sizes} "
                     f"--repeat {args.repeat} --readme")


if __name__ == "__main__":
    main()
