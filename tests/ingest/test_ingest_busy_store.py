"""`feedwell ingest` while another process (a running `feedwell serve`) holds the store: a clear
one-line refusal naming the fix, exit code 1, nothing written; the same load lands later."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from features.store import connect
from tests.cli.conftest import feedwell

# Holds the store read-write, as `feedwell serve` does.
_HOLDER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
print("holding", flush=True)
sys.stdin.read()
"""


@contextmanager
def held(db: str) -> Iterator[int]:
    proc = subprocess.Popen([sys.executable, "-c", _HOLDER, db], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "holding"
        yield proc.pid
    finally:
        proc.kill()
        proc.wait(timeout=30)


def _counts(db: str) -> tuple[int, int]:
    con = connect(db, read_only=True)
    try:
        return con.execute("SELECT (SELECT count(*) FROM items), (SELECT count(*) FROM events)"
                           ).fetchall()[0]
    finally:
        con.close()


def test_ingest_refuses_a_store_another_process_holds(tmp_path):
    db = str(tmp_path / "busy.duckdb")
    connect(db).close()
    data = tmp_path / "data"
    data.mkdir()
    (data / "items.jsonl").write_text(json.dumps({"item_id": "i1", "creator_id": "c1"}) + "\n")
    (data / "events.jsonl").write_text(json.dumps(
        {"event_id": "e1", "user_id": "u1", "ts": "2026-01-01T00:00:00Z", "type": "view",
         "item_id": "i1"}) + "\n")
    with held(db) as pid:
        res = feedwell("--db", db, "ingest", str(data))
    assert res.returncode == 1
    assert res.stderr.count("\n") == 1 and "Traceback" not in res.stderr
    assert f"the store {db} is held by" in res.stderr and f"PID {pid}" in res.stderr
    assert "feedwell serve" in res.stderr
    assert "POST /v1/events and POST /v1/items" in res.stderr
    assert "stop that process and re-run" in res.stderr
    assert _counts(db) == (0, 0)
    # Once the holder is gone, the same command loads everything.
    res = feedwell("--db", db, "ingest", str(data), "--json")
    assert res.returncode == 0, res.stderr
    assert _counts(db) == (1, 1)
