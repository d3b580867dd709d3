"""Issue 16, hole 1: a client-supplied ``now`` must not bend safety.

Without ``--replay`` a ``now`` beyond the clock skew is refused and the rules run on the
server's clock; with it the rules run on the client's ``now``. In both modes the age band is
the younger of the ages at the two clocks. Every age band, every time-based rule, both modes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from features.store import connect
from tests.service.conftest import ADMIN, READ, build_store, iso, make_client

TODAY = datetime.now(UTC).date()
FUTURE = datetime(2040, 6, 1, 12, 0)  # noon UTC: no quiet hours for a UTC viewer
PAST = datetime(2015, 6, 1, 12, 0)  # the teens were children then
RECENT = datetime.combine(TODAY - timedelta(days=30), datetime.min.time()).replace(hour=12)


def _years_ago(years: int, days: int = 0) -> date:
    d = TODAY.replace(year=TODAY.year - years) if (TODAY.month, TODAY.day) != (2, 29) else \
        TODAY.replace(year=TODAY.year - years, day=28)
    return d - timedelta(days=days)


# user -> (birth date, band today). "kid9" is the nine-year-old.
BANDS = {
    "kid9": (_years_ago(9), "child"),
    "teen14": (_years_ago(14), "teen_13_15"),
    "teen17": (_years_ago(17, days=-1), "teen_16_17"),  # turns 18 tomorrow
    "adult30": (_years_ago(30), "adult"),
    "nobirth": (None, "unknown"),
}
POLICY = {"child": "CHILD", "teen_13_15": "TEEN", "teen_16_17": "TEEN", "adult": "ADULT",
          "unknown": "UNKNOWN_AGE"}


def _band_at(birth: date | None, at: date) -> str:
    if birth is None or birth > at:
        return "unknown"
    years = at.year - birth.year - ((at.month, at.day) < (birth.month, birth.day))
    return ("child" if years < 13 else "teen_13_15" if years <= 15 else
            "teen_16_17" if years <= 17 else "adult")


# Users the rule tests write events or settings for, one per test so that the module's two
# apps (built once: building one per test dominated the run) can be shared.
WRITERS = ("teen_dl_replay", "teen_dl_live", "teen_br_replay", "teen_br_live", "adult_qh")


@pytest.fixture(scope="module")
def bands_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("clock") / "svc.duckdb"
    build_store(path)
    con = connect(path)
    users = [(u, b) for u, (b, _) in BANDS.items()]
    users += [(u, _years_ago(30 if u.startswith("adult") else 14)) for u in WRITERS]
    con.executemany("INSERT INTO users (user_id, birth_date, timezone) VALUES (?, ?, 'UTC')",
                    users)
    con.close()
    return path


@pytest.fixture(scope="module")
def live(bands_db):
    with make_client(bands_db) as c:
        c.replay = False
        yield c


@pytest.fixture(scope="module")
def replay(bands_db):
    with make_client(bands_db, replay=True) as c:
        c.replay = True
        yield c


@pytest.fixture(params=["live", "replay"])
def any_client(request):
    return request.getfixturevalue(request.param)


def _feed(client, user: str, now: datetime | str | None = None, limit: int = 20):
    body: dict = {"user_id": user, "limit": limit}
    if now is not None:
        body["now"] = now if isinstance(now, str) else iso(now)
    return client.post("/v1/feed", json=body, headers=READ)


def _explain(client, user: str, now: datetime):
    return client.get("/v1/explain", params={"user_id": user, "item_id": "v01", "now": iso(now)},
                      headers=READ)


def _types(body: dict) -> list[str]:
    return [i["type"] for i in body["interventions"]]


def _server() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


# -- age bands ------------------------------------------------------------------------------
@pytest.mark.parametrize("user", BANDS)
def test_future_now_never_ages_a_viewer(replay, user):
    """The issue's exploit: a nine-year-old with now=2040 got the ADULT policy and 20 items."""
    band = BANDS[user][1]
    r = _feed(replay, user, FUTURE.replace(hour=20))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["policy"] == POLICY[band]
    assert _explain(replay, user, FUTURE).json()["age_band"] == band
    if band == "child":
        assert body["items"] == [] and _types(body) == ["no_feed_child"]


@pytest.mark.parametrize("user", BANDS)
def test_past_now_gives_the_younger_age(replay, user):
    """A replayed past ``now`` is honoured for age only when the viewer was younger then (a
    moment before the birth date does not count: a child must not become 'unknown')."""
    birth, today_band = BANDS[user]
    expected = _band_at(birth, PAST.date())
    if expected == "unknown":
        expected = today_band
    r = _feed(replay, user, PAST)
    assert r.status_code == 200, r.text
    assert r.json()["policy"] == POLICY[expected]
    assert _explain(replay, user, PAST).json()["age_band"] == expected
    assert _band_at(birth, PAST.date()) != "adult" or user == "adult30"


@pytest.mark.parametrize("user", BANDS)
def test_live_mode_refuses_a_now_beyond_the_skew(live, user):
    for now in (FUTURE, PAST, _server() + timedelta(minutes=6), _server() - timedelta(hours=1)):
        r = _feed(live, user, now)
        assert r.status_code == 422, (now, r.text)
        assert r.json()["detail"][0]["loc"] == ["body", "now"]
        assert _explain(live, user, now).status_code == 422
    # Within the skew: served, with the band of today.
    r = _feed(live, user, _server() + timedelta(minutes=2))
    assert r.status_code == 200 and r.json()["policy"] == POLICY[BANDS[user][1]]


