"""``feedwell features`` on a small store."""

from __future__ import annotations

import json

from flows.cli import main
from tests.features.conftest import EVENTS, insert_events


def test_features_cli_builds_and_lists(tmp_path, capsys):
    from features.store import connect

    db = tmp_path / "cli.duckdb"
    con = connect(db)
    con.execute(
        "INSERT INTO items (item_id, creator_id, created_at, duration_ms, topics) "
        "VALUES ('i1', 'c1', '2024-01-01', 10000, ['cats']), ('i2', 'c2', '2024-01-01', 20000, [])"
    )
    insert_events(con, EVENTS)
    con.close()
    assert main(["--db", str(db), "features", "--now", "2024-01-10T12:00:00", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["as_of"] == "2024-01-10T12:00:00"
    assert out["rows"]["user_engagement"] == 2 and out["rows"]["fatigue_item"] == 1
    # An offset is converted: the report names the UTC time the sets were built at.
    assert main(["--db", str(db), "features", "--now", "2024-01-10T14:00:00+02:00", "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["as_of"] == "2024-01-10T12:00:00" and again["rows"] == out["rows"]
    assert main(["--db", str(db), "features", "--list"]) == 0
    assert "user_topic_affinity" in capsys.readouterr().out
    assert main(["--db", str(db), "features", "--set", "nope"]) == 1
