"""The daily flow under the session's Prefect harness: caching, retries, crash re-runs, the gate."""

from __future__ import annotations

import pytest

import flows.ingest
from features.errors import PipelineError
from features.store import connect
from flows.cli import main
from flows.daily import daily
from ranking import registry

pytestmark = pytest.mark.usefixtures("prefect_harness")


def _snapshot(db: str) -> dict:
    con = connect(db, read_only=True)
    q = lambda sql: con.execute(sql).fetchall()  # noqa: E731
    snap = {
        "events": q("SELECT count(*), count(DISTINCT event_id) FROM events")[0],
        "users": q("SELECT count(*), count(DISTINCT user_id) FROM users")[0],
        "feat_user_engagement": q("SELECT count(*) FROM feat_user_engagement")[0],
        "days": q("SELECT * FROM agg_daily_engagement ORDER BY day"),
        "models": q("SELECT version, status FROM model_registry ORDER BY version"),
    }
    con.close()
    return snap


def test_daily_twice_on_the_same_data_changes_nothing(db, world, lifecycle):
    first = daily(db_path=db, data_dir=str(world))
    before = _snapshot(db)
    second = daily(db_path=db, data_dir=str(world))
    after = _snapshot(db)
    assert before == after
    assert before["events"][0] == before["events"][1] > 0
    assert first["version"] == second["version"] == first["published"]
    assert first["data_version"] == second["data_version"]
    # Training and evaluation were cached on the data version: one model, one evaluation.
    assert lifecycle.calls == {"train": 1, "evaluate": 1}
    assert before["models"] == [(first["version"], "published")]
    assert first["daily_counts_rows"] == len(before["days"]) > 0


def test_a_task_that_fails_once_is_retried(db, world, lifecycle, monkeypatch):
    real, calls = flows.ingest.ingest_dir, []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OSError("transient: file share went away")
        return real(*args, **kwargs)

    monkeypatch.setattr(flows.ingest, "ingest_dir", flaky)
    summary = daily(db_path=db, data_dir=str(world))
    assert len(calls) == 2
    assert summary["ingest"]["events"]["accepted"] > 0
    assert summary["published"] == summary["version"]


def test_rerun_after_a_crash_completes_without_duplicates(db, world, lifecycle):
    lifecycle.fail_evaluate_once = RuntimeError("worker killed")
    with pytest.raises(RuntimeError, match="worker killed"):
        daily(db_path=db, data_dir=str(world))
    crashed = _snapshot(db)
    assert [s for _, s in crashed["models"]] == ["candidate"]
    summary = daily(db_path=db, data_dir=str(world))
    after = _snapshot(db)
    assert after["events"] == crashed["events"]
    assert after["events"][0] == after["events"][1]
    # The re-run reused the version trained before the crash instead of registering another.
    assert after["models"] == [(summary["version"], "published")]
    assert lifecycle.calls["train"] == 1


def test_publish_gate_blocks_an_evaluation_without_test_users(db, world, lifecycle):
    good = daily(db_path=db, data_dir=str(world))
    con = connect(db)
    con.execute("INSERT INTO user_resets VALUES ('u_new', TIMESTAMP '2026-11-01')")  # new data
    con.close()
    lifecycle.no_test_users = True  # nothing to choose a model on
    with pytest.raises(PipelineError, match="not published"):
        daily(db_path=db)
    con = connect(db)
    assert registry.published(con).version == good["version"]
    statuses = {r.version: r.status for r in registry.list_versions(con)}
    con.close()
    assert sorted(statuses.values()) == ["published", "rejected"]


def test_cli_run_fails_with_the_gate_reason(db, world, lifecycle, capsys):
    lifecycle.no_test_users = True
    assert main(["--db", db, "run", "--data", str(world)]) == 1
    assert "no known test users" in capsys.readouterr().err


def test_cli_run_prints_versions_metrics_and_gate(db, world, lifecycle, capsys):
    assert main(["--db", db, "run", "--data", str(world)]) == 0
    out = capsys.readouterr().out
    assert "trained: v" in out and "gate: passed" in out and "published: v" in out


def test_cli_run_reports_the_evaluations_own_time(db, world, lifecycle, capsys):
    assert main(["--db", db, "run", "--data", str(world)]) == 0
    out = capsys.readouterr().out
    assert ("evaluated in 1.5 s (random holdout 0.5 s, temporal holdout 0.8 s, "
            "guardrail replay 0.2 s)") in out
