"""Benchmark: the live tiles (``features/live_tiles.py``) on a simulated world.

The store holds 28 days of history and keeps the 29th aside (``bench/features.py``'s
``prepare``). The tiles are seeded from the store twice, timed: by summing the kept
``part_item`` (the partials are current) and by running the part SQL as of a time. The day is
then replayed in time order, ``--batch`` events at a time as ``POST /v1/events`` would bring
them: each batch folded (``LiveTiles.fold``) and the videos it touched read
(``item_columns``), per batch median and p99. Then every video is read once, and the tiles
after the day are checked against ``video_engagement`` built by the catalog over the same
events (counts and per-view rates exactly, ``completion_rate_total`` to 1e-12 relative).

    .venv/bin/python bench/live_tiles.py --events 1000000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.features import prepare  # noqa: E402


def _ms(xs: list[float]) -> str:
    return f"{np.median(xs) * 1e3:.1f} / {np.percentile(xs, 99) * 1e3:.1f} ms"


def measure(db: Path, batch: int) -> None:
    """Seed, replay the kept-aside day in batches, read everything, check against the catalog."""
    from features.build import build_features, run_features
    from features.live_tiles import LIVE_FEATURES, LiveTiles
    from features.store import connect

    con = connect(db)
    run_features(con)  # the kept partials current: the state a deployed store is in
    t = time.perf_counter()
    tiles = LiveTiles.from_store(con)
    kept_s = time.perf_counter() - t
    latest = con.execute("SELECT max(ts) FROM events").fetchall()[0][0]
    t = time.perf_counter()
    LiveTiles.from_store(con, now=latest + timedelta(microseconds=1)).close()
    sql_s = time.perf_counter() - t
    day = con.sql("SELECT * FROM _bench_day ORDER BY ts").pl()
    folds, reads, touched_n = [], [], []
    for k in range(0, day.height, batch):
        t = time.perf_counter()
        touched = tiles.fold(day.slice(k, batch))
        folds.append(time.perf_counter() - t)
        t = time.perf_counter()
        tiles.item_columns(list(LIVE_FEATURES), touched)
        reads.append(time.perf_counter() - t)
        touched_n.append(len(touched))
    ids = con.sql("SELECT item_id FROM items").pl()["item_id"].to_numpy()
    t = time.perf_counter()
    tiles.item_columns(list(LIVE_FEATURES), ids)
    all_s = time.perf_counter() - t

    con.execute("INSERT INTO events BY NAME SELECT *, 'bench_live' AS _source, "
                "now()::TIMESTAMP AS _loaded_at FROM _bench_day")
    try:
        want = build_features(con, None, ["video_engagement"])["video_engagement"]
    finally:
        con.execute("DELETE FROM events WHERE _source = 'bench_live'")
    got = tiles.item_columns(list(LIVE_FEATURES), want["item_id"].to_numpy())
    same = True
    for name in LIVE_FEATURES:
        exp = want[name.split(".", 1)[1]].cast(float).to_numpy()
        ok = (np.allclose(got[name], exp, rtol=1e-12, atol=0, equal_nan=True)
              if name.endswith("completion_rate_total")
              else np.array_equal(got[name], exp, equal_nan=True))
        same &= bool(ok)
    events = con.execute("SELECT count(*) FROM events").fetchall()[0][0]
    print(f"| {events:,} | {len(ids):,} | {kept_s:.2f} s | {sql_s:.2f} s | {day.height:,} in "
          f"{len(folds)} x {batch} | {_ms(folds)} | {np.median(touched_n):.0f} | {_ms(reads)} "
          f"| {all_s:.2f} s | {'yes' if same else 'NO'} |")
    con.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=50, help="events per fold")
    ap.add_argument("--workdir", type=Path, help="keep the simulated store here (reused)")
    args = ap.parse_args()
    print("| events in store | videos | seed: kept part_item | seed: part SQL | day replayed "
          "| fold median / p99 | videos per fold | read touched median / p99 | read all "
          "| equal to the catalog |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|")
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
        measure(prepare(args.events, args.workdir), args.batch)
        return
    with tempfile.TemporaryDirectory() as tmp:
        measure(prepare(args.events, Path(tmp)), args.batch)


if __name__ == "__main__":
    main()
