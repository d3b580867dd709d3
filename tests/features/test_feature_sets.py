"""Every feature set on the tiny world, with numbers worked out by hand."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from pytest import approx

from features.build import build_features
from tests.features.conftest import NOW


def d(ts: str, half_life_h: float) -> float:
    """Decay weight of an event at ``ts`` seen from NOW."""
    age_h = (NOW - datetime.fromisoformat(ts)).total_seconds() / 3600
    return 0.5 ** (age_h / half_life_h)


def row(frame, **key) -> dict:
    for k, v in key.items():
        frame = frame.filter(frame[k] == v)
    assert frame.height == 1, f"expected one row for {key}, got {frame.height}"
    return frame.row(0, named=True)


@pytest.fixture()
def feats(world):
    return build_features(world, now=NOW)


def test_user_engagement(feats):
    u1 = row(feats["user_engagement"], user_id="u1")
    assert (u1["views_1d"], u1["views_7d"], u1["views_28d"]) == (3, 4, 4)
    assert u1["watch_min_1d"] == approx(35000 / 60000)
    assert u1["watch_min_7d"] == approx(37000 / 60000)
    assert u1["completion_rate_1d"] == approx((0.5 + 1 + 1) / 3)
    assert u1["completion_rate_7d"] == approx((0.5 + 1 + 1 + 0.2) / 4)
    assert u1["like_rate_1d"] == approx(1 / 3) and u1["like_rate_7d"] == approx(1 / 4)
    assert u1["skip_rate_1d"] == 0 and u1["hide_rate_1d"] == 0
    assert (u1["active_days_1d"], u1["active_days_7d"]) == (1, 2)
    assert (u1["sessions_1d"], u1["sessions_7d"]) == (2, 3)
    assert u1["last_active_hours_ago"] == approx(1.0)
    views = [
        "2024-01-05 12:00:00",
        "2024-01-10 10:00:01",
        "2024-01-10 10:20:00",
        "2024-01-10 11:00:00",
    ]
    assert u1["views_decayed"] == approx(sum(d(t, 168) for t in views))
    u2 = row(feats["user_engagement"], user_id="u2")
    assert (u2["views_1d"], u2["skip_rate_1d"], u2["hide_rate_1d"], u2["sessions_1d"]) == (
        1,
        1.0,
        1.0,
        1,
    )
    assert "u3" not in feats["user_engagement"]["user_id"].to_list()


def test_video_engagement(feats):
    ve = feats["video_engagement"]
    assert sorted(ve["item_id"]) == ["i1", "i2"]  # i3 is created after now
    i1 = row(ve, item_id="i1")
    assert (i1["creator_id"], i1["duration_ms"], i1["age_hours"]) == ("c1", 10000, approx(228.0))
    assert (i1["views_1d"], i1["views_7d"], i1["impressions_1d"]) == (2, 3, 1)
    assert i1["completion_rate_1d"] == approx(0.75)
    assert i1["completion_rate_7d"] == approx(1.7 / 3)
    assert i1["like_rate_1d"] == approx(0.5) and i1["skip_rate_1d"] == approx(0.5)
    assert i1["velocity"] == approx(3 / (1 / 6 + 1))
    i2 = row(ve, item_id="i2")
    assert (i2["views_1d"], i2["hide_rate_1d"], i2["age_hours"], i2["velocity"]) == (
        2,
        0.5,
        24.0,
        3.0,
    )
    assert i2["views_decayed"] == approx(
        d("2024-01-10 10:20:00", 24) + d("2024-01-10 03:00:00", 24)
    )


def test_creator_engagement(feats):
    ce = feats["creator_engagement"]
    c1 = row(ce, creator_id="c1")
    assert (c1["items"], c1["followers"], c1["viewers_1d"], c1["views_1d"], c1["views_7d"]) == (
        1,
        1,
        1,
        2,
        3,
    )
    assert c1["engagement_rate_1d"] == approx(0.5) and c1["negative_rate_1d"] == 0
    assert c1["skip_rate_1d"] == approx(0.5)
    c2 = row(ce, creator_id="c2")
    assert (c2["items"], c2["followers"], c2["viewers_1d"], c2["views_1d"]) == (1, 0, 2, 2)
    assert c2["negative_rate_1d"] == approx(0.5) and c2["completion_rate_1d"] == approx(0.75)


def test_user_creator_affinity(feats):
    uc = feats["user_creator_affinity"]
    a = row(uc, user_id="u1", creator_id="c1")
    expected = (
        0.5 * d("2024-01-10 10:00:01", 168)
        + d("2024-01-10 10:01:00", 168)
        + d("2024-01-10 11:00:00", 168)
        + 0.2 * d("2024-01-05 12:00:00", 168)
    )
    assert (
        a["positive"] == approx(expected)
        and a["negative"] == 0
        and a["affinity"] == approx(expected)
    )
    assert (a["views_1d"], a["views_7d"]) == (2, 3)
    b = row(uc, user_id="u2", creator_id="c2")
    assert b["positive"] == approx(0.5 * d("2024-01-10 03:00:00", 168))
    assert b["negative"] == approx(3 * d("2024-01-10 03:05:00", 168))
    assert b["affinity"] < 0 and b["negatives_1d"] == 1
    c = row(uc, user_id="u2", creator_id="c1")  # the follow counts for c1, the skip against it
    assert c["positive"] == approx(3 * d("2024-01-10 03:06:00", 168))
    assert c["negative"] == approx(0.5 * d("2024-01-10 03:10:00", 168))


def test_user_topic_affinity(feats):
    ut = feats["user_topic_affinity"]
    cats, dogs = row(ut, user_id="u1", topic="cats"), row(ut, user_id="u1", topic="dogs")
    i1 = (
        0.5 * d("2024-01-10 10:00:01", 168)
        + d("2024-01-10 10:01:00", 168)
        + d("2024-01-10 11:00:00", 168)
        + 0.2 * d("2024-01-05 12:00:00", 168)
    )
    assert dogs["positive"] == approx(i1)
    assert cats["positive"] == approx(i1 + d("2024-01-10 10:20:00", 168))
    assert (cats["views_1d"], dogs["views_1d"]) == (3, 2)
    assert cats["view_share_1d"] == approx(1.0) and dogs["view_share_1d"] == approx(2 / 3)
    u2dogs = row(ut, user_id="u2", topic="dogs")
    assert u2dogs["negative"] == approx(0.5 * d("2024-01-10 03:10:00", 168))
    assert u2dogs["view_share_1d"] == 0


def test_fatigue(feats):
    fi = row(feats["fatigue_item"], user_id="u2", item_id="i2")
    assert (fi["hides_1d"], fi["hides_28d"], fi["reports_1d"]) == (1, 1, 0)
    assert fi["fatigue"] == approx(d("2024-01-10 03:05:00", 336))
    assert fi["last_negative_hours_ago"] == approx(8 + 55 / 60)
    fc = row(feats["fatigue_creator"], user_id="u2", creator_id="c2")
    assert (fc["hides_7d"], fc["blocks_7d"], fc["fatigue"]) == (1, 0, approx(fi["fatigue"]))
    assert feats["fatigue_item"].height == 1 and feats["fatigue_creator"].height == 1


def test_materialised_tables_carry_as_of(world):
    build_features(world, now=NOW)
    rows = world.execute("SELECT DISTINCT as_of FROM feat_user_engagement").fetchall()
    assert rows == [(NOW,)]
    build_features(world, now=NOW, sets=["fatigue_item"], materialize=False)
    assert world.execute("SELECT count(*) FROM feat_user_engagement").fetchall()[0][0] == 2


def test_lifetime_totals_reach_past_the_longest_window(world):
    """``*_total`` columns count every event before now; the 28-day window does not."""
    from tests.features.conftest import insert_events

    insert_events(world, [
        ("o1", "u1", "2023-11-01 09:30:00", "view", "i2", None, 20000, None),
        ("o2", "u1", "2023-11-01 09:31:00", "share", "i2", None, None, None),
        ("o3", "u1", "2023-11-01 09:32:00", "hide", "i1", None, None, None),
        ("o4", "u2", "2023-11-02 00:00:00", "follow", None, "c2", None, None),
        ("o5", "u2", "2024-01-10 04:00:00", "unfollow", None, "c2", None, None),
    ])
    feats = build_features(world, now=NOW)
    u1 = row(feats["user_engagement"], user_id="u1")
    assert (u1["views_28d"], u1["views_total"]) == (4, 5)
    assert u1["like_rate_total"] == approx(1 / 5)
    assert u1["create_rate_total"] == approx(1 / 5)
    assert u1["negative_rate_total"] == approx(1 / 5)
    assert u1["completion_rate_total"] == approx((0.5 + 1 + 1 + 0.2 + 1) / 5)
    i2 = row(feats["video_engagement"], item_id="i2")
    assert (i2["views_28d"], i2["views_total"]) == (2, 3)
    assert i2["create_rate_total"] == approx(1 / 3)
    assert i2["first_seen_hours_ago"] == approx((NOW - datetime(2023, 11, 1, 10)).days * 24 + 2)
    i1 = row(feats["video_engagement"], item_id="i1")
    assert i1["negative_rate_total"] == approx(1 / 3) and i1["like_rate_total"] == approx(1 / 3)
    uc = feats["user_creator_affinity"]
    assert row(uc, user_id="u1", creator_id="c2")["views_total"] == 2
    assert row(uc, user_id="u1", creator_id="c1")["views_total"] == 3
    assert row(uc, user_id="u2", creator_id="c1")["following"] == 1
    assert row(uc, user_id="u2", creator_id="c2")["following"] == 0  # unfollowed since
    fi = row(feats["fatigue_item"], user_id="u1", item_id="i1")
    assert (fi["hides_28d"], fi["hides_total"], fi["reports_total"]) == (0, 1, 0)


def test_a_failed_check_leaves_every_feature_table_as_it_was(world):
    """The public sets are written in one transaction: one bad set writes none of them."""
    from features.build import run_features
    from features.errors import DataError
    from tests.features.conftest import insert_events

    run_features(world, now=NOW)
    tables = [r[0] for r in world.execute(
        "SELECT table_name FROM duckdb_tables() WHERE table_name LIKE 'feat_%'").fetchall()]
    before = {t: world.execute(f"SELECT count(*), max(as_of) FROM {t}").fetchall()[0]
              for t in tables}
    # A negative watch time written past ingest breaks user_engagement's min-0 check.
    insert_events(world, [("bad", "u3", "2024-01-10 11:30:00", "view", "i1", None, -10**9,
                           None)])
    with pytest.raises(DataError, match="min 0"):
        run_features(world, now=NOW + timedelta(hours=1))
    after = {t: world.execute(f"SELECT count(*), max(as_of) FROM {t}").fetchall()[0]
             for t in tables}
    assert len(tables) >= 8 and after == before
