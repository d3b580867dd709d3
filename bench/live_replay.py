"""Live adaptation through the HTTP API: a live server fed the replayed events against a frozen one.

    python -m bench.live_replay --log ml100k=/tmp/fw_real/ml-100k \\
        --log kuairand=/tmp/fw_real/kuairand [--users 120] [--work DIR] [--json]

Protocol (issue 22), per log (a contract data folder written by ``bench.real_data``):

- the cut is the global 80% time quantile of the events (``temporal_split``); only events
  before it, and the items first seen before it, are ingested: ``feedwell --db DB ingest DIR``,
  ``feedwell --db DB run --now CUT`` (the gate decides what is published);
- the store file is copied, and two servers start, each ``feedwell --db X serve --replay``
  with a read and an admin token (``FEEDWELL_TOKEN`` / ``FEEDWELL_ADMIN_TOKEN``): LIVE and
  FROZEN;
- test users: up to ``--users`` (seeded) with at least ``--min-interactions`` interactions after
  the cut. An *interaction* is one user's rows on one item after the cut (a rating is a ``view``
  with ``watch_ms`` plus its ``like``/``hide`` a second later; a KuaiRand play adds its
  ``comment``/``share``); interactions are ordered by their first row;
- each user's interactions are walked in steps of ``--step`` (5): before a step, both servers
  get ``POST /v1/feed`` with ``limit`` 10, ``now`` = the step's first row time and the
  session id; the page is scored by NDCG@10 against the next 10 distinct items the user
  interacted with (relevance 1: every rated item, as the issue did; the liked-only figure is
  reported beside it); then the step's log rows go to the LIVE server through
  ``POST /v1/events`` (same session id). The FROZEN server gets no events: its requests pass
  ``exclude_ids`` = every item the user interacted with since the cut (at most the latest
  1000), so both leave out what was watched. Steps of all users run in one global time order;
- session ids follow the log: a gap of more than 30 minutes (the wellbeing default) between a
  user's rows starts a new session ``replay-<user>-<n>``;
- reference, in process: cosine item-kNN over the ingested events (a user x item binary matrix
  of every item with an event, hides included, as rated), a page = the items most similar to
  the user's history (training items, plus the replayed items for "live"), topped up by
  popularity, leaving out the same items;
- fresh reach: items first seen after the cut are new videos. If the LIVE server answers
  ``POST /v1/items`` (probed with an empty batch: 404/405 means absent), each is posted
  (its row of the log's items table) before the first step whose ``now`` is at or after the
  item's first event in the whole log. Reported: the share of new videos a replayed user
  interacted with that appear on any LIVE page, the stricter share shown before the first
  replayed row on it (a page could have led a viewer to it), and the median replay time from
  the post to the first page showing it;
- each server's peak and current RSS (``/proc/PID/status`` VmHWM, VmRSS) after the replay and
  the client-side feed latency p50/p99.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

# The CLI runs in the caller's environment, exactly as a user would run it.
CLI_ENV = dict(os.environ)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import polars as pl  # noqa: E402
import scipy.sparse as sp  # noqa: E402

from ranking.evaluation.metrics import ndcg_at_k  # noqa: E402
from ranking.evaluation.run import temporal_split  # noqa: E402

K = 10
SESSION_GAP = timedelta(minutes=30)
EXCLUDE_MAX = 1000
POSITIVE_TYPES = ("like", "share", "comment")


def feedwell_cmd() -> list[str]:
    """The ``feedwell`` command of this interpreter's environment."""
    exe = Path(sys.executable).with_name("feedwell")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "flows.cli"]


def feedwell(db: Path, *args: str) -> dict:
    """One ``feedwell --db DB ... --json`` call: exit code, last JSON line, stderr, seconds."""
    t0 = time.perf_counter()
    p = subprocess.run([*feedwell_cmd(), "--db", str(db), *args, "--json"], capture_output=True,
                       text=True, env=CLI_ENV)
    lines = [ln for ln in p.stdout.splitlines() if ln.strip().startswith("{")]
    return {"code": p.returncode, "out": json.loads(lines[-1]) if lines else {},
            "stderr": [ln for ln in p.stderr.splitlines() if ln.strip()],
            "seconds": round(time.perf_counter() - t0, 1)}


