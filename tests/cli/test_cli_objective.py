"""Issue 24 through the interfaces: ``publish --objective``, ``models --json``, ``score``'s
``p_`` columns, ``explain`` and feed reasons naming the expected actions, ``serve
--objective``."""

from __future__ import annotations

import json
from datetime import date, timedelta

import polars as pl
import pytest

from features.store import connect
from ranking.evaluation.selection import Selection
from ranking.lifecycle import apply_selection, train_model
from ranking.ltr.objective import ACTIONS
from ranking.registry import list_versions, publish
from tests.cli.conftest import feedwell
from tests.ranking.test_ranking_actions import CFG, CUT, N_ITEMS, N_USERS, action_world

SAFE = "ARRAY[]::VARCHAR[]"


def _store(path) -> str:
    ev, _ = action_world()
    ev = ev.filter(pl.col("ts") < CUT).with_row_index("n").with_columns(
        pl.format("e{}", pl.col("n")).alias("event_id"))
    con = connect(path)
    con.executemany("INSERT INTO users (user_id, birth_date, timezone) VALUES (?, ?, 'UTC')",
                    [(f"u{u}", date(1990, 1, 1)) for u in range(N_USERS)])
    for i in range(N_ITEMS):
        con.execute(f"INSERT INTO items (item_id, creator_id, topics, maturity, labels, "
                    f"ai_generated, realistic_person, cameo_subjects, provenance, status, "
                    f"duration_ms, created_at) VALUES (?, ?, ['fun'], 'general', {SAFE}, true, "
                    f"false, {SAFE}, true, 'active', 10000, ?)",
                    [f"i{i}", f"c{i % 6}", CUT - timedelta(days=30)])
    con.execute("INSERT INTO events (event_id, user_id, ts, type, item_id, target_user_id, "
                "watch_ms) SELECT event_id, user_id, ts, type, item_id, target_user_id, "
                "watch_ms FROM ev")
    res = train_model(con, path, config=CFG)
    # Serve the actions model (what `publish` writes when the evaluation chooses it).
    apply_selection(res.path, Selection(served="actions", fallback="popular", backoff_below=0,
                                        why="test: the actions model"))
    publish(con, res.version, True, "test")
    con.close()
    return str(path)


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> str:
    return _store(tmp_path_factory.mktemp("objective") / "obj.duckdb")


def test_score_adds_a_probability_column_per_action(store, tmp_path):
    req = tmp_path / "req.csv"
    pl.DataFrame({"request_id": ["r1"] * 3 + ["r2"], "user_id": ["u1"] * 3 + ["u2"],
                  "ts": [(CUT + timedelta(hours=1)).isoformat()] * 4,
                  "item_id": ["i0", "i3", "unknown", "i2"]}).write_csv(req)
    out = tmp_path / "out.csv"
    r = feedwell("--db", store, "score", "--requests", str(req), "--out", str(out))
    assert r.returncode == 0, r.stderr
    got = pl.read_csv(out)
    assert {"score", "rank", "kept", "reason"} <= set(got.columns)
    assert [f"p_{a}" for a in ACTIONS] == [c for c in got.columns if c.startswith("p_")]
    known = got.filter(pl.col("item_id") != "unknown")
    for a in ACTIONS:
        v = known[f"p_{a}"].to_numpy()
        assert ((v >= 0) & (v <= 1)).all(), (a, v)
    assert got.filter(pl.col("item_id") == "unknown")["p_like"].is_nan().all()


def test_explain_and_the_feed_name_the_expected_actions(store):
    r = feedwell("--db", store, "explain", "u1", "i0", "--now",
                 (CUT + timedelta(hours=1)).isoformat(), "--json")
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    assert set(res["predicted"]) == set(ACTIONS)
    assert res["expected"] and all(e.startswith("expected:") for e in res["expected"])
    assert res["objective"]["hide"] < 0
    from ranking.feed.engine import FeedEngine
    from ranking.feed.types import FeedRequest

    engine = FeedEngine(store)
    try:
        page = engine.feed(FeedRequest("u1", CUT + timedelta(hours=1), limit=10))
    finally:
        engine.con.close()
    reasons = [r for item in page.items for r in item.reasons if r.startswith("expected:")]
    assert reasons and {r.split(":", 1)[1] for r in reasons} <= set(ACTIONS)


@pytest.mark.slow
def test_publish_objective_is_recorded_and_shown(store, tmp_path):
    w = tmp_path / "w.json"
    w.write_text(json.dumps({"like": 1.0, "share": 9.0, "hide": -20.0}))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"likes": 1.0}))
    r = feedwell("--db", store, "publish", "--objective", str(bad))
    assert r.returncode != 0 and "unknown action" in r.stderr and "Traceback" not in r.stderr
    r = feedwell("--db", store, "publish", "--objective", str(w), "--json", timeout=900)
    assert r.returncode == 0, r.stderr
    published = json.loads(r.stdout)["published"]
    m = json.loads(feedwell("--db", store, "models", "--json").stdout)["models"]
    row = next(x for x in m if x["version"] == published)
    assert row["objective"] == {a: {"like": 1.0, "share": 9.0, "hide": -20.0}.get(a, 0.0)
                                for a in ACTIONS}
    con = connect(store)
    assert list_versions(con)
    con.close()


@pytest.mark.slow
def test_publish_reuses_the_evaluation_recorded_on_the_same_data(tmp_path):
    db = _store(tmp_path / "reuse.duckdb")
    r = feedwell("--db", db, "evaluate", "--json", timeout=900)
    assert r.returncode == 0, r.stderr
    gate = json.loads(r.stdout)["gate"]
    r = feedwell("--db", db, "publish", "--json", timeout=900)
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    # The gate reads the recorded evaluation: the same decision, nothing evaluated again.
    assert res["evaluation"] == "recorded" and res["evaluation_seconds"] is None
    assert res["gate"] == gate and res["published"] == gate["version"]
    r = feedwell("--db", db, "publish", timeout=900)
    assert "on the evaluation recorded on it" in r.stdout
