"""The steering parser (English -> more/less/never/mood), its store with history, the marts,
and the session rules of check-ins and guardian settings (verdicts and reasons)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from features.errors import DataError
from features.marts import create_marts
from tests.wellbeing._wellbeing_world import CFG, NOW, item, viewer
from wellbeing import Reason, UsageState, session_verdict
from wellbeing.levers_store import (
    clear_steering,
    load_steerings,
    save_checkin,
    save_steering,
)
from wellbeing.steering import Steering, parse_steering, steer_direction

TOPICS = ("pets", "animals", "sports", "dance", "dieting", "horror", "asmr", "nature", "news",
          "body_image", "comedy", "memes")


def _p(text: str, **kw) -> dict:
    return parse_steering(text, TOPICS, ["c7", "creatorX"], NOW, **kw).echo()


@pytest.mark.parametrize("text,more,less,never", [
    ("more pets and sports please", ["pets", "sports"], [], []),
    ("less dance", [], ["dance"], []),
    ("I never want to see diet videos again", [], ["dieting"], []),
    ("more dogs, less dancing but no news", ["animals", "pets"], ["dance"], ["news"]),
    ("I'm tired of body image stuff; show me c7", ["creator:c7"], ["body_image"], []),
    ("Don\u2019t show me horror. More memes!", ["memes"], [], ["horror"]),
])
def test_parser_understands_polarity_synonyms_and_creators(text, more, less, never):
    got = _p(text)
    if text.startswith("I never"):
        never, less = ["dieting"], []
    assert (got["more"], got["less"], got["never"]) == (more, less, never), got


def test_mood_with_expiry_in_the_users_timezone():
    got = _p("something calm tonight", tz="Europe/Berlin")  # NOW is 12:00 UTC = 14:00 Berlin
    assert got["mood"] == "calm" and "asmr" in got["mood_topics"]
    assert got["expires"] == "2026-06-16T04:00:00"  # 06:00 Berlin tomorrow
    assert _p("something funny for 2 hours")["expires"] == (NOW + timedelta(hours=2)).isoformat()
    s = parse_steering("something cozy", TOPICS, [], NOW, mood_hours=12)
    assert s.at(NOW + timedelta(hours=13)).mood is None and s.at(NOW).mood == "cozy"


def test_text_saying_nothing_usable_is_an_error_that_explains():
    with pytest.raises(DataError, match="nothing usable.*more.*less.*never"):
        parse_steering("hello, how are you", TOPICS, [], NOW)


def test_never_beats_less_beats_more_and_directions_are_bounded():
    s = parse_steering("more pets and dance, less dance, never pets", TOPICS, [], NOW)
    assert s.never == {"topic:pets"} and s.less == {"topic:dance"} and not s.more
    both = Steering(more=frozenset({"topic:cooking", "creator:c1"}))
    assert steer_direction(both, item())[:2] == ("more", 1.0)
    assert steer_direction(s, item(topics=("pets",)))[0] == "never"


def test_store_keeps_history_and_clearing(con):
    s1 = parse_steering("more pets", TOPICS, [], NOW)
    s2 = parse_steering("less pets", TOPICS, [], NOW)
    save_steering(con, "u1", s1, NOW)
    save_steering(con, "u1", s2, NOW + timedelta(minutes=1))
    assert load_steerings(con)["u1"] == s2
    assert clear_steering(con, "u1", NOW + timedelta(minutes=2))
    assert load_steerings(con) == {}
    assert con.execute("SELECT count(*) FROM user_steering").fetchall()[0][0] == 3


def test_marts_count_steering_users_and_checkin_answers(con):
    save_steering(con, "u1", parse_steering("more pets, never news", TOPICS, [], NOW), NOW)
    save_steering(con, "u2", parse_steering("more pets", TOPICS, [], NOW), NOW)
    clear_steering(con, "u2", NOW + timedelta(hours=1))
    save_checkin(con, "u1", NOW, 2, "less dance", {"steering": {"less": ["dance"]}})
    create_marts(con)
    rows = {(k, t): (now, ever) for k, t, now, ever in con.execute(
        "SELECT kind, target, users_now, users_ever FROM mart_steering").fetchall()}
    assert rows == {("more", "pets"): (1, 2), ("never", "news"): (1, 1)}
    got = con.execute("SELECT answers, low_ratings, steered FROM mart_checkins").fetchall()
    assert got == [(1, 1, 1)]


def _rules(ctx, now=NOW):
    v = session_verdict(ctx, now, CFG)
    return {r.rule: r.action.reason for r in v.results if r.action is not None}


def test_checkin_rules_fire_with_their_reason():
    assert "checkin_periodic" not in _rules(viewer("adult"))  # no history: not due
    due = viewer("adult", created_at=NOW - timedelta(days=8))
    assert _rules(due)["checkin_periodic"] == Reason.CHECKIN
    done = replace(due, last_checkin=NOW - timedelta(days=1))
    assert "checkin_periodic" not in _rules(done)
    u = UsageState(tz="UTC", cfg=CFG)
    for k in range(70):
        u.observe({"ts": NOW - timedelta(minutes=70 - k), "type": "view", "watch_ms": 50_000})
    assert _rules(viewer("adult", usage=u))["checkin_long_session"] == Reason.CHECKIN


def test_guardian_rules_tighten_minors_only_with_reasons():
    u = UsageState(tz="UTC", cfg=CFG)
    for k in range(5):
        u.observe({"ts": NOW - timedelta(minutes=5 - k), "type": "view", "watch_ms": 9000})
    teen = viewer("teen_13_15", usage=u, guardian_personalized=False, guardian_session_items=5)
    got = _rules(teen)
    assert got["guardian_scroll_limit"] == Reason.GUARDIAN_SCROLL_LIMIT
    assert got["guardian_no_personalization"] == Reason.GUARDIAN_NO_PERSONALIZATION
    adult = viewer("adult", usage=u, guardian_personalized=False, guardian_session_items=5)
    assert not {"guardian_scroll_limit", "guardian_no_personalization"} & set(_rules(adult))
    # The next session starts the count again.
    assert "guardian_scroll_limit" not in _rules(teen, NOW + timedelta(minutes=45))


def test_steering_value_round_trips_through_json():
    s = parse_steering("more pets, never c7, something calm", TOPICS, ["c7"], NOW)
    assert Steering.from_json(s.to_json()) == s
    assert datetime.fromisoformat(s.echo()["expires"]) > NOW


def test_a_checkin_adds_to_the_steering_in_force():
    old = parse_steering("never news, more dance, something calm", TOPICS, [], NOW)
    new = parse_steering("less dance, more pets", TOPICS, [], NOW)
    got = old.merged(new).echo()
    assert (got["more"], got["less"], got["never"], got["mood"]) == (
        ["pets"], ["dance"], ["news"], "calm")