@dataclass
class Split:
    """One log cut in time: what is ingested, what is replayed, and the new videos."""

    cut: datetime
    train: pl.DataFrame
    later: pl.DataFrame
    items: pl.DataFrame
    new_items: pl.DataFrame  # items rows first seen after the cut, with ``first_ts``


def cut_log(events: pl.DataFrame, items: pl.DataFrame, quantile: float = 0.8) -> Split:
    """Split at the global time quantile; items are old or new by their first event."""
    train, later, cut = temporal_split(events, quantile)
    first = (events.filter(pl.col("item_id").is_not_null()).group_by("item_id")
             .agg(pl.col("ts").min().alias("first_ts")))
    with_first = items.join(first, on="item_id", how="inner")
    old = with_first.filter(pl.col("first_ts") < cut).drop("first_ts")
    new = with_first.filter(pl.col("first_ts") >= cut).sort("first_ts", "item_id")
    return Split(cut, train, later, old, new)


def prepare(name: str, folder: Path, split: Split, work: Path) -> tuple[Path, dict]:
    """Ingest the part before the cut and run the daily flow at the cut (reused if done).

    Returns:
        ``(db, cli)``: the store and each CLI step's code, seconds and last stderr lines.
    """
    db, mark = work / "fw.duckdb", work / "prepared.json"
    key = {"log": name, "folder": str(folder), "cut": split.cut.isoformat(),
           "train_events": split.train.height, "items": split.items.height}
    if mark.exists() and db.exists() and json.loads(mark.read_text()).get("key") == key:
        return db, json.loads(mark.read_text())["cli"]
    if work.exists():
        shutil.rmtree(work)
    data = work / "data"
    data.mkdir(parents=True)
    shutil.copy(folder / "users.parquet", data / "users.parquet")
    split.items.write_parquet(data / "items.parquet")
    split.train.write_parquet(data / "events.parquet")
    steps = {"ingest": feedwell(db, "ingest", str(data)),
             "run": feedwell(db, "run", "--now", split.cut.isoformat()),
             "models": feedwell(db, "models")}
    cli = {k: {"code": v["code"], "seconds": v["seconds"], "stderr": v["stderr"][-6:],
               **({"served": _served_model(v["out"])} if k == "models" else {})}
           for k, v in steps.items()}
    mark.write_text(json.dumps({"key": key, "cli": cli}))
    return db, cli


def _served_model(models: dict) -> str:
    rows = [m for m in models.get("models", []) if m.get("status") == "published"]
    return f"{rows[-1]['version']} ({rows[-1]['served']['model']})" if rows else "-"


@dataclass(frozen=True)
class Step:
    """One page of one test user's walk, and the log rows posted after it.

    Attributes:
        user_id: the viewer.
        index: the step's number in the viewer's walk.
        now: the page's request time (the step's first row; never before an earlier posted row).
        session_id: the session of the step's first row.
        targets: the next ``k`` distinct items the viewer interacted with (relevance 1).
        liked: those of ``targets`` the viewer liked, shared or commented on.
        rows: the step's log rows, in time order, with their ``session_id``.
        before: items the viewer interacted with since the cut, before this step.
    """

    user_id: str
    index: int
    now: datetime
    session_id: str
    targets: tuple[str, ...]
    liked: frozenset[str]
    rows: tuple[dict, ...]
    before: tuple[str, ...]


def with_sessions(rows: Sequence[dict], user_id: str, gap: timedelta = SESSION_GAP) -> list[dict]:
    """One viewer's rows in time order, each with ``session_id``: a new one after ``gap``."""
    out, n, last = [], 0, None
    for r in sorted(rows, key=lambda r: (r["ts"], r.get("event_id") or "")):
        if last is not None and r["ts"] - last > gap:
            n += 1
        last = r["ts"]
        out.append({**r, "session_id": f"replay-{user_id}-{n}"})
    return out


def interactions(rows: Sequence[dict]) -> list[tuple[str, list[dict]]]:
    """Rows (time order) grouped per item, ordered by each item's first row."""
    groups: dict[str, list[dict]] = {}
    for r in rows:
        if r.get("item_id"):
            groups.setdefault(r["item_id"], []).append(r)
    return list(groups.items())


