"""The user's levers over HTTP on a generated world: steering (echo, 422, next request,
restart, DELETE), exclude_ids, hides, check-ins and guardian settings."""

from __future__ import annotations

from datetime import timedelta

import pytest

from features.store import connect
from tests.feed._levers_world import NOW, build_levers_world, share
from tests.service.conftest import ADMIN, READ, iso, make_client


@pytest.fixture()
def world(tmp_path):
    path = tmp_path / "levers.duckdb"
    con = connect(path)
    items = build_levers_world(con)
    con.close()
    return path, items


def _page(c, user, now=NOW, limit=20, **extra):
    r = c.post("/v1/feed", json={"user_id": user, "limit": limit, "now": iso(now), **extra},
               headers=READ)
    assert r.status_code == 200, r.text
    return r.json()


def _ids(page):
    return [i["item_id"] for i in page["items"]]


def test_steering_applies_next_request_survives_restart_and_delete(world):
    path, items = world
    with make_client(path, replay=True) as c:
        base = _ids(_page(c, "adult", limit=40))
        assert share(base, items, "dieting") > 0
        r = c.put("/v1/users/adult/steering", json={"text": "never diet videos, more gaming"},
                  headers=ADMIN)
        assert r.status_code == 200, r.text
        assert r.json()["never"] == ["dieting"] and r.json()["more"] == ["gaming"]
        steered = _ids(_page(c, "adult", limit=40))
        assert share(steered, items, "dieting") == 0
        assert share(steered, items, "gaming") > share(base, items, "gaming")
    with make_client(path, replay=True) as c:  # a restart loads it from DuckDB
        assert _ids(_page(c, "adult", limit=40)) == steered
        r = c.delete("/v1/users/adult/steering", headers=ADMIN)
        assert r.status_code == 200 and r.json()["cleared"] is True
        assert _ids(_page(c, "adult", limit=40)) == base
    with make_client(path, replay=True) as c:
        assert _ids(_page(c, "adult", limit=40)) == base


def test_unusable_steering_is_422_with_an_explanation(world):
    with make_client(world[0], replay=True) as c:
        r = c.put("/v1/users/adult/steering", json={"text": "hello there"}, headers=ADMIN)
        assert r.status_code == 422 and "nothing usable" in r.text
        assert c.put("/v1/users/adult/steering", json={"text": "more pets"},
                     headers=READ).status_code == 403


def test_exclude_ids_are_never_returned(world):
    with make_client(world[0], replay=True) as c:
        first = _ids(_page(c, "adult"))
        again = _ids(_page(c, "adult", exclude_ids=first[:5]))
        assert not set(first[:5]) & set(again) and len(again) == 20


def test_one_hide_halves_similar_items_on_the_next_page(world):
    path, items = world
    with make_client(path, replay=True) as c:
        hidden = _ids(_page(c, "adult"))[0]
        h = items[hidden]
        similar = lambda ids: sum(  # noqa: E731
            items[i]["creator"] == h["creator"] or bool(set(items[i]["topics"]) & set(h["topics"]))
            for i in ids)
        before = similar(_ids(_page(c, "adult", exclude_ids=[hidden])))
        r = c.post("/v1/events", json={"events": [{"event_id": "hide1", "user_id": "adult",
                   "ts": iso(NOW - timedelta(seconds=5)), "type": "hide", "item_id": hidden}]},
                   headers=READ)
        assert r.status_code == 200 and r.json()["accepted"] == 1
        after = _ids(_page(c, "adult"))
        assert hidden not in after and before >= 4
        assert similar(after) <= before / 2


def test_checkin_is_offered_and_its_answer_lowers_budget_and_steers(world):
    path, items = world
    with make_client(path, replay=True) as c:
        ivs = [iv["type"] for iv in _page(c, "adult")["interventions"]]
        assert "checkin" in ivs  # 30 days since the account was created
        r = c.post("/v1/users/adult/checkin", json={"rating": 2, "text": "less dance please",
                                                    "daily_limit_minutes": 30}, headers=ADMIN)
        assert r.status_code == 200, r.text
        got = r.json()
        assert got["applied"]["daily_limit_minutes"] == 30
        assert got["applied"]["steering"]["less"] == ["dance"]
        page = _page(c, "adult")
        assert "checkin" not in [iv["type"] for iv in page["interventions"]]
        r = c.post("/v1/users/adult/checkin", json={"rating": 4, "text": "all good",
                                                    "daily_limit_minutes": 90}, headers=ADMIN)
        assert r.json()["applied"] == {} and len(r.json()["notes"]) == 2
    con = connect(path)
    rows = con.execute("SELECT rating, daily FROM (SELECT rating, "
                       "applied->>'daily_limit_minutes' AS daily, ts FROM user_checkins) "
                       "ORDER BY ts").fetchall()
    con.close()
    assert rows == [(2, "30"), (4, None)]


def test_guardian_settings_turn_off_personalisation_and_continuous_scroll(world):
    path, _ = world
    with make_client(path, replay=True) as c:
        assert c.put("/v1/users/teen/settings", json={"guardian_personalized": False,
                                                      "guardian_session_items": 5},
                     headers=ADMIN).status_code == 200
        page = _page(c, "teen", limit=3)
        types = [iv["type"] for iv in page["interventions"]]
        assert "non_personalized" in types and "end_of_feed" not in types
        assert "end_of_feed" in [iv["type"] for iv in _page(c, "teen", limit=10)["interventions"]]
        watched = _ids(page)
        ev = [{"event_id": f"w{k}", "user_id": "teen", "ts": iso(NOW + timedelta(minutes=k)),
               "type": "view", "item_id": i, "watch_ms": 8000} for k, i in enumerate(watched)]
        c.post("/v1/events", json={"events": ev}, headers=READ)
        t = NOW + timedelta(minutes=4)
        page = _page(c, "teen", now=t, limit=10)
        assert len(page["items"]) == 2
        assert "end_of_feed" in [iv["type"] for iv in page["interventions"]]
        ev = [{"event_id": f"x{k}", "user_id": "teen", "ts": iso(t + timedelta(seconds=k)),
               "type": "skip", "item_id": i} for k, i in enumerate(_ids(page))]
        c.post("/v1/events", json={"events": ev}, headers=READ)
        ended = _page(c, "teen", now=t + timedelta(minutes=1), limit=10)
        assert ended["items"] == [] and ended["interventions"][0]["type"] == "end_of_feed"
        # The next session (after the 30-minute gap) gets a feed again.
        assert len(_page(c, "teen", now=t + timedelta(minutes=40), limit=3)["items"]) == 3
        # The same settings on an adult change nothing: guardians are for minors.
        c.put("/v1/users/adult/settings", json={"guardian_personalized": False,
                                                "guardian_session_items": 1}, headers=ADMIN)
        assert len(_page(c, "adult", limit=10)["items"]) == 10


def test_openapi_documents_the_levers(world):
    with make_client(world[0], replay=True) as c:
        doc = c.get("/openapi.json").json()
    paths = doc["paths"]
    assert {"put", "delete"} <= set(paths["/v1/users/{user_id}/steering"])
    assert "post" in paths["/v1/users/{user_id}/checkin"]
    schemas = doc["components"]["schemas"]
    assert "exclude_ids" in schemas["FeedIn"]["properties"]
    assert {"guardian_personalized", "guardian_session_items"} <= set(
        schemas["SettingsIn"]["properties"])
