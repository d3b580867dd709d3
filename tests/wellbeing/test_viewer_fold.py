"""One fold per viewer fact: the stored, live and batch paths give the same viewer.

The same events go through the stored path (``load_viewer_context`` on a DuckDB store, point
in time), the batch path (``FeedEngine``'s stored viewers, what ``feedwell score`` reads) and
the service's live path (``ViewerState``: folded at start-up, or observed as posted events, or
half and half). Every viewer fact must come out equal.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from features.store import connect
from ranking.feed.engine import FeedEngine
from ranking.service.viewer_state import ViewerState
from wellbeing import (
    Consent,
    ItemFacts,
    ViewerContext,
    WellbeingConfig,
    latest_consents,
    load_item_facts,
)
from wellbeing.loaders import load_viewer_context
from wellbeing.viewer_fold import (
    SEEN_SQL,
    SEEN_TYPES,
    Feedback,
    Profile,
    consent_in_force,
    creator_penalties,
    fold_event,
    topic_penalties,
)

NOW = datetime(2026, 6, 15, 16, 0)
CFG = WellbeingConfig()
U = "u"


def _ev(k: int, ts: datetime, type_: str, item: str | None = None, target: str | None = None,
        user: str = U) -> dict[str, Any]:
    return {"event_id": f"e{k:03d}", "user_id": user, "ts": ts, "type": type_, "item_id": item,
            "target_user_id": target, "watch_ms": 4000 if type_ == "view" else None,
            "session_id": None}


def _events() -> list[dict[str, Any]]:
    """A viewer who follows, unfollows, blocks, hides and reports (some before the reset),
    watches, skips and is shown videos, and is followed by others."""

    def d(days: float, hours: float = 0.0) -> datetime:
        return NOW - timedelta(days=days, hours=hours)

    rows = [
        (d(20), "follow", None, "a"), (d(19), "follow", None, "b"), (d(18), "unfollow", None, "b"),
        (d(17), "block", None, "cblock"),
        (d(10), "hide", "old", None),  # before the reset: the hide stays, its penalty goes
        (d(3), "hide", "h1", None), (d(2), "report", "r1", None), (d(1), "hide", "h2", None),
        (d(0, 5), "hide", "ghost", None),  # a video not in the catalog: hidden, no penalty
        (d(0, 4), "view", "v1", None), (d(0, 3), "skip", "v2", None),
        (d(0, 2), "like", "v3", None), (d(0, 1), "impression", "v4", None),  # shown, not seen
    ]
    ev = [_ev(k, ts, t, item, target) for k, (ts, t, item, target) in enumerate(rows)]
    ev += [_ev(90, d(6), "follow", target=U, user="f1"),
           _ev(91, d(6), "follow", target=U, user="f2"),
           _ev(92, d(5), "unfollow", target=U, user="f2")]
    return sorted(ev, key=lambda e: e["ts"])


def _store(path: Path, events: list[dict[str, Any]]) -> None:
    con = connect(path)
    con.execute("INSERT INTO users (user_id, birth_date, timezone) VALUES (?, ?, 'UTC')",
                [U, date(1990, 1, 1)])
    items = [("old", "cold", ["pets"]), ("h1", "c1", ["cooking", "dance"]),
             ("r1", "c2", ["sadness"]), ("h2", "c1", ["cooking"]),
             ("v1", "c3", []), ("v2", "c3", []), ("v3", "c3", []), ("v4", "c3", [])]
    con.executemany("INSERT INTO items (item_id, creator_id, topics, _loaded_at) "
                    "VALUES (?, ?, ?, ?)", [(*i, NOW - timedelta(days=30)) for i in items])
    # h1 was re-loaded later with other topics: every path reads its latest row.
    con.execute("INSERT INTO items (item_id, creator_id, topics, _loaded_at) "
                "VALUES ('h1', 'c1', ['comedy'], ?)", [NOW - timedelta(days=29)])
    con.execute("INSERT INTO user_resets VALUES (?, ?)", [U, NOW - timedelta(days=7)])
    cols = ("event_id", "user_id", "ts", "type", "item_id", "target_user_id", "watch_ms")
    if events:
        con.executemany(f"INSERT INTO events ({', '.join(cols)}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [[e[c] for c in cols] for e in events])
    con.close()


def _facts(v: ViewerContext, seen: Any) -> dict[str, Any]:
    return {"blocked": v.blocked_creators, "following": v.following, "followers": v.followers,
            "hidden": v.hidden_items, "reported": v.reported_items,
            "creators": {k: round(x, 9) for k, x in v.creator_penalties.items()},
            "topics": {k: round(x, 9) for k, x in v.topic_penalties.items()},
            "seen": frozenset(seen)}


def _stored(path: Path, now: datetime) -> dict[str, Any]:
    con = connect(path)
    try:
        engine = FeedEngine(path, con=con)
        return _facts(load_viewer_context(con, U, now, cfg=CFG), engine.viewers.seen(U, now))
    finally:
        con.close()


def _batch(path: Path, now: datetime) -> dict[str, Any]:
    con = connect(path)
    try:
        engine = FeedEngine(path, con=con)  # what feedwell score/recommend/explain read
        return _facts(engine.viewer(U, now), engine.viewers.seen(U, now))
    finally:
        con.close()


def _live(path: Path, posted: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    con = connect(path)
    try:
        items = load_item_facts(con)
        state = ViewerState(con, lambda: items, CFG)
        state.observe(posted)
        return _facts(state.viewer(U, now), state.seen(U, now))
    finally:
        con.close()


@pytest.fixture()
def paths(tmp_path):
    """(all events stored, no events stored, the first half stored), with the events."""
    ev = _events()
    half = len(ev) // 2
    stores = (tmp_path / "all.duckdb", tmp_path / "none.duckdb", tmp_path / "half.duckdb")
    for p, stored in zip(stores, (ev, [], ev[:half]), strict=True):
        _store(p, stored)
    return stores, ev, half


def test_stored_live_and_batch_paths_fold_to_the_same_viewer(paths):
    (full, empty, half_path), ev, half = paths
    now = NOW
    expected = _stored(full, now)
    assert expected["blocked"] == {"cblock"} and expected["following"] == {"a"}
    assert expected["followers"] == {"f1"}
    assert expected["hidden"] == {"old", "h1", "h2", "ghost"} and expected["reported"] == {"r1"}
    assert set(expected["creators"]) == {"c1", "c2"}  # "old" was before the reset
    assert "comedy" in expected["topics"] and "dance" not in expected["topics"]
    assert expected["seen"] == {"old", "h1", "r1", "h2", "ghost", "v1", "v2", "v3"}
    assert _batch(full, now) == expected
    assert _live(full, [], now) == expected  # folded at start-up
    assert _live(empty, ev, now) == expected  # folded as posted events
    assert _live(half_path, ev[half:], now) == expected  # both


def test_an_event_after_now_never_weighs_more_than_its_weight_in_any_path(tmp_path):
    """The age clamp: only the live copy had ``max(0.0, age)``; the stored copy relied on its
    ``ts < now`` filter. One decay function now holds it for every path."""
    future = [_ev(1, NOW + timedelta(hours=2), "report", "r1")]
    full, empty = tmp_path / "f.duckdb", tmp_path / "e.duckdb"
    _store(full, future)
    _store(empty, [])
    live = _live(empty, future, NOW)
    assert live["creators"]["c2"] == pytest.approx(CFG.report_weight)
    for got in (live, _stored(full, NOW), _batch(full, NOW), _live(full, [], NOW)):
        assert all(v <= CFG.report_weight + 1e-12 for v in got["creators"].values())
        assert all(v <= CFG.report_weight * CFG.topic_feedback_weight + 1e-12
                   for v in got["topics"].values())


def test_creator_penalty_decay_of_a_negative_age_is_clamped_regression_stored_copy_had_none():
    p = Profile()
    fold_event(p, {"type": "hide", "ts": NOW + timedelta(days=30), "item_id": "x"},
               ItemFacts("x", "cx", topics=("t",)), CFG)
    assert creator_penalties(p, NOW, CFG) == {"cx": 1.0}
    assert topic_penalties(p, NOW, CFG) == {"t": CFG.topic_feedback_weight}


def test_feedback_reads_the_latest_item_row_regression_stored_copy_read_any_row(paths):
    """The stored copy joined ``any_value(topics)`` and the start-up copy ``DISTINCT ON``
    (either row of a re-loaded video); the live path read the catalog's latest row."""
    (full, empty, _), ev, _ = paths
    for got in (_stored(full, NOW), _live(full, [], NOW), _live(empty, ev, NOW)):
        assert "comedy" in got["topics"] and "dance" not in got["topics"]


