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


def _matches_by_sorting(live, now, topics, creators, recent, n, per_key=50, skip=frozenset(),
                        user_id=None, looks=5):
    """``LiveItems.matches`` as it was before ``nlargest``/``nsmallest`` and the per-request
    topic sums: every taste sorted, every match scored topic by topic, all of them sorted (the
    reference for the test below)."""
    import math
    from collections import Counter

    from ranking.feed.live_items import FIRST_LOOK_SCORE

    co = Counter()
    for i in recent[-live.cfg.co_window:]:
        nb = live.co.get(i)
        if nb:
            total = math.sqrt(sum(nb.values()))
            for j, k in nb.items():
                co[j] += k / total
    pool = {j for j in co if j in live.born}
    for t, _ in sorted(topics.items(), key=lambda kv: -kv[1])[:8]:
        pool.update(live._newest(live.by_topic.get(t, []), now, per_key))
    for c, _ in sorted(creators.items(), key=lambda kv: -kv[1])[:20]:
        pool.update(live._newest(live.by_creator.get(c, []), now, per_key))
    pool.update(live._servable(live._rising_items(), now, per_key, skip))
    pool.difference_update(skip)
    scored = []
    for j in pool:
        if not live.is_new(j, now):
            continue
        c = live.counts.get(j)  # exploration: the budget, then the video's own early rate
        w = 1.0
        if c is not None and c.impressions >= live.cfg.explore_budget:
            rate = c.positives / max(c.impressions, 1)
            w = rate / live.cfg.earn_rate if rate >= live.cfg.earn_rate else 0.0
        if w <= 0:
            continue
        tps, cr = live._keys.get(j, ((), None))
        taste = 0
        for t in tps:
            taste += topics.get(t, 0.0)
        taste += 2.0 * creators.get(cr, 0.0)
        c = live.counts.get(j)
        rise = (live.cfg.rising_weight * c.positives / (c.positives + c.impressions / 10 + 1)
                if c is not None and c.positives else 0.0)
        score = w * (co.get(j, 0.0) + taste + rise)
        if score > 0:
            scored.append((j, score))
    scored.sort(key=lambda s: (-s[1], s[0]))
    del scored[n:]
    got = {j for j, _ in scored}
    return scored + [(j, FIRST_LOOK_SCORE)
                     for j in live._first_looks(now, looks, skip, got, user_id)]


def test_matches_equal_sorting_every_taste_and_match():
    import random

    rng = random.Random(3)
    topics = [f"t{k}" for k in range(12)]
    for trial in range(60):
        live = LiveItems(LiveConfig(explore_budget=5, cold_impressions=trial % 3))
        for k in range(rng.randint(0, 400)):
            live.add(f"v{k:03d}", NOW - timedelta(hours=rng.uniform(-5, 24 * 9)),
                     rng.sample(topics, rng.randint(0, 3 if trial % 4 else 7)),
                     rng.choice([None, *[f"c{m}" for m in range(30)]]))
        for v in rng.sample(sorted(live.born), min(len(live.born), rng.randint(0, 30))):
            if rng.random() < 0.5:  # removed; its slot goes to the next video added
                live.remove(v)
            else:  # posted again with other facts (a catalog correction)
                live.add(v, NOW - timedelta(hours=rng.uniform(-5, 24 * 9)),
                         rng.sample(topics, rng.randint(0, 4)), rng.choice([None, "c1"]))
        for k in range(rng.randint(0, 20)):
            live.add(f"late{k}", NOW - timedelta(hours=rng.uniform(0, 30)),
                     rng.sample(topics, rng.randint(0, 2)), None)
        pooled = sorted(live.born)
        for k in range(rng.randint(0, 300)):  # impressions and actions: budgets and rises
            live.impressed([rng.choice(pooled)], NOW, f"u{k % 7}") if pooled else None
        events = [{"item_id": rng.choice(pooled), "user_id": f"u{rng.randint(0, 5)}",
                   "type": rng.choice(("like", "share", "view")), "ts": NOW}
                  for _ in range(rng.randint(0, 80))] if pooled else []
        live.observe(events, {})
        for v in rng.sample(pooled, min(len(pooled), rng.randint(0, 10))):
            # Re-posted after impressions and actions: its counters stay with it.
            live.add(v, NOW - timedelta(hours=rng.uniform(0, 48)), rng.sample(topics, 2), "c2")
        # Shares on a coarse grid: equal tastes and equal scores, ties to break.
        # Odd trials: shares off the grid, where the order of additions shows in the last bit.
        share = ((lambda: rng.randint(0, 4) / 8) if trial % 2 == 0
                 else (lambda: rng.randint(0, 4) / 8 + rng.random() / 7))
        tastes = {t: share() for t in rng.sample(topics, rng.randint(0, 12))}
        liked = {f"c{m}": share() for m in rng.sample(range(30), rng.randint(0, 30))}
        recent = rng.sample(pooled, min(len(pooled), rng.randint(0, 5)))
        skip = frozenset(rng.sample(pooled, min(len(pooled), rng.randint(0, 40))))
        n = rng.randint(0, 25)
        assert live.matches(NOW, tastes, liked, recent, n, skip=skip, user_id="u1") == (
            _matches_by_sorting(live, NOW, tastes, liked, recent, n, skip=skip, user_id="u1"))
