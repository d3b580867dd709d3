"""Session interventions: no feed for children, daily limit, quiet hours, breaks, doomscroll."""

from __future__ import annotations

from datetime import datetime, timedelta

from _wellbeing_world import CFG, viewer

from wellbeing import Reason, UsageState, session_interventions


def _usage(now, minutes, tz="UTC", every_s=60, session_id=None):
    s = UsageState(tz=tz, cfg=CFG)
    start = now - timedelta(minutes=minutes)
    for k in range(int(minutes * 60 / every_s)):
        s.observe(
            {
                "ts": start + timedelta(seconds=every_s * k),
                "type": "view",
                "watch_ms": every_s * 1000,
                "session_id": session_id,
                "topics": [f"t{k % 9}"],
            }
        )
    return s.advance(now)


def _types(ctx, now):
    return [i.type for i in session_interventions(ctx, now, CFG)]


NOON = datetime(2026, 6, 15, 12, 0)


def test_child_gets_no_feed():
    out = session_interventions(viewer("child"), NOON, CFG)
    assert out[0].type == "no_feed_child" and out[0].ends_feed
    assert out[0].reason is Reason.NO_FEED_CHILD


def test_teen_at_61_minutes_hits_daily_limit():
    # Spread over two sessions so only the limit fires, not a break.
    s = _usage(NOON - timedelta(hours=3), 31)
    for k in range(30):
        s.observe({"ts": NOON - timedelta(minutes=30 - k), "type": "view", "watch_ms": 60_000})
    ctx = viewer("teen_13_15", usage=s.advance(NOON + timedelta(minutes=10)))
    out = session_interventions(ctx, NOON + timedelta(minutes=10), CFG)
    assert out[0].type == "daily_limit" and out[0].ends_feed and out[0].reason is Reason.DAILY_LIMIT


def test_teen_under_limit_and_adult_without_limit_get_nothing():
    assert _types(viewer("teen_16_17", usage=_usage(NOON, 15)), NOON) == []
    assert _types(viewer("adult", usage=_usage(NOON, 15)), NOON) == []
    s = _usage(NOON - timedelta(hours=2), 29)
    s.observe({"ts": NOON - timedelta(hours=1), "type": "view", "watch_ms": 200 * 60_000})
    assert "daily_limit" not in _types(viewer("adult", usage=s.advance(NOON)), NOON)


def test_unknown_age_gets_teen_limits():
    assert _types(viewer("unknown", usage=_usage(NOON, 21)), NOON) == ["break"]


def test_adult_limit_only_when_set():
    s = _usage(NOON - timedelta(hours=2), 29)
    s.observe({"ts": NOON - timedelta(hours=1), "type": "view", "watch_ms": 40 * 60_000})
    ctx = viewer("adult", usage=s.advance(NOON), daily_limit_minutes=30)
    assert _types(ctx, NOON) == ["daily_limit"]


def test_teen_at_2330_local_gets_quiet_hours():
    # 03:30 UTC is 23:30 in New York (EDT, UTC-4).
    now = datetime(2026, 6, 16, 3, 30)
    ctx = viewer("teen_13_15", timezone="America/New_York")
    out = session_interventions(ctx, now, CFG)
    assert out[0].type == "quiet_hours" and out[0].ends_feed
    # 23:30 UTC is 19:30 in New York: no quiet hours.
    assert _types(ctx, datetime(2026, 6, 15, 23, 30)) == []


def test_21_continuous_minutes_gives_a_break_that_does_not_end_the_feed():
    out = session_interventions(viewer("teen_13_15", usage=_usage(NOON, 21)), NOON, CFG)
    assert [(i.type, i.ends_feed, i.reason) for i in out] == [("break", False, Reason.BREAK)]
    assert _types(viewer("teen_13_15", usage=_usage(NOON, 19)), NOON) == []


def test_adult_break_is_opt_in():
    assert _types(viewer("adult", usage=_usage(NOON, 25)), NOON) == []
    assert _types(viewer("adult", usage=_usage(NOON, 25), break_after_minutes=20), NOON) == [
        "break"
    ]


def test_parent_managed_can_tighten_but_not_loosen():
    s = _usage(NOON, 29)  # one 29-min session, 29 minutes today
    loose = viewer(
        "teen_13_15",
        usage=s,
        parent_managed=True,
        daily_limit_minutes=600,
        break_after_minutes=120,
        quiet_hours="01:00-02:00",
    )
    assert _types(loose, NOON) == ["break"]  # the 20-min teen break still applies
    assert "quiet_hours" in _types(loose, datetime(2026, 6, 15, 23, 0))  # 22-07 still applies
    assert "quiet_hours" in _types(loose, datetime(2026, 6, 15, 1, 30))  # and theirs too
    tight = viewer("teen_13_15", usage=s, parent_managed=True, daily_limit_minutes=25)
    assert _types(tight, NOON)[0] == "daily_limit"


def test_teen_without_parent_may_set_their_own_quiet_hours():
    ctx = viewer("teen_16_17", quiet_hours="23:00-06:00")
    assert _types(ctx, datetime(2026, 6, 15, 22, 30)) == []
    assert _types(ctx, datetime(2026, 6, 15, 23, 30)) == ["quiet_hours"]


def test_invalid_quiet_hours_setting_falls_back_to_teen_default():
    ctx = viewer("teen_16_17", quiet_hours="late")
    assert _types(ctx, datetime(2026, 6, 15, 23, 0)) == ["quiet_hours"]


def test_doomscroll_high_gives_break_medium_diversify():
    late = datetime(2026, 6, 15, 0, 50)
    s = UsageState(tz="UTC", cfg=CFG)
    for k in range(300):
        s.observe(
            {
                "ts": late - timedelta(seconds=10 * (300 - k)),
                "type": "skip",
                "watch_ms": 2000,
                "topics": ["same"],
            }
        )
    out = session_interventions(viewer("adult", usage=s.advance(late)), late, CFG)
    # A 50-minute late-night session also offers a wellbeing check-in (its own test).
    assert [(i.type, i.reason) for i in out if i.type != "checkin"] == [
        ("break", Reason.DOOMSCROLL_BREAK)]

    mid = datetime(2026, 6, 15, 15, 0)
    s = UsageState(tz="UTC", cfg=CFG)
    for k in range(120):
        s.observe(
            {
                "ts": mid - timedelta(seconds=10 * (120 - k)),
                "type": "view",
                "watch_ms": 8000,
                "topics": ["same"],
            }
        )
    out = session_interventions(viewer("adult", usage=s.advance(mid)), mid, CFG)
    assert [(i.type, i.reason) for i in out] == [("diversify", Reason.DOOMSCROLL_DIVERSIFY)]