def _consent(status: str, ts: datetime, audience: str | None = "everyone") -> Consent:
    return Consent("s1", ts, status, audience if status == "granted" else None)


def test_consent_tie_revocation_wins_in_every_path(tmp_path):
    t = NOW - timedelta(hours=1)
    grant, revoke = _consent("granted", t), _consent("revoked", t)
    assert consent_in_force(grant, revoke) is revoke
    assert consent_in_force(revoke, grant) is revoke
    path = tmp_path / "c.duckdb"
    _store(path, [])
    con = connect(path)
    try:
        # Stored in either order: the revocation is in force at and after its time.
        con.execute("INSERT INTO consents (subject_id, ts, status, audience) "
                    "VALUES ('s1', ?, 'revoked', NULL), ('s1', ?, 'granted', 'everyone')", [t, t])
        assert latest_consents(con, NOW)["s1"].status == "revoked"  # stored (point in time)
        engine = FeedEngine(path, con=con)
        assert engine.consents["s1"].status == "revoked"  # batch / the service's reload
        for first, second in ((grant, revoke), (revoke, grant)):  # live: posted either order
            engine.consents = {}
            engine.set_consent(first)
            engine.set_consent(second)
            assert engine.consents["s1"] is revoke
    finally:
        con.close()


def test_set_consent_agrees_with_a_reload_regression_live_copy_took_any_revocation():
    """The live copy put every revocation in force whatever its time, while a reload kept the
    later grant: the service and the store disagreed. ``save_consent`` already stores a
    received revocation after the latest row, so one rule serves both."""
    later_grant, older_revoke = (_consent("granted", NOW),
                                 _consent("revoked", NOW - timedelta(hours=1)))
    assert consent_in_force(later_grant, older_revoke) is later_grant
    assert consent_in_force(older_revoke, later_grant) is later_grant


