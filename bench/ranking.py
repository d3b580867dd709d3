"""Ranking speed: training time on ~1M events, batch recommend throughput, one-page latency.

    .venv/bin/python -m bench.ranking [--users 10000 --items 10000 --ratings 1000000]
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402

from bench._worlds import ratings_to_events, ratings_world  # noqa: E402
from ranking.interactions import build_interactions  # noqa: E402
from ranking.ltr import LtrRanker  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=10_000)
    ap.add_argument("--items", type=int, default=10_000)
    ap.add_argument("--ratings", type=int, default=700_000)
    a = ap.parse_args()
    ev = ratings_to_events(ratings_world(a.users, a.items, a.ratings, seed=7))
    t = time.perf_counter()
    data = build_interactions(ev)
    t_build = time.perf_counter() - t
    t = time.perf_counter()
    r = LtrRanker.fit(data)
    t_fit = time.perf_counter() - t
    users = data.user_ids[:2000].tolist()
    t = time.perf_counter()
    r.recommend(users, 10)
    t_rec = time.perf_counter() - t
    lat_c, lat_s = [], []
    for u in users[:200]:
        t = time.perf_counter()
        c = r.candidates(u, n=500)
        t1 = time.perf_counter()
        r.score(u, c)
        lat_c.append(t1 - t)
        lat_s.append(time.perf_counter() - t1)
    print(f"events={ev.height} users={data.n_users} items={data.n_items}")
    print(f"interactions build {t_build:.1f} s; ranker fit {t_fit:.1f} s "
          f"(ltr stage {r.report.get('train_seconds_ltr')} s)")
    print(f"batch recommend: {len(users) / t_rec:.0f} users/s")
    print(f"one page: candidates(500) p50 {1e3 * np.median(lat_c):.1f} ms, "
          f"score p50 {1e3 * np.median(lat_s):.1f} ms p95 {1e3 * np.percentile(lat_s, 95):.1f} ms")


if __name__ == "__main__":
    main()
