"""Issue 22: the feed follows the viewer between trainings, through the HTTP API.

Two taste groups (pets and cars videos, each watched by its own half of the users) and a model
trained on them. Events posted after training change the next page; a new viewer is served
their taste group after a few actions; a video posted while serving reaches matching viewers
through exploration on the next request, never a minor when unrated; nothing is kept per user
who has no live session.
"""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from features.store import connect
from ranking.lifecycle import train_model
from ranking.ltr import LtrConfig
from tests.service.conftest import ADMIN, DAY, READ, iso, make_client

CFG = LtrConfig(sources={"ease": {"reg": 5.0}, "itemknn": {}, "popular": {}},
                grid=[{"objective": "lambdarank", "num_leaves": 7, "min_data_in_leaf": 5}],
                max_rounds=20, n_per_source=30, n_candidates=60)
SAFE = "ARRAY[]::VARCHAR[]"
T_TRAIN = DAY - timedelta(days=1)


def _group(i: int) -> str:
    return "pets" if i % 2 == 0 else "cars"


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("live") / "live.duckdb"
    con = connect(path)
    bday = DAY.date().replace(year=DAY.year - 30)
    teen = DAY.date().replace(year=DAY.year - 15)
    users = [(f"u{k}", bday) for k in range(40)] + [("newcomer", bday), ("other", bday),
                                                    ("teen1", teen)]
    con.executemany("INSERT INTO users (user_id, birth_date, timezone) VALUES (?, ?, 'UTC')",
                    users)
    for i in range(40):
        con.execute(f"INSERT INTO items (item_id, creator_id, topics, maturity, labels, "
                    f"ai_generated, realistic_person, cameo_subjects, provenance, status, "
                    f"duration_ms, created_at) VALUES (?, ?, [?], 'general', {SAFE}, true, "
                    f"false, {SAFE}, true, 'active', 10000, ?)",
                    [f"i{i}", f"c{i % 8}", _group(i), T_TRAIN - timedelta(days=20)])
    ev = []
    for u in range(40):
        mine = [i for i in range(40) if i % 2 == u % 2]
        for k, i in enumerate(mine):
            if (i // 2) % 10 != u % 10:  # each user misses some of their group
                ev.append((f"e{u}-{i}", f"u{u}", T_TRAIN - timedelta(hours=40 - k), "view",
                           f"i{i}", 10000))
    con.executemany("INSERT INTO events (event_id, user_id, ts, type, item_id, watch_ms) "
                    "VALUES (?, ?, ?, ?, ?, ?)", ev)
    train_model(con, path, config=CFG)
    con.close()
    return path


@pytest.fixture()
def client(db, tmp_path):
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(db.read_bytes())
    for extra in db.parent.glob(f"{db.stem}_models"):
        (tmp_path / f"{copy.stem}_models").symlink_to(extra)
    with make_client(copy, replay=True) as c:
        yield c


def _page(client, user: str, at, limit: int = 10) -> list[dict]:
    r = client.post("/v1/feed", json={"user_id": user, "limit": limit, "now": iso(at),
                                      "session_id": f"s-{user}"}, headers=READ)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def _act(client, user: str, items: list[str], at) -> None:
    rows = []
    for k, i in enumerate(items):
        t = at + timedelta(seconds=30 * k)
        rows += [{"event_id": f"{user}-{i}-v", "user_id": user, "ts": iso(t), "type": "view",
                  "item_id": i, "watch_ms": 10000, "session_id": f"s-{user}"},
                 {"event_id": f"{user}-{i}-l", "user_id": user, "ts": iso(t), "type": "like",
                  "item_id": i, "session_id": f"s-{user}"}]
    r = client.post("/v1/events", json={"events": rows}, headers=READ)
    assert r.status_code == 200 and not r.json()["rejected"], r.text


def test_events_change_the_next_page_and_a_new_viewer_gets_their_taste(client):
    at = DAY - timedelta(hours=2)
    cold = [i["item_id"] for i in _page(client, "newcomer", at)]
    _act(client, "newcomer", ["i0", "i2", "i4"], at)  # three pets videos, liked
    page = _page(client, "newcomer", at + timedelta(minutes=5))
    ids = [i["item_id"] for i in page]
    assert ids != cold
    assert {"i0", "i2", "i4"}.isdisjoint(ids)  # watched: never again
    pets = [i for i in ids if int(i[1:]) % 2 == 0]
    assert len(pets) >= 8, ids
    assert any(i["source"] not in ("popular",) for i in page)


def _new_video(item_id: str, topic: str, **over) -> dict:
    row = {"item_id": item_id, "creator_id": "c_new", "created_at": iso(DAY - timedelta(hours=3)),
           "duration_ms": 10000, "topics": [topic], "maturity": "general", "labels": [],
           "ai_generated": True, "realistic_person": False, "cameo_subjects": [],
           "provenance": True, "status": "active"}
    return {**row, **over}


def test_a_posted_video_reaches_matching_viewers_on_the_next_request(client):
    at = DAY - timedelta(hours=2)
    _act(client, "newcomer", ["i0", "i2", "i4"], at)
    r = client.post("/v1/items", json={"items": [_new_video("fresh_pets", "pets"),
                                                 _new_video("fresh_unrated", "pets",
                                                            maturity=None, labels=None)]},
                    headers=ADMIN)
    assert r.status_code == 200 and r.json()["accepted"] == 2, r.text
    page = _page(client, "newcomer", at + timedelta(minutes=5))
    got = {i["item_id"]: i for i in page}
    assert "fresh_pets" in got and got["fresh_pets"]["source"] == "fresh"
    assert sum(i["source"] == "fresh" for i in page) <= 2  # at most two exploration slots
    # a viewer whose tastes do not match is not explored with it
    _act(client, "other", ["i1", "i3", "i5"], at)
    assert "fresh_pets" not in [i["item_id"] for i in _page(client, "other", at + timedelta(
        minutes=5))]
    # a minor never gets an unrated or unlabelled new video, whatever their tastes
    _act(client, "teen1", ["i0", "i2"], at)
    teen = [i["item_id"] for i in _page(client, "teen1", at + timedelta(minutes=5), limit=40)]
    assert "fresh_unrated" not in teen
    live = client.app.state.service.engine.live_items
    assert live.counts["fresh_pets"].impressions >= 1


def test_a_hidden_creator_wins_over_exploration(client):
    at = DAY - timedelta(hours=2)
    _act(client, "newcomer", ["i0", "i2", "i4"], at)
    client.post("/v1/items", json={"items": [_new_video("fresh_pets", "pets")]}, headers=ADMIN)
    hide = {"event_id": "hide-1", "user_id": "newcomer", "ts": iso(at + timedelta(minutes=2)),
            "type": "hide", "item_id": "i6"}
    client.post("/v1/items", json={"items": [_new_video("i6x", "cars", creator_id="c_new")]},
                headers=ADMIN)
    assert client.post("/v1/events", json={"events": [
        hide | {"item_id": "i6x", "event_id": "hide-2"}]}, headers=READ).status_code == 200
    ids = [i["item_id"] for i in _page(client, "newcomer", at + timedelta(minutes=5))]
    assert "fresh_pets" not in ids  # its creator c_new was just hidden


def test_no_state_is_kept_for_viewers_without_a_live_session(client):
    svc = client.app.state.service
    at = DAY - timedelta(hours=2)
    for k in range(40):
        _page(client, f"u{k}", at)
    assert svc.state.recent == {}  # nobody posted an event: no live history held
    assert not hasattr(svc.engine.ranker, "pre")  # and no per-user list was ever computed
    _act(client, "u3", ["i1"], at)
    assert set(svc.state.recent) == {"u3"}


def test_posted_events_move_the_videos_catalog_features_the_model_reads(client):
    from features.build import build_features

    engine = client.app.state.service.engine
    cat = engine.ranker.stats.catalog
    col = cat.names.index("video_engagement.views_total")
    i0 = engine.ranker.data.item_index(["i0"])
    before = float(cat.gather(np.array([-1]), i0)[0, col])
    _act(client, "newcomer", ["i0", "i2"], DAY - timedelta(hours=2))
    cat = engine.ranker.stats.catalog
    after = float(cat.gather(np.array([-1]), i0)[0, col])
    assert after == before + 1
    # ... and equal to the catalog's own SQL over the store's events
    with engine.lock:
        sql = build_features(engine.con, None, ["video_engagement"], materialize=False)
    v = sql["video_engagement"].filter(pl.col("item_id") == "i0")
    for name in ("views_total", "like_rate_total", "completion_rate_total"):
        k = cat.names.index(f"video_engagement.{name}")
        assert np.isclose(cat.gather(np.array([-1]), i0)[0, k], v[name][0]), name


def test_steering_never_wins_over_live_affinity(client):
    at = DAY - timedelta(hours=2)
    _act(client, "newcomer", ["i0", "i2", "i4"], at)  # live affinity: pets
    client.post("/v1/items", json={"items": [_new_video("fresh_pets", "pets")]}, headers=ADMIN)
    r = client.put("/v1/users/newcomer/steering", json={"text": "never show me pets"},
                   headers=ADMIN)
    assert r.status_code == 200, r.text
    ids = [i["item_id"] for i in _page(client, "newcomer", at + timedelta(minutes=5), 20)]
    assert ids and not [i for i in ids if i.startswith("fresh") or int(i[1:]) % 2 == 0], ids


@pytest.mark.parametrize("created_at", [None, "2020-01-01T00:00:00Z"])
def test_a_video_posted_during_a_replay_is_new_from_its_post_whatever_its_created_at(
        client, created_at):
    # regression: the post time was the wall clock (after every replayed `now`: never
    # servable), and an old created_at kept a just-posted video out of exploration
    at = DAY - timedelta(hours=2)
    _act(client, "newcomer", ["i0", "i2", "i4"], at)
    r = client.post("/v1/items", json={"items": [_new_video("posted", "pets",
                                                            created_at=created_at)]},
                    headers=ADMIN)
    assert r.status_code == 200 and r.json()["accepted"] == 1, r.text
    ids = [i["item_id"] for i in _page(client, "newcomer", at + timedelta(minutes=5))]
    assert "posted" in ids


def test_the_service_compiles_the_served_forests_and_serves_the_same_pages(db, tmp_path):
    pytest.importorskip("lleaves")
    pages = []
    for compiled in (False, True):
        copy = tmp_path / f"copy{int(compiled)}.duckdb"
        copy.write_bytes(db.read_bytes())
        # Its own copy of the version folder: the compiled code is written beside the model.
        models = next(db.parent.glob(f"{db.stem}_models"))
        shutil.copytree(models, tmp_path / f"{copy.stem}_models")
        with make_client(copy, replay=True, compile_forests=compiled) as c:
            svc = c.app.state.service
            if compiled:
                svc.compiling.join(timeout=120)
            health = c.get("/healthz").json()["forests"]
            assert health["of"] > 0
            assert health["compiled"] == (health["of"] if compiled else 0)
            if compiled:
                version = svc.engine.model_record.path
                assert list((Path(version) / "compiled").glob("*.so"))
            at = DAY - timedelta(hours=2)
            pages.append([[(i["item_id"], i["score"]) for i in _page(c, u, at)]
                          for u in ("u1", "u2", "u5", "newcomer")])
    assert pages[0] == pages[1]  # the same items and the same scores