def walk(user_id: str, rows: Sequence[dict], step: int = 5, k: int = K,
         max_steps: int | None = None) -> list[Step]:
    """The pages of one viewer's replay: one before every ``step`` interactions.

    Args:
        user_id: the viewer.
        rows: the viewer's log rows after the cut (any order; dicts with ``ts``, ``item_id``,
            ``type`` and the other event columns).
        step: interactions posted between two pages.
        k: targets per page.
        max_steps: at most this many pages (the first ones).
    """
    groups = interactions(with_sessions(rows, user_id))
    liked = {i for i, rs in groups if any(r["type"] in POSITIVE_TYPES for r in rs)}
    items = [i for i, _ in groups]
    steps: list[Step] = []
    posted_to: datetime | None = None
    for n, start in enumerate(range(0, len(groups), step)):
        if max_steps is not None and n >= max_steps:
            break
        chunk = groups[start:start + step]
        rs = sorted((r for _, g in chunk for r in g), key=lambda r: (r["ts"], r["event_id"]))
        first = chunk[0][1][0]
        # A like lands a second after its view, possibly after the next view: the clock of a
        # viewer's pages never goes back.
        now = first["ts"] if posted_to is None else max(first["ts"], posted_to)
        targets = tuple(items[start:start + k])
        steps.append(Step(user_id, n, now, first["session_id"], targets,
                          frozenset(t for t in targets if t in liked), tuple(rs),
                          tuple(items[:start])))
        posted_to = rs[-1]["ts"]
    return steps


def page_ndcg(page: Sequence[str], targets: Sequence[str] | frozenset[str], k: int = K
              ) -> float | None:
    """NDCG@k of one page against a set of relevant items (None when nothing is relevant)."""
    rel = set(targets)
    return ndcg_at_k([list(page)], [rel], k) if rel else None


def step_bucket(index: int) -> str:
    """The page's place in a walk: the first page, pages 2-4, pages 5 and later."""
    return "1" if index == 0 else ("2-4" if index < 4 else "5+")


def global_order(steps: Sequence[Step]) -> list[Step]:
    """Every user's steps in one time order (each user's own order kept)."""
    return sorted(steps, key=lambda s: (s.now, s.user_id, s.index))


def due_items(new_items: Sequence[tuple[str, datetime]], posted: set[str], now: datetime
              ) -> list[str]:
    """New items whose first event in the log is at or before ``now`` and not yet posted."""
    return [i for i, t in new_items if t <= now and i not in posted]


def choose_users(later: pl.DataFrame, n: int, min_interactions: int, seed: int) -> list[str]:
    """Up to ``n`` users (seeded) with at least ``min_interactions`` items after the cut."""
    counts = (later.filter(pl.col("item_id").is_not_null()).group_by("user_id")
              .agg(pl.col("item_id").n_unique().alias("n"))
              .filter(pl.col("n") >= min_interactions))
    users = sorted(counts["user_id"].to_list())
    return sorted(random.Random(seed).sample(users, min(n, len(users))))


def _pct(xs: Sequence[float], q: float) -> float | None:
    if not xs:
        return None
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))]


def _mean(xs: Sequence[float | None]) -> float | None:
    v = [x for x in xs if x is not None]
    return round(float(np.mean(v)), 4) if v else None


