"""Serving latency and throughput of ``feedwell serve`` on a simulated world.

Latency: one client, in process (the engine with the service's live state), a 20-video page
ranked from ~500 candidates with the wellbeing policy on. Throughput: the real server under
``wrk`` (Debian package) with 16 connections, on 127.0.0.1 only.

    python bench/serve.py --db /tmp/fwbench/bench.duckdb [--world DIR] [--requests 2000]

Set-up of the world (once): ``feedwell simulate DIR --users 5000 --items 20000 --events
1000000``, ``feedwell --db X ingest DIR``, ``feedwell --db X train``, ``feedwell --db X publish``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
# bench/ holds scripts named like packages (features.py): import the project, not them.
sys.path[0] = str(Path(__file__).resolve().parents[1])

_LUA = """
local users = {%s}
local now = "%s"
request = function()
  local u = users[math.random(#users)]
  local body = '{"user_id":"' .. u .. '","limit":20,"now":"' .. now .. '"}'
  return wrk.format("POST", "/v1/feed", {["Content-Type"]="application/json"}, body)
end
"""


def _percentile(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def latency(db: str, n: int, seed: int = 1) -> dict:
    """p50/p99 of one in-process client over ``n`` requests from random users (after warm-up)."""
    from ranking.feed.types import FeedRequest
    from ranking.service import Service, ServiceConfig

    t0 = time.perf_counter()
    svc = Service(ServiceConfig(db, reload_every_s=0))
    load_s = time.perf_counter() - t0
    e = svc.engine
    now = (e.latest_event_time() or datetime.now()) + timedelta(hours=1)
    users = sorted(svc.state.profiles)
    rng = random.Random(seed)
    for u in rng.sample(users, min(500, len(users))):  # warm the verdict cache
        e.feed(FeedRequest(u, now, 20))
    times = []
    for _ in range(n):
        u = rng.choice(users)
        t = time.perf_counter()
        e.feed(FeedRequest(u, now, 20))
        times.append(time.perf_counter() - t)
    svc.close()
    return {"requests": n, "p50_ms": round(_percentile(times, 0.5) * 1000, 2),
            "p99_ms": round(_percentile(times, 0.99) * 1000, 2),
            "mean_ms": round(sum(times) / n * 1000, 2), "model_version": e.model_version,
            "startup_s": round(load_s, 1), "now": now.isoformat(), "users": len(users)}


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of process ``pid`` so far (Linux ``/proc``; None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def throughput(db: str, now: str, seconds: int, connections: int) -> dict:
    """Requests/s of the real server under wrk (16 connections, 2 threads), loopback only.

    Also the server's CPU time per request over the measured run: it moves less than requests/s
    when other processes share the cores, though contention still inflates it.
    """
    if shutil.which("wrk") is None:
        return {"skipped": "wrk not installed (apt-get install -y wrk)"}
    from features.store import connect

    con = connect(db, read_only=True)
    rows = con.execute("SELECT user_id FROM users ORDER BY 1 LIMIT 2000").fetchall()
    users = [r[0] for r in rows]
    con.close()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDWELL_")}
    server = subprocess.Popen([sys.executable, "-m", "flows.cli", "--db", db, "serve", "--host",
                               "127.0.0.1", "--port", str(port), "--log-level", "warning",
                               # The world is simulated: its `now` is the end of its data,
                               # outside the server clock's skew, so the server replays it.
                               "--replay"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(600):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.2)
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
            f.write(_LUA % (",".join(json.dumps(u) for u in users), now))
        url = f"http://127.0.0.1:{port}"
        subprocess.run(["wrk", "-t2", "-c16", "-d3s", "-s", f.name, url], capture_output=True)
        cpu0 = _cpu_seconds(server.pid)
        out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency",
                              "-s", f.name, url], capture_output=True, text=True).stdout
        cpu1 = _cpu_seconds(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    lat = dict(re.findall(r"\s(50|99)%\s+([\d.]+\w+)", out))
    done = re.search(r"(\d+) requests in", out)
    cpu_ms = (round((cpu1 - cpu0) / int(done.group(1)) * 1000, 3)
              if done and int(done.group(1)) and None not in (cpu0, cpu1) else None)
    return {"requests_per_s": float(rps.group(1)) if rps else None, "connections": connections,
            "seconds": seconds, "non_2xx": int(errors.group(1)) if errors else 0,
            "p50": lat.get("50"), "p99": lat.get("99"), "server_cpu_ms_per_request": cpu_ms}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", required=True, help="a store with the simulated world loaded")
    p.add_argument("--requests", type=int, default=2000)
    p.add_argument("--seconds", type=int, default=20)
    p.add_argument("--connections", type=int, default=16)
    args = p.parse_args()
    if not Path(args.db).exists():
        sys.exit(f"{args.db} not found: build the world first (see the module docstring)")
    # Other processes' load before this run starts (the run itself adds about 2).
    print(json.dumps({"load_avg_before": [round(x, 2) for x in os.getloadavg()]}), flush=True)
    lat = latency(args.db, args.requests)
    print(json.dumps({"latency": lat}), flush=True)
    thr = throughput(args.db, lat["now"], args.seconds, args.connections)
    print(json.dumps({"throughput": thr}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
