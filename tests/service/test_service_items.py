"""Issue 22, part 1: ``POST /v1/items`` adds or updates videos while serving, with file ingest's
checks, and the next feed request serves them under the same wellbeing rules."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from features.ingest import ingest_dir
from features.store import connect
from ranking.service.schemas import MAX_ITEMS
from tests.service.conftest import ADMIN, DAY, READ, build_store, feed, make_client

# Videos that events name before the catalog has them: popularity ranks them, so they are
# candidates; until posted, minors' policies drop them as unknown.
NEW = ("n1", "n2", "n3", "n4")


def _safe(item_id: str, **over) -> dict:
    row = {"item_id": item_id, "creator_id": f"c_{item_id}", "created_at": "2026-01-01T00:00:00Z",
           "duration_ms": 15000, "topics": ["cooking"], "maturity": "general",
           "ai_generated": True, "realistic_person": False, "cameo_subjects": [],
           "provenance": True, "labels": [], "status": "active"}
    return {**row, **over}


@pytest.fixture()
def db(tmp_path):
    path = tmp_path / "svc.duckdb"
    build_store(path)
    con = connect(path)
    con.executemany("INSERT INTO events (event_id, user_id, ts, type, item_id, watch_ms) "
                    "VALUES (?, ?, ?, 'view', ?, 5000)",
                    [(f"new{k}", f"viewer{k % 7}", DAY - timedelta(days=1, minutes=k), item)
                     for k, item in enumerate(NEW * 3)])
    con.close()
    return path


@pytest.fixture()
def client(db):
    with make_client(db, replay=True) as c:
        yield c


def post(client, rows: list[dict], headers: dict | None = None) -> dict:
    r = client.post("/v1/items", json={"items": rows}, headers=headers or ADMIN)
    assert r.status_code == 200, r.text
    return r.json()


def served(client, user: str) -> list[str]:
    return [i["item_id"] for i in feed(client, user, DAY, limit=200)["items"]]


def test_posted_item_is_served_on_the_next_request(client):
    assert "n1" not in served(client, "teen1")  # unknown to the catalog: minors never see it
    assert post(client, [_safe("n1")]) == {"accepted": 1, "duplicates": 0, "rejected": []}
    assert "n1" in served(client, "teen1")
    engine = client.app.state.service.engine
    assert engine.item_facts["n1"].maturity == "general"
    assert set(engine.posted_at) == {"n1"}


def test_bad_rows_get_the_file_ingests_reasons(client, tmp_path):
    rows = [
        _safe("ok1"),
        _safe("b1", maturity="spicy"),
        _safe("b2", creator_id=None),
        _safe("b3", duration_ms=-5),
        _safe("b4", created_at="soon"),
        _safe("b5", ai_generated="maybe"),
        _safe("b6", status="hidden"),
        {**_safe("b7"), "item_id": "  "},
    ]
    got = post(client, rows)
    assert got["accepted"] == 1 and got["duplicates"] == 0
    by_index = {r["index"]: r["reason"] for r in got["rejected"]}
    assert by_index == {1: "unknown_maturity", 2: "missing_creator_id",
                        3: "negative_duration_ms", 4: "bad_created_at", 5: "bad_ai_generated",
                        6: "unknown_status", 7: "missing_item_id"}
    # The same rows in an items file: `feedwell ingest` quarantines them for the same reasons.
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "items.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    con = connect(tmp_path / "file.duckdb")
    ingest_dir(con, tmp_path / "data")
    quarantined = dict(con.execute("SELECT row_number - 1, reason FROM quarantine").fetchall())
    con.close()
    assert quarantined == by_index
    engine = client.app.state.service.engine
    assert "ok1" in engine.item_facts and "b1" not in engine.item_facts


def test_repost_is_idempotent_latest_wins_and_rows_are_durable(db):
    rows = [_safe("n1"), _safe("n2", topics=["dance", "music"])]
    with make_client(db, replay=True) as client:
        assert post(client, rows)["accepted"] == 2
        engine = client.app.state.service.engine
        first = dict(engine.posted_at)
        assert post(client, rows) == {"accepted": 2, "duplicates": 2, "rejected": []}
        # Within a batch the last row of an id wins; a change replaces the stored row.
        again = post(client, [_safe("n1", maturity="teen"), _safe("n1", maturity="mature")])
        assert again == {"accepted": 2, "duplicates": 1, "rejected": []}
        assert engine.item_facts["n1"].maturity == "mature"
        assert engine.posted_at == first  # an update keeps the first post's time
    con = connect(db, read_only=True)  # the service has stopped and closed the store
    stored = con.execute("SELECT item_id, maturity, topics FROM items "
                         "WHERE item_id IN ('n1', 'n2') ORDER BY item_id").fetchall()
    con.close()
    assert stored == [("n1", "mature", ["cooking"]), ("n2", "general", ["dance", "music"])]


@pytest.mark.parametrize("body", [
    [{"item_id": "n1"}], {}, {"items": "n1"}, {"items": None}, {"items": [1]},
    {"items": [["n1", "c1"]]}, {"items": [], "extra": 1}, "items",
    {"items": [{"item_id": "x", "creator_id": "c"}] * (MAX_ITEMS + 1)},
], ids=["list", "empty", "string", "null", "number-row", "list-row", "extra-key", "text",
        "too-many"])
def test_malformed_bodies_get_4xx(client, body):
    r = client.post("/v1/items", json=body, headers=ADMIN)
    assert 400 <= r.status_code < 500, r.text
    assert "detail" in r.json()


def test_items_need_the_admin_token(client):
    rows = {"items": [_safe("n1")]}
    assert client.post("/v1/items", json=rows).status_code == 401
    assert client.post("/v1/items", json=rows, headers=READ).status_code == 403
    assert "n1" not in client.app.state.service.engine.item_facts


def test_minor_never_sees_a_posted_item_without_rating_or_labels(client):
    post(client, [_safe("n1"), _safe("n2", maturity=None), _safe("n3", labels=None)])
    for user in ("teen1", "teen_tokyo", "stranger"):  # stranger: unknown age, teen policy
        assert {"n2", "n3"}.isdisjoint(served(client, user)), user
    assert {"n1", "n2", "n3"} <= set(served(client, "adult1"))


def test_posted_cameo_needs_a_consent_in_force(client):
    post(client, [_safe("n1", realistic_person=True, cameo_subjects=["s1"]),
                  _safe("n2", realistic_person=True, cameo_subjects=["s_new"])])
    page = served(client, "adult1")
    assert "n1" in page and "n2" not in page
    r = client.post("/v1/consents", headers=ADMIN, json={
        "subject_id": "s_new", "status": "granted", "audience": "everyone",
        "ts": (DAY - timedelta(days=1)).isoformat() + "Z"})
    assert r.status_code == 200, r.text
    assert "n2" in served(client, "adult1")


def test_removed_item_stops_being_served_on_the_next_request(client):
    post(client, [_safe("n1")])
    page = served(client, "adult1")
    assert "n1" in page and "v05" in page
    got = post(client, [_safe("n1", status="removed"),
                        {"item_id": "v05", "creator_id": "c5", "status": "removed"}])
    assert got == {"accepted": 2, "duplicates": 0, "rejected": []}
    page = served(client, "adult1")
    assert "n1" not in page and "v05" not in page
