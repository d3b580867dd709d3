"""Every documented CLI error path exits non-zero with one line on stderr and no traceback."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from flows.cli import main
from tests.cli.conftest import ROOT, feedwell

YEAR_ONE = "0001-01-01T00:00:00+01:00"


def one_error_line(capsys, argv: list[str]) -> str:
    """Run ``feedwell argv`` in process; assert exit 1 and exactly one clean stderr line."""
    assert main(argv) == 1
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert lines[0].startswith(f"feedwell {argv[2]}: error: ")
    return lines[0]


READERS_AND_WRITERS = [
    ["explain", "u", "i"], ["recommend", "--users", "u.csv", "--out", "o.csv"],
    ["score", "--requests", "r.csv", "--out", "o.csv"], ["sql", "SELECT 1"], ["report"],
    ["marts"], ["models"], ["evaluate"], ["publish"], ["restore"], ["train"], ["features"],
    ["sql", "--write", "SELECT 1"], ["run"],
]


@pytest.mark.parametrize("cmd", READERS_AND_WRITERS, ids=lambda c: " ".join(c[:2]))
def test_missing_database_is_refused_not_created(capsys, tmp_path, cmd):
    db = tmp_path / "typo.duckdb"
    line = one_error_line(capsys, ["--db", str(db), *cmd])
    assert str(db) in line and "does not exist" in line
    assert not db.exists()


def test_db_that_is_a_directory(capsys, tmp_path):
    line = one_error_line(capsys, ["--db", str(tmp_path), "models"])
    assert "is a directory" in line


@pytest.mark.parametrize("content", [b"", b"hello, not a database\n"], ids=["empty", "text"])
def test_db_that_is_not_a_database(capsys, tmp_path, content):
    path = tmp_path / "notes.txt"
    path.write_bytes(content)
    for cmd in (["models"], ["explain", "u", "i"], ["ingest", str(tmp_path)]):
        line = one_error_line(capsys, ["--db", str(path), *cmd])
        assert "not a DuckDB database file" in line
    assert path.read_bytes() == content


def test_empty_sql(capsys, store):
    assert "empty query" in one_error_line(capsys, ["--db", store, "sql", "  "])


def test_sql_error_is_one_line(capsys, store):
    line = one_error_line(capsys, ["--db", store, "sql", "SELEC 1"])
    assert "syntax error" in line


@pytest.mark.parametrize("cmd", [
    ["explain", "u_adult", "i1", "--now", YEAR_ONE],
    ["explain", "u_adult", "i1", "--now", "0001-01-01"],
    ["recommend", "--users", "USERS", "--out", "OUT", "--now", YEAR_ONE],
    ["train", "--now", YEAR_ONE], ["evaluate", "--now", "9999-12-31T23:00:00-05:00"],
    ["run", "--now", YEAR_ONE], ["features", "--now", YEAR_ONE],
], ids=lambda c: c[0])
def test_year_one_times(capsys, store, tmp_path, cmd):
    users = tmp_path / "users.csv"
    users.write_text("user_id\nu_adult\n")
    cmd = [str(users) if c == "USERS" else str(tmp_path / "o.csv") if c == "OUT" else c
           for c in cmd]
    one_error_line(capsys, ["--db", store, *cmd])


def test_score_names_the_row_with_a_bad_time(capsys, store, tmp_path):
    req = tmp_path / "req.csv"
    req.write_text("request_id,user_id,ts,item_id\nr1,u_adult,2026-10-21T00:00:00Z,i1\n"
                   "r2,u_adult,0001-01-01T00:00:00Z,i2\n")
    line = one_error_line(capsys, ["--db", store, "score", "--requests", str(req), "--out",
                                   str(tmp_path / "out.csv")])
    assert "row 2 (request r2): ts" in line and "before 1970" in line


def test_recommend_names_the_row_with_a_bad_now(capsys, store, tmp_path):
    users = tmp_path / "users.csv"
    users.write_text("user_id,now\nu_adult,\nu_teen,yesterday\n")
    line = one_error_line(capsys, ["--db", store, "recommend", "--users", str(users), "--out",
                                   str(tmp_path / "out.csv")])
    assert "row 2 (user u_teen): now 'yesterday'" in line


@pytest.mark.parametrize("who", [("nobody", "i1"), ("u_adult", "no_such_video")])
def test_explain_unknown_user_or_video(capsys, store, who):
    line = one_error_line(capsys, ["--db", store, "explain", *who])
    assert "nothing to explain" in line and repr(next(w for w in who if "no" in w)) in line


def test_explain_epoch_now_equals_iso(capsys, store):
    assert main(["--db", store, "explain", "u_adult", "i2", "--now", "1792454400", "--json"]) == 0
    epoch = json.loads(capsys.readouterr().out)
    assert main(["--db", store, "explain", "u_adult", "i2", "--now", "2026-10-20T00:00:00Z",
                 "--json"]) == 0
    iso = json.loads(capsys.readouterr().out)
    assert epoch["now"] == iso["now"] == "2026-10-20 00:00:00"
    assert main(["--db", store, "explain", "u_adult", "i2", "--now", "1792454400000",
                 "--json"]) == 0  # milliseconds, as ingest reads them
    assert json.loads(capsys.readouterr().out)["now"] == iso["now"]


def test_json_errors_are_one_json_object(capsys, tmp_path):
    assert main(["--db", str(tmp_path / "x.duckdb"), "models", "--json"]) == 1
    out = capsys.readouterr().out
    assert json.loads(out)["error"] == "DataError"


def test_unexpected_error_is_one_line(capsys, store, monkeypatch):
    def boom(args):
        raise KeyError("surprise")

    monkeypatch.setattr("flows._guard.run_command", boom)
    line = one_error_line(capsys, ["--db", store, "models"])
    assert "KeyError: 'surprise'" in line


def test_real_process_prints_no_traceback(tmp_path):
    res = feedwell("--db", str(tmp_path / "typo.duckdb"), "explain", "u", "i")
    assert res.returncode == 1
    assert res.stderr.count("\n") == 1 and "Traceback" not in res.stderr
    assert "does not exist" in res.stderr


def test_broken_pipe_ends_quietly(store):
    """``feedwell sql ... | head -c 10``: the reader goes away; no BrokenPipeError traceback."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "flows.cli", "--db", store, "sql", "--json",
         "SELECT range AS n, repeat('x', 100) AS pad FROM range(200000)"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.read(10)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 1
    assert "Traceback" not in err and "BrokenPipe" not in err, err
