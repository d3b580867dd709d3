"""SIGTERM or Ctrl-C during ``feedwell run``: out within seconds, 143/130, store as before the step.

The run is the real CLI in a new process group; a stand-in makes one step hang (inside the
ingest transaction, or in training) and says so on stdout, so the signal lands mid-step.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from features.simulator import simulate
from features.store import connect
from ranking.registry import list_versions

ROOT = Path(__file__).resolve().parents[2]

DRIVER = """
import sys, time
from flows._settings import quiet_prefect
quiet_prefect()
import {module} as m
real = m.{name}
def hang(*a, **k):
    out = real(*a, **k) if {after} else None
    print("HANGING", flush=True)
    while True:
        time.sleep(0.1)
m.{name} = hang
from flows.cli import main
sys.exit(main(["--db", sys.argv[1], "run", "--data", sys.argv[2]]))
"""
STEPS = {
    # after the events are written inside ingest's one transaction, before its commit
    "ingest": {"module": "features.ingest", "name": "_write", "after": True},
    "train": {"module": "flows.train", "name": "train_model", "after": False},
}


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("stop") / "data"
    simulate(out, users=40, items=50, events=1500, days=5, seed=3)
    return out


def _run_until_hang(step: str, db: str, world: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", DRIVER.format(**STEPS[step]), db, str(world)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    line = proc.stdout.readline()
    assert line.strip() == "HANGING", proc.stderr.read()
    return proc


def _stop(proc: subprocess.Popen, sig: int, group: bool) -> tuple[int, float, str]:
    t = time.monotonic()
    (os.killpg if group else os.kill)(proc.pid, sig)
    try:
        code = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    return code, time.monotonic() - t, proc.stderr.read()


def _counts(db: str) -> tuple[int, int]:
    con = connect(db)
    try:
        events = con.execute("SELECT count(*) FROM events").fetchone()[0]
        models = len(list_versions(con))
    finally:
        con.close()
    return events, models


def _group_gone(pgid: int) -> bool:
    for _ in range(50):
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


@pytest.mark.slow
@pytest.mark.parametrize("group", [False, True], ids=["process", "process-group"])
def test_sigterm_in_training_exits_143_and_keeps_the_ingested_store(world, tmp_path, group):
    db = str(tmp_path / "s.duckdb")
    proc = _run_until_hang("train", db, world)
    code, took, err = _stop(proc, signal.SIGTERM, group)
    assert code == 143, err
    assert took < 15, f"took {took:.1f} s to stop"
    assert "stopping on SIGTERM" in err and "Traceback" not in err
    assert _group_gone(proc.pid), "Prefect's temporary server outlived the run"
    events, models = _counts(db)
    assert events > 0 and models == 0  # ingest committed before; training left nothing


@pytest.mark.slow
def test_ctrl_c_inside_the_ingest_transaction_rolls_it_back(world, tmp_path):
    db = str(tmp_path / "s.duckdb")
    proc = _run_until_hang("ingest", db, world)
    code, took, err = _stop(proc, signal.SIGINT, group=True)
    assert code == 130, err
    assert took < 15 and "stopping on SIGINT" in err
    assert _group_gone(proc.pid)
    assert _counts(db) == (0, 0)
