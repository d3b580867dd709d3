"""As-of semantics: events at or after now never count, and resets are honoured."""

from __future__ import annotations

from datetime import timedelta

from polars.testing import assert_frame_equal

from features.build import build_features, default_now
from tests.features.conftest import NOW, insert_events


def _sorted(frames):
    return {k: v.sort(v.columns[:2]) for k, v in frames.items()}


def test_events_at_or_after_now_change_nothing(world):
    before = _sorted(build_features(world, now=NOW))
    insert_events(
        world,
        [
            ("f1", "u1", NOW, "view", "i1", None, 9000, None),  # exactly at now: excluded
            ("f2", "u1", NOW + timedelta(hours=1), "report", "i2", None, None, None),
            ("f3", "u3", NOW + timedelta(days=2), "view", "i3", None, 100, "z"),
            ("f4", "u2", NOW, "unfollow", None, "c1", None, "s1"),
            ("f5", "u9", NOW + timedelta(microseconds=1), "hide", "i9", None, None, None),
        ],
    )
    after = _sorted(build_features(world, now=NOW))
    assert before.keys() == after.keys()
    for name in before:
        assert_frame_equal(before[name], after[name], check_row_order=True)


def test_default_now_counts_the_latest_event(world):
    assert default_now(world) == NOW.replace(hour=11) + timedelta(microseconds=1)
    ue = build_features(world, sets=["user_engagement"])["user_engagement"]
    assert ue.filter(ue["user_id"] == "u1")["views_1d"].item() == 3


def test_reset_forgets_personalization_before_it(world):
    world.execute("INSERT INTO user_resets VALUES ('u1', '2024-01-10 10:30:00')")
    world.execute("INSERT INTO user_resets VALUES ('u1', '2024-01-12 00:00:00')")  # after now
    f = build_features(world, now=NOW)
    ue = f["user_engagement"].filter(f["user_engagement"]["user_id"] == "u1").row(0, named=True)
    assert (ue["views_7d"], ue["sessions_7d"], ue["like_rate_7d"]) == (1, 1, 0.0)
    uc = f["user_creator_affinity"].filter(f["user_creator_affinity"]["user_id"] == "u1")
    assert uc["creator_id"].to_list() == ["c1"] and uc["views_28d"].to_list() == [1]
    ut = f["user_topic_affinity"].filter(f["user_topic_affinity"]["user_id"] == "u1")
    assert sorted(ut["topic"]) == ["cats", "dogs"] and ut["views_28d"].to_list() == [1, 1]
    us = f["user_sessions"].filter(f["user_sessions"]["user_id"] == "u1")
    assert us["sessions_28d"].to_list() == [1]
    # aggregate (video/creator) features still count u1's history; u2 is untouched
    assert (
        f["video_engagement"].filter(f["video_engagement"]["item_id"] == "i1")["views_7d"].item()
        == 3
    )
    assert (
        f["user_engagement"].filter(f["user_engagement"]["user_id"] == "u2")["views_1d"].item() == 1
    )
