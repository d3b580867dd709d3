"""``feedwell demo``: the quick world by default, ``--full`` for the README's, and every stage
through to the summary."""

from __future__ import annotations

import argparse
import json

import pytest

from flows.commands import demo
from tests.cli.conftest import feedwell


def _args(*argv: str) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    demo.register(p.add_subparsers())
    return p.parse_args(["demo", *argv])


def test_the_quick_world_is_the_default_and_full_or_flags_override_it():
    assert demo.world(_args()) == demo.QUICK
    assert demo.world(_args("--full")) == demo.FULL
    assert demo.world(_args("--full", "--events", "1000")) == {**demo.FULL, "events": 1000}
    assert demo.world(_args("--users", "50")) == {**demo.QUICK, "users": 50}


@pytest.mark.slow
def test_demo_runs_every_stage_and_prints_the_summary(tmp_path):
    r = feedwell("--db", str(tmp_path / "demo.duckdb"), "demo", "--dir", str(tmp_path / "w"),
                 "--users", "200", "--items", "300", "--events", "15000",
                 "--report", str(tmp_path / "r.html"), "--json")
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout)
    assert out["evaluation"]["models"] and out["wellbeing"]["served"]["users"] > 0
    assert (tmp_path / "r.html").stat().st_size > 10_000
    assert "Traceback" not in r.stderr and "Warning" not in r.stderr
