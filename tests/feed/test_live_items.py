"""The new-video pool: taste matching, exploration budget then early signals, co-engagement."""

from __future__ import annotations

from datetime import datetime, timedelta

from ranking.feed.live_items import LiveConfig, LiveItems

NOW = datetime(2026, 3, 1, 12)


def _pool(**cfg) -> LiveItems:
    live = LiveItems(LiveConfig(**cfg))
    live.add("pets_new", NOW - timedelta(hours=1), ("pets",), "c1")
    live.add("cars_new", NOW - timedelta(hours=1), ("cars",), "c2")
    live.add("future", NOW + timedelta(hours=1), ("pets",), "c3")  # not servable yet
    live.add("old", NOW - timedelta(days=30), ("pets",), "c4")  # no longer new
    return live


def test_a_viewer_is_matched_with_new_videos_of_their_tastes_first():
    live = _pool(cold_impressions=0)
    got = [i for i, _ in live.matches(NOW, {"pets": 0.8}, {}, [], 10)]
    assert got == ["pets_new"]
    assert live.matches(NOW, {}, {}, [], 10) == []
    # with first looks, the unmatched video comes after the match, far below it
    live = _pool()
    got = live.matches(NOW, {"pets": 0.8}, {}, [], 10)
    assert [i for i, _ in got] == ["pets_new", "cars_new"]
    assert got[1][1] < got[0][1] / 100


def test_every_new_video_gets_its_first_looks_then_must_be_matched():
    """A video no taste points to (no topics, no creator) is still shown, the newest first, to
    ``cold_impressions`` distinct viewers; never what the viewer has seen, never a video not
    yet servable or no longer new; a viewer asking again gets the same first looks."""
    live = LiveItems(LiveConfig(cold_impressions=2))
    for k in range(4):
        live.add(f"v{k}", NOW - timedelta(hours=4 - k))  # v3 is the newest
    live.add("future", NOW + timedelta(hours=1))
    live.add("old", NOW - timedelta(days=30))

    def looks(user, n=2, **kw):
        return [i for i, _ in live.matches(NOW, {}, {}, [], 10, user_id=user, looks=n, **kw)]

    assert looks("a") == ["v3", "v2"]
    assert looks("a", skip={"v3"}) == ["v2", "v1"]
    live.impressed(["v3", "v2"], NOW, "a")
    live.impressed(["v3", "v2"], NOW, "a")  # the same viewer again: still one look each
    assert looks("a") == ["v3", "v2"] and looks("b") == ["v3", "v2"]
    live.impressed(["v3", "v2"], NOW, "b")
    assert looks("c") == ["v1", "v0"]  # v3 and v2 had their two viewers
    assert looks("a") == ["v3", "v2"]  # the same page for a viewer asking again
    live.impressed(["v1", "v0"], NOW, "c")
    live.impressed(["v1", "v0"], NOW, "d")
    assert looks("e") == []  # every first look given
    assert looks("e", 9, ) == []
    assert [i for i, _ in live.matches(NOW + timedelta(hours=2), {}, {}, [], 9,
                                       user_id="e")] == ["future"]
    live.remove("future")
    assert live.matches(NOW + timedelta(hours=2), {}, {}, [], 9, user_id="e") == []


def test_a_new_video_viewers_act_on_rises_for_every_viewer_below_a_taste_match():
    live = _pool(cold_impressions=0)
    live.observe([{"user_id": f"u{k}", "ts": NOW, "type": "like", "item_id": "cars_new"}
                  for k in range(3)], {})
    got = live.matches(NOW, {"pets": 0.8}, {}, [], 10)
    assert [i for i, _ in got] == ["pets_new", "cars_new"]
    assert [i for i, _ in live.matches(NOW, {}, {}, [], 10)] == ["cars_new"]
    assert live.matches(NOW, {}, {}, [], 10, skip={"cars_new"}) == []


def test_after_its_budget_a_new_video_must_earn_its_place():
    live = _pool(explore_budget=10, earn_rate=0.2, cold_impressions=0)
    live.impressed(["pets_new"] * 10, NOW)
    assert live.matches(NOW, {"pets": 1.0}, {}, [], 10) == []  # budget spent, nothing earned
    live.observe([{"user_id": f"u{k}", "ts": NOW, "type": "like", "item_id": "pets_new"}
                  for k in range(3)], {})
    assert [i for i, _ in live.matches(NOW, {"pets": 1.0}, {}, [], 10)] == ["pets_new"]
    assert live.counts["pets_new"].first_impression == NOW


def test_session_co_engagement_links_a_new_video_to_what_early_viewers_liked_before():
    live = _pool()
    for u in ("a", "b"):
        live.observe([{"user_id": u, "ts": NOW, "type": "like", "item_id": "classic"},
                      {"user_id": u, "ts": NOW + timedelta(seconds=1), "type": "like",
                       "item_id": "cars_new"}], {})
    # a viewer with no cars taste who just liked "classic" is offered cars_new
    got = dict(live.matches(NOW, {"pets": 0.1}, {}, ["classic"], 10))
    assert got.get("cars_new", 0) > 0


def test_a_removed_video_leaves_the_pool():
    live = _pool(cold_impressions=0)
    live.remove("pets_new")
    assert live.matches(NOW, {"pets": 1.0}, {}, [], 10) == []
    assert not live.is_new("pets_new", NOW)


def test_exploration_slots_follow_the_share_of_engagement_new_videos_get():
    live = _pool(explore_share_min_positives=10)
    assert live.explore_slots(10) == 1 and live.explore_slots(20) == 2  # too little known
    ev = [{"user_id": f"u{k}", "ts": NOW, "type": "like",
           "item_id": "pets_new" if k < 4 else f"old{k}"} for k in range(20)]
    live.observe(ev, {})
    assert live.explore_slots(10) == 2  # a fifth of the positives went to new videos
    live.observe([{"user_id": f"v{k}", "ts": NOW, "type": "like", "item_id": "cars_new"}
                  for k in range(40)], {})
    assert live.explore_slots(10) == 3  # capped at explore_max_share
