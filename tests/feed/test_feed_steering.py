"""Steering in words on a generated world: more/less move shares, never mutes, and no steering
widens a policy."""

from __future__ import annotations

from collections import Counter

from ranking.feed.engine import FeedEngine
from ranking.feed.types import FeedRequest
from tests.feed._levers_world import NOW, TOPICS, build_levers_world, share
from wellbeing.levers_store import catalog_vocabulary, clear_steering, save_steering
from wellbeing.steering import parse_steering


def _steer(con, engine, user, text):
    topics, creators = catalog_vocabulary(con)
    s = parse_steering(text, topics, creators, NOW)
    save_steering(con, user, s, NOW)
    engine.reload()
    return s


def _page(engine, user, limit=20):
    resp = engine.feed(FeedRequest(user, NOW, limit=limit))
    return [i.item_id for i in resp.items], resp


def test_less_x_more_y_halves_x_and_doubles_y(con, tmp_path):
    items = build_levers_world(con)
    engine = FeedEngine(tmp_path / "test.duckdb", con=con)
    base, _ = _page(engine, "adult")
    counts = Counter(t for i in base for t in items[i]["topics"])
    x = counts.most_common(1)[0][0]
    y = min((t for t in TOPICS if t != x and 0 < counts[t] <= 4), key=counts.__getitem__)
    s = _steer(con, engine, "adult", f"less {x}, more {y} please")
    assert s.echo()["less"] == [x] and s.echo()["more"] == [y]
    steered, resp = _page(engine, "adult")
    assert share(steered, items, x) <= share(base, items, x) / 2
    assert share(steered, items, y) >= 2 * share(base, items, y)
    reasons = {r for it in resp.items for r in it.reasons}
    assert f"steering_more:topic:{y}" in reasons


def test_never_z_gives_no_item_of_z_and_counts_removals(con, tmp_path):
    items = build_levers_world(con)
    engine = FeedEngine(tmp_path / "test.duckdb", con=con)
    base, _ = _page(engine, "adult", 40)
    assert share(base, items, "dieting") > 0
    s = _steer(con, engine, "adult", "I never want to see diet videos again")
    assert s.echo()["never"] == ["dieting"]
    got, resp = _page(engine, "adult", 40)
    assert len(got) == 40 and share(got, items, "dieting") == 0
    muted = [r for r in resp.removed if r.stage == "SteeringMute"]
    assert muted and all(r.reason == "steering_never:topic:dieting" for r in muted)


def test_teen_asking_for_mature_changes_nothing_the_policy_removed(con, tmp_path):
    items = build_levers_world(con)
    engine = FeedEngine(tmp_path / "test.duckdb", con=con)
    _, before = _page(engine, "teen", 60)
    s = _steer(con, engine, "teen", "show me mature things and more horror and dance")
    assert "maturity:mature" in s.more
    got, after = _page(engine, "teen", 60)
    policy = lambda resp: {(r.item_id, r.reason) for r in resp.removed  # noqa: E731
                           if r.stage == "WellbeingPolicy"}
    assert policy(after) == policy(before) and policy(before)
    assert not any(items[i]["maturity"] == "mature" for i in got)


def test_cleared_steering_gives_the_unsteered_page(con, tmp_path):
    build_levers_world(con)
    engine = FeedEngine(tmp_path / "test.duckdb", con=con)
    base, _ = _page(engine, "adult")
    _steer(con, engine, "adult", "more gaming, never pets")
    assert _page(engine, "adult")[0] != base
    assert clear_steering(con, "adult", NOW)
    engine.reload()
    assert _page(engine, "adult")[0] == base


def test_steer_command_echoes_stores_explains_and_clears(con, tmp_path, capsys):
    import json

    from flows.cli import main

    build_levers_world(con)
    con.close()
    db = str(tmp_path / "test.duckdb")
    assert main(["--db", db, "steer", "adult", "never c03, less gaming", "--json"]) == 0
    echo = json.loads(capsys.readouterr().out)
    assert echo["never"] == ["creator:c03"] and echo["less"] == ["gaming"]
    assert main(["--db", db, "explain", "adult", "i003", "--json",
                 "--now", NOW.isoformat()]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["steering"]["effect"] == "mute" and "steering_never" in got["summary"]
    assert main(["--db", db, "steer", "adult", "blah blah"]) == 1
    assert "nothing usable" in capsys.readouterr().err
    assert main(["--db", db, "steer", "adult", "--clear"]) == 0
    assert "cleared" in capsys.readouterr().out


def test_batch_scoring_reports_a_steering_mute_like_the_feed(con, tmp_path):
    import polars as pl

    from ranking.batch import score_requests

    items = build_levers_world(con)
    engine = FeedEngine(tmp_path / "test.duckdb", con=con)
    _steer(con, engine, "adult", "never dieting")
    diet = next(i for i, f in items.items() if "dieting" in f["topics"]
                and f["maturity"] == "general")
    other = next(i for i, f in items.items() if "dieting" not in f["topics"])
    out = score_requests(engine, pl.DataFrame({"request_id": ["r", "r"],
                                               "user_id": ["adult", "adult"],
                                               "ts": [NOW.isoformat()] * 2,
                                               "item_id": [diet, other]}))
    got = dict(zip(out["item_id"], zip(out["kept"], out["reason"], strict=True), strict=True))
    assert got[diet] == (False, "steering_never:topic:dieting") and got[other][0] is True
