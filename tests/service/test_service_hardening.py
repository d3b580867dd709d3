"""Issue 16, holes 2-5 and the HTTP error list: one regression test per hole, named after it."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest

from features.ingest import ingest_dir
from features.store import connect
from ranking.service.schemas import MAX_EVENTS
from tests.service.conftest import ADMIN, DAY, READ, build_store, iso, make_client

TABLES = ("events", "consents", "users", "user_resets")


@pytest.fixture(scope="module")
def mc(tmp_path_factory):
    """One app for the tests that leave no state others read (building one per test
    dominated the run)."""
    path = tmp_path_factory.mktemp("hardening") / "svc.duckdb"
    build_store(path)
    with make_client(path, replay=True) as c:
        yield c
JSON = {"Content-Type": "application/json"}


def counts(client) -> dict[str, int]:
    svc = client.app.state.service
    with svc.engine.lock:
        return {t: svc.engine.con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]
                for t in TABLES}


def raw(client, method: str, path: str, text: str, headers: dict | None = None):
    """Send ``text`` as the body byte for byte (httpx's ``json=`` refuses lone surrogates)."""
    return client.request(method, path, content=text.encode(),
                          headers={**ADMIN, **JSON, **(headers or {})})


def server_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _view(event_id: str, ts: str) -> dict:
    return {"event_id": event_id, "user_id": "adult1", "ts": ts, "type": "view",
            "item_id": "v01", "watch_ms": 1000}


# -- 2. events: the file ingest's validation, nothing written on a failure -------------------
def test_year1_event_ts_was_stored_then_500_now_bad_ts_and_nothing_written(mc):
    before = counts(mc)
    rows = [_view("y1", "0001-01-01T00:00:00Z"), _view("y2", "1969-12-31T23:59:59Z"),
            _view("y3", "0001-01-01T00:00:00+05:00"), _view("y4", -62135596800)]
    r = mc.post("/v1/events", json={"events": rows}, headers=READ)
    assert r.status_code == 200, r.text
    assert r.json()["rejected"] == [{"index": i, "reason": "bad_ts"} for i in range(4)]
    assert counts(mc) == before
    ok = mc.post("/v1/events", json={"events": [_view("e70", "1970-01-01T00:00:00Z")]},
                     headers=READ)
    assert ok.json()["accepted"] == 1


def test_http_events_get_exactly_the_file_ingests_reasons(mc, tmp_path):
    later = iso(server_now() + timedelta(hours=1))
    t = iso(DAY)
    rows = [
        _view("ok", t), _view("old", "1969-06-01T00:00:00Z"), _view("y1", "0001-01-01"),
        _view("fut", later), _view("bad", "soon"),
        {**_view("neg", t), "watch_ms": "-5"}, {**_view("typ", t), "type": "dance"},
        {"event_id": "nouser", "ts": t, "type": "view", "item_id": "v01"},
        {"event_id": "fol", "user_id": "adult1", "ts": t, "type": "follow"},
    ]
    (tmp_path / "data").mkdir()
    with open(tmp_path / "data" / "events.jsonl", "w") as f:
        for row in rows:
            f.write(json.dumps({k: str(v) for k, v in row.items()}) + "\n")
    con = connect(tmp_path / "file.duckdb")
    ingest_dir(con, tmp_path / "data")
    by_file = dict(con.execute("SELECT json_extract_string(record, '$.event_id'), reason "
                               "FROM quarantine").fetchall())
    con.close()
    r = mc.post("/v1/events", json={"events": [{k: str(v) for k, v in row.items()}
                                                   for row in rows]}, headers=READ)
    by_http = {rows[x["index"]]["event_id"]: x["reason"] for x in r.json()["rejected"]}
    assert by_http == by_file and len(by_http) == len(rows) - 1


def test_event_with_lone_surrogate_was_500_in_event_writer_now_400_nothing_written(mc):
    before = counts(mc)
    body = json.dumps({"events": [_view("s1", iso(DAY)), {**_view("s2", iso(DAY)),
                                                           "surface": "\ud800"}]})
    r = raw(mc, "POST", "/v1/events", body)
    assert r.status_code == 400 and "surrogate" in r.json()["detail"]
    assert counts(mc) == before


def test_events_per_batch_are_capped(mc):
    r = mc.post("/v1/events", json={"events": [{}] * (MAX_EVENTS + 1)}, headers=READ)
    assert r.status_code == 422
    assert len(r.content) < 5000


# -- year-1 times on the other endpoints: 4xx, not 500 ---------------------------------------
@pytest.mark.parametrize("method,path,body", [
    ("post", "/v1/feed", {"user_id": "adult1", "now": "0001-01-01T00:00:00Z"}),
    ("post", "/v1/consents", {"subject_id": "s1", "status": "revoked",
                              "ts": "0001-01-01T00:00:00Z"}),
    ("post", "/v1/users/adult1/reset", {"ts": "0001-01-01T00:00:00Z"}),
    ("post", "/v1/users/adult1/reset", {"ts": "9999-12-31T23:59:59-05:00"}),
    ("get", "/v1/explain?user_id=adult1&item_id=v01&now=0001-01-01T00:00:00Z", None),
])
def test_year1_now_or_ts_was_500_now_422_and_nothing_written(mc, method, path, body):
    before = counts(mc)
    r = mc.request(method, path, json=body, headers=ADMIN)
    assert r.status_code == 422, r.text
    assert counts(mc) == before


# -- 3. consents ----------------------------------------------------------------------------
def test_future_dated_grant_beyond_skew_is_422_not_stored(mc):
    before = counts(mc)
    r = mc.post("/v1/consents", json={"subject_id": "s1", "status": "granted",
                                          "audience": "everyone",
                                          "ts": "2100-01-01T00:00:00Z"}, headers=ADMIN)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "ts"]
    assert counts(mc) == before


