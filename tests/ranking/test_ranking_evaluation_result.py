"""The typed evaluation result: its JSON is the CLI's, key for key, and the lifecycle records it
through the registry (issue 24.6)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from ranking import lifecycle, registry
from ranking.evaluation.result import (
    ActionFigure,
    ActionFigures,
    CalibrationBin,
    EvaluationResult,
    Gate,
    HoldoutResult,
    SplitInfo,
    Tradeoff,
    TradeoffPoint,
)
from ranking.evaluation.selection import Selection

NAN = float("nan")

# The keys of `feedwell evaluate --json`, in the order it prints them.
CLI_KEYS = ["k", "holdouts", "streaming", "split", "models", "actions", "n_users",
            "ranker_report", "selection", "seconds", "holdout_seconds", "table", "objective",
            "guardrails", "guardrails_seconds", "gate"]


def _figures() -> ActionFigures:
    like = ActionFigure(positives=3, pairs=40, auc=0.71, item_rate_auc=0.65,
                        auc_vs_item_rate=1.0923,
                        calibration=(CalibrationBin(predicted=0.1, observed=0.05, n=4),))
    points = (TradeoffPoint(factor=0.0, ndcg=0.3, creation=0.02),
              TradeoffPoint(factor=1.0, ndcg=0.29, creation=0.03))
    return ActionFigures({"like": like}, Tradeoff(k=10, users=12, weights={"like": 1.0},
                                                  points=points, creation_lift=0.5,
                                                  ndcg_cost=0.0333))


def _result() -> EvaluationResult:
    models = {"ranker": {"ndcg@10": 0.3, "liked_above_hidden_auc": NAN},
              "like_rate": {"liked_above_hidden_auc": 0.7}}
    holdouts = {h: HoldoutResult(k=10, n_users=12, n_new_users=3, models=models,
                                 ranker_report={"params": {}}, actions=_figures(), seconds=1.5)
                for h in ("random", "temporal")}
    sel = Selection(served="ranker", fallback="popular", backoff_below=0, why="best",
                    pooled={"ranker": {"ndcg": 0.3, "auc": NAN}}, weights={"random": 12})
    return EvaluationResult(
        k=10, holdouts=holdouts, streaming={"n_users": 5, "models": {}},
        split=SplitInfo(cutoff="2026-01-01T00:00:00", fraction=0.25, seed=42),
        models=models, actions={h: r.actions for h, r in holdouts.items()}, n_users=12,
        ranker_report={"params": {}}, selection=sel, seconds=3.0,
        holdout_seconds={"random": 1.5, "temporal": 1.5}, table="ranker ...",
        objective={"like": 1.0}, guardrails={}, guardrails_seconds=0.5,
        gate=Gate(passed=True, why="best", version="v1", served="ranker"))


def test_the_typed_result_gives_the_json_the_cli_prints():
    d = _result().to_dict()
    assert list(d) == CLI_KEYS
    assert list(d["holdouts"]["temporal"]) == ["k", "n_users", "n_new_users", "models",
                                               "ranker_report", "actions", "seconds"]
    assert d["split"] == {"kind": "temporal", "cutoff": "2026-01-01T00:00:00",
                          "random": {"fraction": 0.25, "seed": 42}}
    assert d["gate"] == {"passed": True, "why": "best", "version": "v1", "served": "ranker"}
    assert set(d["selection"]) >= {"served", "fallback", "backoff_below", "why", "pooled",
                                   "intervals", "weights", "fallback_params"}
    figs = d["actions"]["random"]
    assert list(figs) == ["per_action", "tradeoff"]
    assert list(figs["per_action"]["like"]) == ["positives", "pairs", "auc", "item_rate_auc",
                                                "auc_vs_item_rate", "calibration"]
    assert figs["per_action"]["like"]["calibration"] == [
        {"predicted": 0.1, "observed": 0.05, "n": 4}]
    assert list(figs["tradeoff"]) == ["users", "weights", "points", "creation_lift", "ndcg_cost"]
    assert figs["tradeoff"]["points"][1] == {"factor": 1.0, "ndcg@10": 0.29, "creation@10": 0.03}
    # NaN, which JSON has no word for, is null, as the CLI has always printed it.
    assert d["models"]["ranker"]["liked_above_hidden_auc"] is None
    assert d["selection"]["pooled"]["ranker"]["auc"] is None
    assert json.loads(json.dumps(d)) == d


def test_absent_parts_leave_their_keys_out_and_empty_figures_stay_empty_objects():
    r = replace(_result(), streaming=None, guardrails=None, guardrails_seconds=None)
    r = replace(r, holdouts={"random": replace(r.holdouts["random"], actions=None)},
                actions={"temporal": ActionFigures()})
    d = r.to_dict()
    assert "streaming" not in d and "guardrails" not in d and "guardrails_seconds" not in d
    assert d["holdouts"]["random"]["actions"] == {}
    assert d["actions"] == {"temporal": {"per_action": {}, "tradeoff": {}}}


def test_the_run_summary_and_the_registry_read_the_same_json():
    r = _result()
    d = r.to_dict()
    assert list(r.summary()) == ["k", "n_users", "models", "split", "gate", "table", "seconds",
                                 "holdout_seconds", "guardrails_seconds", "selection", "actions",
                                 "objective"]
    m = r.registry_metrics()
    assert m == {**d["models"], "gate": d["gate"], "selection": d["selection"],
                 "action_figures": d["actions"]}


@pytest.fixture()
def store(tmp_path: Path):
    from features.store import connect

    db = tmp_path / "r.duckdb"
    con = connect(db)
    registry.register(con, db, "v1", metrics={}, params={}, features=[], data_from=None,
                      data_to=None)
    yield con
    con.close()


def test_evaluate_version_records_its_metrics_through_the_registry(store, monkeypatch):
    import ranking.evaluation.run as run

    canned = replace(_result(), gate=None, guardrails=None, guardrails_seconds=None)
    monkeypatch.setattr(run, "evaluate_models", lambda con, **kw: canned)
    monkeypatch.setattr(lifecycle, "guardrails_for", lambda con, version, now, k: {"g": 1})
    calls = []
    real = registry.record_metrics
    monkeypatch.setattr(registry, "record_metrics",
                        lambda con, version, metrics: calls.append(version)
                        or real(con, version, metrics))
    res = lifecycle.evaluate_version(store, "v1")
    assert calls == ["v1"]
    assert res.gate == Gate(passed=True, why="best", version="v1", served="ranker")
    assert res.guardrails == {"g": 1}
    # With what the figures depend on besides the version, so publish can reuse them.
    assert registry.get(store, "v1").metrics == {
        **json.loads(json.dumps(res.registry_metrics())),
        "evaluated_on": lifecycle.evaluation_key(store, None, 10, None)}
    # Only the registry writes its table.
    src = Path(lifecycle.__file__).read_text()
    assert "model_registry" not in src


def test_record_metrics_refuses_an_unknown_version(store):
    from features.errors import PipelineError

    with pytest.raises(PipelineError, match="no model version"):
        registry.record_metrics(store, "v9", {})


def test_publish_reuses_the_evaluation_recorded_for_the_same_data(store, monkeypatch):
    import ranking.evaluation.run as run

    canned = replace(_result(), gate=None, guardrails=None, guardrails_seconds=None)
    calls = []
    monkeypatch.setattr(run, "evaluate_models",
                        lambda con, **kw: calls.append(kw["k"]) or canned)
    monkeypatch.setattr(lifecycle, "guardrails_for", lambda con, version, now, k: {})
    first = lifecycle.evaluate_version(store, "v1")
    assert calls == [10]
    got, reused = lifecycle.evaluation_to_publish(store)
    # Nothing evaluated again, and the gate reads the same decision.
    assert reused and calls == [10]
    assert got.gate == first.gate
    assert got.selection.served == first.selection.served == "ranker"
    assert got.selection.fallback == "popular" and got.selection.why == "best"
    applied = []
    monkeypatch.setattr(lifecycle, "apply_selection", lambda path, sel: applied.append(sel))
    assert lifecycle.publish_version(store, got) == "v1"
    assert registry.get(store, "v1").status == "published"
    assert applied[0].served == "ranker"
    # Another k is another evaluation.
    _, reused = lifecycle.evaluation_to_publish(store, k=5)
    assert not reused and calls == [10, 5]


def test_a_recorded_evaluation_is_not_reused_after_new_data(store, monkeypatch):
    import ranking.evaluation.run as run

    canned = replace(_result(), gate=None, guardrails=None, guardrails_seconds=None)
    calls = []
    monkeypatch.setattr(run, "evaluate_models", lambda con, **kw: calls.append(1) or canned)
    monkeypatch.setattr(lifecycle, "guardrails_for", lambda con, version, now, k: {})
    lifecycle.evaluate_version(store, "v1")
    store.execute("INSERT INTO events (event_id, user_id, ts, type, item_id) "
                  "VALUES ('e1', 'u1', TIMESTAMP '2026-01-01', 'view', 'i1')")
    assert lifecycle.recorded_evaluation(store, "v1") is None
    _, reused = lifecycle.evaluation_to_publish(store)
    assert not reused and len(calls) == 2


def test_nothing_recorded_means_a_new_evaluation(store):
    # A version trained but never evaluated has no recorded evaluation to publish on.
    assert lifecycle.recorded_evaluation(store, "v1") is None
