"""What the feed serves on real public logs, through the CLI exactly (see bench/README.md).

    .venv/bin/python -m bench.quality_real --log ml100k=/tmp/fw_real/ml-100k \\
        [--log kuairand=/tmp/fw_real/kuairand ...] [--protocol random temporal] [--json]

Each ``--log`` is a contract data folder written by ``bench.real_data``. Per log and protocol:

- ``random``: per-user random 75/25 of (user, item) pairs (``random_holdout``, seed 0), the
  request time T just after the log's last event; ``temporal``: the global 80% time quantile
  (``temporal_split``), T = the cut; relevance = the test items a user had not met before T;
- only the train part is ingested: ``feedwell --db DB ingest DIR``, ``feedwell --db DB run
  --now T`` (the gate decides what is published), ``feedwell --db DB recommend --users F --k 10
  --out F --now T`` for every test user (new ones too) and ``feedwell --db DB score --requests F
  --out F`` for every test (user, item) that was liked or hidden (users with both), at T;
- in process, on the same split and users: all-time popularity (users per item in the ingested
  part), EASE, ALS and BPR (``make_source`` defaults, EASE's size cap raised to the catalog),
  each topped up with the popularity list where it has fewer than k items (users it does not
  know), and the item like-rate for the AUC.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

# The CLI runs in the caller's environment, exactly as a user would run it; only the in-process
# baselines get implicit's single-threaded BLAS.
CLI_ENV = dict(os.environ)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import polars as pl  # noqa: E402

from ranking.candidates import make_source  # noqa: E402
from ranking.evaluation.metrics import ndcg_at_k, pair_auc  # noqa: E402
from ranking.evaluation.run import random_holdout, temporal_split  # noqa: E402
from ranking.interactions import build_interactions  # noqa: E402

K = 10
SOURCES = ("ease", "als", "bpr")


def feedwell(db: Path, *args: str) -> dict:
    """One ``feedwell --db DB ... --json`` call: exit code, last JSON line, stderr, seconds."""
    exe = Path(sys.executable).with_name("feedwell")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "flows.cli"]
    t0 = time.perf_counter()
    p = subprocess.run([*cmd, "--db", str(db), *args, "--json"], capture_output=True, text=True,
                       env=CLI_ENV)
    lines = [ln for ln in p.stdout.splitlines() if ln.strip().startswith("{")]
    return {"code": p.returncode, "out": json.loads(lines[-1]) if lines else {},
            "stderr": [ln for ln in p.stderr.splitlines() if ln.strip()],
            "seconds": round(time.perf_counter() - t0, 1)}


def split(events: pl.DataFrame, protocol: str) -> tuple[pl.DataFrame, pl.DataFrame, datetime]:
    """``(train, test, T)`` for one protocol."""
    if protocol == "random":
        train, test = random_holdout(events, 0.25, seed=0)
        return train, test, events["ts"].max() + timedelta(seconds=1)
    return temporal_split(events, 0.8)


def judged_pairs(train: pl.DataFrame, test: pl.DataFrame) -> tuple[dict, pl.DataFrame]:
    """Relevant test items per user (new to them), and the liked/hidden test pairs for the AUC."""
    new = test.filter(pl.col("item_id").is_not_null()).join(
        train.select("user_id", "item_id").unique(), on=["user_id", "item_id"], how="anti")
    rel = {u: set(v) for u, v in new.group_by("user_id").agg(pl.col("item_id").unique())
           .iter_rows()}
    t = pl.col("type")
    pairs = (new.group_by("user_id", "item_id")
             .agg((t == "like").any().alias("liked"), (t == "hide").any().alias("hidden"))
             .filter(pl.col("liked") != pl.col("hidden"))
             .filter(pl.col("liked").any().over("user_id")
                     & pl.col("hidden").any().over("user_id")))
    return rel, pairs.select("user_id", "item_id", "liked").sort("user_id", "item_id")


def mean_auc(pairs: pl.DataFrame, col: str) -> float | None:
    """Mean per-user AUC of liked above hidden under ``col`` (NaN scores rank last)."""
    if not pairs.height:
        return None
    f = pairs.with_columns(pl.col(col).cast(pl.Float64).fill_nan(-1e9).fill_null(-1e9))
    vals = [pair_auc(g.filter(pl.col("liked"))[col].to_numpy(),
                     g.filter(~pl.col("liked"))[col].to_numpy())
            for _, g in f.group_by("user_id", maintain_order=True)]
    return round(float(np.nanmean(vals)), 4)


def baselines(train: pl.DataFrame, items: pl.DataFrame, users: list[str], pairs: pl.DataFrame
              ) -> tuple[dict[str, list[list[str]]], pl.DataFrame]:
    """Top-k lists per baseline for ``users`` and their scores on the AUC pairs."""
    counts = (train.filter(pl.col("item_id").is_not_null()).group_by("item_id")
              .agg(pl.col("user_id").n_unique().alias("popular"),
                   (((pl.col("type") == "like").sum() + 0.1)
                    / ((pl.col("type") == "view").sum() + 1)).alias("like_rate"))
              .sort(["popular", "item_id"], descending=[True, False]))
    pop_list = counts["item_id"].to_list()
    seen = {u: set(v) for u, v in train.group_by("user_id").agg("item_id").iter_rows()}

    def top_up(lst: list[str], u: str) -> list[str]:
        have = set(lst) | seen.get(u, set())
        return (lst + [i for i in pop_list[:K + len(have)] if i not in have])[:K]

    lists = {"popular": [top_up([], u) for u in users]}
    pairs = pairs.join(counts, on="item_id", how="left").sort("user_id", "item_id")
    data = build_interactions(train, items)
    for name in SOURCES:
        params = {"max_items": max(data.n_items, 1)} if name == "ease" else None
        src = make_source(name, params).fit(data)
        recs, _ = src.recommend(users, K)
        lists[name] = [top_up([str(x) for x in r], u) for r, u in zip(recs, users, strict=True)]
        by_user = pairs.group_by("user_id").agg("item_id").sort("user_id")
        scores = np.concatenate([src.score(u, ids) for u, ids in by_user.iter_rows()]
                                or [np.array([])])
        pairs = pairs.with_columns(pl.Series(name, scores.astype(np.float64)))
    return lists, pairs


def run_protocol(name: str, folder: Path, protocol: str, work: Path) -> dict:
    """Split one log, drive the CLI on the train part, and score what it serves."""
    events = pl.read_parquet(folder / "events.parquet")
    items = pl.read_parquet(folder / "items.parquet")
    train, test, now = split(events, protocol)
    rel, pairs = judged_pairs(train, test)
    users = sorted(rel)
    data = work / "data"
    data.mkdir(parents=True)
    shutil.copy(folder / "users.parquet", data / "users.parquet")
    shutil.copy(folder / "items.parquet", data / "items.parquet")
    train.write_parquet(data / "events.parquet")
    db, at = work / "fw.duckdb", now.isoformat()
    steps = {"ingest": feedwell(db, "ingest", str(data)), "run": feedwell(db, "run", "--now", at),
             "models": feedwell(db, "models")}
    pl.DataFrame({"user_id": users}).write_parquet(work / "users.parquet")
    steps["recommend"] = feedwell(db, "recommend", "--users", str(work / "users.parquet"),
                                  "--k", str(K), "--out", str(work / "recs.parquet"), "--now", at)
    if pairs.height:
        pairs.select(pl.col("user_id").alias("request_id"), "user_id", pl.lit(now).alias("ts"),
                     "item_id").write_parquet(work / "requests.parquet")
        steps["score"] = feedwell(db, "score", "--requests", str(work / "requests.parquet"),
                                  "--out", str(work / "scored.parquet"))
    lists, scored = baselines(train, items, users, pairs)
    rels = [rel[u] for u in users]
    warm = [i for i, u in enumerate(users) if u in set(train["user_id"].unique().to_list())]
    res: dict = {"log": name, "protocol": protocol, "now": at, "test_users": len(users),
                 "warm_users": len(warm), "train_events": train.height, "auc_pairs": pairs.height}
    ndcg = {m: round(ndcg_at_k(lst, rels, K), 4) for m, lst in lists.items()}
    if (work / "recs.parquet").exists():
        recs = pl.read_parquet(work / "recs.parquet").sort("user_id", "rank")
        got = dict(recs.group_by("user_id").agg("item_id").iter_rows())
        served = [got.get(u, []) for u in users]
        ndcg = {"served": round(ndcg_at_k(served, rels, K), 4), **ndcg}
        res["served_warm"] = round(ndcg_at_k([served[i] for i in warm],
                                             [rels[i] for i in warm], K), 4)
        res["users_fed"] = len(got)
        res["served_sources"] = dict(recs["source"].fill_null("?").value_counts().iter_rows())
    res["ndcg@10"] = ndcg
    if pairs.height:
        auc_cols = ["like_rate", "popular", *SOURCES]
        if (work / "scored.parquet").exists():
            s = pl.read_parquet(work / "scored.parquet").select("user_id", "item_id", "score",
                                                                  "kept")
            scored = scored.join(s, on=["user_id", "item_id"], how="left")
            auc_cols = ["score", *auc_cols]
            res["score_kept"] = int(scored["kept"].fill_null(False).sum())
        res["auc"] = {("served" if c == "score" else c): mean_auc(scored, c) for c in auc_cols}
        res["auc_users"] = scored["user_id"].n_unique()
    res["cli"] = {k: {"code": v["code"], "seconds": v["seconds"], "stderr": v["stderr"][-6:]}
                  for k, v in steps.items()}
    res["published"] = _published(steps["run"])
    res["served_model"] = _served_model(steps["models"])
    ev = steps["run"]["out"].get("evaluation", {})
    # The run's own evaluation (its internal holdouts of the train part): per-action heads
    # against the item's own rate, and the creation trade-off (issue 24).
    res["actions"] = ev.get("actions") or {}
    res["selection_why"] = (ev.get("selection") or {}).get("why")
    # Each candidate's pooled NDCG@10 and AUC in that selection (what the choice saw).
    res["selection_pooled"] = {n: {m: round(v, 4) if isinstance(v, float) else v
                                   for m, v in p.items()}
                               for n, p in ((ev.get("selection") or {}).get("pooled") or {}
                                            ).items()}
    return res


HEADS = ("view", "complete", "like", "comment", "share", "hide")


def actions_table(results: list[dict]) -> str:
    """Per holdout of each run's evaluation: each head's AUC / the item's own rate, and the
    creation lift and NDCG cost of the objective's creation weights over engagement-only."""
    head = ("| log / protocol / holdout | " + " | ".join(f"{a} AUC (ratio)" for a in HEADS)
            + " | creation@10 x0 -> x1 (lift) | NDCG@10 x0 -> x1 (cost) |\n"
            + "| --- " * (len(HEADS) + 3) + "|")
    rows = [head]
    for r in results:
        for hold, a in sorted(r.get("actions", {}).items()):
            per, tr = a.get("per_action", {}), a.get("tradeoff", {})
            cells = []
            for h in HEADS:
                f = per.get(h) or {}
                cells.append(f"{f.get('auc')} ({f.get('auc_vs_item_rate')}x, "
                             f"{f.get('positives')}+)" if f.get("auc") is not None else "-")
            pts = {p["factor"]: p for p in tr.get("points", [])}
            p0, p1 = pts.get(0.0, {}), pts.get(1.0, {})
            rows.append(f"| {r['log']} / {r['protocol']} / {hold} | " + " | ".join(cells)
                        + f" | {p0.get('creation@10')} -> {p1.get('creation@10')} "
                        f"({tr.get('creation_lift')}) | {p0.get('ndcg@10')} -> "
                        f"{p1.get('ndcg@10')} ({tr.get('ndcg_cost')}) |")
    return "\n".join(rows)