def _cam_in_feed(client) -> bool:
    body = client.post("/v1/feed", json={"user_id": "adult1", "limit": 50}, headers=READ).json()
    return "cam1" in [i["item_id"] for i in body["items"]]


def test_future_dated_grant_masked_a_later_revocation_now_revocation_wins(client):
    ahead = server_now() + timedelta(minutes=4)  # within the skew: accepted
    r = client.post("/v1/consents", json={"subject_id": "s1", "status": "granted",
                                          "audience": "everyone", "ts": iso(ahead)},
                    headers=ADMIN)
    assert r.status_code == 200, r.text
    assert _cam_in_feed(client)
    r = client.post("/v1/consents", json={"subject_id": "s1", "status": "revoked"},
                    headers=ADMIN)
    assert r.status_code == 200, r.text
    assert r.json()["ts"] > ahead.isoformat()  # recorded after the grant it overrides
    assert not _cam_in_feed(client)
    # And it stays in force after the store is read again.
    assert client.post("/v1/admin/reload", headers=ADMIN).status_code == 200
    assert not _cam_in_feed(client)


def test_revocation_at_the_same_ts_as_a_grant_was_409_now_in_force(client):
    t = iso(server_now() - timedelta(minutes=1))
    assert client.post("/v1/consents", json={"subject_id": "s1", "status": "granted",
                                             "audience": "everyone", "ts": t},
                       headers=ADMIN).status_code == 200
    r = client.post("/v1/consents", json={"subject_id": "s1", "status": "revoked", "ts": t},
                    headers=ADMIN)
    assert r.status_code == 200 and not _cam_in_feed(client)


# -- 4. size limits, content types ----------------------------------------------------------
def test_no_body_limit_now_413_by_content_length_and_by_stream(db):
    with make_client(db, max_body_bytes=10_000) as c:
        before = counts(c)
        big = json.dumps({"events": [_view(f"b{k}", iso(DAY)) for k in range(200)]})
        assert len(big) > 10_000
        r = c.post("/v1/events", content=big.encode(), headers={**READ, **JSON})
        assert r.status_code == 413 and "10000" in r.json()["detail"]

        def chunks():  # no Content-Length: the bound is applied while reading
            for k in range(0, len(big), 1000):
                yield big[k:k + 1000].encode()

        r = c.post("/v1/events", content=chunks(), headers={**READ, **JSON})
        assert r.status_code == 413
        assert counts(c) == before
        assert c.post("/v1/feed", json={"user_id": "adult1"}, headers=READ).status_code == 200


def test_50mb_echo_now_truncated(mc):
    r = mc.post("/v1/feed", json={"user_id": "x" * 900_000}, headers=READ)
    assert r.status_code == 422
    assert len(r.content) < 2000 and "characters" in r.text


@pytest.mark.parametrize("ctype", ["text/plain", "application/x-www-form-urlencoded",
                                   "multipart/form-data; boundary=x", None])
def test_wrong_content_type_is_415(mc, ctype):
    headers = {**READ, "Content-Type": ctype} if ctype else READ
    r = mc.post("/v1/feed", content=b'{"user_id": "adult1"}', headers=headers)
    assert r.status_code == 415, r.text
    ok = mc.post("/v1/feed", content=b'{"user_id": "adult1"}',
                     headers={**READ, "Content-Type": "application/json; charset=utf-8"})
    assert ok.status_code == 200


