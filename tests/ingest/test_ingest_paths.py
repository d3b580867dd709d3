"""Ingest's two paths: a batch of new keys goes in whole; clashing keys get a verdict each."""

from __future__ import annotations

import json
from datetime import datetime

import polars as pl
import pytest

from features.errors import DataError
from features.ingest import ingest_dir
from features.store import scalar

NOW = datetime(2026, 6, 1)


def _ev(eid: str | None, **kw) -> dict:
    row = {"event_id": eid, "user_id": "u1", "ts": "2026-01-01T10:00:00", "type": "view",
           "item_id": "i1", "watch_ms": 1000}
    if eid is None:
        del row["event_id"]
    return row | kw


def _jsonl(path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")


def _reconciles(rep) -> bool:
    return rep.read == rep.accepted + rep.quarantined + rep.duplicates


def test_new_keys_after_stored_rows_go_in_whole(con, tmp_path):
    _jsonl(tmp_path / "a" / "events.jsonl", [_ev("e1"), _ev("e2"), _ev("e3")])
    _jsonl(tmp_path / "b" / "events.jsonl", [_ev("e4"), _ev("e5")])
    ingest_dir(con, tmp_path / "a", now=NOW)
    rep = ingest_dir(con, tmp_path / "b", now=NOW)["events"]
    assert (rep.accepted, rep.duplicates, rep.quarantined) == (2, 0, 0)
    assert scalar(con, "SELECT count(DISTINCT event_id) FROM events") == 5


def test_mixed_batch_new_duplicate_and_conflicts(con, tmp_path):
    _jsonl(tmp_path / "a" / "events.jsonl", [_ev("e1"), _ev("e2"), _ev("e3")])
    ingest_dir(con, tmp_path / "a", now=NOW)
    batch = [
        _ev("e1"),                  # 1 stored, identical: duplicate
        _ev("e2", watch_ms=5),      # 2 stored, different: conflict
        _ev("e4"),                  # 3 new
        _ev("e4"),                  # 4 repeated in the batch, identical: duplicate
        _ev("e5"),                  # 5 new
        _ev("e5", watch_ms=7),      # 6 repeated in the batch, different: conflict
    ]
    _jsonl(tmp_path / "b" / "events.jsonl", batch)
    rep = ingest_dir(con, tmp_path / "b", now=NOW)["events"]
    assert (rep.accepted, rep.duplicates, rep.quarantined) == (2, 2, 2) and _reconciles(rep)
    assert rep.quarantine_reasons == {"conflicting_event_id": 2}
    got = con.execute("SELECT row_number, record->>'event_id', record->>'watch_ms' "
                      "FROM quarantine ORDER BY 1").fetchall()
    assert got == [(2, "e2", "5"), (6, "e5", "7")]
    stored = con.execute("SELECT event_id, watch_ms FROM events ORDER BY 1").fetchall()
    assert stored == [("e1", 1000), ("e2", 1000), ("e3", 1000), ("e4", 1000), ("e5", 1000)]


def test_entity_repeated_in_one_batch_latest_wins(con, tmp_path):
    users = [{"user_id": "u1", "timezone": "UTC"}, {"user_id": "u2"},
             {"user_id": "u1", "timezone": "Asia/Tokyo"}]
    _jsonl(tmp_path / "d" / "users.jsonl", users)
    rep = ingest_dir(con, tmp_path / "d", now=NOW)["users"]
    assert (rep.accepted, rep.duplicates) == (2, 1) and _reconciles(rep)
    assert scalar(con, "SELECT timezone FROM users WHERE user_id = 'u1'") == "Asia/Tokyo"
    again = ingest_dir(con, tmp_path / "d", now=NOW)["users"]
    assert (again.accepted, again.duplicates) == (0, 3)
    assert scalar(con, "SELECT count(*) FROM users") == 2


def test_consent_changed_under_a_stored_key_is_quarantined(con, tmp_path):
    row = {"subject_id": "u1", "ts": "2026-01-01", "status": "granted", "audience": "everyone"}
    _jsonl(tmp_path / "a" / "consents.jsonl", [row])
    _jsonl(tmp_path / "b" / "consents.jsonl", [row | {"status": "revoked"},
                                                row | {"ts": "2026-02-01", "status": "revoked"}])
    ingest_dir(con, tmp_path / "a", now=NOW)
    rep = ingest_dir(con, tmp_path / "b", now=NOW)["consents"]
    assert rep.accepted == 1 and rep.quarantine_reasons == {"conflicting_subject_id_ts": 1}
    assert con.execute("SELECT status FROM consents ORDER BY ts").fetchall() == [
        ("granted",), ("revoked",)]


def test_parquet_quarantine_keeps_the_row_as_read(con, tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    rows = [_ev("e1"), _ev("e2"), _ev("e3", type="zap"), _ev("e4")]
    pl.DataFrame(rows).write_parquet(d / "events.parquet")
    rep = ingest_dir(con, d, now=NOW)["events"]
    assert rep.quarantine_reasons == {"unknown_event_type": 1}
    got = con.execute("SELECT row_number, record->>'event_id', source FROM quarantine").fetchall()
    assert got == [(3, "e3", str(d / "events.parquet"))]


def test_folder_keeps_source_and_extra_per_file(con, tmp_path):
    d = tmp_path / "d" / "events"
    d.mkdir(parents=True)
    pl.DataFrame([_ev("e1")]).write_parquet(d / "part-0.parquet")
    _jsonl(d / "part-1.jsonl", [_ev("e2", mood="happy")])
    ingest_dir(con, tmp_path / "d", now=NOW)
    got = con.execute("SELECT event_id, _source, extra->>'mood' FROM events ORDER BY 1").fetchall()
    assert got == [("e1", str(d / "part-0.parquet"), None),
                   ("e2", str(d / "part-1.jsonl"), "happy")]


def test_missing_event_id_hash_does_not_depend_on_other_files(con, tmp_path):
    _jsonl(tmp_path / "a" / "events.jsonl", [_ev(None)])
    # The same row again, now next to a file with an unknown column (so extra is staged).
    _jsonl(tmp_path / "b" / "events" / "part-0.jsonl", [_ev(None)])
    _jsonl(tmp_path / "b" / "events" / "part-1.jsonl", [_ev("e9", mood="ok")])
    ingest_dir(con, tmp_path / "a", now=NOW)
    rep = ingest_dir(con, tmp_path / "b", now=NOW)["events"]
    assert (rep.accepted, rep.duplicates) == (1, 1)
    assert scalar(con, "SELECT count(*) FROM events WHERE event_id LIKE 'h\\_%' ESCAPE '\\'") == 1


def test_failed_table_rolls_back_the_tables_before_it(con, tmp_path):
    d = tmp_path / "d"
    _jsonl(d / "users.jsonl", [{"user_id": "u1"}])
    _jsonl(d / "events.jsonl", [_ev("e1")])
    (d / "consents.jsonl").write_text('{"subject_id": "u1", "ts": "2026-01-01"}\n')
    with pytest.raises(DataError, match=r"consents\.jsonl.*'status'"):
        ingest_dir(con, d, now=NOW)
    assert scalar(con, "SELECT count(*) FROM users") == 0
    assert scalar(con, "SELECT count(*) FROM events") == 0


def test_keys_out_of_order_are_still_checked_for_repeats(con, tmp_path):
    # Falling keys cannot be proven unique by their order: they are grouped instead.
    _jsonl(tmp_path / "a" / "events.jsonl", [_ev("e3"), _ev("e1"), _ev("e2")])
    rep = ingest_dir(con, tmp_path / "a", now=NOW)["events"]
    assert (rep.accepted, rep.duplicates) == (3, 0)
    # A rising run broken only by a bad row must not hide a repeat around it.
    _jsonl(tmp_path / "b" / "events.jsonl", [_ev("e5"), _ev("e4", type="zap"), _ev("e5")])
    rep = ingest_dir(con, tmp_path / "b", now=NOW)["events"]
    assert (rep.accepted, rep.duplicates, rep.quarantined) == (1, 1, 1) and _reconciles(rep)
    assert scalar(con, "SELECT count(*) FROM events") == 4


def test_first_parquet_load_with_a_repeat_takes_the_write_back(con, tmp_path):
    # Into an empty table the batch is written while it is surveyed; a repeat undoes that.
    d = tmp_path / "d"
    d.mkdir()
    pl.DataFrame([_ev("e1"), _ev("e2"), _ev("e1"), _ev("e3", watch_ms=-1)]).write_parquet(
        d / "events.parquet")
    rep = ingest_dir(con, d, now=NOW)["events"]
    assert (rep.accepted, rep.duplicates, rep.quarantined) == (2, 1, 1) and _reconciles(rep)
    assert con.execute("SELECT event_id FROM events ORDER BY 1").fetchall() == [("e1",), ("e2",)]
    assert scalar(con, "SELECT reason FROM quarantine") == "negative_watch_ms"


def test_survey_connection_reads_times_in_the_session_time_zone(con, tmp_path):
    # Text times without an offset follow the session time zone, on both connections.
    con.execute("SET TimeZone = 'America/New_York'")
    d = tmp_path / "d"
    d.mkdir()
    pl.DataFrame([_ev("e1", ts="2026-05-31 20:04:00")]).write_parquet(d / "events.parquet")
    rep = ingest_dir(con, d, now=NOW)["events"]  # 20:04 New York = 00:04 UTC on June 1
    assert rep.accepted == 1
    pl.DataFrame([_ev("e2", ts="2026-05-31 21:00:00")]).write_parquet(d / "events.parquet")
    con.execute("DELETE FROM events")
    rep = ingest_dir(con, d, now=NOW)["events"]  # 01:00 UTC: beyond the 5-minute skew
    assert rep.quarantine_reasons == {"future_ts": 1}
