"""Flow fixtures: a small simulated world, and fast stand-ins for training and evaluation.

Flow tests check orchestration (caching, retries, idempotence, the gate), so the expensive
ranker fit and its evaluation are replaced by quick functions with the same contract; the
library functions themselves are tested in tests/ranking.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest

from features.simulator import simulate
from ranking import registry
from ranking.evaluation.result import EvaluationResult, Gate
from ranking.evaluation.selection import Selection
from ranking.lifecycle import gate


@pytest.fixture(scope="session")
def world_src(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("world") / "data"
    simulate(out, users=60, items=80, events=3000, days=10, seed=11)
    return out


@pytest.fixture()
def world(world_src, tmp_path) -> Path:
    """A private copy of the simulated data directory (tests may add files to it)."""
    dst = tmp_path / "data"
    shutil.copytree(world_src, dst)
    return dst


@pytest.fixture()
def db(tmp_path) -> str:
    return str(tmp_path / "flows.duckdb")


class FakeLifecycle:
    """Quick train/evaluate with the lifecycle's contracts; counts calls, fails on request."""

    def __init__(self) -> None:
        self.calls = {"train": 0, "evaluate": 0}
        self.ndcg = 0.30
        self.no_test_users = False
        self.fail_evaluate_once: BaseException | None = None

    def train_model(self, con, db_path, now=None, config=None, executor=None
                    ) -> SimpleNamespace:
        self.calls["train"] += 1
        version = registry.new_version(con)
        registry.register(con, db_path, version, metrics={}, params={}, features=[],
                          data_from=None, data_to=None)
        return SimpleNamespace(version=version, report={})

    def evaluate_version(self, con, version=None, now=None, k=10) -> EvaluationResult:
        self.calls["evaluate"] += 1
        if self.fail_evaluate_once is not None:
            exc, self.fail_evaluate_once = self.fail_evaluate_once, None
            raise exc
        key = f"ndcg@{k}"
        users = 0 if self.no_test_users else 10
        result = EvaluationResult(
            k=k, n_users=users, models={"ranker": {key: self.ndcg}, "popular": {key: 0.10}},
            table="ranker ...", seconds=1.5, holdout_seconds={"random": 0.5, "temporal": 0.8},
            guardrails_seconds=0.2, selection=Selection(
                served="ranker", fallback="popular", backoff_below=0,
                why="ranker has the best pooled NDCG@k",
                weights={"random": users, "temporal": 0}))
        ok, why = gate(result, k)
        # No model files behind the fake versions: nothing to write the choice into.
        return replace(result, selection=None, gate=Gate(ok, why, version))


@pytest.fixture()
def lifecycle(monkeypatch) -> FakeLifecycle:
    """Patch the names the train/evaluate tasks call with ``FakeLifecycle``."""
    import flows.evaluate
    import flows.train

    fake = FakeLifecycle()
    monkeypatch.setattr(flows.train, "train_model", fake.train_model)
    monkeypatch.setattr(flows.evaluate, "evaluate_version", fake.evaluate_version)
    return fake