# -- 5. every error a clear 4xx -------------------------------------------------------------
SURROGATE_BODIES = [
    ("POST", "/v1/feed", '{"user_id": "\\ud800"}'),
    ("POST", "/v1/feed", '{"user_id": "u", "session_id": "a\\udfff"}'),
    ("POST", "/v1/events", '{"events": [{"event_id": "\\ud800", "user_id": "u"}]}'),
    ("PUT", "/v1/users/u1/settings", '{"quiet_hours": "\\ud800"}'),
    ("POST", "/v1/consents", '{"subject_id": "\\ud800", "status": "granted"}'),
    ("POST", "/v1/users/u1/reset", '{"ts": "\\ud800"}'),
    ("POST", "/v1/feed", '{"\\ud800": 1}'),
]


@pytest.mark.parametrize("method,path,body", SURROGATE_BODIES)
def test_lone_surrogate_in_body_was_500_now_400(mc, method, path, body):
    before = counts(mc)
    r = raw(mc, method, path, body)
    assert r.status_code == 400, r.text
    assert counts(mc) == before


@pytest.mark.parametrize("path", [
    "/v1/users/%ED%A0%80/reset", "/v1/users/%F0%28/reset", "/v1/users/%C0%AF/settings",
    "/v1/explain?user_id=%ED%A0%80&item_id=v01", "/v1/explain?user_id=u&item_id=%FF",
    "/v1/explain?user_id=u&item_id=v01&now=%ED%A0%80",
])
def test_lone_surrogate_in_path_or_query_is_not_5xx(mc, path):
    method = "GET" if path.startswith("/v1/explain") else (
        "PUT" if path.endswith("settings") else "POST")
    r = mc.request(method, path, json={} if method != "GET" else None, headers=ADMIN)
    assert r.status_code < 500, r.text
    r.json()


@pytest.mark.parametrize("path,body", [
    ("/v1/feed", {"user_id": "u", "limit": "20"}), ("/v1/feed", {"user_id": "u", "limit": True}),
    ("/v1/feed", {"user_id": "u", "limit": 20.0}), ("/v1/feed", {"user_id": "u", "now": 0}),
    ("/v1/feed", {"user_id": "u", "now": "0"}), ("/v1/feed", {"user_id": 7}),
    ("/v1/users/u/reset", {"ts": 1700000000}),
    ("/v1/consents", {"subject_id": "s", "status": "granted", "ts": True}),
])
def test_loose_types_were_accepted_now_422(mc, path, body):
    r = mc.post(path, json=body, headers=ADMIN)
    assert r.status_code == 422, r.text


@pytest.mark.parametrize("body", [{"personalized": "true"}, {"daily_limit_minutes": "5"},
                                  {"quiet_hours": ""}, {"quiet_hours": "7-9"}])
def test_settings_loose_types_and_empty_quiet_hours_are_422(mc, body):
    before = counts(mc)
    r = mc.put("/v1/users/adult1/settings", json=body, headers=ADMIN)
    assert r.status_code == 422, r.text
    assert counts(mc) == before


def test_openapi_declares_every_status_the_bearer_scheme_and_quiet_hours_pattern(mc):
    doc = mc.get("/openapi.json").json()
    assert doc["components"]["securitySchemes"]["bearer"] == {
        **doc["components"]["securitySchemes"]["bearer"], "type": "http", "scheme": "bearer"}
    for path, ops in doc["paths"].items():
        for op in ops.values():
            codes = set(op["responses"])
            assert {"400", "413", "415"} <= codes, path
            if path != "/healthz":
                assert {"401", "403"} <= codes and op["security"] == [{"bearer": []}], path
            if op.get("parameters") or op.get("requestBody"):
                assert "422" in codes, path
    assert "409" in doc["paths"]["/v1/consents"]["post"]["responses"]
    qh = doc["components"]["schemas"]["SettingsIn"]["properties"]["quiet_hours"]
    assert any("pattern" in alt for alt in qh["anyOf"])


def test_access_log_writes_one_line_per_request(mc, caplog):
    caplog.set_level(logging.INFO, logger="feedwell.access")
    mc.post("/v1/feed", json={"user_id": "adult1"}, headers=READ)
    mc.get("/healthz")
    mc.post("/v1/feed", content=b"x", headers={**READ, "Content-Type": "text/plain"})
    lines = [r.getMessage() for r in caplog.records if r.name == "feedwell.access"]
    assert len(lines) == 3
    assert lines[0].startswith("POST /v1/feed 200 ") and lines[1].startswith("GET /healthz 200")
    assert lines[2].startswith("POST /v1/feed 415")
    assert "rtok" not in caplog.text