class Server:
    """``feedwell --db DB serve --replay`` on a free loopback port, with tokens."""

    def __init__(self, db: Path, log_path: Path) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.read, self.admin = secrets.token_hex(16), secrets.token_hex(16)
        env = {k: v for k, v in CLI_ENV.items() if not k.startswith("FEEDWELL_")}
        env.update(FEEDWELL_TOKEN=self.read, FEEDWELL_ADMIN_TOKEN=self.admin)
        self.log_path = log_path
        self._log = log_path.open("w")
        self.proc = subprocess.Popen(
            [*feedwell_cmd(), "--db", str(db), "serve", "--replay", "--host", "127.0.0.1",
             "--port", str(self.port), "--log-level", "warning"],
            env=env, stdout=subprocess.DEVNULL, stderr=self._log)
        self.conn: http.client.HTTPConnection | None = None

    def wait(self, timeout_s: float = 900.0) -> float:
        """Seconds until ``/healthz`` answers (raises if the server exits or times out)."""
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < timeout_s:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited {self.proc.returncode}: "
                                   + self.log_path.read_text()[-800:])
            try:
                if self.call("GET", "/healthz", retry=False)[0] == 200:
                    return round(time.perf_counter() - t0, 1)
            except OSError:
                self.conn = None
                time.sleep(0.5)
        raise RuntimeError(f"server on port {self.port} not up after {timeout_s} s")

    def call(self, method: str, path: str, body: object = None, admin: bool = False,
             retry: bool = True) -> tuple[int, object, float]:
        """One request on a kept-alive connection: ``(status, json body, seconds)``."""
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        data = None if body is None else json.dumps(body, default=str).encode()
        headers = {"Authorization": f"Bearer {self.admin if admin else self.read}"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        t0 = time.perf_counter()
        try:
            self.conn.request(method, path, body=data, headers=headers)
            resp = self.conn.getresponse()
            raw = resp.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = None
            if retry:
                # uvicorn closes a connection idle for 5 s; every request here is safe to
                # repeat (events and items carry their ids: a repeat is a duplicate).
                return self.call(method, path, body, admin, retry=False)
            raise
        secs = time.perf_counter() - t0
        try:
            out = json.loads(raw) if raw else None
        except ValueError:
            out = raw.decode(errors="replace")[:300]
        return resp.status, out, secs

    def memory(self) -> dict[str, float | None]:
        """Peak and current resident memory in MB (``/proc/PID/status``)."""
        got: dict[str, float | None] = {"VmHWM_mb": None, "VmRSS_mb": None}
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                key = line.split(":")[0]
                if f"{key}_mb" in got:
                    got[f"{key}_mb"] = round(int(line.split()[1]) / 1024, 1)
        except OSError:
            pass
        return got

    def stop(self) -> list[str]:
        """Terminate the server; its warning and error lines."""
        if self.conn is not None:
            self.conn.close()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log.close()
        return [ln for ln in self.log_path.read_text().splitlines()
                if " WARNING " in ln or " ERROR " in ln or "Traceback" in ln][-10:]


class KnnReference:
    """Plain cosine item-kNN over the ingested events, in process (the ceiling reference)."""

    def __init__(self, train: pl.DataFrame) -> None:
        pairs = train.filter(pl.col("item_id").is_not_null()).select("user_id", "item_id").unique()
        self.items = sorted(pairs["item_id"].unique().to_list())
        self.index = {i: n for n, i in enumerate(self.items)}
        users = sorted(pairs["user_id"].unique().to_list())
        uidx = {u: n for n, u in enumerate(users)}
        rows = np.array([uidx[u] for u in pairs["user_id"].to_list()], np.int64)
        cols = np.array([self.index[i] for i in pairs["item_id"].to_list()], np.int64)
        x = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)),
                          shape=(len(users), len(self.items)))
        norm = np.sqrt(np.asarray(x.multiply(x).sum(axis=0))).ravel()
        xn = x @ sp.diags(1.0 / np.maximum(norm, 1e-9))
        self.sim = (xn.T @ xn).tocsr()
        self.sim.setdiag(0)
        self.sim.eliminate_zeros()
        pop = np.asarray(x.sum(axis=0)).ravel()
        self.popular = [self.items[j] for j in np.lexsort((np.arange(len(pop)), -pop))]
        self.history = {u: set(v) for u, v in pairs.group_by("user_id").agg("item_id")
                        .iter_rows()}

    def page(self, user_id: str, extra: Sequence[str], k: int = K) -> list[str]:
        """The ``k`` items most similar to the user's training items plus ``extra``, never one
        of those, topped up by popularity."""
        own = self.history.get(user_id, set())
        prof = [self.index[i] for i in (own | set(extra)) if i in self.index]
        out: list[str] = []
        skip = own | set(extra)
        if prof:
            scores = np.asarray(self.sim[prof].sum(axis=0)).ravel()
            scores[prof] = 0.0
            top = np.flatnonzero(scores > 0)
            top = top[np.lexsort((top, -scores[top]))]
            out = [self.items[j] for j in top[:k + len(skip)] if self.items[j] not in skip][:k]
        if len(out) < k:
            taken = skip | set(out)
            out += [i for i in self.popular[:k + len(taken)] if i not in taken][:k - len(out)]
        return out

    def frozen_page(self, user_id: str, since_cut: Sequence[str], k: int = K) -> list[str]:
        """The page from the training items only, leaving out ``since_cut`` too."""
        own = self.history.get(user_id, set())
        page = self.page(user_id, (), k + len(since_cut))
        gone = set(since_cut) - own
        return [i for i in page if i not in gone][:k]


