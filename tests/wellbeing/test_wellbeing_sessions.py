"""Usage state: local days, sessions by id and by gap, rolling windows, doomscroll intensity."""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl
import pytest

from wellbeing import UsageState, WellbeingConfig, doomscroll_intensity

CFG = WellbeingConfig()


def _frame(rows):
    return pl.DataFrame(
        rows,
        schema={
            "ts": pl.Datetime("us"),
            "type": pl.String,
            "watch_ms": pl.Int64,
            "session_id": pl.String,
            "topics": pl.List(pl.String),
        },
        orient="row",
    )


def _views(start, n, every_s=60, watch_ms=60_000, kind="view", sid=None, topics=("a",)):
    return [
        (start + timedelta(seconds=every_s * k), kind, watch_ms, sid, list(topics))
        for k in range(n)
    ]


def test_today_is_the_local_calendar_day():
    # Tokyo is UTC+9: 14:00 UTC is 23:00 local, 16:00 UTC is 01:00 the next local day.
    rows = _views(datetime(2026, 6, 1, 14, 0), 10) + _views(datetime(2026, 6, 1, 16, 0), 5)
    s = UsageState.from_events(_frame(rows), datetime(2026, 6, 1, 16, 30), "Asia/Tokyo", CFG)
    assert s.today_minutes(datetime(2026, 6, 1, 16, 30)) == pytest.approx(5)
    utc = UsageState.from_events(_frame(rows), datetime(2026, 6, 1, 16, 30), "UTC", CFG)
    assert utc.today_minutes(datetime(2026, 6, 1, 16, 30)) == pytest.approx(15)
    # The next local day starts at zero.
    assert s.today_minutes(datetime(2026, 6, 2, 15, 30)) == 0


def test_skips_count_their_watch_time_and_future_events_are_ignored():
    now = datetime(2026, 6, 1, 12, 0)
    rows = _views(now - timedelta(minutes=10), 2, kind="skip", watch_ms=30_000)
    rows += _views(now, 3)  # at/after now: ignored
    s = UsageState.from_events(_frame(rows), now, "UTC", CFG)
    assert s.today_minutes(now) == pytest.approx(1.0)


def test_session_from_gaps():
    t = datetime(2026, 6, 1, 10, 0)
    rows = _views(t, 5) + _views(t + timedelta(minutes=40), 10)  # 35-min gap: new session
    now = t + timedelta(minutes=51)
    s = UsageState.from_events(_frame(rows), now, "UTC", CFG)
    assert s.session_minutes(now) == pytest.approx(11)
    assert s.session_minutes(now + timedelta(minutes=40)) == 0  # the gap has passed


def test_session_from_session_id():
    t = datetime(2026, 6, 1, 10, 0)
    rows = _views(t, 5, sid="a") + _views(t + timedelta(minutes=5), 5, sid="b")
    now = t + timedelta(minutes=10)
    s = UsageState.from_events(_frame(rows), now, "UTC", CFG)
    assert s.session_minutes(now) == pytest.approx(5)


def test_incremental_observe_matches_from_events():
    t = datetime(2026, 6, 1, 21, 0)
    rows = _views(t, 30, every_s=20) + _views(
        t + timedelta(minutes=12), 10, kind="skip", watch_ms=2000
    )
    now = t + timedelta(minutes=20)
    batch = UsageState.from_events(_frame(rows), now, "Europe/Berlin", CFG)
    inc = UsageState(tz="Europe/Berlin", cfg=CFG)
    for ts, kind, w, sid, topics in sorted(r for r in rows if r[0] < now):
        inc.observe({"ts": ts, "type": kind, "watch_ms": w, "session_id": sid, "topics": topics})
    inc.advance(now)
    assert inc.today_minutes(now) == pytest.approx(batch.today_minutes(now))
    assert inc.session_minutes(now) == pytest.approx(batch.session_minutes(now))
    assert doomscroll_intensity(inc, CFG) == pytest.approx(doomscroll_intensity(batch, CFG))


def test_sensitive_views_roll_over_24h():
    now = datetime(2026, 6, 2, 12, 0)
    rows = _views(now - timedelta(hours=25), 3, topics=("sadness",))
    rows += _views(now - timedelta(hours=2), 2, topics=("dieting", "food"))
    rows += _views(now - timedelta(hours=1), 4, topics=("cooking",))
    s = UsageState.from_events(_frame(rows), now, "UTC", CFG)
    assert s.sensitive_views_24h(now) == 2


def test_doomscroll_low_for_calm_use_high_for_fast_narrow_late_skipping():
    calm_t = datetime(2026, 6, 1, 15, 0)
    calm = _views(calm_t, 5, every_s=120, topics=("a",))
    calm = [(ts, k, w, s, [f"t{i}"]) for i, (ts, k, w, s, _) in enumerate(calm)]
    s = UsageState.from_events(_frame(calm), calm_t + timedelta(minutes=10), "UTC", CFG)
    assert doomscroll_intensity(s, CFG) < CFG.doomscroll_medium

    late = datetime(2026, 6, 1, 0, 0)  # midnight UTC: late night
    rows = _views(late, 300, every_s=10, kind="skip", watch_ms=3000, topics=("same",))
    s = UsageState.from_events(_frame(rows), late + timedelta(minutes=50), "UTC", CFG)
    assert doomscroll_intensity(s, CFG) >= CFG.doomscroll_high
    assert 0.0 <= doomscroll_intensity(s, CFG) <= 1.0


def test_no_live_session_means_zero_intensity():
    s = UsageState(cfg=CFG).advance(datetime(2026, 6, 1))
    assert doomscroll_intensity(s, CFG) == 0.0
