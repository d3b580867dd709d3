"""Live video features at gather time: ``CatalogArrays.with_items`` over the values saved with a
version gives what the catalog computes over every event since (issue 22 part 3)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl
import pytest

from features.errors import PipelineError
from features.live_tiles import LIVE_FEATURES, LiveTiles
from ranking.ltr._catalog import catalog_arrays_for
from tests.ranking._worlds import T0, taste_world

NAMES = ["user_engagement.like_rate_28d", "video_engagement.views_total",
         "video_engagement.like_rate_total", "video_engagement.completion_rate_total",
         "creator_engagement.views_28d", "video_engagement.views_7d"]


def _items(events: pl.DataFrame) -> pl.DataFrame:
    ids = sorted(set(events["item_id"].drop_nulls().to_list()))
    return pl.DataFrame({"item_id": ids, "creator_id": [f"c{int(i[1:]) % 7}" for i in ids],
                         "created_at": [T0 - timedelta(days=1)] * len(ids),
                         "duration_ms": [20_000] * len(ids)})


def test_live_item_values_equal_the_catalog_over_every_event_since(con):
    ev = taste_world(n_users=40, n_items=60, per_user=12).sort("ts")
    items = _items(ev)
    cut = ev["ts"].quantile(0.6)
    early = ev.filter(pl.col("ts") < cut)
    users = np.array(sorted(set(ev["user_id"])))
    vids = items["item_id"].to_numpy()
    saved, want = (catalog_arrays_for([NAMES], users, vids, part, items)[0]
                   for part in (early, ev))
    for table, frame in (("events", early), ("items", items)):
        con.register("_f", frame)
        con.execute(f"INSERT INTO {table} ({', '.join(frame.columns)}) "
                    f"SELECT {', '.join(frame.columns)} FROM _f")
        con.unregister("_f")
    tiles = LiveTiles.from_store(con)
    later = ev.filter(pl.col("ts") >= cut)
    half = later.height // 2
    tiles.fold(later.head(half))
    live_names = [n for n in NAMES if n in LIVE_FEATURES]
    live = saved.with_items(tiles.item_columns(live_names, vids))  # every video, once
    touched = tiles.fold(later.tail(later.height - half))  # then only what a fold moved
    rows = np.searchsorted(vids, touched)
    assert 0 < len(touched) < len(vids) and (vids[rows] == touched).all()
    live = live.with_items(tiles.item_columns(live_names, touched), rows)

    u = np.repeat(np.arange(len(users)), len(vids))
    i = np.tile(np.arange(len(vids)), len(users))
    got, base, full = (a.gather(u, i) for a in (live, saved, want))
    for col, name in enumerate(NAMES):
        expected = full if name in live_names else base  # the rest stays as saved
        np.testing.assert_allclose(got[:, col], expected[:, col], rtol=1e-6, err_msg=name)
    assert not np.array_equal(got, base, equal_nan=True)  # the later events moved them
    assert np.array_equal(saved.gather(u, i), base, equal_nan=True)  # a copy: saved unchanged


def test_with_items_refuses_what_is_not_a_video_feature_of_the_model():
    ev = taste_world(n_users=5, n_items=8, per_user=4)
    items = _items(ev)
    arrays = catalog_arrays_for([NAMES], np.array(sorted(set(ev["user_id"]))),
                                items["item_id"].to_numpy(), ev, items)[0]
    n = len(items)
    with pytest.raises(PipelineError, match="user_engagement.like_rate_28d"):
        arrays.with_items({"user_engagement.like_rate_28d": np.zeros(n)})
    with pytest.raises(PipelineError, match="creator_engagement.views_28d"):
        arrays.with_items({"creator_engagement.views_28d": np.zeros(n)})
    with pytest.raises(PipelineError, match=f"for {n} items"):
        arrays.with_items({"video_engagement.views_total": np.zeros(n + 1)})
    with pytest.raises(PipelineError, match="item index"):
        arrays.with_items({"video_engagement.views_total": np.zeros(1)}, np.array([-1]))