@dataclass
class Tally:
    """What the replay saw, per server."""

    ndcg: dict[str, list[float | None]] = field(default_factory=dict)
    latency_s: dict[str, list[float]] = field(default_factory=dict)
    sources: dict[str, dict[str, int]] = field(default_factory=dict)
    hits: dict[str, dict[str, int]] = field(default_factory=dict)
    reasons: dict[str, dict[str, int]] = field(default_factory=dict)
    short_pages: dict[str, int] = field(default_factory=dict)
    interventions: dict[str, dict[str, int]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)

    def add(self, key: str, value: float | None) -> None:
        self.ndcg.setdefault(key, []).append(value)

    def count(self, table: dict[str, dict[str, int]], server: str, what: str) -> None:
        row = table.setdefault(server, {})
        row[what] = row.get(what, 0) + 1


def _item_row(row: dict, posted: datetime | None = None) -> dict:
    """An items-contract row as JSON-ready values (times ISO 8601, lists as lists); with
    ``posted``, ``created_at`` is that time (an upload carries its upload time)."""
    if posted is not None:
        row = {**row, "created_at": posted}
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in row.items()
            if k != "first_ts" and v is not None}


def _event_row(row: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in row.items()
            if v is not None}


def _page(server: Server, step: Step, exclude: Sequence[str], tally: Tally, name: str
          ) -> list[str]:
    """One feed page from ``server``; its sources, reasons and interventions are tallied, and
    so are the sources of its hits (items among the step's targets)."""
    body = {"user_id": step.user_id, "limit": K, "now": step.now.isoformat(),
            "session_id": step.session_id,
            "request_id": f"{name}-{step.user_id}-{step.index}"}
    if exclude:
        body["exclude_ids"] = list(exclude)[-EXCLUDE_MAX:]
    status, out, secs = server.call("POST", "/v1/feed", body)
    tally.latency_s.setdefault(name, []).append(secs)
    if status != 200 or not isinstance(out, dict):
        tally.errors[f"{name} feed {status}"] = tally.errors.get(f"{name} feed {status}", 0) + 1
        return []
    items = out.get("items", [])
    for it in items:
        tally.count(tally.sources, name, str(it.get("source")))
        if it.get("item_id") in step.targets:
            tally.count(tally.hits, name, str(it.get("source")))
        for r in it.get("reasons", []):
            tally.count(tally.reasons, name, r)
    for iv in out.get("interventions", []):
        tally.count(tally.interventions, name, str(iv.get("type")))
    if len(items) < K:
        tally.short_pages[name] = tally.short_pages.get(name, 0) + 1
    return [str(it["item_id"]) for it in items]


def _post_items(live: Server, rows: list[dict], batch: int = 500) -> tuple[int, list]:
    """``POST /v1/items`` in batches (well under the body limit): accepted, rejections."""
    accepted, rejected = 0, []
    for start in range(0, len(rows), batch):
        status, out, _ = live.call("POST", "/v1/items", {"items": rows[start:start + batch]},
                                   admin=True)
        if status != 200 or not isinstance(out, dict):
            rejected.append({"status": status, "body": out})
            continue
        accepted += int(out.get("accepted", 0))
        rejected += list(out.get("rejected", []))
    return accepted, rejected