def test_seen_types_are_declared_once(con):
    """The live stores' ``counts_as_seen`` and the loads' ``SEEN_SQL`` pick the same rows."""
    from ranking.service.session_store import InMemorySessionStore

    store = InMemorySessionStore(history=type("H", (), {"usage_events": lambda s, u: []})(),
                                 cfg=CFG)
    types = sorted(SEEN_TYPES | {"impression", "follow", "block", "unlike"})
    rows = [(str(k), t, t if k % 3 else None) for k, t in enumerate(types)]
    for eid, t, item in rows:
        store.observe(U, "UTC", {"event_id": eid, "ts": NOW, "type": t, "item_id": item})
    con.executemany("INSERT INTO events (event_id, user_id, ts, type, item_id) "
                    "VALUES (?, 'u', ?, ?, ?)", [(eid, NOW, t, item) for eid, t, item in rows])
    sql = {r[0] for r in con.execute(f"SELECT item_id FROM events WHERE {SEEN_SQL}").fetchall()}
    assert store.seen(U) == sql == {item for _, t, item in rows if item and t in SEEN_TYPES}
    assert "impression" not in SEEN_TYPES


def test_feedback_is_one_record_per_hide_or_report():
    p = Profile()
    fold_event(p, {"type": "report", "ts": NOW, "item_id": "x"},
               ItemFacts("x", "cx"), CFG)
    fold_event(p, {"type": "hide", "ts": NOW, "item_id": "x"}, None, CFG)
    assert p.feedback == [Feedback("cx", (), NOW, CFG.report_weight)]
    assert p.hidden == {"x"} and p.reported == {"x"}
