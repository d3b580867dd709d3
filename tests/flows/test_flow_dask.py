"""The daily flow on a small local Dask cluster: partitioned counts, and the ranker trained by
the same ``LtrRanker.fit`` with its boosters on the cluster."""

from __future__ import annotations

import numpy as np
import pytest

from features.partitions import daily_counts
from features.simulator import simulate
from features.store import connect
from ranking.lifecycle import train_model as lifecycle_train_model
from ranking.ltr import LtrConfig

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]

# Cheap sources and one grid point keep both fits a few seconds on two cores.
SMALL = dict(sources={"popular": {}, "itemknn": {}, "ease": {}},
             grid=[{"num_leaves": 15, "min_data_in_leaf": 20}], max_rounds=100)


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as c:
        yield c


def test_daily_on_dask_equals_local_counts_and_ranks_as_well(tmp_path, cluster, lifecycle,
                                                             monkeypatch):
    from distributed import Client

    import flows.train
    from flows.dask import run_daily_dask
    from ranking import registry
    from ranking.evaluation.metrics import ndcg_at_k
    from ranking.evaluation.run import temporal_split
    from ranking.interactions import build_interactions
    from ranking.ltr import LtrRanker

    data, db = tmp_path / "data", str(tmp_path / "dask.duckdb")
    simulate(data, users=120, items=150, events=10000, days=14, seed=5)
    # Training is real here (evaluation stays the quick stand-in), with the small config in
    # place of the default one the flow trains with.
    monkeypatch.setattr(flows.train, "train_model", lambda con, db_path, now, executor=None:
                        lifecycle_train_model(con, db_path, now, LtrConfig(**SMALL), executor))

    summary = run_daily_dask(db, str(data), scheduler=cluster.scheduler_address)
    assert summary["engine"] == "dask" and summary["published"] == summary["version"]
    con = connect(db)
    stored = con.sql("SELECT * FROM agg_daily_engagement ORDER BY day").pl()
    assert summary["partitions"] == stored.height
    assert stored.equals(daily_counts(con))  # partitioned == single machine
    trained = registry.get(con, summary["version"])
    assert LtrRanker.load(trained.path).report["executor"] == "dask"
    events = con.sql("SELECT user_id, ts, type, item_id, target_user_id, watch_ms "
                     "FROM events").pl()
    items = con.sql("SELECT item_id, creator_id, created_at, duration_ms, status FROM items").pl()
    con.close()

    # Same split, same candidates and features: the Dask-trained blend ranks as well.
    train_ev, test_ev, _ = temporal_split(events)
    train, test = build_interactions(train_ev, items), build_interactions(test_ev, items)
    rel = {u: set(v) for u, v in test.frame.group_by("user_id").agg("item_id").iter_rows()}
    users = sorted(u for u in rel if train.user_index(u) >= 0)
    local = LtrRanker.fit(train, LtrConfig(**SMALL))
    with Client(cluster) as client:
        dist = LtrRanker.fit(train, LtrConfig(**SMALL), executor=client)
    assert local.booster is not None and dist.booster is not None
    assert dist.features == local.features
    assert dist.report["ease_reg"] == local.report["ease_reg"]
    # About 20 known test users here: NDCG@10 of one fit moves from 0.06 to 0.11 with the seed
    # or the workers' partitions (a floor on it failed in a clean run), so the blends are
    # compared on what they were trained to do, ordering the same candidates (rank correlation
    # 0.74-0.99 per user over three Dask fits):
    # tests/ranking/test_ranking_dask.py holds the NDCG comparison on a larger world.
    cand = local.candidates(users[0], n=60)
    for u in users[:10]:
        c = local.candidates(u, n=60)
        a, b = local.score(u, c), dist.score(u, c)
        assert np.corrcoef(np.argsort(np.argsort(a)), np.argsort(np.argsort(b)))[0, 1] > 0.5, u
    assert cand.height > 10
    assert ndcg_at_k(dist.recommend(users, 10)[0], [rel[u] for u in users], 10) > 0
