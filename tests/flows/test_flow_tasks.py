"""Tasks through ``.fn()`` (no Prefect run), the retry policy, and day partitions."""

from __future__ import annotations

from prefect.states import Failed

from features.errors import DataError, PipelineError
from features.partitions import (
    combine_counts,
    daily_counts,
    export_partitions,
    list_partitions,
    partition_counts,
    partitions_root,
)
from features.store import connect
from flows._policy import retry_transient
from flows.features import build_features_task
from flows.ingest import data_version_task, ingest_task
from flows.partitions import partition_counts_task


def test_ingest_task_is_idempotent_and_keeps_the_data_version(db, world):
    first = ingest_task.fn(db, str(world))
    v1 = data_version_task.fn(db)
    again = ingest_task.fn(db, str(world))
    assert first["events"]["accepted"] > 0
    assert again["events"]["accepted"] == 0
    assert again["events"]["duplicates"] == first["events"]["accepted"]
    assert data_version_task.fn(db) == v1


def test_data_version_changes_when_data_lands(db, world):
    ingest_task.fn(db, str(world))
    v1 = data_version_task.fn(db)
    con = connect(db)
    con.execute("INSERT INTO user_resets VALUES ('u1', TIMESTAMP '2026-11-01')")
    con.close()
    assert data_version_task.fn(db) != v1


def test_build_features_task_returns_rows_per_set(db, world):
    ingest_task.fn(db, str(world))
    rows = build_features_task.fn(db, None, data_version_task.fn(db))
    assert rows["user_engagement"] > 0 and rows["video_engagement"] > 0


def test_permanent_errors_are_not_retried():
    assert not retry_transient(None, None, Failed(data=PipelineError("gate failed")))
    assert not retry_transient(None, None, Failed(data=DataError("bad file")))
    assert retry_transient(None, None, Failed(data=OSError("disk hiccup")))


def test_partition_counts_equal_single_machine_counts(db, world):
    ingest_task.fn(db, str(world))
    con = connect(db)
    parts = export_partitions(con, partitions_root(db))
    single = daily_counts(con)
    n_events = con.execute("SELECT count(*) FROM events").fetchall()[0][0]
    # A second export replaces the first: no stale or doubled files.
    again = export_partitions(con, partitions_root(db))
    con.close()
    assert [p.name for p in parts] == [p.name for p in again] == [
        f"date={d}" for d in single["day"].to_list()]
    merged = combine_counts([partition_counts_task.fn(str(p), "v") for p in list_partitions(
        partitions_root(db))])
    assert merged.equals(single)
    assert merged["events"].sum() == n_events


def test_partition_counts_rejects_a_folder_that_is_not_a_day(tmp_path):
    import pytest

    with pytest.raises(DataError, match="date=YYYY-MM-DD"):
        partition_counts(tmp_path)
