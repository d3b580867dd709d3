"""The ranker's engagement features come from the DuckDB feature catalog, by name: the same
values in training, in serving and in the analysts' tables, and no held-out label in them."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl
import pytest

from features.build import build_features
from features.errors import ConfigError, PipelineError
from ranking.interactions import build_interactions
from ranking.ltr import LtrConfig, LtrRanker
from ranking.ltr._catalog import catalog_arrays_for, resolve_features
from ranking.ltr._features import compute_stats, feature_names, pair_features
from tests.ranking._worlds import T0, events_frame, taste_world

NAMES = ["user_engagement.like_rate_28d", "video_engagement.views_28d",
         "creator_engagement.views_28d", "user_creator_affinity.affinity"]
FAST = LtrConfig(
    sources={"ease": {"reg": 50.0}, "popular": {}},
    grid=[{"objective": "lambdarank", "num_leaves": 15, "min_data_in_leaf": 20}],
    max_rounds=30, n_per_source=40, n_candidates=80, features=NAMES,
)


def _items(events: pl.DataFrame) -> pl.DataFrame:
    ids = sorted(set(events["item_id"].drop_nulls().to_list()))
    return pl.DataFrame({"item_id": ids, "creator_id": [f"c{int(i[1:]) % 7}" for i in ids],
                         "created_at": [T0 - timedelta(days=1)] * len(ids),
                         "duration_ms": [20_000] * len(ids)})


def _store(con, events: pl.DataFrame, items: pl.DataFrame) -> None:
    for table, frame in (("events", events), ("items", items)):
        con.register("_f", frame)
        cols = ", ".join(frame.columns)
        con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _f")
        con.unregister("_f")


def test_unknown_or_unjoinable_feature_fails_and_names_it():
    with pytest.raises(ConfigError, match="user_engagement.nope"):
        LtrConfig(features=["user_engagement.nope"])
    with pytest.raises(ConfigError, match="user_topic_affinity.affinity"):
        LtrConfig(features=["user_topic_affinity.affinity"])
    assert [k for _, _, k in resolve_features(NAMES)] == ["user", "item", "creator",
                                                          "user_creator"]


def test_serving_values_are_the_catalog_tables_values(con):
    ev = taste_world(n_users=40, n_items=60, per_user=12)
    items = _items(ev)
    _store(con, ev, items)
    data = build_interactions(ev, items)
    stats = compute_stats(data, NAMES)
    now = ev["ts"].max() + timedelta(microseconds=1)
    tables = build_features(con, now, ["user_engagement", "video_engagement"], materialize=False)
    users = tables["user_engagement"].drop_nulls("like_rate_28d")
    rows = np.array([data.user_index(u) for u in users["user_id"].to_list()])
    got = stats.catalog.user[rows, 0]
    assert np.allclose(got, users["like_rate_28d"].to_numpy(), rtol=1e-5)
    vids = tables["video_engagement"]
    idx = data.item_index(vids["item_id"].to_list())
    assert np.allclose(stats.catalog.item[idx, 0], vids["views_28d"].to_numpy())
    # The ranker's feature matrix carries the same value under the catalog name.
    x = pair_features([], stats, rows[:5], idx[:5])
    col = feature_names([], NAMES).index("user_engagement.like_rate_28d")
    assert np.allclose(x[:, col], got[:5], rtol=1e-5)


def test_training_features_never_see_held_out_events(con):
    # u1 likes i1 at first, then (held out) likes i2 and i3: the training history may know
    # only the first like.
    ev = events_frame([("u1", "i1", "view", 20_000, 0), ("u1", "i1", "like", None, 1),
                       ("u1", "i2", "view", 20_000, 60), ("u1", "i2", "like", None, 61),
                       ("u1", "i3", "view", 20_000, 120), ("u1", "i3", "like", None, 121),
                       ("u2", "i2", "view", 20_000, 5), ("u2", "i3", "view", 1_000, 6)])
    data = build_interactions(ev, _items(ev))
    history = data.frame.filter(~((pl.col("user_id") == "u1")
                                  & pl.col("item_id").is_in(["i2", "i3"])))
    hist = data.restrict(history)
    train = compute_stats(hist, NAMES).catalog
    serve = compute_stats(data, NAMES).catalog
    u1, i2 = data.user_index("u1"), data.item_index(["i2"])[0]
    assert train.user[u1, 0] == pytest.approx(1.0)  # one like on one view: i1 only
    assert serve.user[u1, 0] == pytest.approx(1.0)
    assert train.item[i2, 0] == 1 and serve.item[i2, 0] == 2  # u2's view only, then both
    # The history's events are exactly the store's minus the held-out pairs.
    kept = ev.join(pl.DataFrame({"user_id": ["u1", "u1"], "item_id": ["i2", "i3"]}),
                   on=["user_id", "item_id"], how="anti")
    direct = catalog_arrays_for([NAMES], data.user_ids, data.item_ids, kept, data.items)[0]
    assert np.array_equal(np.nan_to_num(direct.item), np.nan_to_num(train.item))


def test_a_trained_version_lists_and_reloads_its_catalog_features(tmp_path):
    ev = taste_world(n_users=60, n_items=80, per_user=15)
    ranker = LtrRanker.fit(build_interactions(ev, _items(ev)), FAST)
    assert ranker.features[-len(NAMES):] == NAMES
    assert ranker.booster is not None
    again = LtrRanker.load(ranker.save(tmp_path / "v"))
    assert again.features == ranker.features
    users = np.arange(5)
    items = np.arange(5)
    assert np.array_equal(pair_features(again.sources, again.stats, users, items),
                          pair_features(ranker.sources, ranker.stats, users, items),
                          equal_nan=True)


def test_every_learnt_figure_and_every_serving_penalty_is_a_catalog_feature(con, tmp_path):
    ev = pl.concat([taste_world(n_users=40, n_items=60, per_user=12),
                    events_frame([("u1", "i3", "hide", None, 9_000),
                                  ("u2", "i4", "report", None, 9_001)])])
    items = _items(ev)
    _store(con, ev, items)
    ranker = LtrRanker.fit(build_interactions(ev, items), FAST)
    # Columns are the sources' ranks and scores, then catalog names: no private statistics.
    sources = [n for n in ranker.features if n.startswith(("rank_", "z_", "score_"))]
    assert ranker.features == sources + NAMES
    now = ev["ts"].max() + timedelta(microseconds=1)
    t = build_features(con, now, ["fatigue_item", "fatigue_creator"], materialize=False)
    d = ranker.data
    fi = t["fatigue_item"]
    u = np.array([d.user_index(x) for x in fi["user_id"].to_list()])
    sunk, _ = ranker.stats.sink_and_penalty(u, d.item_index(fi["item_id"].to_list()))
    assert sunk.tolist() == ((fi["hides_total"] + fi["reports_total"]) > 0).to_list()
    assert ranker.score("u1", ["i3"])[0] < -1e5 and ranker.score("u2", ["i4"])[0] < -1e5
    fc = t["fatigue_creator"].filter(pl.col("user_id") == "u1")
    vid = items.filter(pl.col("creator_id") == fc["creator_id"][0])["item_id"][0]
    _, pen = ranker.stats.sink_and_penalty(np.array([d.user_index("u1")]),
                                           d.item_index([vid]))
    assert pen[0] == pytest.approx(fc["fatigue"][0], rel=1e-5)
    # A version saved when the ranker kept its own statistics cannot be served; it says so.
    path = ranker.save(tmp_path / "v")
    np.savez(path / "stats.npz", item=np.zeros((1, 10)), user=np.zeros((1, 5)))
    with pytest.raises(PipelineError, match="feedwell train"):
        LtrRanker.load(path)


def test_the_training_build_runs_in_bounded_memory(monkeypatch):
    import duckdb

    from features.store import MEMORY_ENV
    from ranking.ltr._catalog import BUILD_MEMORY, _store

    monkeypatch.delenv(MEMORY_ENV, raising=False)
    items = pl.DataFrame({"item_id": ["i1"], "creator_id": ["c1"]})
    ev = pl.DataFrame({"user_id": ["u1"], "item_id": ["i1"], "type": ["view"],
                       "ts": [T0]})

    def limit(spill):
        con = _store(ev, items, None, spill)
        try:
            return (con.execute("SELECT current_setting('memory_limit'), "
                                "current_setting('temp_directory')").fetchone(),
                    con.execute("SELECT count(*) FROM events").fetchone()[0])
        finally:
            con.close()

    with duckdb.connect() as c:
        c.execute(f"SET memory_limit = '{BUILD_MEMORY}'")
        want = c.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    (got, spill), n = limit("/tmp/feedwell-spill-test")
    assert got == want and spill == "/tmp/feedwell-spill-test" and n == 1
    monkeypatch.setenv(MEMORY_ENV, "300MB")  # the store's own bound wins when set
    (got, _), _ = limit("/tmp/feedwell-spill-test")
    assert got != want and got.endswith("MiB") and float(got.split()[0]) < 300
