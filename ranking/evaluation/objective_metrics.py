"""Creation-first metrics of top-k lists: creation rate, connection share, watch-time share.

They read what each user did in the test part (``HoldoutOutcomes``) and who they were connected to
before it, so every model the evaluation scores is judged on the same facts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from ranking.interactions import Interactions

__all__ = ["HoldoutOutcomes", "holdout_outcomes", "creation_rate", "connection_share",
           "watch_share", "objective_metrics"]

CREATION_TYPES = ("remix", "share", "comment")


@dataclass
class HoldoutOutcomes:
    """Per user (in the evaluation's user order): what they created from and watched in the
    test part, and which creators they were connected to before it."""

    created: list[set] = field(default_factory=list)
    """Videos the user remixed, shared or commented on in the test part."""
    watch_ms: list[dict] = field(default_factory=list)
    """Test watch time per video (ms)."""
    connected: list[set] = field(default_factory=list)
    """Creators the user followed or had a positive interaction with in training."""
    item_creator: dict = field(default_factory=dict)
    """Video -> creator."""


def holdout_outcomes(test_events: pl.DataFrame, train: Interactions, users: list[str]
                  ) -> HoldoutOutcomes:
    """Build ``HoldoutOutcomes`` for ``users`` from the test events and the training interactions.

    Args:
        test_events: raw test events (``user_id, type, item_id, watch_ms``).
        train: the training interactions (follows and positives give the connections).
        users: the users, in the order of the lists to be scored.
    """
    ev = test_events.filter(pl.col("item_id").is_not_null())
    made = (ev.filter(pl.col("type").is_in(CREATION_TYPES)).group_by("user_id")
            .agg(pl.col("item_id").unique()))
    made_d = {u: set(v) for u, v in made.iter_rows()}
    w = (ev.filter(pl.col("type") == "view").group_by("user_id", "item_id")
         .agg(pl.col("watch_ms").cast(pl.Float64).fill_null(0).sum()))
    watch_d: dict[str, dict] = {}
    for u, i, ms in w.iter_rows():
        watch_d.setdefault(u, {})[i] = ms
    creator = train.items.select("item_id", "creator_id").drop_nulls()
    touched = train.frame.select("user_id", "item_id").join(creator, on="item_id")
    known = pl.concat([touched.select("user_id", "creator_id"),
                       train.follows.select("user_id", "creator_id")]).unique()
    conn = known.group_by("user_id").agg("creator_id")
    conn_d = {u: set(v) for u, v in conn.iter_rows()}
    return HoldoutOutcomes([made_d.get(u, set()) for u in users],
                        [watch_d.get(u, {}) for u in users],
                        [conn_d.get(u, set()) for u in users],
                        dict(creator.iter_rows()))


def creation_rate(recs: list, created: list[set], k: int = 10) -> float:
    """Mean share of a user's top-k that they went on to remix, share or comment on."""
    v = [sum(1 for i in list(r)[:k] if i in c) / k for r, c in zip(recs, created, strict=True)]
    return float(np.mean(v)) if v else 0.0


def connection_share(recs: list, connected: list[set], item_creator: dict, k: int = 10
                     ) -> float:
    """Mean share of a user's (non-empty) top-k from creators they were connected to."""
    v = [sum(1 for i in list(r)[:k] if item_creator.get(i) in c) / len(list(r)[:k])
         for r, c in zip(recs, connected, strict=True) if len(r)]
    return float(np.mean(v)) if v else 0.0


def watch_share(recs: list, watch_ms: list[dict], k: int = 10) -> float:
    """Mean share of a user's test watch time spent on their top-k (users who watched)."""
    v = [sum(w.get(i, 0.0) for i in list(r)[:k]) / sum(w.values())
         for r, w in zip(recs, watch_ms, strict=True) if w and sum(w.values()) > 0]
    return float(np.mean(v)) if v else 0.0


def objective_metrics(recs: list, out: HoldoutOutcomes, k: int = 10) -> dict[str, float]:
    """The three creation-first metrics of top-k lists, keyed ``creation_rate@k`` etc."""
    return {f"creation_rate@{k}": creation_rate(recs, out.created, k),
            f"connection_share@{k}": connection_share(recs, out.connected, out.item_creator, k),
            f"watch_share@{k}": watch_share(recs, out.watch_ms, k)}