def test_teen_turning_18_tomorrow_stays_teen_with_a_near_future_now(any_client):
    """Within the skew, a client clock a few minutes ahead does not move a birthday closer;
    with replay, even a day ahead does not (the server's clock gives the younger age)."""
    ahead = _server() + (timedelta(days=2) if any_client.replay else timedelta(minutes=4))
    r = _feed(any_client, "teen17", ahead)
    assert r.status_code == 200 and r.json()["policy"] == "TEEN"


@pytest.mark.parametrize("now", ["0001-01-01T00:00:00Z", "1969-12-31T23:59:59Z",
                                 "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00",
                                 "2200-01-01T00:00:00Z"])
def test_out_of_range_now_is_422_in_both_modes(any_client, now):
    r = _feed(any_client, "kid9", now)
    assert r.status_code == 422, r.text
    r = any_client.get("/v1/explain", params={"user_id": "kid9", "item_id": "v01", "now": now},
                       headers=READ)
    assert r.status_code == 422, r.text


# -- time-based rules -----------------------------------------------------------------------
def _quiet_window_around(t: datetime, before: int, after: int) -> str:
    a, b = t - timedelta(minutes=before), t + timedelta(minutes=after)
    return f"{a:%H:%M}-{b:%H:%M}"


def test_quiet_hours_replay_honours_future_and_past_now(replay):
    for day in (FUTURE, RECENT):
        night = _feed(replay, "teen14", day.replace(hour=23, minute=30)).json()
        assert night["items"] == [] and _types(night)[0] == "quiet_hours"
        assert _feed(replay, "teen14", day).json()["items"]  # noon


def test_quiet_hours_live_mode_runs_on_the_server_clock(live):
    # A window that ends 2 minutes from now: a client 4 minutes ahead is still in it.
    now = _server()
    window = _quiet_window_around(now, 60, 2)
    assert live.put("/v1/users/adult_qh/settings", headers=ADMIN,
                    json={"quiet_hours": window}).status_code == 200
    body = _feed(live, "adult_qh", now + timedelta(minutes=4)).json()
    assert _types(body)[:1] == ["quiet_hours"], (window, body)
    # And a teen at 23:30 of another day is refused, not served (the night cannot be skipped).
    assert _feed(live, "teen14", FUTURE.replace(hour=23, minute=30)).status_code == 422


def _views(user: str, start: datetime, minutes: int, tag: str) -> list[dict]:
    return [{"event_id": f"{tag}{k}", "user_id": user, "ts": iso(start + timedelta(minutes=k)),
             "type": "view", "item_id": f"v{k % 30:02d}", "watch_ms": 60_000}
            for k in range(minutes)]


def test_daily_limit_replay_past_now_and_future_now(replay):
    start = RECENT.replace(hour=8)
    u = "teen_dl_replay"
    r = replay.post("/v1/events", json={"events": _views(u, start, 61, "d")}, headers=READ)
    assert r.status_code == 200 and r.json()["accepted"] == 61, r.text
    body = _feed(replay, u, start + timedelta(minutes=62)).json()
    assert body["items"] == [] and _types(body)[0] == "daily_limit"
    # The next day (a future now relative to those events) has a fresh budget.
    assert _feed(replay, u, start + timedelta(days=1)).json()["items"]


def test_daily_limit_live_mode_cannot_be_skipped_with_tomorrows_now(live):
    start = _server() - timedelta(minutes=62)
    if start.date() != _server().date():
        pytest.skip("too close to midnight UTC for a same-day budget")
    u = "teen_dl_live"
    r = live.post("/v1/events", json={"events": _views(u, start, 61, "l")}, headers=READ)
    assert r.status_code == 200 and r.json()["accepted"] == 61, r.text
    assert _types(_feed(live, u).json())[0] == "daily_limit"
    assert _feed(live, u, _server() + timedelta(days=1)).status_code == 422
    within = _feed(live, u, _server() + timedelta(minutes=4)).json()
    assert within["items"] == [] and _types(within)[0] == "daily_limit"


def test_break_prompt_replay_honours_past_now(replay):
    start = RECENT.replace(hour=9)
    u = "teen_br_replay"
    replay.post("/v1/events", json={"events": _views(u, start, 25, "b")}, headers=READ)
    assert "break" in _types(_feed(replay, u, start + timedelta(minutes=25)).json())
    # Hours later (a future now for that session) the session is over: no prompt.
    assert "break" not in _types(_feed(replay, u, start + timedelta(hours=5)).json())


def test_break_prompt_live_mode_runs_on_the_server_clock(live):
    start = _server() - timedelta(minutes=26)
    u = "teen_br_live"
    live.post("/v1/events", json={"events": _views(u, start, 25, "m")}, headers=READ)
    assert "break" in _types(_feed(live, u).json())
    assert "break" in _types(_feed(live, u, _server() + timedelta(minutes=4)).json())
    assert _feed(live, u, _server() + timedelta(hours=5)).status_code == 422
