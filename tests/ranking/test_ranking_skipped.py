"""A model the evaluation could not fit is shown as skipped, with its reason, never as zeros."""

from __future__ import annotations

import json

import polars as pl
import pytest

from ranking.candidates.ease import EaseCandidates
from ranking.evaluation.result import EvaluationResult
from ranking.evaluation.run import evaluate_models, evaluate_split, format_table, random_holdout
from ranking.ltr import LtrConfig
from tests.ranking._worlds import taste_world

FAST = LtrConfig(
    sources={"ease": {"reg": 50.0}, "itemknn": {}, "popular": {}},
    grid=[{"objective": "lambdarank", "num_leaves": 15, "min_data_in_leaf": 20}],
    max_rounds=20, n_per_source=30, n_candidates=60,
)
REASON = "catalog too large for this test"


@pytest.fixture
def ease_skips(monkeypatch):
    monkeypatch.setattr(EaseCandidates, "_fit", lambda self, data: self.skip(REASON))


def test_a_skipped_source_is_not_a_row_of_zeros(ease_skips):
    ev = taste_world(n_users=60, n_items=80, per_user=15)
    train, test = random_holdout(ev, 0.25, seed=0)
    res = evaluate_split(train, test, None, 10, FAST, baselines=("ease", "itemknn"),
                         fallbacks={"popular": {}})
    assert res.holdout.models["ease"] == {"skipped": REASON}
    assert "ease" not in res.scores.ndcg and "ease+fb" not in res.holdout.models
    assert res.holdout.models["itemknn"]["ndcg@10"] > 0
    table = format_table(EvaluationResult(k=10, holdouts={"random": res.holdout}))
    ease_row = next(line for line in table.splitlines() if line.startswith("ease "))
    assert "0.0000" not in ease_row and "skipped" in ease_row
    assert f"skipped: ease on random: {REASON}" in table


def test_the_store_evaluation_reports_skips_and_its_own_time(ease_skips, tmp_path):
    from features.store import connect

    con = connect(str(tmp_path / "s.duckdb"))
    ev = taste_world(n_users=60, n_items=80, per_user=15)
    con.register("_ev", ev.with_row_index("n").to_arrow())
    con.execute("INSERT INTO events (event_id, user_id, ts, type, item_id, watch_ms) "
                "SELECT 'e' || n, user_id, ts, type, item_id, watch_ms FROM _ev").fetchall()
    res = evaluate_models(con, config=FAST)
    con.close()
    assert res.models["ease"] == {"skipped": REASON}
    assert all(h.models["ease"] == {"skipped": REASON} for h in res.holdouts.values())
    assert "ease" != res.selection.served
    assert res.seconds > 0 and set(res.holdout_seconds) == {"random", "temporal"}
    assert f"skipped: ease on random, temporal: {REASON}" in res.table
    assert "evaluation took" in res.table
    json.dumps(res.to_dict())  # the --json output


def test_a_capped_evaluation_says_how_many_users_it_scored():
    ev = taste_world(n_users=60, n_items=80, per_user=15)
    train, test = random_holdout(ev, 0.25, seed=0)
    res = evaluate_split(train, test, None, 10, FAST, baselines=("itemknn",),
                         fallbacks={"popular": {}}, max_users=20)
    h = res.holdout
    assert h.sampled_from == test["user_id"].n_unique() > 20
    assert 0 < h.n_users + h.n_new_users <= 20 and len(res.scores.history) <= 20
    assert h.to_dict()["sampled_from"] == h.sampled_from
    table = format_table(EvaluationResult(k=10, holdouts={"random": h}))
    assert f"users scored on random: capped, a seeded sample of its {h.sampled_from}" in table
    full = evaluate_split(train, test, None, 10, FAST, baselines=("itemknn",),
                          fallbacks={"popular": {}})
    assert full.holdout.sampled_from is None and "sampled_from" not in full.holdout.to_dict()


def test_past_the_fit_cap_the_holdouts_come_from_a_sample_of_whole_users(tmp_path):
    from features.store import connect
    from ranking.evaluation.run import _sample_users

    ev = taste_world(n_users=60, n_items=80, per_user=15)
    same, none = _sample_users(ev, 60, 0)
    assert none is None and same is ev
    part, (n, of) = _sample_users(ev, 25, 0)
    assert (n, of) == (25, 60) and part["user_id"].n_unique() == 25
    # Every event of a sampled user, in order, and nothing of the others.
    kept = ev.filter(pl.col("user_id").is_in(part["user_id"].unique().implode()))
    assert part.equals(kept)

    con = connect(str(tmp_path / "s.duckdb"))
    con.register("_ev", ev.with_row_index("n").to_arrow())
    con.execute("INSERT INTO events (event_id, user_id, ts, type, item_id, watch_ms) "
                "SELECT 'e' || n, user_id, ts, type, item_id, watch_ms FROM _ev").fetchall()
    res = evaluate_models(con, config=FAST, max_fit_users=30)
    con.close()
    assert res.split.users == (30, 60)
    assert res.to_dict()["split"]["users"] == {"sampled": 30, "of": 60}
    assert all(0 < h.n_users + h.n_new_users <= 30 for h in res.holdouts.values())
    assert "holdouts cut from a seeded sample of 30 of 60 users" in res.table
