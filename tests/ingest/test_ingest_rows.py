"""Posted rows (``features.rows.ingest_rows``): the file ingest's reasons and merge rules, for
items as for events, through one path."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from features.ingest import ingest_dir
from features.rows import ingest_event_rows, ingest_rows
from features.store import connect

NOW = datetime(2026, 6, 1)
GOOD = {"item_id": "i1", "creator_id": "c1", "created_at": "2026-01-01T00:00:00Z",
        "duration_ms": 1000, "topics": ["cooking", "dance"], "maturity": "general",
        "ai_generated": True, "realistic_person": False, "cameo_subjects": [],
        "provenance": True, "labels": [], "status": "active"}
BAD_ITEMS = {
    "unknown_maturity": {"maturity": "spicy"},
    "missing_creator_id": {"creator_id": None},
    "negative_duration_ms": {"duration_ms": -5},
    "bad_created_at": {"created_at": "soon"},
    "bad_duration_ms": {"duration_ms": "long"},
    "bad_provenance": {"provenance": "perhaps"},
    "unknown_status": {"status": "hidden"},
    "missing_item_id": {"item_id": " "},
}


@pytest.mark.parametrize("reason", sorted(BAD_ITEMS))
def test_a_posted_item_gets_the_reason_an_items_file_gets(con, tmp_path, reason):
    rows = [GOOD, {**GOOD, "item_id": "i2", **BAD_ITEMS[reason]}]
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "items.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    file_con = connect(tmp_path / "file.duckdb")
    ingest_dir(file_con, tmp_path / "data", now=NOW)
    from_file = file_con.execute("SELECT reason FROM quarantine").fetchall()
    file_con.close()
    res = ingest_rows(con, "items", rows, now=NOW)
    assert from_file == [(reason,)]
    assert res.rejected == [{"index": 1, "reason": reason}]
    assert [r["item_id"] for r in res.new] == ["i1"]


def test_items_upsert_latest_wins_and_identical_reposts_are_duplicates(con):
    first = ingest_rows(con, "items", [GOOD, {**GOOD, "item_id": "i2"}], now=NOW)
    assert (len(first.new), first.duplicates) == (2, 0)
    assert first.new[0]["topics"] == ["cooking", "dance"] and first.new[0]["ai_generated"] is True
    again = ingest_rows(con, "items", [GOOD, {**GOOD, "item_id": "i2"}], now=NOW)
    assert (again.accepted, again.duplicates, again.new) == (2, 2, [])
    changed = ingest_rows(con, "items", [{**GOOD, "status": "removed", "extra_note": "dmca"}],
                          now=NOW)
    assert [r["status"] for r in changed.new] == ["removed"]
    assert con.execute("SELECT item_id, status, extra->>'extra_note' FROM items ORDER BY 1"
                       ).fetchall() == [("i1", "removed", "dmca"), ("i2", "active", None)]


def test_events_keep_their_history_rules_through_the_same_path(con):
    view = {"event_id": "e1", "user_id": "u1", "ts": "2026-01-01T10:00:00Z", "type": "view",
            "item_id": "i1", "watch_ms": 10}
    assert len(ingest_event_rows(con, [view], now=NOW).new) == 1
    res = ingest_rows(con, "events", [view, {**view, "watch_ms": 99}], now=NOW)
    assert (res.duplicates, res.rejected) == (1, [{"index": 1,
                                                   "reason": "conflicting_event_id"}])


def test_only_events_and_items_can_be_posted(con):
    with pytest.raises(ValueError, match="events, items"):
        ingest_rows(con, "users", [{"user_id": "u1"}])
