"""Synthetic videos (creators, topics, labels, cameos) and cameo consents for ``simulate``."""

from __future__ import annotations

import numpy as np

from features.simulator._vocab import DAY_MS, LABELS, SENSITIVE_TOPICS, TOPICS

__all__ = ["build_items"]

_HARMFUL = ("self_harm", "eating_disorder", "dangerous_challenge", "sexual")


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def _topic_mask(rng: np.random.Generator, niche: np.ndarray) -> np.ndarray:
    """1-3 distinct topics per item, drawn from its creator's niche (Gumbel top-k)."""
    n, k = niche.shape
    keys = np.log(niche) + rng.gumbel(size=(n, k))
    order = np.argsort(-keys, axis=1)[:, :3]
    count = rng.choice([1, 2, 3], size=n, p=[0.35, 0.4, 0.25])
    mask = np.zeros((n, k), dtype=bool)
    for j in range(3):
        rows = np.nonzero(count > j)[0]
        mask[rows, order[rows, j]] = True
    return mask


def _label_mask(rng: np.random.Generator, topics: np.ndarray, mature: np.ndarray) -> np.ndarray:
    t = {name: topics[:, i] for i, name in enumerate(TOPICS)}
    p = np.zeros((len(topics), len(LABELS)))
    p[:, LABELS.index("self_harm")] = 0.002 + 0.12 * t["sadness"]
    p[:, LABELS.index("eating_disorder")] = 0.25 * t["dieting"] + 0.08 * t["body_image"]
    p[:, LABELS.index("body_image")] = 0.004 + 0.4 * t["body_image"] + 0.05 * t["fitness"]
    p[:, LABELS.index("violence")] = 0.004 + 0.35 * t["aggression"] + 0.06 * t["horror"]
    p[:, LABELS.index("dangerous_challenge")] = 0.004 + 0.03 * (t["sports"] | t["memes"])
    p[:, LABELS.index("sexual")] = 0.3 * mature
    p[:, LABELS.index("political")] = 0.35 * t["news"] + 0.02 * t["memes"]
    return rng.random(p.shape) < p


