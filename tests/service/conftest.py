"""A tiny store and a TestClient around the service (tokens: ``rtok`` read, ``atok`` admin)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from features.store import connect
from ranking.service import ServiceConfig, Tokens, create_app

# A past day (posted events may not be in the future), noon UTC.
DAY = (datetime.now(UTC) - timedelta(days=2)).replace(tzinfo=None, hour=12, minute=0, second=0,
                                                       microsecond=0)
READ = {"Authorization": "Bearer rtok"}
ADMIN = {"Authorization": "Bearer atok"}
SAFE = "ARRAY[]::VARCHAR[]"


def iso(t: datetime) -> str:
    return t.isoformat() + "Z"


def build_store(path) -> None:
    """Users: an adult, a teen (UTC), a teen in Tokyo. Videos: 30 safe, one mature, one cameo
    of ``s1`` (consent granted to everyone), plus views so popularity has something to rank."""
    con = connect(path)
    bday_adult, bday_teen = DAY.date().replace(year=DAY.year - 30), DAY.date().replace(
        year=DAY.year - 15)
    con.execute("INSERT INTO users (user_id, birth_date, timezone) VALUES "
                "('adult1', ?, 'UTC'), ('teen1', ?, 'UTC'), ('teen_tokyo', ?, 'Asia/Tokyo')",
                [bday_adult, bday_teen, bday_teen])
    for n in range(30):
        con.execute(f"INSERT INTO items (item_id, creator_id, topics, maturity, labels, "
                    f"ai_generated, realistic_person, cameo_subjects, provenance, status) VALUES "
                    f"(?, ?, ['cooking'], 'general', {SAFE}, true, false, {SAFE}, true, 'active')",
                    [f"v{n:02d}", f"c{n % 10}"])
    con.execute(f"INSERT INTO items (item_id, creator_id, topics, maturity, labels, "
                f"realistic_person, cameo_subjects, provenance, status) VALUES "
                f"('mature1', 'c1', ['party'], 'mature', {SAFE}, false, {SAFE}, true, 'active'), "
                f"('cam1', 'c2', ['comedy'], 'general', {SAFE}, true, ['s1'], true, 'active')")
    con.execute("INSERT INTO consents (subject_id, ts, status, audience) VALUES "
                "('s1', ?, 'granted', 'everyone')", [DAY - timedelta(days=5)])
    ev = [(f"h{k}", f"viewer{k % 7}", DAY - timedelta(days=1, minutes=k), "view", item, 5000)
          for k, item in enumerate([f"v{n:02d}" for n in range(30)] + ["mature1", "cam1"] * 5)]
    con.executemany("INSERT INTO events (event_id, user_id, ts, type, item_id, watch_ms) "
                    "VALUES (?, ?, ?, ?, ?, ?)", ev)
    con.close()


@pytest.fixture()
def db(tmp_path):
    path = tmp_path / "svc.duckdb"
    build_store(path)
    return path


def make_client(db, **cfg) -> TestClient:
    """A TestClient around a fresh app on ``db`` (``cfg``: more ``ServiceConfig`` fields)."""
    return TestClient(create_app(ServiceConfig(db, Tokens(b"rtok", b"atok"), reload_every_s=0.2,
                                               audit_flush_s=0.1, **cfg)))


@pytest.fixture()
def client(db):
    """Replay mode: these tests ask for feeds at fixed times around ``DAY``."""
    with make_client(db, replay=True) as c:
        yield c


@pytest.fixture()
def live_client(db):
    """The default mode: client times must be within the clock skew."""
    with make_client(db) as c:
        yield c


def feed(client, user: str, now: datetime, limit: int = 20) -> dict:
    r = client.post("/v1/feed", json={"user_id": user, "limit": limit, "now": iso(now)},
                    headers=READ)
    assert r.status_code == 200, r.text
    return r.json()
