"""Data generators for the ranking benchmarks, independent of the feedwell simulator.

``ratings_world`` is MovieLens-100k-shaped (low-rank taste, power-law item popularity and user
activity, ratings 1-5 with timestamps); ``ratings_to_events`` converts ratings to events the way
the maintainers describe. ``shortvideo_world`` is a watch/like/hide log over days, and
``shortvideo_split`` its train/test parts at a time cut.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import polars as pl

T0 = datetime(2024, 1, 1)


def ratings_world(n_users: int = 943, n_items: int = 1682, n_ratings: int = 100_000,
                  rank: int = 8, pop_exp: float = 1.0, taste: float = 2.0, seed: int = 0
                  ) -> pl.DataFrame:
    """Ratings ``(user_id, item_id, rating, ts)``; every user rates at least 20 items."""
    rng = np.random.default_rng(seed)
    u = rng.normal(size=(n_users, rank)) / np.sqrt(rank)
    v = rng.normal(size=(n_items, rank))
    pop = 1.0 / np.arange(1, n_items + 1) ** pop_exp
    pop = pop[rng.permutation(n_items)]
    act = rng.pareto(1.2, n_users) + 1
    counts = (20 + act / act.sum() * (n_ratings - 20 * n_users)).astype(int)
    counts = np.minimum(counts, int(n_items * 0.44))
    item_bias = rng.normal(0, 0.5, n_items) + 0.4 * np.log(pop / pop.mean())
    rows = []
    start = rng.uniform(0, 200, n_users)
    for k in range(n_users):
        aff = u[k] @ v.T
        logits = np.log(pop) + taste * aff
        p = np.exp(logits - logits.max())
        p /= p.sum()
        # rng.choice draws likely items first: shuffle so time order carries no such bias.
        items = rng.permutation(rng.choice(n_items, counts[k], replace=False, p=p))
        r = 3.3 + 1.2 * aff[items] + item_bias[items] * 0.6 + rng.normal(0, 0.8, len(items))
        r = np.clip(np.round(r), 1, 5).astype(int)
        span = rng.exponential(5)
        ts = start[k] + np.sort(rng.uniform(0, span, len(items)))
        rows.append(pl.DataFrame({"user_id": f"u{k}", "item_id": [f"i{i}" for i in items],
                                  "rating": r, "day": ts}))
    df = pl.concat(rows)
    return df.with_columns(
        (pl.lit(T0) + pl.duration(seconds=(pl.col("day") * 86400).cast(pl.Int64))).alias("ts")
    ).drop("day")


def ratings_to_events(ratings: pl.DataFrame, watch_ms_per_star: int = 12_000) -> pl.DataFrame:
    """Each rating is a view with watch time proportional to it; ratings >= 4 add a like."""
    views = ratings.select("user_id", "item_id", "ts", pl.lit("view").alias("type"),
                           (pl.col("rating") * watch_ms_per_star).cast(pl.Int64).alias("watch_ms"))
    likes = ratings.filter(pl.col("rating") >= 4).select(
        "user_id", "item_id", (pl.col("ts") + pl.duration(seconds=1)).alias("ts"),
        pl.lit("like").alias("type"), pl.lit(None, pl.Int64).alias("watch_ms"))
    ev = pl.concat([views, likes]).with_columns(pl.lit(None, pl.String).alias("target_user_id"))
    return ev.with_row_index("n").with_columns(
        pl.format("e{}", "n").alias("event_id")).drop("n")


def shortvideo_world(n_users: int = 600, n_items: int = 3000, n_creators: int = 150,
                     days: int = 14, per_day: int = 25, seed: int = 1
                     ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A watch log with likes and hides: ``(events, items)``; items appear over the days."""
    rng = np.random.default_rng(seed)
    rank = 6
    cu = rng.normal(size=(n_users, rank)) / np.sqrt(rank)
    cv = rng.normal(size=(n_creators, rank))
    creator = rng.integers(0, n_creators, n_items)
    iv = cv[creator] * 0.7 + rng.normal(size=(n_items, rank)) * 0.5
    quality = rng.normal(0, 0.6, n_items)
    born = np.sort(rng.uniform(-3, days, n_items))
    dur = rng.integers(8_000, 60_000, n_items)
    ev = []
    for d in range(days):
        live = np.flatnonzero(born <= d)
        # Exposure: mostly popular/recent, some random; the user acts on taste + quality.
        for k in range(n_users):
            if rng.random() < 0.3:
                continue
            shown = rng.choice(live, min(per_day, len(live)), replace=False)
            a = cu[k] @ iv[shown].T * 1.5 + quality[shown] + rng.normal(0, 0.7, len(shown))
            frac = 1 / (1 + np.exp(-1.5 * a))
            t = d + np.sort(rng.uniform(0, 0.9, len(shown)))
            for j, it in enumerate(shown):
                ts = T0 + timedelta(days=float(t[j]))
                ev.append((f"u{k}", f"v{it}", ts, "view", int(frac[j] * dur[it])))
                if a[j] > 1.3:
                    ev.append((f"u{k}", f"v{it}", ts + timedelta(seconds=2), "like", None))
                elif a[j] < -1.6:
                    ev.append((f"u{k}", f"v{it}", ts + timedelta(seconds=2), "hide", None))
    events = pl.DataFrame(ev, schema={"user_id": pl.String, "item_id": pl.String,
                                      "ts": pl.Datetime("us"), "type": pl.String,
                                      "watch_ms": pl.Int64}, orient="row")
    events = events.with_columns(pl.lit(None, pl.String).alias("target_user_id"))
    items = pl.DataFrame({
        "item_id": [f"v{i}" for i in range(n_items)], "creator_id": [f"c{c}" for c in creator],
        "created_at": [T0 + timedelta(days=float(b)) for b in born], "duration_ms": dur})
    return events, items


def shortvideo_split(fraction: float = 0.75) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame,
                                                       datetime]:
    """``shortvideo_world`` with event ids, cut in time: ``(train, test, items, cut)``."""
    events, items = shortvideo_world()
    events = events.with_row_index("n").with_columns(pl.format("e{}", "n").alias("event_id"))
    cut = events["ts"].min() + (events["ts"].max() - events["ts"].min()) * fraction
    return events.filter(pl.col("ts") < cut), events.filter(pl.col("ts") >= cut), items, cut
