"""Batch entry points over the feed engine: ``recommend`` for many users, ``score`` for rows.

Both go through the same engine as the HTTP service, so batch output is what a user would be
served (sources, wellbeing filters, scoring, selection) or what the policy would do with a row.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import polars as pl

from features.errors import DataError
from features.times import parse_time
from ranking.feed.engine import FeedEngine
from ranking.feed.query import hydrate_query
from ranking.feed.types import FeedRequest
from ranking.ltr.objective import ACTIONS
from wellbeing import Reason
from wellbeing.steering import steer_direction
from wellbeing.verdicts import item_verdicts

__all__ = ["read_table", "write_table", "recommend_batch", "score_requests"]


def read_table(path: str | Path, required: tuple[str, ...]) -> pl.DataFrame:
    """Read a CSV or Parquet input file and check its columns."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"input file not found: {p}")
    try:
        df = pl.read_parquet(p) if p.suffix.lower() == ".parquet" else pl.read_csv(
            p, infer_schema_length=0)
    except Exception as exc:
        raise DataError(f"cannot read {p}: {exc}") from exc
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise DataError(f"{p}: missing column(s) {', '.join(missing)} "
                        f"(found: {', '.join(df.columns)})")
    return df


def write_table(df: pl.DataFrame, path: str | Path) -> None:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    if p.suffix.lower() == ".parquet":
        df.write_parquet(p)
    else:
        df.write_csv(p)


def recommend_batch(engine: FeedEngine, users: pl.DataFrame, k: int, now: datetime,
                    progress: Callable[[int, int], None] | None = None
                    ) -> tuple[pl.DataFrame, dict]:
    """Serve a k-item page to every user in ``users`` (``user_id``, optional ``now``).

    Returns:
        (rows ``user_id, rank, item_id, score, source, labels``, a summary with interventions).
    """
    rows: list[tuple] = []
    summary: dict = {"users": 0, "fed": 0, "interventions": {}, "policies": {}}
    has_now = "now" in users.columns
    total = users.height
    for n, r in enumerate(users.iter_rows(named=True)):
        uid = str(r["user_id"])
        t = parse_time(r.get("now") if has_now else None, now, f"row {n + 1} (user {uid}): now")
        resp = engine.feed(FeedRequest(uid, t, limit=k, request_id=f"recommend:{uid}"))
        summary["users"] += 1
        summary["fed"] += bool(resp.items)
        summary["policies"][resp.policy] = summary["policies"].get(resp.policy, 0) + 1
        for iv in resp.interventions:
            summary["interventions"][iv.type] = summary["interventions"].get(iv.type, 0) + 1
        for rank, it in enumerate(resp.items, 1):
            rows.append((uid, rank, it.item_id, it.score, it.source, "|".join(it.labels)))
        if progress and (n + 1) % 50 == 0:
            progress(n + 1, total)
    engine.flush_audit()
    out = pl.DataFrame(rows, schema={"user_id": pl.String, "rank": pl.Int64, "item_id": pl.String,
                                     "score": pl.Float64, "source": pl.String,
                                     "labels": pl.String}, orient="row")
    summary["rows"] = out.height
    return out, summary


def score_requests(engine: FeedEngine, requests: pl.DataFrame) -> pl.DataFrame:
    """Score every ``request_id, user_id, ts, item_id`` row and say what the policy would do.

    Every input row comes back with ``score``, ``rank`` (within its request, by score),
    ``kept`` and ``reason`` (the first removing rule's reason, an intervention that ends the
    feed, or ``ok``), and ``p_<action>``: the served version's predicted probability of each
    action (``ranking.ltr.objective.ACTIONS``; NaN for an unknown video, null without action
    heads or for a non-personalised feed).
    """
    req = requests.with_columns(pl.int_range(pl.len()).alias("_row"))
    out: list[tuple] = []
    predicted: dict[int, list[float]] = {}
    pop = dict(zip(engine.popular["item_id"], engine.popular["source_score"], strict=True))
    for (rid,), g in req.group_by(["request_id"], maintain_order=True):
        uid = str(g["user_id"][0])
        ts = parse_time(g["ts"][0], engine.latest_event_time() or datetime.now(),
                        f"row {g['_row'][0] + 1} (request {rid}): ts")
        # The feed's own query hydrator and verdict function: what the feed would decide.
        q = hydrate_query(engine, FeedRequest(uid, ts, request_id=f"score:{rid}"),
                          engine.viewer(uid, ts), seen=False)
        items = [str(i) for i in g["item_id"]]
        probs = None
        if q.personalized:
            scores, probs = engine.model_predictions(uid, items, q.recent, q.viewer.following)
        else:
            scores = [float(pop.get(i, 0.0)) for i in items]
        if probs is not None:
            for row_id, p in zip(g["_row"], probs.tolist(), strict=True):
                predicted[row_id] = p
        ended = [iv for iv in q.interventions if iv.ends_feed]
        facts = [engine.item_facts.get(i) for i in items]
        verdicts = item_verdicts(q.policy, q.viewer, list(zip(items, facts, strict=True)),
                                 q.consents, ts, q.cfg, engine.verdict_cache,
                                 q.sensitive_views_24h)
        for row_id, f, v, s in zip(g["_row"], facts, verdicts, scores, strict=True):
            if ended:
                out.append((row_id, s, False, ended[0].type))
                continue
            if v.kept and q.steering is not None and f is not None:
                kind, _, hit = steer_direction(q.steering, f)
                if kind == "never":  # the user's own mute, after the policy (as in the feed)
                    out.append((row_id, s, False, f"{Reason.STEERING_NEVER.value}:{hit[0]}"))
                    continue
            out.append((row_id, s, v.kept, v.reason or "ok"))
    res = pl.DataFrame(out, schema={"_row": pl.Int64, "score": pl.Float64, "kept": pl.Boolean,
                                    "reason": pl.String}, orient="row")
    # One column per predicted action (null where the version has no heads or the feed is
    # not personalised).
    rows = res["_row"].to_list()
    res = res.with_columns([
        pl.Series(f"p_{a}", [predicted[r][j] if r in predicted else None for r in rows],
                  pl.Float64) for j, a in enumerate(ACTIONS)])
    merged = req.join(res, on="_row", how="left").sort("_row")
    return merged.with_columns(
        rank=pl.col("score").rank("ordinal", descending=True).over("request_id").cast(pl.Int64)
    ).drop("_row")
