"""Through the CLI: train, evaluate and publish print no third-party warnings (issue 12.5), and
``evaluate --json`` names the winner with its intervals."""

from __future__ import annotations

import json

import pytest

from features.store import connect
from tests.cli.conftest import feedwell
from tests.ranking.test_ranking_serving import _load, _world


@pytest.mark.slow
def test_train_evaluate_publish_print_no_warnings(tmp_path):
    db = str(tmp_path / "quiet.duckdb")
    con = connect(db)
    _load(con, _world(drift=True, n_users=300))
    con.close()
    outs = [feedwell("--db", db, cmd, "--json") for cmd in ("train", "evaluate", "publish")]
    for p in outs:
        assert p.returncode == 0, p.stderr
        assert "warn" not in p.stderr.lower(), p.stderr
    ev = json.loads(outs[1].stdout.strip().splitlines()[-1])
    sel = ev["selection"]
    assert sel["served"] in sel["pooled"] and sel["fallback"] in sel["fallback_scores"]
    others = [n for n in sel["pooled"] if n != sel["served"]]
    assert others and all({"diff", "lo", "hi"} <= set(sel["intervals"][n]) for n in others)
    models = json.loads(feedwell("--db", db, "models", "--json").stdout)["models"]
    assert models[-1]["served"]["model"] == sel["served"]
    assert models[-1]["status"] == "published"
