"""Action heads on one data folder: each head against the item's own rate, the spread of its
predictions over candidates, and NDCG@10 / creation rate@10 of the top 10 under several weights.

In process, on a per-user random 75/25 split of a contract data folder (``feedwell simulate``
output, or ``bench.real_data`` output): ``LtrRanker.fit`` on the 75%, the merged candidates of up
to 1,000 known test users, then each weight set orders them by ``sum(weight x P(action))`` (the
``actions`` model's score, creator penalty included). Relevance is anything the user engaged with
in the 25%; creation rate@10 is the share of the top 10 the user went on to share, comment on,
remix or follow the creator of.

    PYTHONPATH=. .venv/bin/python -m bench.actions_weights /tmp/sm
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import polars as pl  # noqa: E402

from ranking.candidates import merge_candidates  # noqa: E402
from ranking.evaluation.metrics import ndcg_per_user  # noqa: E402
from ranking.evaluation.run import random_holdout  # noqa: E402
from ranking.interactions import build_interactions  # noqa: E402
from ranking.ltr import LtrRanker, acted_pairs, pair_actions, pair_features  # noqa: E402
from ranking.ltr.objective import (  # noqa: E402
    ACTIONS,
    CREATION_ACTIONS,
    DEFAULT_WEIGHTS,
    ENGAGEMENT_WEIGHTS,
    scaled_creation,
)

WEIGHTS = {
    "view only": {"view": 1.0},
    "view + complete + like": {"view": 1.0, "complete": 1.0, "like": 2.0},
    "engagement, hide -5": {**ENGAGEMENT_WEIGHTS, "hide": -5.0, "report": -20.0, "skip": -0.5},
    "engagement-only (defaults minus creation)": ENGAGEMENT_WEIGHTS,
    "engagement, hide -20": {**ENGAGEMENT_WEIGHTS, "hide": -20.0, "report": -60.0, "skip": -2.0},
    **{f"defaults, creation x{f:g}": scaled_creation(DEFAULT_WEIGHTS, f)
       for f in (0.5, 1.0, 2.0, 4.0, 8.0)},
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", help="a contract data folder with events and items parquet files")
    ap.add_argument("--users", type=int, default=1000)
    a = ap.parse_args()
    ev = pl.read_parquet(f"{a.data}/events.parquet").sort("ts")
    items = pl.read_parquet(f"{a.data}/items.parquet")
    tr, te = random_holdout(ev, 0.25)
    train, test = build_interactions(tr, items), build_interactions(te, items)
    t = time.perf_counter()
    r = LtrRanker.fit(train)
    print(f"fit {time.perf_counter() - t:.0f} s", flush=True)
    print("| action | head (plan) | train positives | held-out AUC | item-rate AUC |")
    print("| --- | --- | --- | --- | --- |")
    for act, v in r.report["action_heads"].get("actions", {}).items():
        print(f"| {act} | {v['head']} | {v['train_positives']} | {v['auc']} | "
              f"{v['item_rate_auc']} |")
    rel = test.frame.group_by("user_id").agg("item_id")
    users = [u for u in rel["user_id"].to_list() if train.user_index(u) >= 0][:a.users]
    rel_d = {u: set(v) for u, v in rel.iter_rows()}
    rels = [rel_d[u] for u in users]
    cand = merge_candidates(r.sources, users, r.config.n_per_source, r.config.n_candidates)
    u = np.array([train.user_index(x) for x in cand["user_id"].to_list()], np.int64)
    i = train.item_index(cand["item_id"].to_list())
    x = pair_features(r.sources, r.stats, u, i)
    probs, cond = r.actions.joint(x, i), r.actions.conditional(x, i)
    print("\n| action | P(action given engaged) over candidates: p10 / p50 / p90 / p99 |")
    print("| --- | --- |")
    for j, act in enumerate(ACTIONS):
        q = np.quantile(cond[:, j], [0.1, 0.5, 0.9, 0.99])
        print(f"| {act} | " + " / ".join(f"{v:.4f}" for v in q) + " |")
    lab = pair_actions(test, acted_pairs(test))
    made = lab.filter(pl.any_horizontal([pl.col(c) > 0 for c in CREATION_ACTIONS]))
    made_d: dict[str, set] = {}
    for uid, iid in made.select("user_id", "item_id").iter_rows():
        made_d.setdefault(uid, set()).add(iid)
    print(f"\n{len(users)} known test users\n\n| weights | NDCG@10 | creation rate@10 |\n"
          "| --- | --- | --- |")
    for name, w in WEIGHTS.items():
        s = r.objective_scores(probs, u, i, w)
        top = (cand.select("user_id", "item_id").with_columns(pl.Series("s", s))
               .sort(["user_id", "s", "item_id"], descending=[False, True, False])
               .filter(pl.int_range(pl.len()).over("user_id") < 10)
               .group_by("user_id", maintain_order=True).agg("item_id"))
        got = dict(top.iter_rows())
        recs = [got.get(x, []) for x in users]
        nd = float(np.nanmean(ndcg_per_user(recs, rels, 10)))
        cr = float(np.mean([sum(1 for q in rr if q in made_d.get(x, ())) / 10
                            for x, rr in zip(users, recs, strict=True)]))
        print(f"| {name} | {nd:.4f} | {cr:.4f} |", flush=True)


if __name__ == "__main__":
    main()
