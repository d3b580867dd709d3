"""``feedwell sql``, ``feedwell marts`` and ``feedwell report`` through the CLI entry point."""

from __future__ import annotations

import json

import pytest

from flows.cli import main


@pytest.fixture()
def db(world, tmp_path):
    """The tiny world's database file, closed so the CLI opens it itself."""
    world.close()
    return str(tmp_path / "test.duckdb")


def test_sql_json_rows(db, capsys):
    q = "SELECT day, active_users, views FROM mart_daily_engagement ORDER BY day"
    assert main(["--db", db, "sql", q, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["columns"] == ["day", "active_users", "views"]
    assert out["rows"] == [{"day": "2026-10-20", "active_users": 3, "views": 5},
                           {"day": "2026-10-21", "active_users": 2, "views": 2}]
    assert out["row_count"] == 2


def test_sql_table(db, capsys):
    assert main(["--db", db, "sql", "SELECT rule, sum(interventions) AS n FROM "
                 "mart_interventions GROUP BY rule ORDER BY n DESC, rule"]) == 0
    out = capsys.readouterr().out
    assert "rule" in out and "break" in out and "quiet_hours" in out
    assert "3 rows" in out


def test_sql_error_is_clean(db, capsys):
    assert main(["--db", db, "sql", "SELECT * FROM no_such_mart", "--json"]) == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out.splitlines()[0])["error"] == "DataError"
    assert "no_such_mart" in captured.err


def test_marts_lists_descriptions(db, capsys):
    assert main(["--db", db, "marts", "--json"]) == 0
    marts = {m["name"]: m for m in json.loads(capsys.readouterr().out)["marts"]}
    assert {"mart_daily_engagement", "mart_sessions", "mart_usage_by_age_hour",
            "mart_interventions", "mart_removals", "mart_teen_sensitive_exposure",
            "mart_creator_stats", "mart_model_quality", "mart_negative_feedback"} <= set(marts)
    assert marts["mart_sessions"]["columns"]["age_band"]
    assert all(m["description"] for m in marts.values())


def test_report_command_writes_file(db, tmp_path, capsys):
    out = tmp_path / "r.html"
    assert main(["--db", db, "report", "--out", str(out), "--from", "2026-10-21", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["report"] == str(out.resolve())
    assert out.stat().st_size > 1_000_000  # plotly.js is inline


def test_report_rejects_reversed_range(db):
    assert main(["--db", db, "report", "--from", "2026-10-21", "--to", "2026-10-20"]) == 1
