"""Scale: each daily step through the real CLI on 1M / 5M / 20M-event simulated worlds.

Every step is a child process, ``python -m flows.cli --db DB <step>`` exactly as a user runs
``feedwell``; per step it records wall time, CPU time, the child's peak RSS (``wait4``'s
``ru_maxrss``, plus the peak of the summed RSS of its process tree, polled every 0.2 s: the
daily flow starts a Prefect server) and the 1-minute load average before and after.

    PYTHONPATH=$PWD python bench/scale.py --root /tmp/fwscale --worlds 1m 5m

Results append to ``ROOT/results.jsonl`` (one object per world x step) and print as a
markdown table for ``bench/README.md``. ``feedwell publish`` evaluates again before it
publishes (its own gate), so its time includes a second evaluation.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil

WORLDS = {  # name: (users, videos, events)
    "1m": (5_000, 20_000, 1_000_000),
    "5m": (50_000, 100_000, 5_000_000),
    "20m": (200_000, 400_000, 20_000_000),
}
STEPS = ("ingest", "features", "train", "evaluate", "publish", "recommend")
DAILY = ("run", "recommend")
"""The daily flow in one command (``feedwell run --data``: ingest -> features -> train ->
evaluate -> publish, evaluating once), then the batch recommendation."""


def run_step(cmd: list[str], log: Path) -> dict:
    """Run one CLI command; wall, CPU, peak RSS (child and process tree), load before/after."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
        parent = psutil.Process(proc.pid)
        tree_peak = 0
        while True:
            # wait4 rather than Popen.wait: it returns the child's own rusage (peak RSS, CPU)
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            try:
                procs = [parent, *parent.children(recursive=True)]
                tree_peak = max(tree_peak, sum(_rss(p) for p in procs))
            except psutil.NoSuchProcess:
                pass
            time.sleep(0.2)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    cpu, maxrss = usage.ru_utime + usage.ru_stime, usage.ru_maxrss
    return {"wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
            "peak_rss_mb": round(max(maxrss / 1024, tree_peak / 2**20)),
            "load_before": round(load0, 2), "load_after": round(os.getloadavg()[0], 2),
            "rc": proc.returncode}


def _rss(p: psutil.Process) -> int:
    try:
        return p.memory_info().rss
    except psutil.NoSuchProcess:
        return 0


def bench_world(name: str, root: Path, steps: list[str], n_recommend: int) -> list[dict]:
    """Simulate one world (unless already there) and time each step on a fresh store."""
    users, items, events = WORLDS[name]
    wdir, db = root / name / "world", root / name / "bench.duckdb"
    cli = [sys.executable, "-m", "flows.cli"]
    logs = root / name / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    if not (wdir / "events").exists() and not any(wdir.glob("events*")):
        r = run_step([*cli, "simulate", str(wdir), "--users", str(users), "--items", str(items),
                      "--events", str(events)], logs / "simulate.log")
        print(f"{name} simulate: {r}", file=sys.stderr, flush=True)
    if "ingest" in steps or "run" in steps:
        for p in (db, Path(f"{db}.wal")):
            p.unlink(missing_ok=True)
    ufile = root / name / "users.csv"
    commands = {
        "run": ["run", "--data", str(wdir)],
        "ingest": ["ingest", str(wdir)], "features": ["features"], "train": ["train"],
        "evaluate": ["evaluate"], "publish": ["publish"],
        "recommend": ["recommend", "--users", str(ufile), "--k", "10",
                      "--out", str(root / name / "recs.parquet")],
    }
    rows = []
    for step in steps:
        if step == "recommend":
            _write_users(db, ufile, n_recommend)
        r = run_step([*cli, "--db", str(db), *commands[step]], logs / f"{step}.log")
        row = {"world": name, "users": users, "videos": items, "events": events, "step": step,
               **r, "date": time.strftime("%Y-%m-%d %H:%M")}
        rows.append(row)
        with (root / "results.jsonl").open("a") as f:
            f.write(json.dumps(row) + "\n")
        print(json.dumps(row), file=sys.stderr, flush=True)
        if r["rc"] != 0:
            print(f"{name} {step} failed: see {logs / f'{step}.log'}", file=sys.stderr)
            break
    return rows


def _write_users(db: Path, path: Path, n: int) -> None:
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        con.sql(f"SELECT user_id FROM users ORDER BY hash(user_id) LIMIT {n}").write_csv(str(path))


def table(rows: list[dict]) -> str:
    head = ("| world | step | wall | CPU | peak RSS | load before/after |\n"
            "| --- | --- | --- | --- | --- | --- |")
    body = [f"| {r['world']} | {r['step']} | {r['wall_s']} s | {r['cpu_s']} s | "
            f"{r['peak_rss_mb']} MB | {r['load_before']} / {r['load_after']} |" for r in rows]
    return "\n".join([head, *body])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default="/tmp/fwscale", help="where worlds and stores go")
    ap.add_argument("--worlds", nargs="+", default=["1m", "5m"], choices=sorted(WORLDS))
    ap.add_argument("--steps", nargs="+", default=list(STEPS), choices=STEPS + DAILY[:1],
                    help=f"default: {' '.join(STEPS)}; or: {' '.join(DAILY)}")
    ap.add_argument("--recommend-users", type=int, default=1000)
    args = ap.parse_args()
    root = Path(args.root)
    root.mkdir(parents=True, exist_ok=True)
    rows = []
    for w in args.worlds:
        rows += bench_world(w, root, args.steps, args.recommend_users)
    print(table(rows))


if __name__ == "__main__":
    main()
