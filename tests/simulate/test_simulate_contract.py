"""Simulated tables follow the data contract: columns, enums, keys, times and references."""

from __future__ import annotations

from datetime import datetime

import polars as pl
import pytest

from features.contract import CONTRACT
from features.errors import ConfigError
from features.simulator import DEFAULT_END, simulate


def _read(out, name: str) -> pl.DataFrame:
    return pl.read_parquet(out / f"{name}.parquet")


@pytest.mark.parametrize("name", list(CONTRACT))
def test_tables_have_contract_columns_and_enums(tiny_world, name):
    out, _ = tiny_world
    df = _read(out, name)
    spec = CONTRACT[name]
    assert df.columns == spec.names
    assert df.height > 0
    for col in spec.columns:
        if col.required:
            assert df[col.name].null_count() == 0, col.name
        if col.accepted:
            values = set(df[col.name].drop_nulls().unique().to_list())
            assert values <= set(col.accepted), (col.name, values - set(col.accepted))


def test_keys_unique_and_times_inside_window(tiny_world):
    out, summary = tiny_world
    ev, users, items = _read(out, "events"), _read(out, "users"), _read(out, "items")
    assert ev["event_id"].n_unique() == ev.height
    assert users["user_id"].n_unique() == users.height
    assert items["item_id"].n_unique() == items.height
    end = DEFAULT_END.replace(tzinfo=None)
    assert ev["ts"].max() < end
    assert ev["ts"].min() >= datetime.fromisoformat(summary["window"]["start"]).replace(
        tzinfo=None)
    assert (ev["watch_ms"].drop_nulls() >= 0).all()
    assert users["created_at"].max() < end and items["created_at"].max() < end


def test_events_reference_existing_entities_after_they_exist(tiny_world):
    out, _ = tiny_world
    ev, users, items = _read(out, "events"), _read(out, "users"), _read(out, "items")
    joined = ev.join(users.select("user_id", u_created="created_at"), on="user_id", how="left")
    assert joined["u_created"].null_count() == 0
    assert (joined["ts"] >= joined["u_created"]).all()
    with_item = ev.filter(pl.col("item_id").is_not_null()).join(
        items.select("item_id", i_created="created_at"), on="item_id", how="left")
    assert with_item["i_created"].null_count() == 0
    assert (with_item["ts"] >= with_item["i_created"]).all()
    creators = set(items["creator_id"].to_list())
    assert creators <= set(users["user_id"].to_list())


def test_event_shapes_by_type(tiny_world):
    out, _ = tiny_world
    ev = _read(out, "events")
    social = ev.filter(pl.col("type").is_in(["follow", "unfollow", "block"]))
    assert social.height > 0
    assert social["item_id"].null_count() == social.height
    assert social["target_user_id"].null_count() == 0
    watched = ev.filter(pl.col("type").is_in(["view", "skip"]))
    assert watched["watch_ms"].null_count() == 0
    assert ev.filter(~pl.col("type").is_in(["view", "skip"]))["watch_ms"].null_count() == (
        ev.height - watched.height)
    assert set(ev["type"].unique().to_list()) >= {
        "impression", "view", "skip", "like", "share", "remix", "comment", "follow", "hide"}
    # Skips are short; some views run past the video (rewatches).
    joined = ev.join(_read(out, "items").select("item_id", "duration_ms"), on="item_id")
    skips = joined.filter(pl.col("type") == "skip")
    assert (skips["watch_ms"] <= 3_000).all()
    views = joined.filter(pl.col("type") == "view")
    assert (views["watch_ms"] > views["duration_ms"]).any()
    share_with_session = ev["session_id"].is_not_null().mean()
    assert 0.65 < share_with_session < 0.92


def test_users_items_consents_look_like_the_app(tiny_world):
    out, summary = tiny_world
    ages = summary["ages"]
    assert ages["teens_13_15"] > 0 and ages["teens_16_17"] > 0
    assert ages["children_under_13"] > 0 and ages["unknown_age"] > 0
    assert sum(ages[k] for k in ("adults", "teens", "children_under_13", "unknown_age")) == 300
    users = _read(out, "users")
    assert users["timezone"].drop_nulls().str.contains("^(America|Europe|Asia)/").mean() > 0.8
    assert (users["personalized"] == False).any()  # noqa: E712
    assert users["parent_managed"].any() and users["quiet_hours"].drop_nulls().len() > 0
    items = _read(out, "items")
    assert items["duration_ms"].is_between(5_000, 60_000).all()
    assert items["topics"].list.len().is_between(1, 3).all()
    assert items["labels"].null_count() > 0 and items["maturity"].null_count() > 0
    assert (items["labels"].list.len() == 0).mean() > 0.7
    cameo = items.filter(pl.col("cameo_subjects").list.len() > 0)
    assert cameo["realistic_person"].all()
    consents = _read(out, "consents")
    subjects = set(cameo["cameo_subjects"].explode().to_list())
    assert set(consents["subject_id"].to_list()) <= subjects
    assert summary["rows"]["items"] == 400 and summary["creators"] < 300


@pytest.mark.parametrize("events", [5_000, 40_000])
def test_event_volume_near_request(tmp_path, events):
    s = simulate(tmp_path, users=300, items=400, events=events, seed=3)
    assert 0.9 * events <= s["rows"]["events"] <= events * 1.02


def test_bad_arguments_raise_config_error(tmp_path):
    with pytest.raises(ConfigError, match="format"):
        simulate(tmp_path, fmt="xml")
    with pytest.raises(ConfigError, match="users"):
        simulate(tmp_path, users=0)