def replay(split: Split, steps: list[Step], live: Server, frozen: Server, knn: KnnReference,
           known: set[str], progress: str = "", created_at_post: bool = False) -> dict:
    """Walk every step in global time order against both servers; the figures.

    With ``created_at_post``, a posted new video's ``created_at`` is its post time (replay
    time) instead of the log's value (a release date on MovieLens, missing on KuaiRand)."""
    tally = Tally()
    status, _, _ = live.call("POST", "/v1/items", {"items": []}, admin=True)
    has_items = status not in (404, 405)
    new_rows = {r["item_id"]: r for r in split.new_items.iter_rows(named=True)}
    new_due = [(i, r["first_ts"]) for i, r in new_rows.items()]
    posted_at: dict[str, datetime] = {}
    first_seen: dict[str, datetime] = {}
    item_rejections: list = []
    event_post_s: list[float] = []
    event_rejected = 0
    order = global_order(steps)
    t0, tick = time.perf_counter(), max(1, len(order) // 10)
    for n, st in enumerate(order):
        if has_items:
            due = due_items(new_due, set(posted_at), st.now)
            if due:
                stamp = st.now if created_at_post else None
                _, rej = _post_items(live, [_item_row(new_rows[i], stamp) for i in due])
                item_rejections += rej
                posted_at.update({i: st.now for i in due})
        group = "known" if st.user_id in known else "new"
        since_cut = st.before
        p_live = _page(live, st, (), tally, "live")
        p_frozen = _page(frozen, st, since_cut, tally, "frozen")
        pages = {"live": p_live, "frozen": p_frozen,
                 "knn_live": knn.page(st.user_id, since_cut),
                 "knn_frozen": knn.frozen_page(st.user_id, since_cut)}
        for name, page in pages.items():
            tally.add(name, page_ndcg(page, st.targets))
            tally.add(f"{name}/{group}", page_ndcg(page, st.targets))
            tally.add(f"{name}/liked", page_ndcg(page, st.liked))
            tally.add(f"{name}/page {step_bucket(st.index)}", page_ndcg(page, st.targets))
        for i in p_live:
            if i in new_rows and i not in first_seen:
                first_seen[i] = st.now
        status, out, secs = live.call("POST", "/v1/events",
                                      {"events": [_event_row(r) for r in st.rows]})
        event_post_s.append(secs)
        if status != 200 or not isinstance(out, dict):
            tally.errors[f"events {status}"] = tally.errors.get(f"events {status}", 0) + 1
        else:
            event_rejected += len(out.get("rejected", []))
        if progress and (n + 1) % tick == 0:
            print(f"{progress}: {n + 1}/{len(order)} pages, {time.perf_counter() - t0:.0f} s",
                  file=sys.stderr, flush=True)
    engaged = {r["item_id"] for st in steps for r in st.rows if r.get("item_id") in new_rows}
    first_engaged: dict[str, datetime] = {}
    for st in steps:
        for r in st.rows:
            i = r.get("item_id")
            if i in new_rows and (i not in first_engaged or r["ts"] < first_engaged[i]):
                first_engaged[i] = r["ts"]
    return {"tally": tally, "has_items": has_items, "engaged_new": engaged,
            "first_engaged": first_engaged,
            "posted_at": posted_at, "first_seen": first_seen,
            "item_rejections": item_rejections[:5], "event_rejected": event_rejected,
            "event_post_s": event_post_s}


def fresh_reach(r: dict) -> dict:
    """Share of engaged new videos shown on any live page; median post-to-impression time."""
    engaged = r["engaged_new"]
    if not r["has_items"]:
        return {"reach": "n/a (no POST /v1/items)", "engaged_new": len(engaged)}
    shown = [i for i in engaged if i in r["first_seen"]]
    waits = [(r["first_seen"][i] - r["posted_at"][i]).total_seconds() for i in shown
             if i in r["posted_at"]]
    # Stricter: shown before the first replayed user acted on it (a page can only have led
    # a viewer to it then; a video shown after its first engagement may have risen on it).
    before = [i for i in shown if r["first_seen"][i] <= r["first_engaged"].get(i, datetime.max)]
    return {"reach": round(len(shown) / len(engaged), 4) if engaged else None,
            "reach_before_engagement": round(len(before) / len(engaged), 4) if engaged
            else None,
            "engaged_new": len(engaged), "shown": len(shown), "posted": len(r["posted_at"]),
            "median_s_to_first_impression": float(np.median(waits)) if waits else None,
            "item_rejections": r["item_rejections"]}


def _rows_by_user(later: pl.DataFrame, users: list[str]) -> dict[str, list[dict]]:
    cols = ["event_id", "user_id", "ts", "type", "item_id", "target_user_id", "watch_ms"]
    f = later.filter(pl.col("user_id").is_in(users)).select(cols)
    out: dict[str, list[dict]] = {u: [] for u in users}
    for r in f.iter_rows(named=True):
        out[r["user_id"]].append(r)
    return out


def _share(counts: dict[str, int]) -> dict[str, float]:
    total = sum(counts.values()) or 1
    return {k: round(v / total, 3) for k, v in sorted(counts.items(), key=lambda kv: -kv[1])}


def run_log(name: str, folder: Path, work: Path, a: argparse.Namespace) -> dict:
    """Prepare one log, start both servers, replay, and summarise."""
    events = pl.read_parquet(folder / "events.parquet")
    split = cut_log(events, pl.read_parquet(folder / "items.parquet"))
    print(f"{name}: cut {split.cut}, preparing the store (ingest, run)", file=sys.stderr,
          flush=True)
    db, cli = prepare(name, folder, split, work / name)
    users = choose_users(split.later, a.users, a.min_interactions, a.seed)
    by_user = _rows_by_user(split.later, users)
    steps = [s for u in users for s in walk(u, by_user[u], a.step, K, a.max_steps)]
    known = set(split.train["user_id"].unique().to_list()) & set(users)
    new_ids = set(split.new_items["item_id"].to_list())
    slots = [t for s in steps for t in s.targets]
    # Both servers run on copies: the prepared store stays as trained (reusable with --work);
    # the registry names the model files by absolute path, so both read the same version.
    live_db, frozen_db = work / name / "live.duckdb", work / name / "frozen.duckdb"
    shutil.copy(db, live_db)
    shutil.copy(db, frozen_db)
    knn = KnnReference(split.train)
    live = Server(live_db, work / name / "live.log")
    frozen = Server(frozen_db, work / name / "frozen.log")
    try:
        startup = {"live_s": live.wait(), "frozen_s": frozen.wait()}
        mem0 = {"live": live.memory(), "frozen": frozen.memory()}
        _, health, _ = live.call("GET", "/healthz")
        t0 = time.perf_counter()
        r = replay(split, steps, live, frozen, knn, known, progress=name,
                   created_at_post=a.created_at_post)
        replay_s = round(time.perf_counter() - t0, 1)
        mem1 = {"live": live.memory(), "frozen": frozen.memory()}
    finally:
        server_log = {"live": live.stop(), "frozen": frozen.stop()}
    t: Tally = r["tally"]
    ndcg = {k: _mean(v) for k, v in sorted(t.ndcg.items())}

    def ratio(x: str, y: str) -> float | None:
        return round(ndcg[x] / ndcg[y], 2) if ndcg.get(x) and ndcg.get(y) else None

    lat = {s: {"p50_ms": round(_pct(v, 0.5) * 1000, 1), "p99_ms": round(_pct(v, 0.99) * 1000, 1)}
           for s, v in t.latency_s.items()}
    return {
        "log": name, "cut": split.cut.isoformat(), "train_events": split.train.height,
        "later_events": split.later.height, "items_at_cut": split.items.height,
        "new_items": split.new_items.height,
        # Targets no server can hit without POST /v1/items (new videos).
        "targets_new_share": round(sum(t in new_ids for t in slots) / max(len(slots), 1), 3),
        "users": len(users), "known_users": len(known),
        "new_users": len(users) - len(known), "pages": len(steps),
        "pages_known": sum(s.user_id in known for s in steps), "step": a.step,
        "max_steps": a.max_steps, "created_at_post": a.created_at_post,
        "served": cli.get("models", {}).get("served"),
        "health": health, "ndcg@10": ndcg,
        "ratio": {"live/frozen": ratio("live", "frozen"),
                  "live/frozen new": ratio("live/new", "frozen/new"),
                  "live/frozen known": ratio("live/known", "frozen/known"),
                  "live/frozen liked": ratio("live/liked", "frozen/liked"),
                  "knn live/frozen": ratio("knn_live", "knn_frozen"),
                  "live/knn_live": ratio("live", "knn_live")},
        "fresh": fresh_reach(r), "latency": lat,
        "events_post_p50_ms": round((_pct(r["event_post_s"], 0.5) or 0) * 1000, 1),
        "events_rejected": r["event_rejected"], "errors": t.errors,
        "sources": {s: _share(c) for s, c in t.sources.items()},
        "hit_sources": {s: dict(sorted(c.items(), key=lambda kv: -kv[1]))
                        for s, c in t.hits.items()},
        "reasons": {s: dict(sorted(c.items(), key=lambda kv: -kv[1])[:8])
                    for s, c in t.reasons.items()},
        "short_pages": t.short_pages, "interventions": t.interventions,
        "memory_start": mem0, "memory_end": mem1, "startup_s": startup,
        "replay_s": replay_s, "cli": cli, "server_log": server_log,
    }


def table(results: list[dict]) -> str:
    """Markdown: NDCG@10 live vs frozen (all, new, known users), kNN, fresh reach, serving."""
    head = ("| log | users (new) | pages | live | frozen | live / frozen | new: live / frozen | "
            "known: live / frozen | liked: live / frozen | kNN live / frozen | fresh reach "
            "| p50 / p99 ms (live) | RSS peak MB live / frozen |\n" + "| --- " * 13 + "|")
    rows = [head]
    for r in results:
        n, q, f = r["ndcg@10"], r["ratio"], r["fresh"]
        reach = f["reach"] if isinstance(f["reach"], str) else (
            f"{f['reach']} ({f['shown']}/{f['engaged_new']}; before engagement "
            f"{f['reach_before_engagement']}; median "
            f"{f['median_s_to_first_impression']} s)")
        lat = r["latency"].get("live", {})
        mem = r["memory_end"]
        rows.append(
            f"| {r['log']} | {r['users']} ({r['new_users']}) | {r['pages']} | {n.get('live')} | "
            f"{n.get('frozen')} | **{q['live/frozen']}x** | {n.get('live/new')} / "
            f"{n.get('frozen/new')} | {n.get('live/known')} / {n.get('frozen/known')} | "
            f"{n.get('live/liked')} / {n.get('frozen/liked')} | {n.get('knn_live')} / "
            f"{n.get('knn_frozen')} ({q['knn live/frozen']}x) | {reach} | "
            f"{lat.get('p50_ms')} / {lat.get('p99_ms')} | {mem['live']['VmHWM_mb']} / "
            f"{mem['frozen']['VmHWM_mb']} |")
    return "\n".join(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--log", action="append", required=True, metavar="NAME=DIR",
                    help="a contract data folder from bench.real_data (repeatable)")
    ap.add_argument("--users", type=int, default=120, help="test users per log (seeded)")
    ap.add_argument("--min-interactions", type=int, default=10,
                    help="a test user has at least this many items after the cut")
    ap.add_argument("--step", type=int, default=5, help="interactions posted between pages")
    ap.add_argument("--max-steps", type=int, default=None,
                    help="at most this many pages per user (default: the whole walk)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--created-at-post", action="store_true",
                    help="post new videos with created_at = their post time (replay time) "
                         "instead of the log's created_at")
    ap.add_argument("--work", type=Path, default=None,
                    help="keep stores here and reuse a prepared one (default: a temp folder)")
    ap.add_argument("--json", action="store_true", help="JSON lines only, no table")
    a = ap.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="fw_live_") as tmp:
        work = a.work or Path(tmp)
        for spec in a.log:
            name, _, folder = spec.partition("=")
            t0 = time.perf_counter()
            res = run_log(name, Path(folder), work, a)
            res["seconds"] = round(time.perf_counter() - t0, 1)
            results.append(res)
            print(json.dumps(res, default=str), flush=True)
    if not a.json:
        print(table(results))


if __name__ == "__main__":
    main()
