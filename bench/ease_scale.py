"""EASE past its dense limit: quality against exact EASE, and cost at 100k videos.

    .venv/bin/python -m bench.ease_scale quality --log ml100k=/tmp/fw_real/ml-100k ...
    .venv/bin/python -m bench.ease_scale scale --items 100000 --users 50000 --events 5000000

``quality``: each log (a contract data folder, see ``bench/real_data.py``, or ``gen:N`` for a
generated clustered world with N videos) is split per user at random 75/25 (the evaluation's
``random_holdout``); exact EASE (``max_items`` = the catalog) and the scaled one with a head of
``--head`` of the catalog (0.12 is 12k of 100k, today's default against the 100k-video world)
are fitted on the same train part; NDCG@10 over unseen items, relevant = the user's test
videos not hidden or reported. Item-kNN (BM25) is the non-EASE reference.

``scale``: one fit of the scaled EASE (default config: exact on 12k videos) on a generated
world, in a child process so its peak RSS is its own; prints fit time, peak RSS, the size of
the saved arrays, the time to score 1,000 users, and NDCG@10 against item-kNN on a 10% holdout
of 2,000 users.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import polars as pl  # noqa: E402

from ranking.candidates import make_source  # noqa: E402
from ranking.evaluation.metrics import ndcg_at_k  # noqa: E402
from ranking.evaluation.run import random_holdout  # noqa: E402
from ranking.interactions import build_interactions  # noqa: E402

K = 10
T0 = datetime(2025, 1, 1)


def clustered_world(n_users: int, n_items: int, n_events: int, seed: int = 0,
                    n_clusters: int = 400, in_cluster: float = 0.7) -> pl.DataFrame:
    """Views ``(user_id, item_id, ts, type, watch_ms, target_user_id)`` over a power-law catalog.

    Each user has a taste cluster: a view is drawn from it (``in_cluster``) or from the whole
    catalog, by Zipf popularity in both cases; activity is Pareto. Vectorised, so 100k videos
    and 5M events take seconds.
    """
    rng = np.random.default_rng(seed)
    pop = 1.0 / (np.arange(n_items) + 10.0)
    pop = pop[rng.permutation(n_items)]
    cluster = rng.integers(0, n_clusters, n_items)
    order = np.lexsort((np.arange(n_items), cluster))
    cum = np.cumsum(pop[order])
    starts = np.searchsorted(cluster[order], np.arange(n_clusters))
    ends = np.append(starts[1:], n_items)
    base = np.where(starts > 0, cum[np.maximum(starts - 1, 0)], 0.0)
    act = rng.pareto(1.3, n_users) + 1
    users = rng.choice(n_users, n_events, p=act / act.sum())
    taste = rng.integers(0, n_clusters, n_users)[users]
    local = rng.random(n_events) < in_cluster
    lo = np.where(local, base[taste], 0.0)
    hi = np.where(local, cum[np.maximum(ends[taste] - 1, 0)], cum[-1])
    pick = np.minimum(np.searchsorted(cum, lo + rng.random(n_events) * (hi - lo)), n_items - 1)
    items = order[pick]
    secs = rng.integers(0, 30 * 86400, n_events)
    return pl.DataFrame({
        "user_id": pl.Series(np.char.add("u", users.astype(str))),
        "item_id": pl.Series(np.char.add("i", items.astype(str))),
        "ts": pl.Series(secs * 1_000_000).cast(pl.Duration("us")) + T0,
        "type": "view", "watch_ms": 20_000, "target_user_id": pl.Series([None] * n_events,
                                                                        dtype=pl.String),
    }).unique(["user_id", "item_id"], keep="first").with_columns(
        pl.col("ts").cast(pl.Datetime("us")))


def _load(spec: str) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    if spec.startswith("gen:"):
        n = int(spec[4:])
        return clustered_world(n // 2, n, n * 25), None
    folder = Path(spec)
    return pl.read_parquet(folder / "events.parquet"), pl.read_parquet(folder / "items.parquet")


def _relevant(test: pl.DataFrame) -> pl.DataFrame:
    bad = test.filter(pl.col("type").is_in(["hide", "report"])).select("user_id", "item_id")
    return (test.filter(pl.col("item_id").is_not_null())
            .join(bad, on=["user_id", "item_id"], how="anti")
            .group_by("user_id").agg(pl.col("item_id").unique()).sort("user_id"))


def _ndcg(src, rel: pl.DataFrame) -> float:
    recs, _ = src.recommend(rel["user_id"].to_list(), K)
    return ndcg_at_k([[str(x) for x in r] for r in recs], [set(x) for x in rel["item_id"]], K)


def quality(logs: list[str], heads: list[float]) -> list[dict]:
    """Exact vs scaled EASE NDCG@10 per log on one random split."""
    rows = []
    for spec in logs:
        name, _, path = spec.partition("=")
        events, items = _load(path or name)
        train, test = random_holdout(events, 0.25, seed=0)
        data = build_interactions(train, items)
        rel = _relevant(test)
        row: dict = {"log": name, "users": data.n_users, "items": data.n_items}
        t = time.perf_counter()
        row["exact"] = _ndcg(make_source("ease", {"max_items": data.n_items}).fit(data), rel)
        row["exact_s"] = round(time.perf_counter() - t, 2)
        for h in heads:
            m = max(1, int(round(h * data.n_items)))
            t = time.perf_counter()
            row[f"head {h:g} ({m})"] = _ndcg(make_source("ease", {"max_items": m}).fit(data), rel)
            row[f"head {h:g} s"] = round(time.perf_counter() - t, 2)
        row["itemknn"] = _ndcg(make_source("itemknn").fit(data), rel)
        rows.append({k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def scale_child(users: int, items: int, events: int, max_items: int) -> dict:
    """One scaled fit on a generated world (run in a fresh process)."""
    t = time.perf_counter()
    ev = clustered_world(users, items, events)
    train, test = random_holdout(ev, 0.10, seed=0)
    data = build_interactions(train)
    prep = time.perf_counter() - t
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t = time.perf_counter()
    src = make_source("ease", {"max_items": max_items}).fit(data)
    fit = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size = sum(a.nbytes for a in src.arrays().values()) / 2**20
    rel = _relevant(test).head(2000)
    t = time.perf_counter()
    src.recommend(rel["user_id"].head(1000).to_list(), 100)
    rec = time.perf_counter() - t
    out = {"users": data.n_users, "items": data.n_items, "pairs": data.frame.height,
           "max_items": max_items, "prep_s": round(prep, 1), "fit_s": round(fit, 1),
           "rss_before_fit_mb": round(rss0), "peak_rss_mb": round(rss),
           "arrays_mb": round(size), "tail_nnz": 0 if src.tail is None else src.tail.nnz,
           "recommend_1000_s": round(rec, 2), "ndcg_ease": round(_ndcg(src, rel), 4)}
    del src
    out["ndcg_itemknn"] = round(_ndcg(make_source("itemknn").fit(data), rel), 4)
    out["load_avg_1m"] = os.getloadavg()[0]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    q = sub.add_parser("quality")
    q.add_argument("--log", action="append", required=True,
                   help="NAME=DATA_DIR (contract folder) or NAME=gen:N_ITEMS")
    q.add_argument("--head", type=float, nargs="+", default=[0.12, 0.25])
    s = sub.add_parser("scale")
    s.add_argument("--users", type=int, default=50_000)
    s.add_argument("--items", type=int, default=100_000)
    s.add_argument("--events", type=int, default=5_000_000)
    s.add_argument("--max-items", type=int, default=12_000)
    s.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.cmd == "quality":
        quality(a.log, a.head)
        return
    args = ["--users", str(a.users), "--items", str(a.items), "--events", str(a.events),
            "--max-items", str(a.max_items)]
    if a.child:
        print(json.dumps(scale_child(a.users, a.items, a.events, a.max_items)))
        return
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "bench.ease_scale", "scale", *args, "--child"],
                         check=True, capture_output=True, text=True).stdout.strip().splitlines()
    res = json.loads(out[-1])
    res["total_s"] = round(time.perf_counter() - t, 1)
    res["at"] = (datetime.utcnow() + timedelta(0)).strftime("%Y-%m-%d %H:%M UTC")
    print(json.dumps(res))


if __name__ == "__main__":
    main()
