"""Guardrail metrics: replay real sessions with and without the wellbeing policy.

For a sample of users active in the evaluation window, their real view/skip events are cut
into pages of ``k`` in time order. Without the policy every page is served by the ranker alone
and every minute is watched as it was. With the policy each page goes through the full feed
pipeline with the user's usage state replayed event by event: a page the policy ends
(daily limit, quiet hours, child) is not watched, and only what the pipeline served counts for
exposure. Adults' engagement cost is the NDCG@k change of their first page against what they
went on to watch in the window. The policy's pages are also served once more with live
adaptation off (the model as trained, the viewer's events since its data not folded in):
session topic concentration and minors' exposure, live against frozen.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

import numpy as np
import polars as pl

from ranking.evaluation.metrics import ndcg_at_k
from ranking.evaluation.responsiveness import hide_responsiveness
from ranking.feed.engine import FeedEngine
from ranking.feed.filters.previously_seen import PreviouslySeenFilter
from ranking.feed.hydrators.item_facts import ItemFactsHydrator
from ranking.feed.pipeline import default_pipeline
from ranking.feed.scorers.model import ModelScorer
from ranking.feed.selectors.top_k import TopKSelector
from ranking.feed.types import FeedRequest
from wellbeing import ServedPage, UsageState, compare_guardrails

__all__ = ["replay_guardrails", "NO_POLICY_PIPELINE"]

# The feed's own sources and hydrators, with every wellbeing stage taken out.
NO_POLICY_PIPELINE = replace(
    default_pipeline(),
    prefilters=[PreviouslySeenFilter()],
    hydrators=[ItemFactsHydrator()],
    filters=[],
    scorers=[ModelScorer()],
    selectors=[TopKSelector()],
    side_effects=[],
    apply_interventions=False,
)


def _sample_users(engine: FeedEngine, start: datetime, end: datetime, n: int,
                  seed: int) -> list[str]:
    users = engine.con.sql(
        "SELECT DISTINCT user_id FROM events WHERE ts >= ? AND ts < ? AND type IN ('view','skip') "
        "ORDER BY 1", params=[start, end]).pl()["user_id"].to_list()
    if len(users) <= n:
        return users
    rng = np.random.default_rng(seed)
    return sorted(rng.choice(users, n, replace=False).tolist())


def replay_guardrails(engine: FeedEngine, start: datetime, end: datetime, k: int = 10,
                      max_users: int = 60, max_pages: int = 6, seed: int = 7,
                      responsiveness_users: int = 30, responsiveness_requests: int = 3
                      ) -> dict[str, Any]:
    """Guardrail metrics with and without the policy over ``[start, end)``.

    Returns:
        ``{"metrics": {name: {"with", "without", "delta"}}, "adult_ndcg": {...}, "users": n,
        "responsiveness": {...}}``; ``responsiveness`` is ``hide_responsiveness`` for up to
        ``responsiveness_users`` of the sampled users at ``end``: the drop in videos similar
        to a hidden one within the next ``responsiveness_requests`` pages.
    """
    users = _sample_users(engine, start, end, max_users, seed)
    with_pages: list[ServedPage] = []
    without_pages: list[ServedPage] = []
    # The policy on, the model as trained: what live adaptation changes (session topic
    # concentration, minors' exposure) is the difference to ``with_pages``.
    frozen_pipeline = replace(engine.pipeline, live=False, side_effects=[])
    frozen_pages: list[ServedPage] = []
    ndcg_with, ndcg_without, rels = [], [], []
    for uid in users:
        ev = engine.con.sql(
            """SELECT e.ts, e.type, e.item_id, e.watch_ms, e.session_id, i.topics
               FROM events e LEFT JOIN (SELECT DISTINCT ON (item_id) item_id, topics FROM items) i
                 USING (item_id)
               WHERE e.user_id = ? AND e.ts >= ? AND e.ts < ? ORDER BY e.ts""",
            params=[uid, start, end]).pl()
        watched = ev.filter(pl.col("type").is_in(["view", "skip"]))
        if watched.height == 0:
            continue
        viewer = engine.viewer(uid, start)
        usage = viewer.usage or UsageState(tz=viewer.timezone, cfg=engine.cfg)
        viewer.usage = usage
        base = dict(user_id=uid, age_band=viewer.age_band, timezone=viewer.timezone,
                    daily_limit_minutes=viewer.settings.daily_limit_minutes)
        rows = ev.iter_rows(named=True)
        pending = next(rows, None)
        for p, page_start in enumerate(range(0, watched.height, k)):
            if p >= max_pages:
                break
            chunk = watched.slice(page_start, k)
            t = chunk["ts"][0]
            # Replay the user's own events up to this page into the usage state.
            while pending is not None and pending["ts"] < t:
                usage.observe(pending)
                pending = next(rows, None)
            usage.advance(t)
            minutes = float(chunk["watch_ms"].fill_null(0).sum()) / 60000.0
            served = engine.pipeline.run(engine, FeedRequest(uid, t, k, request_id="replay"),
                                         viewer)
            raw = NO_POLICY_PIPELINE.run(engine, FeedRequest(uid, t, k), viewer)
            frozen = frozen_pipeline.run(engine, FeedRequest(uid, t, k, request_id="replay"),
                                         viewer)
            ended = any(iv.ends_feed for iv in served.interventions)
            facts = engine.item_facts
            with_pages.append(ServedPage(ts=t, items=[facts[i.item_id] for i in served.items
                                                      if i.item_id in facts],
                                         watch_minutes=0.0 if ended else minutes, **base))
            without_pages.append(ServedPage(ts=t, items=[facts[i.item_id] for i in raw.items
                                                         if i.item_id in facts],
                                            watch_minutes=minutes, **base))
            frozen_pages.append(ServedPage(ts=t, items=[facts[i.item_id] for i in frozen.items
                                                        if i.item_id in facts],
                                           watch_minutes=0.0 if ended else minutes, **base))
            if p == 0 and viewer.age_band == "adult":
                rel = set(ev.filter(pl.col("type").is_in(["like", "share", "remix"]) |
                                    ((pl.col("type") == "view") & (pl.col("watch_ms") > 0)))
                          ["item_id"].to_list())
                rels.append(rel)
                ndcg_with.append([i.item_id for i in served.items])
                ndcg_without.append([i.item_id for i in raw.items])
    engine.flush_audit()
    adult = {"users": len(rels)}
    if rels:
        w, wo = ndcg_at_k(ndcg_with, rels, k), ndcg_at_k(ndcg_without, rels, k)
        adult |= {f"ndcg@{k}_with": w, f"ndcg@{k}_without": wo, "delta": w - wo}
    metrics = compare_guardrails(with_pages, without_pages, engine.cfg)
    adaptation = compare_guardrails(with_pages, frozen_pages, engine.cfg)
    # Explicit feedback must visibly work: one hide at the window's end, the next pages.
    responsive = hide_responsiveness(engine, users[:responsiveness_users], end, k,
                                     responsiveness_requests)
    return {"metrics": {m: {kk: round(float(v), 3) for kk, v in d.items()}
                        for m, d in metrics.items()},
            "adult_engagement": adult, "users": len(users), "pages": len(with_pages),
            "responsiveness": responsive,
            "live_adaptation": {m: {"live": round(float(d["with"]), 3),
                                    "frozen": round(float(d["without"]), 3),
                                    "delta": round(float(d["delta"]), 3)}
                                for m, d in adaptation.items()
                                if m == "session_topic_concentration" or m.startswith("minor_")}}


def format_guardrails(g: dict[str, Any]) -> str:
    """A readable table of ``replay_guardrails`` output."""
    if not g:
        return "guardrails: no events to replay"
    lines = [f"guardrails: replay of {g['users']} users, {g['pages']} pages "
             "(with policy / without / delta)"]
    for name, d in g["metrics"].items():
        lines.append(f"  {name:<28} {d['with']:>10} {d['without']:>10} {d['delta']:>10}")
    a = g.get("adult_engagement", {})
    if a.get("users"):
        keys = [k for k in a if k.startswith("ndcg")]
        lines.append(f"  adult engagement cost ({a['users']} users): "
                     + ", ".join(f"{k}={a[k]:.4f}" for k in keys) + f", delta={a['delta']:+.4f}")
    live = g.get("live_adaptation") or {}
    if live:
        lines.append("  with the policy, live adaptation on / off (the model as trained):")
        for name, d in live.items():
            lines.append(f"  {name:<28} {d['live']:>10} {d['frozen']:>10} {d['delta']:>10}")
    r = g.get("responsiveness") or {}
    if r.get("drop") is not None:
        lines.append(f"  responsiveness: one hide -> similar videos in the next {r['pages']} "
                     f"pages {r['similar_without']} -> {r['similar_with']} "
                     f"(drop {r['drop']:.0%}, {r['users']} users)")
    return "\n".join(lines)
