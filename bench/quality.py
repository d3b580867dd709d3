"""Ranking quality on data that is not from our simulator (see bench/README.md).

    .venv/bin/python -m bench.quality [--shape ml|sparse|dense] [--protocol random|temporal|short]

``random``: per-user random 75/25 split of a MovieLens-100k-shaped ratings set turned into
views (watch time proportional to rating) and likes (rating >= 4); the train part is loaded into
a fresh store through the raw ``events`` table; top-10 over unseen items, binary relevance.
``temporal``: the same data on a global 80/20 time split. ``short``: a short-video log with
hides; later days, AUC of liked above hidden against the item like-rate baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
warnings.filterwarnings("ignore")

import polars as pl  # noqa: E402

from bench._worlds import ratings_to_events, ratings_world, shortvideo_split  # noqa: E402
from features.store import connect  # noqa: E402
from ranking.evaluation.result import EvaluationResult  # noqa: E402
from ranking.evaluation.run import (  # noqa: E402
    evaluate_split,
    format_table,
    random_holdout,
    temporal_split,
)

SHAPES = {
    "ml": {},
    "sparse": {"n_users": 3000, "n_items": 6000, "n_ratings": 90_000, "pop_exp": 0.8, "seed": 3},
    "dense": {"n_users": 600, "n_items": 1000, "n_ratings": 120_000, "taste": 1.5, "seed": 5},
}
COLS = ["user_id", "ts", "type", "item_id", "target_user_id", "watch_ms"]


def through_store(events: pl.DataFrame) -> pl.DataFrame:
    """Load events into a fresh in-memory store's raw table and read them back."""
    con = connect(":memory:")
    ev = events.with_columns(pl.col("target_user_id").cast(pl.String))
    con.register("_ev", ev.select("event_id", *COLS).to_arrow())
    con.execute(f"INSERT INTO events (event_id, {', '.join(COLS)}) SELECT * FROM _ev").fetchall()
    out = con.sql(f"SELECT {', '.join(COLS)} FROM events").pl()
    con.close()
    return out


def run(shape: str, protocol: str, k: int = 10) -> dict:
    t0 = time.perf_counter()
    if protocol == "short":
        train, test, items, _ = shortvideo_split()
    else:
        events = ratings_to_events(ratings_world(**SHAPES[shape]))
        items = None
        if protocol == "random":
            train, test = random_holdout(events, 0.25, seed=0)
        else:
            train, test, _ = temporal_split(events, 0.8)
    res = evaluate_split(through_store(train), test.select(COLS), items, k).holdout.to_dict()
    res.update({"shape": shape, "protocol": protocol, "seconds": round(time.perf_counter() - t0, 1),
                "n_events": train.height + test.height})
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--shape", default="ml", choices=list(SHAPES))
    ap.add_argument("--protocol", default="random", choices=["random", "temporal", "short"])
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    res = run(a.shape, a.protocol)
    if a.json:
        print(json.dumps({k: v for k, v in res.items()}, default=str))
    else:
        print(f"shape={a.shape} protocol={a.protocol} users={res['n_users']} "
              f"events={res['n_events']} seconds={res['seconds']}")
        print(format_table(EvaluationResult(k=res["k"], models=res["models"],
                                            seconds=res["seconds"])))
        print(json.dumps(res["ranker_report"], default=str))


if __name__ == "__main__":
    main()
