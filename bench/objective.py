"""Creation-first objective on and off: creation rate and NDCG@10 of the ranker's top 10.

Both configs train in process on the same simulated world (``features/simulator/``) and the same
time-forward split (the last 20% of events are the test part), through ``evaluate_split``, the
evaluation ``feedwell evaluate`` runs.

    .venv/bin/python -m bench.objective [--users 2000 --items 3000 --events 300000]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import polars as pl  # noqa: E402

from features.simulator import simulate  # noqa: E402
from ranking.evaluation.run import evaluate_split, random_holdout, temporal_split  # noqa: E402
from ranking.ltr import LtrConfig, ObjectiveConfig  # noqa: E402

KEYS = ("ndcg@10", "creation_rate@10", "connection_share@10", "watch_share@10", "ndcg@10_liked")


def _read(data: Path, name: str) -> pl.DataFrame:
    path = data / name if (data / name).is_dir() else data / f"{name}.parquet"
    return pl.read_parquet(path / "*.parquet" if path.is_dir() else path)


def run(data: Path, split: str, seed: int, objective: ObjectiveConfig) -> dict[str, dict]:
    """Metrics of the ranker with the creation-first objective off and on."""
    ev = _read(data, "events").select("user_id", pl.col("ts").cast(pl.Datetime("us")), "type",
                                      "item_id", "target_user_id", "watch_ms")
    ev = ev.sort("ts", "user_id", "type", "item_id")
    items = _read(data, "items")
    tr, te = (random_holdout(ev, 0.25, seed) if split == "random" else temporal_split(ev)[:2])
    out = {}
    for name, on in (("off", False), ("on", True)):
        cfg = LtrConfig(seed=seed,
                        objective=replace(objective, creation_first=on))
        t = time.perf_counter()
        r = evaluate_split(tr, te, items, 10, cfg, baselines=(), fallbacks={}, name=split)
        m = r.holdout.models["ranker"]
        out[name] = {k: m.get(k) for k in KEYS} | {"seconds": round(time.perf_counter() - t, 1),
                                                   "n_users": r.holdout.n_users}
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=2000)
    ap.add_argument("--items", type=int, default=3000)
    ap.add_argument("--events", type=int, default=300_000)
    ap.add_argument("--seed", type=int, default=7, help="simulator seed")
    ap.add_argument("--split", choices=("temporal", "random"), default="temporal")
    ap.add_argument("--creation", type=int, default=ObjectiveConfig.creation)
    ap.add_argument("--connection", type=int, default=ObjectiveConfig.connection)
    ap.add_argument("--data", help="an existing simulated data directory (default: simulate)")
    a = ap.parse_args()
    obj = ObjectiveConfig(creation=a.creation, connection=a.connection)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(a.data) if a.data else Path(tmp)
        if not a.data:
            simulate(data, users=a.users, items=a.items, events=a.events, seed=a.seed)
        res = run(data, a.split, 42, obj)
    print(f"world: users={a.users} items={a.items} events~{a.events} seed={a.seed}; "
          f"{a.split} split; known test users={res['on']['n_users']}; "
          f"creation={obj.creation} connection={obj.connection}")
    print(f"{'objective':<10}" + "".join(f"{k:>21}" for k in KEYS) + f"{'seconds':>9}")
    for name in ("off", "on"):
        print(f"{name:<10}" + "".join(f"{res[name][k]:>21.4f}" for k in KEYS)
              + f"{res[name]['seconds']:>9}")
    off, on = res["off"], res["on"]
    lift = on["creation_rate@10"] / max(off["creation_rate@10"], 1e-12) - 1
    cost = 1 - on["ndcg@10"] / max(off["ndcg@10"], 1e-12)
    print(f"creation rate {lift:+.1%} (target >= +20%), NDCG@10 cost {cost:+.2%} "
          f"(target <= 2%): {'met' if lift >= 0.2 and cost <= 0.02 else 'NOT met'}")


if __name__ == "__main__":
    main()
