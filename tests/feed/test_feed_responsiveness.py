"""Explicit feedback visibly works: one hide halves similar videos on the next pages."""

from __future__ import annotations

from ranking.evaluation.responsiveness import hide_responsiveness
from ranking.feed.engine import FeedEngine
from tests.feed._levers_world import NOW, build_levers_world


def test_one_hide_halves_similar_items_in_the_next_requests(con, tmp_path):
    build_levers_world(con)
    engine = FeedEngine(tmp_path / "test.duckdb", con=con)
    got = hide_responsiveness(engine, ["adult", "teen"], NOW, k=10, n_requests=1)
    assert got["users"] == 2 and got["similar_without"] >= 4
    assert got["drop"] >= 0.5, got
    three = hide_responsiveness(engine, ["adult"], NOW, k=10, n_requests=3)
    assert three["drop"] > 0, three


def test_guardrail_replay_reports_responsiveness(con, tmp_path):
    from datetime import timedelta

    from ranking.evaluation.guardrails import format_guardrails, replay_guardrails

    build_levers_world(con)
    engine = FeedEngine(tmp_path / "test.duckdb", con=con)
    g = replay_guardrails(engine, NOW - timedelta(days=2), NOW, k=10, max_users=4, max_pages=1)
    r = g["responsiveness"]
    # The crowd has watched most of this small catalogue: few candidates left to reorder.
    assert r["users"] >= 1 and r["pages"] == 3 and r["drop"] is not None
    assert "responsiveness: one hide" in format_guardrails(g)
    # ... and what live adaptation does to session topic concentration and minors' exposure
    live = g["live_adaptation"]
    assert "session_topic_concentration" in live and "minor_unrated" in live
    assert all(set(d) == {"live", "frozen", "delta"} for d in live.values())
    assert "live adaptation on / off" in format_guardrails(g)
