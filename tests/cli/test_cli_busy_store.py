"""Analysts next to a running service: reading a store another process holds read-write, and
``feedwell sql`` read-only unless ``--write``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from contextlib import contextmanager

import pytest

from features.store import connect
from flows.cli import main
from tests.cli.conftest import ROOT, feedwell

# Holds the store read-write, as `feedwell serve` does, and keeps writing to its WAL.
_HOLDER = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("CREATE TABLE IF NOT EXISTS heartbeat (n INTEGER)")
con.execute("INSERT INTO heartbeat VALUES (1)")
print("holding", flush=True)
n = 1
while True:
    n += 1
    con.execute("INSERT INTO heartbeat VALUES (?)", [n])
    time.sleep(0.01)
"""


@contextmanager
def held(db: str):
    proc = subprocess.Popen([sys.executable, "-c", _HOLDER, db], stdout=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout.readline().strip() == "holding"
        yield proc.pid
    finally:
        proc.kill()
        proc.wait(timeout=30)


def test_sql_is_read_only_by_default(capsys, store):
    assert main(["--db", store, "sql", "DROP TABLE users"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "read-only" in err and "--write" in err
    assert main(["--db", store, "sql", "SELECT count(*) AS n FROM users", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == [{"n": 2}]


def test_sql_write_flag_writes(capsys, store):
    assert main(["--db", store, "sql", "--write", "DELETE FROM users WHERE user_id = 'u_teen'"]
                ) == 0
    con = connect(store, read_only=True)
    assert con.execute("SELECT count(*) FROM users").fetchall() == [(1,)]
    con.close()


def test_reading_while_another_process_holds_the_store(capsys, store):
    with held(store) as pid:
        time.sleep(0.2)  # a few WAL writes past the first
        assert main(["--db", store, "sql", "SELECT count(*) AS users, "
                     "(SELECT count(*) FROM heartbeat) AS beats FROM users", "--json"]) == 0
        cap = capsys.readouterr()
        row = json.loads(cap.out)["rows"][0]
        assert row["users"] == 2 and row["beats"] >= 1  # the holder's uncheckpointed writes
        assert f"PID {pid}" in cap.err and "snapshot" in cap.err
        assert main(["--db", store, "models", "--json"]) == 0
        assert json.loads(capsys.readouterr().out) == {"models": []}
        assert main(["--db", store, "explain", "u_adult", "i2", "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["item_id"] == "i2"
        # Reads are refused writes, on the snapshot as on the store.
        assert main(["--db", store, "sql", "DROP TABLE users"]) == 1
        assert "read-only" in capsys.readouterr().err


@pytest.mark.parametrize("cmd", [["sql", "--write", "SELECT 1"], ["train"], ["restore"]],
                         ids=lambda c: c[0] + ("-write" if "--write" in c else ""))
def test_writers_name_the_process_holding_the_store(capsys, store, cmd):
    with held(store) as pid:
        assert main(["--db", store, *cmd]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"PID {pid}" in err and "stop that process" in err


def test_snapshot_is_removed_and_the_store_untouched(store, tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    before = os.path.getsize(store)
    with held(store):
        res = feedwell("--db", store, "sql", "SELECT count(*) AS n FROM users", "--json")
        assert res.returncode == 0, res.stderr
        assert json.loads(res.stdout)["rows"] == [{"n": 2}]
        assert "Traceback" not in res.stderr and res.stderr.count("\n") == 1
    assert not list(tmp_path.glob("feedwell-snapshot-*"))
    assert os.path.getsize(store) >= before


@pytest.mark.slow
def test_sql_while_feedwell_serve_runs(store):
    """The real service holds the store; an analyst's query still answers."""
    port = 8700 + os.getpid() % 200
    env = {**os.environ, "FEEDWELL_TOKEN": "", "FEEDWELL_ADMIN_TOKEN": ""}
    server = subprocess.Popen(
        [sys.executable, "-m", "flows.cli", "--db", store, "serve", "--port", str(port),
         "--reload-every", "0"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    try:
        import httpx

        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            pytest.fail("feedwell serve did not start")
        res = feedwell("--db", store, "sql", "SELECT count(*) AS n FROM events", "--json")
        assert res.returncode == 0, res.stderr
        assert json.loads(res.stdout)["rows"] == [{"n": 3}]
        assert "snapshot" in res.stderr
    finally:
        server.terminate()
        server.wait(timeout=30)