def _creators(rng: np.random.Generator, users: dict, n_items: int) -> np.ndarray:
    """Creators are users (rarely under-13); videos per creator follow a power law."""
    eligible = np.nonzero(users["band"] != 3)[0]
    n_creators = int(max(1, min(len(eligible), max(n_items // 6, len(eligible) // 5))))
    creators = np.sort(rng.choice(eligible, size=n_creators, replace=False))
    share = rng.pareto(1.1, n_creators) + 0.05
    return creators[rng.choice(n_creators, size=n_items, p=share / share.sum())]


def build_items(rng: np.random.Generator, n: int, users: dict, topic_vec: np.ndarray,
                topic_pop: np.ndarray, start_ms: int, end_ms: int, days: int) -> tuple:
    """Draw ``n`` videos and the consent history of everyone who appears in a cameo.

    Returns:
        ``(items, item_vec, quality, weight, sensitive, consents)``; items sorted by creation.
    """
    n_users = len(users["band"])
    creator = _creators(rng, users, n)
    # A creator's niche: a few topics, biased to popular ones.
    niche = rng.dirichlet(np.full(len(TOPICS), 0.12), size=n_users)[creator] * topic_pop + 1e-6
    topics = _topic_mask(rng, niche)
    item_vec = _unit(topics @ topic_vec / topics.sum(1, keepdims=True)
                     + 0.3 * rng.normal(size=(n, topic_vec.shape[1])))
    sens_topic = topics[:, [TOPICS.index(s) for s in SENSITIVE_TOPICS]].any(1)

    maturity = rng.choice(3, size=n, p=[0.74, 0.19, 0.07])
    maturity = np.where(sens_topic | topics[:, TOPICS.index("horror")],
                        np.maximum(maturity, rng.integers(0, 3, size=n)), maturity)
    labels = _label_mask(rng, topics, maturity == 2)
    labels_null = rng.random(n) < 0.03
    maturity = np.where(labels[:, LABELS.index("sexual")], 2, maturity)
    maturity = np.where(rng.random(n) < 0.05, -1, maturity)  # unrated
    harmful = labels[:, [LABELS.index(x) for x in _HARMFUL]].any(1)

    realistic = rng.random(n) < 0.15
    provenance = rng.random(n) < np.where(realistic, 0.82, 0.96)
    # Cameo subjects: a small pool of adults who allow their likeness, and self-cameos.
    adults = np.nonzero(users["band"] == 0)[0]
    pool = rng.choice(adults, size=max(1, min(len(adults), n_users // 30)), replace=False) \
        if len(adults) else np.arange(1)
    has_cameo = realistic & (rng.random(n) < 0.55)
    cam1 = np.where(rng.random(n) < 0.4, creator, pool[rng.integers(0, len(pool), n)])
    cam2 = pool[rng.integers(0, len(pool), n)]
    two = has_cameo & (rng.random(n) < 0.3) & (cam2 != cam1)

    # A back catalogue before the window, then fresh videos arriving every day.
    old = rng.random(n) < 0.4
    created = np.where(
        old,
        start_ms - (rng.random(n) * 90 * DAY_MS).astype(np.int64) - 1,
        start_ms + (rng.random(n) * (end_ms - start_ms - 3_600_000)).astype(np.int64),
    )
    created = np.maximum(created, users["created_ms"][creator] + 3_600_000)
    duration = np.where(
        rng.random(n) < 0.75,
        rng.choice([10_000, 15_000, 20_000], size=n, p=[0.45, 0.35, 0.2]),
        rng.integers(5_000, 60_001, size=n),
    ) + rng.integers(-400, 401, size=n)
    duration = np.clip(duration, 5_000, 60_000)

    quality = rng.lognormal(0.0, 0.9, n)
    pull = (rng.pareto(1.2, n_users) + 0.1)[creator]
    status = np.where(rng.random(n) < np.where(harmful, 0.2, 0.015), 1, 0)

    order = np.argsort(created, kind="stable")
    items = {
        "creator": creator, "created_ms": created, "duration_ms": duration,
        "topics": topics, "maturity": maturity, "ai_generated": rng.random(n) < 0.97,
        "realistic": realistic, "provenance": provenance, "cam1": cam1, "cam2": cam2,
        "has_cameo": has_cameo, "two_cameos": two, "labels": labels, "labels_null": labels_null,
        "status": status,
    }
    items = {k: v[order] for k, v in items.items()}
    # Viewers push back on distressing content: any label but "political", or a sensitive topic.
    distressing = labels[:, [i for i, x in enumerate(LABELS) if x != "political"]].any(1)
    sensitive = (sens_topic | distressing)[order]
    weight = (quality * pull)[order]
    consents = _consents(rng, items, users, end_ms)
    return items, item_vec[order], quality[order], weight, sensitive, consents


def _consents(rng: np.random.Generator, items: dict, users: dict, end_ms: int) -> dict:
    """A grant before each subject's first cameo; some re-grants and later revocations."""
    subj = np.concatenate([items["cam1"][items["has_cameo"]], items["cam2"][items["two_cameos"]]])
    when = np.concatenate([items["created_ms"][items["has_cameo"]],
                           items["created_ms"][items["two_cameos"]]])
    if len(subj) == 0:
        empty = np.array([], dtype=np.int64)
        return {"subject": empty, "ts_ms": empty, "status": empty, "audience": empty}
    order = np.lexsort((when, subj))
    subj, when = subj[order], when[order]
    first = np.r_[True, subj[1:] != subj[:-1]]
    subj, first_ms = subj[first], when[first]
    m = len(subj)
    # ~3% of subjects never consented: their cameo videos must not be eligible.
    has = rng.random(m) >= 0.03
    grant = np.maximum(first_ms - (rng.random(m) * 30 * DAY_MS).astype(np.int64) - 60_000,
                       users["created_ms"][subj] + 60_000)
    grant = np.minimum(grant, first_ms - 1)
    span = np.maximum(end_ms - first_ms - 60_000, 1)
    revoke = first_ms + (rng.random(m) * span).astype(np.int64)
    revoked = has & (rng.random(m) < 0.15)
    regrant = first_ms + (rng.random(m) * (revoke - first_ms)).astype(np.int64)
    regranted = has & (rng.random(m) < 0.08)
    audience = rng.choice(4, size=(2, m), p=[0.55, 0.2, 0.1, 0.15])
    parts = [
        (subj[has], grant[has], 0, audience[0][has]),
        (subj[regranted], regrant[regranted], 0, audience[1][regranted]),
        (subj[revoked], revoke[revoked], 1, audience[0][revoked]),
    ]
    out = {
        "subject": np.concatenate([p[0] for p in parts]),
        "ts_ms": np.concatenate([p[1] for p in parts]),
        "status": np.concatenate([np.full(len(p[0]), p[2]) for p in parts]),
        "audience": np.concatenate([p[3] for p in parts]),
    }
    order = np.lexsort((out["ts_ms"], out["subject"]))
    return {k: v[order] for k, v in out.items()}