def _served_model(models: dict) -> str:
    """The published version's served model kind and name (``feedwell models --json``)."""
    rows = [m for m in models["out"].get("models", []) if m.get("status") == "published"]
    return str(rows[-1]["served"]["model"]) if rows else "-"


def _published(run: dict) -> str:
    out = run["out"]
    if run["code"] != 0:
        return "refused: " + " ".join(run["stderr"][-2:])[-300:]
    return str(out.get("published", out.get("version", "?")))


def table(results: list[dict]) -> str:
    """A readable table: NDCG@10 served vs baselines, AUC served vs the like-rate."""
    head = ("| log / protocol | users (warm) | served | popular | ease | als | bpr | served / best "
            "| AUC served | like-rate | published (serves) |\n" + "| --- " * 11 + "|")
    rows = [head]
    for r in results:
        n, a = r["ndcg@10"], r.get("auc", {})
        best = max(n.get(m, 0.0) for m in ("popular", *SOURCES))
        ratio = f"{n['served'] / best:.2f}x" if "served" in n and best else "-"
        rows.append(f"| {r['log']} / {r['protocol']} | {r['test_users']} ({r['warm_users']}) | "
                    f"{n.get('served', '-')} | {n['popular']} | {n['ease']} | {n['als']} | "
                    f"{n['bpr']} | {ratio} | {a.get('served', '-')} | {a.get('like_rate', '-')} | "
                    f"{r['published'][:60]} ({r.get('served_model', '-')}) |")
    return "\n".join(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--log", action="append", required=True, metavar="NAME=DIR",
                    help="a contract data folder from bench.real_data (repeatable)")
    ap.add_argument("--protocol", nargs="+", choices=["random", "temporal"],
                    default=["random", "temporal"])
    ap.add_argument("--json", action="store_true", help="JSON lines only, no table")
    a = ap.parse_args()
    results = []
    for spec in a.log:
        name, _, folder = spec.partition("=")
        for protocol in a.protocol:
            t0 = time.perf_counter()
            with tempfile.TemporaryDirectory(prefix="fw_qreal_") as tmp:
                res = run_protocol(name, Path(folder), protocol, Path(tmp))
            res["seconds"] = round(time.perf_counter() - t0, 1)
            results.append(res)
            print(json.dumps(res, default=str), flush=True)
    if not a.json:
        print(table(results))
        print(actions_table(results))


if __name__ == "__main__":
    main()
