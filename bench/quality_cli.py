"""Ranking quality through the real CLI, the way the maintainers check it (see bench/README.md).

    .venv/bin/python -m bench.quality_cli --protocol random|short [--users adults|none]
        [--flow train|run]

The same data as ``bench.quality`` (not our simulator), written as a contract data folder and run
through ``feedwell ingest``, ``feedwell train`` and then:

- ``random``: ``feedwell recommend --k 10`` for every user; NDCG@10 of the output against the
  held-out 25% of each user's rated items (binary relevance), next to the in-process ranker;
- ``short``: ``feedwell score`` on every (user, video) that was liked or hidden after the 75%
  time cut, one request per user at the cut; mean per-user AUC of liked above hidden, next to the
  item like-rate baseline computed on the train part.

``--users none`` brings the data in without a users table: every viewer is then of unknown age and
gets the teen policy (fail closed), which is the design, so expect empty feeds for ``random``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from bench._worlds import ratings_to_events, ratings_world, shortvideo_split
from ranking.evaluation.metrics import ndcg_at_k, pair_auc
from ranking.evaluation.run import random_holdout

EVENT_COLS = ["event_id", "user_id", "ts", "type", "item_id", "target_user_id", "watch_ms"]


def feedwell(db: Path, *args: str) -> dict:
    """Run one ``feedwell`` command with ``--json``; its last output line parsed."""
    cmd = [sys.executable, "-m", "flows.cli", "--db", str(db), *args, "--json"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    lines = [ln for ln in out.stdout.splitlines() if ln.strip().startswith("{")]
    return json.loads(lines[-1]) if lines else {}


def write_folder(folder: Path, events: pl.DataFrame, items: pl.DataFrame | None,
                 with_users: bool) -> None:
    """A contract data folder: adult users (or none), safe-rated items (or none), events."""
    folder.mkdir(parents=True, exist_ok=True)
    events.select(EVENT_COLS).write_parquet(folder / "events.parquet")
    if with_users:
        users = events.select("user_id").unique().sort("user_id").with_columns(
            pl.lit(date(1990, 1, 1)).alias("birth_date"),
            pl.lit("verified").alias("age_assurance"), pl.lit("UTC").alias("timezone"))
        users.write_parquet(folder / "users.parquet")
    if items is not None:
        items.with_columns(
            pl.lit(["general"]).list.first().alias("maturity"),
            pl.lit([], pl.List(pl.String)).alias("labels"),
            pl.lit([], pl.List(pl.String)).alias("cameo_subjects"),
            pl.lit(False).alias("realistic_person"), pl.lit("active").alias("status"),
        ).write_parquet(folder / "items.parquet")


def fit_model(db: Path, flow: str) -> dict:
    """``feedwell train`` or the whole ``feedwell run`` (features, train, evaluate, publish)."""
    if flow == "train":
        feedwell(db, "train")
        return {}
    try:
        feedwell(db, "run")
    except subprocess.CalledProcessError as exc:  # the gate refused: scoring uses what serves
        return {"run": "not published", "run_error": (exc.stderr or "").strip()[-300:]}
    return {"run": "published"}


def run_random(work: Path, with_users: bool, flow: str) -> dict:
    events = ratings_to_events(ratings_world())
    train, test = random_holdout(events, 0.25, seed=0)
    write_folder(work / "data", train, None, with_users)
    db = work / "q.duckdb"
    feedwell(db, "ingest", str(work / "data"))
    trained = fit_model(db, flow)
    users = train.select("user_id").unique().sort("user_id")
    users.write_parquet(work / "users_in.parquet")
    feedwell(db, "recommend", "--users", str(work / "users_in.parquet"), "--k", "10",
             "--out", str(work / "recs.parquet"))
    recs = pl.read_parquet(work / "recs.parquet").sort("user_id", "rank")
    by_user = dict(recs.group_by("user_id").agg("item_id").iter_rows())
    rel = dict(test.group_by("user_id").agg(pl.col("item_id").unique()).iter_rows())
    uids = sorted(rel)
    return {"ndcg@10": round(ndcg_at_k([by_user.get(u, []) for u in uids],
                                       [set(rel[u]) for u in uids], 10), 4),
            "users_fed": len(by_user), "users": len(uids), **trained}


def run_short(work: Path, with_users: bool, flow: str) -> dict:
    train, test, items, cut = shortvideo_split()
    write_folder(work / "data", train, items, with_users)
    db = work / "q.duckdb"
    feedwell(db, "ingest", str(work / "data"))
    trained = fit_model(db, flow)
    judged = (test.filter(pl.col("type").is_in(["like", "hide"]))
              .group_by("user_id", "item_id").agg((pl.col("type") == "like").any().alias("liked"))
              .filter(pl.col("liked").any().over("user_id")
                      & (~pl.col("liked")).any().over("user_id")))
    judged.select(pl.col("user_id").alias("request_id"), "user_id", pl.lit(cut).alias("ts"),
                  "item_id").write_parquet(work / "requests.parquet")
    feedwell(db, "score", "--requests", str(work / "requests.parquet"),
             "--out", str(work / "scored.parquet"))
    scored = pl.read_parquet(work / "scored.parquet").join(judged, on=["user_id", "item_id"])
    rate = train.group_by("item_id").agg(
        (((pl.col("type") == "like").sum() + 0.1) / ((pl.col("type") == "view").sum() + 1))
        .alias("like_rate"))
    scored = scored.join(rate, on="item_id", how="left").with_columns(
        pl.col("like_rate").fill_null(float("nan")))

    def auc(col: str) -> float:
        vals = [pair_auc(g.filter(pl.col("liked"))[col].to_numpy(),
                         g.filter(~pl.col("liked"))[col].to_numpy())
                for _, g in scored.with_columns(pl.col(col).fill_nan(-1e9))
                .group_by("user_id")]
        return round(float(np.nanmean(vals)), 4)

    return {"auc_ranker": auc("score"), "auc_like_rate": auc("like_rate"),
            "users": scored["user_id"].n_unique(), "pairs": scored.height, **trained}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--protocol", choices=["random", "short"], default="random")
    ap.add_argument("--users", choices=["adults", "none"], default="adults")
    ap.add_argument("--flow", choices=["train", "run"], default="train",
                    help="`feedwell train`, or `feedwell run` with its publish gate")
    a = ap.parse_args()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="fw_qcli_") as tmp:
        run = run_random if a.protocol == "random" else run_short
        res = run(Path(tmp), a.users == "adults", a.flow)
    res.update({"protocol": a.protocol, "users_table": a.users,
                "seconds": round(time.perf_counter() - t0, 1)})
    print(json.dumps(res))


if __name__ == "__main__":
    main()
