"""Access control, bad input, event batches, metrics, health, reload and the serve command."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from features.errors import ConfigError
from flows.commands.serve import is_loopback
from ranking.service import load_tokens
from tests.service.conftest import ADMIN, DAY, READ, iso


def test_healthz_is_open(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json()["status"] == "ok"


@pytest.mark.parametrize("method,path,body", [
    ("post", "/v1/feed", {"user_id": "u"}), ("post", "/v1/events", {"events": []}),
    ("get", "/v1/explain?user_id=u&item_id=v00", None), ("get", "/metrics", None),
    ("put", "/v1/users/u/settings", {}), ("post", "/v1/admin/reload", None),
])
def test_missing_or_wrong_token_is_401(client, method, path, body):
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic rtok"}):
        r = client.request(method, path, json=body, headers=headers)
        assert r.status_code == 401, (path, headers, r.text)


@pytest.mark.parametrize("method,path,body", [
    ("put", "/v1/users/u/settings", {"personalized": False}),
    ("post", "/v1/consents", {"subject_id": "s1", "status": "revoked"}),
    ("post", "/v1/users/u/reset", {}), ("post", "/v1/admin/reload", None),
])
def test_user_changes_need_the_admin_token(client, method, path, body):
    assert client.request(method, path, json=body, headers=READ).status_code == 403
    assert client.request(method, path, json=body, headers=ADMIN).status_code == 200


def test_admin_token_reads_too(client):
    assert client.post("/v1/feed", json={"user_id": "u"}, headers=ADMIN).status_code == 200


def test_tokens_never_reach_the_logs(client, caplog):
    caplog.set_level(logging.DEBUG)
    client.post("/v1/feed", json={"user_id": "u"}, headers=READ)
    client.post("/v1/feed", json={"user_id": "u"}, headers={"Authorization": "Bearer wrongtok"})
    client.post("/v1/admin/reload", headers=ADMIN)
    text = caplog.text + "".join(repr(r.args) for r in caplog.records)
    assert "rtok" not in text and "atok" not in text and "wrongtok" not in text
    assert "set" in repr(client.app.state.service.cfg.tokens)  # repr hides the values


def test_tokens_from_files(tmp_path):
    (tmp_path / "t").write_text("s3cret\n")
    t = load_tokens({"FEEDWELL_TOKEN_FILE": str(tmp_path / "t")})
    assert t.read == b"s3cret" and t.admin is None and t.enabled
    assert not load_tokens({}).enabled
    with pytest.raises(ConfigError):
        load_tokens({"FEEDWELL_TOKEN": "a", "FEEDWELL_TOKEN_FILE": str(tmp_path / "t")})


@pytest.mark.parametrize("body", [
    {"user_id": "u", "limit": 0}, {"user_id": "u", "limit": 201}, {"user_id": "u", "limit": "x"},
    {"user_id": ""}, {"user_id": 5}, {}, {"user_id": "u", "now": "yesterday"},
    {"user_id": "u", "extra": 1}, [1, 2],
])
def test_bad_feed_requests_are_4xx(client, body):
    r = client.post("/v1/feed", json=body, headers=READ)
    assert r.status_code == 422, r.text
    assert r.json()["detail"]


def test_malformed_json_is_4xx_and_service_stays_healthy(client):
    r = client.post("/v1/feed", content=b"{not json", headers={**READ,
                                                            "Content-Type": "application/json"})
    assert r.status_code == 400 and "malformed JSON" in r.json()["detail"]
    assert client.post("/v1/events", content=b"[", headers=READ).status_code == 415
    assert client.get("/healthz").status_code == 200


def test_mixed_event_batch_is_split_with_reasons(client):
    t = iso(DAY - timedelta(hours=1))
    events = [
        {"event_id": "ok1", "user_id": "adult1", "ts": t, "type": "view", "item_id": "v01",
         "watch_ms": 1000},
        {"event_id": "bad1", "user_id": "adult1", "ts": t, "type": "dance", "item_id": "v01"},
        {"event_id": "bad2", "user_id": "adult1", "ts": "soon", "type": "view", "item_id": "v01"},
        {"event_id": "bad3", "user_id": "adult1", "ts": t, "type": "view", "item_id": "v01",
         "watch_ms": -1},
        {"event_id": "bad4", "user_id": "adult1", "ts": "2999-01-01T00:00:00Z", "type": "view",
         "item_id": "v01"},
        {"event_id": "bad5", "ts": t, "type": "view", "item_id": "v01"},
        {"event_id": "bad6", "user_id": "adult1", "ts": t, "type": "follow"},
        {"event_id": "ok2", "user_id": "adult1", "ts": t, "type": "like", "item_id": "v02"},
        {"event_id": "ok1", "user_id": "adult1", "ts": t, "type": "view", "item_id": "v09"},
    ]
    r = client.post("/v1/events", json={"events": events}, headers=READ)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["accepted"] == 2
    assert body["rejected"] == [
        {"index": 1, "reason": "unknown_event_type"}, {"index": 2, "reason": "bad_ts"},
        {"index": 3, "reason": "negative_watch_ms"}, {"index": 4, "reason": "future_ts"},
        {"index": 5, "reason": "missing_user_id"}, {"index": 6, "reason": "missing_target_user_id"},
        {"index": 8, "reason": "conflicting_event_id"},
    ]
    # Idempotent by event_id: the same rows again store nothing new.
    again = client.post("/v1/events", json={"events": events[:1]}, headers=READ).json()
    assert again == {"accepted": 1, "duplicates": 1, "rejected": []}
    con = client.app.state.service.engine.con
    with client.app.state.service.engine.lock:
        n = con.execute("SELECT count(*) FROM events WHERE event_id IN ('ok1', 'ok2')").fetchall()
    assert n[0][0] == 2


def test_metrics_count_latency_interventions_and_removals(client):
    client.post("/v1/feed", json={"user_id": "teen1", "limit": 50, "now": iso(DAY)}, headers=READ)
    client.post("/v1/feed", json={"user_id": "teen1", "now": iso(DAY.replace(hour=23))},
                headers=READ)
    text = client.get("/metrics", headers=READ).text
    assert 'feedwell_request_seconds_bucket{endpoint="/v1/feed"' in text
    assert 'feedwell_interventions_total{type="quiet_hours"}' in text
    assert 'feedwell_removals_total{reason="minor_maturity"}' in text


def test_reload_endpoint(client):
    r = client.post("/v1/admin/reload", headers=ADMIN)
    assert r.status_code == 200 and r.json()["items"] == 32


def test_serve_refuses_public_bind_without_token(monkeypatch):
    from flows.cli import main

    for k in ("FEEDWELL_TOKEN", "FEEDWELL_ADMIN_TOKEN", "FEEDWELL_TOKEN_FILE",
              "FEEDWELL_ADMIN_TOKEN_FILE"):
        monkeypatch.delenv(k, raising=False)
    assert main(["--db", ":memory:", "serve", "--host", "0.0.0.0"]) == 1
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("example.org")
