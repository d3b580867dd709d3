"""Ingest: quarantine reasons, reconciliation, idempotence, formats, clean failures."""

from __future__ import annotations

import json
from datetime import datetime

import polars as pl
import pytest

from features.errors import DataError
from features.ingest import ingest_dir
from features.store import scalar

NOW = datetime(2026, 6, 1)

GOOD_EVENTS = [
    {"event_id": "e1", "user_id": "u1", "ts": "2026-01-01T10:00:00Z", "type": "view",
     "item_id": "i1", "watch_ms": 1500, "session_id": "s1"},
    {"event_id": "e2", "user_id": "u1", "ts": "2026-01-01T10:01:00+01:00", "type": "like",
     "item_id": "i1"},
    {"event_id": "e3", "user_id": "u2", "ts": "2026-01-01 10:02:00", "type": "follow",
     "target_user_id": "u1"},
]
BAD_EVENTS = {
    "unknown_event_type": {"event_id": "b1", "user_id": "u1", "ts": "2026-01-01", "type": "zap",
                           "item_id": "i1"},
    "missing_user_id": {"event_id": "b2", "ts": "2026-01-01", "type": "view", "item_id": "i1"},
    "bad_ts": {"event_id": "b3", "user_id": "u1", "ts": "yesterday", "type": "view",
               "item_id": "i1"},
    "negative_watch_ms": {"event_id": "b4", "user_id": "u1", "ts": "2026-01-01", "type": "view",
                          "item_id": "i1", "watch_ms": -3},
    "future_ts": {"event_id": "b5", "user_id": "u1", "ts": "2026-07-01", "type": "view",
                  "item_id": "i1"},
    "missing_item_id": {"event_id": "b6", "user_id": "u1", "ts": "2026-01-01", "type": "like"},
    "missing_target_user_id": {"event_id": "b7", "user_id": "u1", "ts": "2026-01-01",
                               "type": "block"},
    "conflicting_event_id": {"event_id": "e1", "user_id": "u1", "ts": "2026-01-01T10:00:00Z",
                             "type": "view", "item_id": "i1", "watch_ms": 9999},
    "bad_watch_ms": {"event_id": "b8", "user_id": "u1", "ts": "2026-01-01", "type": "view",
                     "item_id": "i1", "watch_ms": "lots"},
}


