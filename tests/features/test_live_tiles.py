"""Online features equal batch: live tiles seeded from a store and fed the rest of an event
stream in batches hold, for every video, the catalog SQL's ``video_engagement`` all-time values
over the same events (issue 22 part 3).

Batches arrive as the service gets them: through ``ingest_event_rows`` (its ``new`` rows are
folded; a re-posted batch returns none, so nothing is counted twice), late and out of order,
with a video posted mid-stream and events naming a video the catalog never heard of.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from features.build import build_features, run_features
from features.catalog import load_catalog
from features.errors import ConfigError
from features.live_tiles import LIVE_FEATURES, LiveTiles
from features.partials import kept_partials_current
from features.rows import ingest_event_rows
from tests.features.test_refresh import _events, _ingest, _item

T0 = datetime(2024, 1, 1)
CLOCK = datetime(2030, 1, 1)  # the API's clock: every generated event is in its past
EXACT = [n for n in LIVE_FEATURES if n != "video_engagement.completion_rate_total"]


def _catalog_values(con) -> pl.DataFrame:
    return build_features(con, None, ["video_engagement"])["video_engagement"].sort("item_id")


def _assert_equal(tiles: LiveTiles, want: pl.DataFrame) -> None:
    """Every video of the catalog's table: counts and per-view rates exactly, the completion
    rate (a sum of fractions added in another order) to 1e-12 relative."""
    got = tiles.item_columns(list(LIVE_FEATURES), want["item_id"].to_numpy())
    for name in LIVE_FEATURES:
        expected = want[name.split(".", 1)[1]].cast(pl.Float64).to_numpy()
        if name in EXACT:
            np.testing.assert_array_equal(got[name], expected, err_msg=name)
        else:
            np.testing.assert_allclose(got[name], expected, rtol=1e-12, atol=0, err_msg=name)


def test_live_tiles_equal_the_catalog_sql_over_replayed_batches(con, tmp_path: Path):
    rng = random.Random(22)
    # i0..i7 in the catalog, i8 posted mid-stream, i9 only ever named by events, i10 silent
    _ingest(con, tmp_path, "seed", _events(rng, 800, T0, 24 * 20, "s"),
            [_item(i) for i in (*range(8), 10)])
    run_features(con)
    assert kept_partials_current(con, load_catalog())  # seeded from the kept part_item
    tiles = LiveTiles.from_store(con)
    _assert_equal(tiles, _catalog_values(con))

    batches = [_events(rng, 150, T0 + timedelta(days=20), 24 * 3, f"b{k}") for k in range(3)]
    batches.insert(1, _events(rng, 100, T0, 24 * 20, "late"))  # long before the latest event
    for k, batch in enumerate(batches):
        if k == 2:
            posted = [_item(8)]
            _ingest(con, tmp_path, "posted", [], posted)
            tiles.add_items(posted, store=con)
        res = ingest_event_rows(con, batch, now=CLOCK)
        assert len(res.new) == len(batch)
        touched = tiles.fold(res.new)
        assert touched.tolist() == sorted({e["item_id"] for e in batch} - {None})
        _assert_equal(tiles, _catalog_values(con))

    again = ingest_event_rows(con, batches[0], now=CLOCK)  # a client re-posts a batch
    assert (again.new, again.duplicates) == ([], len(batches[0]))
    assert len(tiles.fold(again.new)) == 0
    want = _catalog_values(con)
    _assert_equal(tiles, want)
    assert {"i8", "i9", "i10"} <= set(want["item_id"])
    quiet = tiles.item_columns(list(LIVE_FEATURES), np.array(["i10", "never"]))
    assert quiet["video_engagement.views_total"].tolist()[0] == 0.0
    assert all(np.isnan(v[1]) for v in quiet.values())  # unknown video: no value at all


def test_seeded_as_of_a_cut_then_folded_equals_the_catalog_sql(con, tmp_path: Path):
    rng = random.Random(7)
    events = _events(rng, 1200, T0, 24 * 30, "e")
    _ingest(con, tmp_path, "all", events, [_item(i) for i in range(10)])
    cut = T0 + timedelta(days=21, minutes=30)  # mid-bucket: the cut is exact, not hourly
    tiles = LiveTiles.from_store(con, now=cut)  # the part SQL as of the cut
    assert con.sql("SELECT count(*) FROM duckdb_views() WHERE view_name = 'stg_events'"
                   ).fetchall()[0][0] == 0
    later = [e for e in events if datetime.fromisoformat(e["ts"]) >= cut]
    assert 0 < len(later) < len(events)
    for k in range(0, len(later), 97):
        tiles.fold(pl.DataFrame(later[k:k + 97]).with_columns(pl.col("ts").str.to_datetime()))
    _assert_equal(tiles, _catalog_values(con))


def test_unserved_feature_name_fails_and_names_it():
    tiles = LiveTiles()
    with pytest.raises(ConfigError, match="video_engagement.velocity"):
        tiles.item_columns(["video_engagement.velocity"], np.array(["i1"]))
    tiles.close()
