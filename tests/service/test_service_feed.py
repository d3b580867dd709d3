"""Feed behaviour over HTTP: policies, limits, quiet hours, consent revocation, live events."""

from __future__ import annotations

from datetime import timedelta

from tests.service.conftest import ADMIN, DAY, READ, feed, iso


def ids(body: dict) -> list[str]:
    return [i["item_id"] for i in body["items"]]


def test_feed_shape_and_adult_policy(client):
    body = feed(client, "adult1", DAY)
    assert set(body) >= {"items", "interventions", "model_version", "policy_version"}
    assert body["model_version"] is None  # no model yet: popularity fallback
    assert body["policy"] == "ADULT"
    assert 0 < len(body["items"]) <= 20
    assert {"item_id", "score", "reasons"} <= set(body["items"][0])
    assert "cam1" in ids(feed(client, "adult1", DAY, limit=50))


def test_unknown_user_gets_teen_policy_and_cold_start(client):
    body = feed(client, "never-seen", DAY, limit=50)
    assert body["policy"] == "UNKNOWN_AGE"
    assert body["items"], "cold start serves popular videos"
    assert "mature1" not in ids(body)


def test_teen_never_sees_mature(client):
    body = feed(client, "teen1", DAY, limit=50)
    assert body["policy"] == "TEEN" and "mature1" not in ids(body)
    assert "mature1" in ids(feed(client, "adult1", DAY, limit=50))


def test_teen_past_daily_limit_gets_empty_feed(client):
    start = DAY - timedelta(hours=2)
    events = [{"event_id": f"t{k}", "user_id": "teen1", "ts": iso(start + timedelta(minutes=k)),
               "type": "view", "item_id": f"v{k % 30:02d}", "watch_ms": 60_000}
              for k in range(61)]
    r = client.post("/v1/events", json={"events": events}, headers=READ)
    assert r.status_code == 200 and r.json()["accepted"] == 61, r.text
    body = feed(client, "teen1", start + timedelta(minutes=62))
    assert body["items"] == []
    assert body["interventions"][0]["type"] == "daily_limit"  # feed-ending ones come first
    assert "daily" in body["interventions"][0]["message"]


def test_teen_at_2330_local_gets_quiet_hours(client):
    # 23:30 in Tokyo is 14:30 UTC.
    body = feed(client, "teen_tokyo", DAY.replace(hour=14, minute=30))
    assert body["items"] == [] and body["interventions"][0]["type"] == "quiet_hours"
    assert feed(client, "teen_tokyo", DAY.replace(hour=3))["items"]  # 12:00 in Tokyo


def test_revoked_cameo_disappears_on_next_request(client):
    assert "cam1" in ids(feed(client, "adult1", DAY, limit=50))
    r = client.post("/v1/consents", headers=ADMIN, json={
        "subject_id": "s1", "status": "revoked", "audience": None,
        "ts": iso(DAY - timedelta(hours=1))})
    assert r.status_code == 200, r.text
    assert "cam1" not in ids(feed(client, "adult1", DAY, limit=50))


def test_posted_views_are_filtered_as_seen_and_hides_apply(client):
    first = ids(feed(client, "adult1", DAY, limit=5))
    events = [{"event_id": "s-view", "user_id": "adult1", "ts": iso(DAY - timedelta(minutes=5)),
               "type": "view", "item_id": first[0], "watch_ms": 3000},
              {"event_id": "s-block", "user_id": "adult1", "ts": iso(DAY - timedelta(minutes=4)),
               "type": "block", "target_user_id": "c3"}]
    assert client.post("/v1/events", json={"events": events}, headers=READ).json()["accepted"] == 2
    body = feed(client, "adult1", DAY, limit=50)
    assert first[0] not in ids(body)
    assert not [i for i in ids(body) if i in {f"v{n:02d}" for n in range(3, 30, 10)}]


def test_settings_take_effect(client):
    r = client.put("/v1/users/adult1/settings", headers=ADMIN,
                   json={"daily_limit_minutes": 1, "quiet_hours": "11:00-13:00"})
    assert r.status_code == 200, r.text
    assert r.json()["settings"]["daily_limit_minutes"] == 1
    body = feed(client, "adult1", DAY)
    assert body["items"] == [] and body["interventions"][0]["type"] == "quiet_hours"
    assert client.put("/v1/users/adult1/settings", headers=ADMIN,
                      json={"quiet_hours": "25:00-01:00"}).status_code == 422


def test_reset_and_explain(client):
    r = client.post("/v1/users/adult1/reset", headers=ADMIN, json={})
    assert r.status_code == 200 and r.json()["user_id"] == "adult1"
    r = client.get("/v1/explain", params={"user_id": "teen1", "item_id": "mature1",
                                          "now": iso(DAY)}, headers=READ)
    assert r.status_code == 200, r.text
    assert r.json()["in_feed"] is False and "minor_maturity" in r.text
