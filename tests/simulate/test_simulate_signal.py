"""The behaviour in the simulated events carries a learnable signal."""

from __future__ import annotations

import numpy as np
import polars as pl

from features.simulator import DEFAULT_END, simulate
from features.simulator._events import TYPE_CODE, chunk_events, plan_chunks
from features.simulator._world import build_world


def test_likes_follow_latent_taste():
    rng = np.random.default_rng(1)
    world = build_world(rng, 300, 400, 28, DEFAULT_END)
    (lo, hi, target), *_ = plan_chunks(world, 30_000, 10**9)
    ch = chunk_events(world, rng, lo, hi, target)
    imp = ch.type == TYPE_CODE["impression"]
    liked = ch.type == TYPE_CODE["like"]
    aff = np.einsum("nd,nd->n", world.user_vec[ch.user], world.item_vec[ch.item.clip(0)])
    close = aff > np.quantile(aff[imp], 0.75)
    far = aff < np.quantile(aff[imp], 0.25)
    rate_close = liked[close].sum() / imp[close].sum()
    rate_far = liked[far].sum() / imp[far].sum()
    assert rate_close > 5 * rate_far


def test_topic_profile_predicts_likes_out_of_time(tmp_path):
    """Topics a user liked in the first half predict likes in the second: a ranker can learn.

    Topics are a noisy view of the latent tastes, so the lift here (~1.5-2.5x) is smaller
    than in latent space; the world must be big enough for per-user topic profiles.
    """
    out = tmp_path
    simulate(out, users=800, items=1000, events=60_000, seed=2)
    ev = pl.read_parquet(out / "events.parquet")
    items = pl.read_parquet(out / "items.parquet").select("item_id", "topics")
    ev = ev.filter(pl.col("type").is_in(["impression", "like"])).join(items, on="item_id")
    mid = ev["ts"].min() + (ev["ts"].max() - ev["ts"].min()) / 2
    early, late = ev.filter(pl.col("ts") < mid), ev.filter(pl.col("ts") >= mid)
    fav = (early.filter(pl.col("type") == "like").explode("topics")
           .group_by("user_id", "topics").len()
           .sort("len", descending=True).group_by("user_id").head(3)
           .select("user_id", "topics", fav=pl.lit(True)))
    late = late.with_row_index("row").explode("topics").join(
        fav, on=["user_id", "topics"], how="left").group_by("row").agg(
        pl.col("type").first(), pl.col("user_id").first(), pl.col("fav").any().fill_null(False))
    late = late.filter(pl.col("user_id").is_in(fav["user_id"].implode()))
    rate = late.group_by("fav").agg(
        (pl.col("type") == "like").sum() / (pl.col("type") == "impression").sum()
    ).sort("fav")["type"].to_list()
    assert rate[1] > 1.4 * rate[0]


def test_sensitive_videos_draw_more_hides_and_reports(tiny_world):
    out, _ = tiny_world
    ev = pl.read_parquet(out / "events.parquet")
    items = pl.read_parquet(out / "items.parquet").select(
        "item_id", sens=pl.col("labels").list.set_difference(["political"]).list.len() > 0)
    ev = ev.join(items.drop_nulls("sens"), on="item_id")
    stats = ev.group_by("sens").agg(
        neg=pl.col("type").is_in(["hide", "report"]).sum() / (pl.col("type") == "impression").sum()
    ).sort("sens")["neg"].to_list()
    assert stats[1] > 2 * stats[0]


def test_teens_watch_in_local_afternoons_and_evenings(tiny_world):
    import duckdb

    out, _ = tiny_world
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    rows = con.execute(f"""
        SELECT date_diff('year', u.birth_date, DATE '2026-11-01') BETWEEN 13 AND 17 AS teen,
               avg((extract(hour FROM timezone(coalesce(u.timezone, 'UTC'),
                   e.ts::TIMESTAMPTZ)) BETWEEN 15 AND 23)::INT) AS evening,
               avg((extract(hour FROM timezone(coalesce(u.timezone, 'UTC'),
                   e.ts::TIMESTAMPTZ)) BETWEEN 9 AND 13)::INT) AS school
        FROM '{out}/events.parquet' e JOIN '{out}/users.parquet' u USING (user_id)
        WHERE e.type = 'impression' AND u.birth_date IS NOT NULL
        GROUP BY ALL ORDER BY teen""").fetchall()
    (_, adult_evening, adult_school), (_, teen_evening, teen_school) = rows
    assert teen_evening > 0.6 and teen_evening > adult_evening
    assert teen_school < adult_school
