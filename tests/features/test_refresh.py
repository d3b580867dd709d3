"""Incremental refresh: the kept partials and every feature table equal a full rebuild's.

Events arrive through ``ingest`` in batches: late (long before the latest event), out of order,
re-delivered (the same rows again), plus user resets, an item whose creator and topics change,
a late event that joins two gap sessions and one that extends a client session.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal

from features.build import run_features
from features.catalog import load_catalog
from features.ingest import ingest_dir

T0 = datetime(2024, 1, 1)
TYPES = ["impression", "view", "view", "view", "like", "skip", "skip", "share", "comment",
         "hide", "report", "unlike", "remix", "follow", "unfollow", "block"]


def _item(i: int, creator: int | None = None, topics: list[str] | None = None) -> dict:
    return {"item_id": f"i{i}", "creator_id": f"c{creator if creator is not None else i % 4}",
            "created_at": "2023-12-01 00:00:00", "duration_ms": 10_000 + 1000 * i,
            "topics": topics if topics is not None else [f"t{i % 3}", f"t{(i + 1) % 5}"]}


def _events(rng: random.Random, n: int, start: datetime, hours: float, tag: str) -> list[dict]:
    out = []
    for k in range(n):
        kind = rng.choice(TYPES)
        social = kind in ("follow", "unfollow", "block")
        out.append({
            "event_id": f"{tag}{k}",
            "user_id": f"u{rng.randrange(6)}",
            "ts": str(start + timedelta(seconds=rng.uniform(0, hours * 3600))),
            "type": kind,
            "item_id": None if social else f"i{rng.randrange(10)}",
            "target_user_id": f"c{rng.randrange(4)}" if social else None,
            "watch_ms": rng.randrange(0, 30_000) if kind == "view" else None,
            "session_id": rng.choice([None, None, "s1", "s2"]),
        })
    rng.shuffle(out)  # files are never in time order
    return out


def _ingest(con, tmp: Path, name: str, events: list[dict], items: list[dict] | None = None):
    folder = tmp / name
    folder.mkdir()
    for table, rows in (("events", events), ("items", items or [])):
        if rows:
            (folder / f"{table}.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    ingest_dir(con, folder)


def _tables(con) -> dict[str, pl.DataFrame]:
    cat = load_catalog()
    out = {}
    for fs in cat.sets.values():
        if fs.materialized == "view":
            continue
        table = fs.name if fs.materialized == "partial" else fs.table
        frame = con.sql(f"SELECT * FROM {table}").pl()
        out[table] = frame.sort(fs.key)
    return out


def _same_as_full(con) -> str:
    refreshed = run_features(con)
    got = _tables(con)
    full = run_features(con, full=True)
    want = _tables(con)
    assert full.partials == "full"
    for name, frame in want.items():
        # Sums of decayed weights may add up in another order: equal to 1e-12, counts exactly.
        assert_frame_equal(got[name], frame, check_exact=False, rel_tol=1e-12, abs_tol=1e-12)
    return refreshed.partials


def test_refresh_equals_full_build_through_late_reordered_redelivered_and_resets(con, tmp_path):
    rng = random.Random(13)
    _ingest(con, tmp_path, "b0", _events(rng, 400, T0, 24 * 8, "a"), [_item(i) for i in range(10)])
    assert run_features(con).partials == "full"  # nothing kept yet
    assert _same_as_full(con) == "refresh"  # nothing new: a no-op refresh
    day9 = _events(rng, 150, T0 + timedelta(days=8), 24, "b")
    late = _events(rng, 40, T0 + timedelta(days=1), 24 * 6, "late")
    redelivered = [json.loads(r) for r in (tmp_path / "b0" / "events.jsonl").read_text()
                   .splitlines()[:50]]
    _ingest(con, tmp_path, "b1", day9 + late + redelivered)
    assert _same_as_full(con) == "refresh"
    con.execute("INSERT INTO user_resets VALUES ('u1', ?), ('u2', ?)",
                [T0 + timedelta(days=5), T0 + timedelta(days=8, hours=3)])
    _ingest(con, tmp_path, "b2", _events(rng, 60, T0 + timedelta(days=8, hours=20), 10, "c"),
            [_item(3, creator=0, topics=["new"]), _item(10)])
    assert _same_as_full(con) == "refresh"
    con.execute("INSERT INTO user_resets VALUES ('u1', ?)", [T0 + timedelta(days=9, hours=1)])
    assert _same_as_full(con) == "refresh"


def test_late_events_merge_gap_sessions_and_extend_client_sessions(con, tmp_path):
    ev = [
        {"event_id": "a", "user_id": "x", "ts": "2024-01-10 08:00:00", "type": "view",
         "item_id": "i1", "watch_ms": 1},
        {"event_id": "b", "user_id": "x", "ts": "2024-01-10 08:50:00", "type": "view",
         "item_id": "i1", "watch_ms": 1},
        {"event_id": "c", "user_id": "x", "ts": "2024-01-10 10:00:00", "type": "view",
         "item_id": "i1", "watch_ms": 1},
        {"event_id": "d", "user_id": "x", "ts": "2024-01-10 09:00:00", "type": "view",
         "item_id": "i1", "watch_ms": 1, "session_id": "abc"},
    ]
    _ingest(con, tmp_path, "b0", ev, [_item(1)])
    run_features(con)
    keys = con.execute("SELECT session_key, events FROM stg_sessions ORDER BY 1").fetchall()
    assert keys == [("x#g1", 1), ("x#g2", 1), ("x#g3", 1), ("x#sabc", 1)]
    late = [
        {"event_id": "e", "user_id": "x", "ts": "2024-01-10 08:25:00", "type": "skip",
         "item_id": "i1"},  # joins g1 and g2 into one session
        {"event_id": "f", "user_id": "x", "ts": "2024-01-10 11:00:00", "type": "like",
         "item_id": "i1", "session_id": "abc"},
    ]
    _ingest(con, tmp_path, "b1", late)
    assert _same_as_full(con) == "refresh"
    keys = con.execute("SELECT session_key, events FROM stg_sessions ORDER BY 1").fetchall()
    assert keys == [("x#g1", 3), ("x#g2", 1), ("x#sabc", 2)]


def test_rows_written_outside_ingest_make_it_a_full_rebuild(con, tmp_path):
    _ingest(con, tmp_path, "b0", _events(random.Random(1), 50, T0, 48, "a"), [_item(1)])
    run_features(con)
    con.execute("INSERT INTO events (event_id, user_id, ts, type, item_id, watch_ms) "
                "VALUES ('z', 'u1', '2024-01-03 00:00:00', 'view', 'i1', 5)")
    run = run_features(con)
    assert run.partials == "full" and "outside ingest" in run.reason
    assert _same_as_full(con) == "refresh"


def test_as_of_before_the_latest_event_leaves_kept_partials_alone(con, tmp_path):
    _ingest(con, tmp_path, "b0", _events(random.Random(2), 80, T0, 72, "a"), [_item(1)])
    run_features(con)
    kept = con.execute("SELECT count(*), sum(views) FROM part_user").fetchall()
    past = run_features(con, now=T0 + timedelta(hours=30))
    assert past.partials == "as-of"
    assert con.execute("SELECT count(*), sum(views) FROM part_user").fetchall() == kept
    assert _same_as_full(con) == "refresh"