def _write(tmp_path, name: str, rows: list[dict], fmt: str = "jsonl"):
    d = tmp_path / "data"
    d.mkdir(exist_ok=True)
    if fmt == "jsonl":
        (d / f"{name}.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    else:
        df = pl.DataFrame(rows, infer_schema_length=None)
        df = df.with_columns(
            [pl.col(c).list.join("|") for c, t in df.schema.items()
             if isinstance(t, pl.List) and fmt == "csv"]
        )
        getattr(df, f"write_{fmt}")(d / f"{name}.{fmt}")
    return d


def _reconciles(rep) -> bool:
    return rep.read == rep.accepted + rep.quarantined + rep.duplicates


@pytest.mark.parametrize("reason", sorted(BAD_EVENTS))
def test_each_bad_row_is_quarantined_with_its_reason(con, tmp_path, reason):
    d = _write(tmp_path, "events", GOOD_EVENTS + [BAD_EVENTS[reason]])
    rep = ingest_dir(con, d, now=NOW)["events"]
    assert rep.quarantine_reasons == {reason: 1}
    assert rep.accepted == 3 and _reconciles(rep)
    assert scalar(con, "SELECT reason FROM quarantine") == reason
    assert scalar(con, "SELECT count(*) FROM events") == 3


def test_reingest_is_idempotent_and_counts_duplicates(con, tmp_path):
    rows = GOOD_EVENTS + [GOOD_EVENTS[0]] + list(BAD_EVENTS.values())
    d = _write(tmp_path, "events", rows)
    first = ingest_dir(con, d, now=NOW)["events"]
    assert (first.accepted, first.duplicates, first.quarantined) == (3, 1, len(BAD_EVENTS))
    assert _reconciles(first)
    second = ingest_dir(con, d, now=NOW)["events"]
    assert (second.accepted, second.duplicates) == (0, 4) and _reconciles(second)
    assert scalar(con, "SELECT count(*) FROM events") == 3
    assert scalar(con, "SELECT count(*) FROM quarantine") == len(BAD_EVENTS)


def test_missing_event_id_gets_stable_hash(con, tmp_path):
    rows = [{k: v for k, v in GOOD_EVENTS[0].items() if k != "event_id"}]
    d = _write(tmp_path, "events", rows)
    ingest_dir(con, d, now=NOW)
    rep = ingest_dir(con, d, now=NOW)["events"]
    assert rep.duplicates == 1
    assert scalar(con, "SELECT event_id FROM events").startswith("h_")


def test_times_are_utc(con, tmp_path):
    ingest_dir(con, _write(tmp_path, "events", GOOD_EVENTS), now=NOW)
    ts = scalar(con, "SELECT ts FROM events WHERE event_id = 'e2'")
    assert ts == datetime(2026, 1, 1, 9, 1)


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_three_formats_land_the_same_items(con, tmp_path, fmt):
    items = [
        {"item_id": "i1", "creator_id": "c1", "topics": ["cats", "dogs"], "labels": [],
         "maturity": "general", "duration_ms": 10_000, "realistic_person": False},
        {"item_id": "i2", "creator_id": "c1", "topics": ["news"], "labels": ["violence"],
         "maturity": "mature", "duration_ms": 5_000, "realistic_person": True},
    ]
    if fmt == "csv":
        items[0]["labels"] = ["[]"]  # an explicit empty list in CSV
    ingest_dir(con, _write(tmp_path, "items", items, fmt), now=NOW)
    got = con.sql("SELECT item_id, topics, labels, realistic_person FROM items ORDER BY 1").pl()
    assert got["topics"].to_list() == [["cats", "dogs"], ["news"]]
    assert got["labels"].to_list() == [[], ["violence"]]
    assert got["realistic_person"].to_list() == [False, True]


def test_entities_upsert_latest_wins_and_extra_columns_kept(con, tmp_path):
    d = _write(tmp_path, "users", [{"user_id": "u1", "timezone": "UTC", "mood": "happy"}])
    ingest_dir(con, d, now=NOW)
    d = _write(tmp_path, "users", [{"user_id": "u1", "timezone": "Europe/Paris", "mood": "ok"}])
    rep = ingest_dir(con, d, now=NOW)["users"]
    assert rep.accepted == 1
    assert con.execute("SELECT timezone, extra->>'mood' FROM users").fetchall() == [
        ("Europe/Paris", "ok")]


def test_consents_keep_history(con, tmp_path):
    rows = [
        {"subject_id": "u1", "ts": "2026-01-01", "status": "granted", "audience": "everyone"},
        {"subject_id": "u1", "ts": "2026-02-01", "status": "revoked", "audience": "everyone"},
    ]
    rep = ingest_dir(con, _write(tmp_path, "consents", rows), now=NOW)["consents"]
    assert rep.accepted == 2
    assert scalar(con, "SELECT count(*) FROM consents") == 2


def test_folder_per_table(con, tmp_path):
    d = tmp_path / "data" / "events"
    d.mkdir(parents=True)
    pl.DataFrame(GOOD_EVENTS[:1]).write_parquet(d / "part-0.parquet")
    (d / "part-1.jsonl").write_text("\n".join(json.dumps(r) for r in GOOD_EVENTS[1:]))
    rep = ingest_dir(con, tmp_path / "data", now=NOW)["events"]
    assert rep.accepted == 3


def test_missing_required_column_fails_naming_file_and_column_and_writes_nothing(con, tmp_path):
    d = _write(tmp_path, "items", [{"item_id": "i1", "creator_id": "c1"}])
    _write(tmp_path, "events", [{"event_id": "x", "user_id": "u1", "type": "view"}])
    with pytest.raises(DataError, match=r"events\.jsonl.*'ts'"):
        ingest_dir(con, d, now=NOW)
    assert scalar(con, "SELECT count(*) FROM items") == 0


def test_bad_path_and_unreadable_file(con, tmp_path):
    with pytest.raises(DataError, match="not found"):
        ingest_dir(con, tmp_path / "nope", now=NOW)
    d = tmp_path / "data"
    d.mkdir()
    (d / "events.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(DataError, match=r"events\.parquet"):
        ingest_dir(con, d, now=NOW)


def test_csv_quoted_empty_list_is_empty_not_unknown(con, tmp_path):
    d = tmp_path / "data"
    d.mkdir()
    (d / "items.csv").write_text('item_id,creator_id,labels\ni1,c1,""\ni2,c1,\ni3,c1,a|b\n')
    ingest_dir(con, d, now=NOW)
    got = con.execute("SELECT item_id, labels FROM items ORDER BY 1").fetchall()
    assert got == [("i1", []), ("i2", None), ("i3", ["a", "b"])]
