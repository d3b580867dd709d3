"""Serving latency and throughput of ``feedwell serve`` on a simulated world.

Latency: one client, in process (the engine with the service's live state), a 20-video page
ranked from ~500 candidates with the wellbeing policy on. Throughput: the real server under
``wrk`` (Debian package) with 16 connections, on 127.0.0.1 only.

    python bench/serve.py --db /tmp/fwbench/bench.duckdb [--world DIR] [--requests 2000]

The latency loop posts events into ``--db`` (pages "scored now"): give each run its own copy of
the store and its ``<stem>_models`` folder. Set-up of the world (once): ``feedwell simulate DIR
--users 5000 --items 20000 --events 1000000``, ``feedwell --db X ingest DIR``, ``feedwell --db X
train`` (the newest trained version is served; ``publish`` is optional).
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
from typing import Any

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


def _post(svc: Any, rows: list[dict]) -> None:
    """Store events and fold them in exactly as ``POST /v1/events`` does (in process)."""
    from features.rows import ingest_event_rows

    with svc.engine.lock:
        res = ingest_event_rows(svc.engine.con, rows)
    svc.state.observe(res.new)
    observe = getattr(svc.engine, "observe", None)  # absent before request-time scoring
    if observe is not None:
        observe(res.new)


def _stats(times: list[float]) -> dict:
    if not times:
        return {"requests": 0}
    return {"requests": len(times), "p50_ms": round(_percentile(times, 0.5) * 1000, 2),
            "p99_ms": round(_percentile(times, 0.99) * 1000, 2),
            "mean_ms": round(sum(times) / len(times) * 1000, 2)}


def latency(db: str, n: int, seed: int = 1, compile_forests: bool = True) -> dict:
    """p50/p99 of one in-process client (after a 500-request warm-up of the verdict cache).

    Four kinds of request: ``random`` (a random user: mostly a first page, the model's list
    for the viewer's trained history, as in every earlier row of the README), ``cached page``
    (the same viewer again, nothing new: the engine's list cache answers), ``scored now`` (the
    viewer just watched and liked two videos of their page, posted as ``POST /v1/events``
    does: their history changed, so the candidates are scored at request time). Events are
    written into ``db``: run each measurement on its own copy of the store.

    ``compile_forests``: as ``feedwell serve`` does, the served boosters are compiled first
    (``compile_s``; loaded from the version folder when compiled before).
    """
    from ranking.feed.types import FeedRequest
    from ranking.service import Service, ServiceConfig

    t0 = time.perf_counter()
    svc = Service(ServiceConfig(db, reload_every_s=0, compile_forests=compile_forests))
    load_s = time.perf_counter() - t0
    compiling = getattr(svc, "compiling", None)  # absent before compiled forests
    if compiling is not None:
        compiling.join()
    compile_s = time.perf_counter() - t0 - load_s
    e = svc.engine
    now = (e.latest_event_time() or datetime.now()) + timedelta(hours=1)
    users = sorted(svc.state.profiles)
    rng = random.Random(seed)
    for u in rng.sample(users, min(500, len(users))):  # warm the verdict cache
        e.feed(FeedRequest(u, now, 20))
    kinds: dict[str, list[float]] = {"random": [], "cached page": [], "scored now": []}
    cpu: dict[str, list[float]] = {k: [] for k in kinds}

    def timed(kind: str, u: str) -> Any:
        c, t = time.thread_time(), time.perf_counter()
        resp = e.feed(FeedRequest(u, now, 20))
        kinds[kind].append(time.perf_counter() - t)
        cpu[kind].append(time.thread_time() - c)
        return resp

    for _ in range(n):
        timed("random", rng.choice(users))
    live_users = rng.sample(users, min(n // 3, len(users)))
    for k, u in enumerate(live_users):
        e.feed(FeedRequest(u, now, 20))  # the first page (scored, or listed at base)
        page = timed("cached page", u)
        picks = [it.item_id for it in page.items[:2]]
        ts = now - timedelta(minutes=30) + timedelta(seconds=k % 1000)
        rows = [{"event_id": f"bench-{u}-{j}-{kind}", "user_id": u, "item_id": i,
                 "ts": ts.isoformat(), "type": kind, "session_id": f"bench-{u}",
                 **({"watch_ms": 15000} if kind == "view" else {})}
                for j, i in enumerate(picks) for kind in ("view", "like")]
        if rows:
            _post(svc, rows)
            timed("scored now", u)
    svc.close()
    out = _stats(kinds["random"])
    # CPU time of the requesting thread: what a request costs when other processes share the
    # cores (wall-clock percentiles then measure the neighbours as much as the service).
    out.update({"by_kind": {k: _stats(v) for k, v in kinds.items()},
                "cpu_by_kind": {k: _stats(v) for k, v in cpu.items()},
                "model_version": e.model_version, "startup_s": round(load_s, 1),
                "compile_s": round(compile_s, 1) if compiling is not None else None,
                "forests": (svc.forests_compiled() if hasattr(svc, "forests_compiled")
                            else None),
                "now": now.isoformat(), "users": len(users), "rss_mb": _rss(os.getpid())})
    return out


def _get(url: str) -> str:
    import urllib.request

    with urllib.request.urlopen(url, timeout=5) as r:
        return r.read().decode()


def _rss(pid: int) -> dict[str, float] | None:
    """Peak and current resident memory of ``pid`` in MB (``/proc/PID/status``)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    got = dict(re.findall(r"^(VmHWM|VmRSS):\s+(\d+) kB", text, re.M))
    return {k: round(int(v) / 1024, 1) for k, v in got.items()}


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of process ``pid`` so far (Linux ``/proc``; None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def throughput(db: str, now: str, seconds: int, connections: int, one_client_s: int = 5,
               compile_forests: bool = True) -> dict:
    """Requests/s of the real server under wrk (16 connections, 2 threads), loopback only.

    Before it, ``one_client_s`` seconds of one connection (the HTTP p50/p99 of one client).
    The server's resident memory (``VmRSS``, peak ``VmHWM``) after start-up, after warm-up and
    at the end. With ``compile_forests`` (the server's default) the run waits until
    ``/healthz`` reports the served boosters compiled (``compiled_after_s``).

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
                               "--replay", *([] if compile_forests else ["--no-compile"])],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(600):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.2)
        t0, compiled_after = time.perf_counter(), None
        while compile_forests and time.perf_counter() - t0 < 600:
            health = json.loads(_get(f"http://127.0.0.1:{port}/healthz"))
            forests = health.get("forests")
            if not forests or forests["compiled"] >= forests["of"]:
                compiled_after = round(time.perf_counter() - t0, 1) if forests else None
                break
            time.sleep(0.5)
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
            f.write(_LUA % (",".join(json.dumps(u) for u in users), now))
        url = f"http://127.0.0.1:{port}"
        rss_start = _rss(server.pid)
        subprocess.run(["wrk", "-t2", "-c16", "-d3s", "-s", f.name, url], capture_output=True)
        rss_warm = _rss(server.pid)
        one = (subprocess.run(["wrk", "-t1", "-c1", f"-d{one_client_s}s", "--latency", "-s",
                               f.name, url], capture_output=True, text=True).stdout
               if one_client_s else "")
        cpu0 = _cpu_seconds(server.pid)
        out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency",
                              "-s", f.name, url], capture_output=True, text=True).stdout
        cpu1 = _cpu_seconds(server.pid)
        rss_end = _rss(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    lat = dict(re.findall(r"\s(50|99)%\s+([\d.]+\w+)", out))
    done = re.search(r"(\d+) requests in", out)
    cpu_ms = (round((cpu1 - cpu0) / int(done.group(1)) * 1000, 3)
              if done and int(done.group(1)) and None not in (cpu0, cpu1) else None)
    one_lat = dict(re.findall(r"\s(50|99)%\s+([\d.]+\w+)", one))
    one_done = re.search(r"(\d+) requests in", one)
    return {"requests_per_s": float(rps.group(1)) if rps else None, "connections": connections,
            "compiled_after_s": compiled_after,
            "seconds": seconds, "non_2xx": int(errors.group(1)) if errors else 0,
            "requests": int(done.group(1)) if done else None,
            "p50": lat.get("50"), "p99": lat.get("99"), "server_cpu_ms_per_request": cpu_ms,
            "one_client": {"seconds": one_client_s, "p50": one_lat.get("50"),
                           "p99": one_lat.get("99"),
                           "requests": int(one_done.group(1)) if one_done else None},
            # Server memory: after start, after the 3 s warm-up, after every request above.
            "server_rss_mb": {"started": rss_start, "warmed": rss_warm, "end": rss_end}}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", required=True, help="a store with the simulated world loaded")
    p.add_argument("--requests", type=int, default=2000)
    p.add_argument("--seconds", type=int, default=20)
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--one-client-seconds", type=int, default=5,
                   help="seconds of one wrk connection before the throughput run (0: none)")
    p.add_argument("--no-compile", action="store_true",
                   help="LightGBM predicts (``feedwell serve --no-compile``)")
    p.add_argument("--skip-latency", action="store_true",
                   help="only the server (its clock from the store; large worlds)")
    args = p.parse_args()
    if not Path(args.db).exists():
        sys.exit(f"{args.db} not found: build the world first (see the module docstring)")
    # Other processes' load before this run starts (the run itself adds about 2).
    print(json.dumps({"load_avg_before": [round(x, 2) for x in os.getloadavg()]}), flush=True)
    if args.skip_latency:
        from features.store import connect

        con = connect(args.db, read_only=True)
        last = con.execute("SELECT max(ts) FROM events").fetchone()[0]
        con.close()
        now = (last + timedelta(hours=1)).isoformat()
    else:
        lat = latency(args.db, args.requests, compile_forests=not args.no_compile)
        print(json.dumps({"latency": lat}), flush=True)
        now = lat["now"]
    thr = throughput(args.db, now, args.seconds, args.connections, args.one_client_seconds,
                     compile_forests=not args.no_compile)
    print(json.dumps({"throughput": thr}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
