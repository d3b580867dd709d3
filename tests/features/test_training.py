"""Training sets: graded labels, request groups, and features strictly as of each example."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from pytest import approx

from features.errors import ConfigError, DataError
from features.training import build_training_set, label_events

DAY = datetime(2024, 1, 10)


def test_label_events_grades_best_outcome(world):
    got = {
        (r["user_id"], r["item_id"]): r["label"]
        for r in label_events(world, DAY, DAY + timedelta(days=1)).iter_rows(named=True)
    }
    assert got == {("u1", "i1"): 4, ("u1", "i2"): 3, ("u2", "i2"): 0, ("u2", "i1"): 1}
    old = label_events(world, datetime(2024, 1, 5), datetime(2024, 1, 6))
    assert old.rows() == [("u1", "i1", 2)]  # 2000 of 10000 ms: a partial watch


def test_training_examples_labels_and_groups(world):
    ts = build_training_set(
        world,
        DAY,
        DAY + timedelta(days=1),
        feature_names=[
            "user_engagement.views_7d",
            "user_topic_affinity.affinity",
            "fatigue_item.fatigue",
            "video_engagement.velocity",
        ],
    )
    got = {(r["request_id"], r["item_id"]): r["label"] for r in ts.iter_rows(named=True)}
    assert got == {
        ("u1|h:2024011010", "i1"): 4,  # impression, partial view, like
        ("u1|h:2024011010", "i2"): 3,  # completed
        ("u1|h:2024011011", "i1"): 3,  # seen again an hour later: its own example
        ("u2|s:s1", "i2"): 0,  # hidden
        ("u2|s:s1", "i1"): 1,  # skipped
    }
    assert ts["request_id"].to_list() == sorted(ts["request_id"].to_list())
    assert set(ts["as_of"]) == {DAY}
    u1 = ts.filter(ts["user_id"] == "u1")
    assert u1["user_engagement.views_7d"].to_list() == [1, 1, 1]  # only the Jan 5 view is before
    old = 0.2 * 0.5 ** (108 / 168)  # the Jan 5 view of i1 (cats, dogs), 108 h before the snapshot
    assert u1["user_topic_affinity.affinity"].to_list() == [approx(old)] * 3
    assert ts["fatigue_item.fatigue"].null_count() == ts.height  # the hide is after the snapshot


def test_hourly_snapshots_never_see_the_example_itself(world):
    ts = build_training_set(
        world,
        DAY + timedelta(hours=10),
        DAY + timedelta(hours=12),
        feature_names=["user_engagement.views_1d", "video_engagement.views_1d"],
        every=timedelta(hours=1),
    )
    by = {(r["request_id"], r["item_id"]): r for r in ts.iter_rows(named=True)}
    assert len(by) == 3
    late = by[("u1|h:2024011011", "i1")]
    assert late["as_of"] == datetime(2024, 1, 10, 11)
    assert late["user_engagement.views_1d"] == 2  # 10:00:01 and 10:20; its own 11:00 view is not
    assert late["video_engagement.views_1d"] == 1  # i1's 10:00:01 view only
    early = by[("u1|h:2024011010", "i2")]
    assert early["as_of"] == datetime(2024, 1, 10, 10)
    assert early["user_engagement.views_1d"] == 0
    assert early["video_engagement.views_1d"] == 1  # u2's 03:00 view of i2


def test_bad_inputs(world):
    with pytest.raises(DataError):
        build_training_set(world, DAY, DAY)
    with pytest.raises(ConfigError, match="feature 'nope'"):
        build_training_set(world, DAY, DAY + timedelta(days=1), feature_names=["nope"])
