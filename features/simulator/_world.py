"""Synthetic world for ``simulate``: users, creators, items and consents with latent tastes.

Everything is vectorised numpy; the latent vectors stay in memory (``World``) so the event
generator can draw behaviour from them and tests can check the signal is real.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from features.simulator._items import build_items
from features.simulator._propensity import Propensity, draw_propensity
from features.simulator._vocab import DAY_MS, DIM, SENSITIVE_TOPICS, TIMEZONES, TOPICS

__all__ = ["World", "build_world", "HOUR_CDF"]


# Per-user hour-of-day profiles (local time): 0 typical adult, 1 teen, 2 night owl.
_HOURS = np.arange(24)
_PROFILES = np.stack([
    0.2 + np.exp(-((_HOURS - 8) ** 2) / 3) + np.exp(-((_HOURS - 12.5) ** 2) / 2)
    + 2.2 * np.exp(-((_HOURS - 21) ** 2) / 5),
    0.1 + 0.8 * np.exp(-((_HOURS - 7.5) ** 2) / 1) + 2.5 * np.exp(-((_HOURS - 17) ** 2) / 4)
    + 2.0 * np.exp(-((_HOURS - 21.5) ** 2) / 3),
    0.3 + 1.0 * np.exp(-((_HOURS - 13) ** 2) / 8)
    + 3.0 * np.exp(-(((_HOURS + 6) % 24 - 6 - 0.5) ** 2) / 4),
])
HOUR_CDF = np.cumsum(_PROFILES / _PROFILES.sum(1, keepdims=True), axis=1)


@dataclass
class World:
    """Entities as column arrays plus the latent truth behind behaviour."""

    start_ms: int
    end_ms: int
    users: dict[str, np.ndarray]
    items: dict[str, object]
    consents: dict[str, np.ndarray]
    user_vec: np.ndarray  # (U, DIM) unit taste vectors
    item_vec: np.ndarray  # (I, DIM) unit content vectors
    item_quality: np.ndarray  # (I,) > 0, power law
    item_weight: np.ndarray  # (I,) serving popularity (quality x creator pull)
    item_sensitive: np.ndarray  # (I,) bool: sensitive topic or harmful label
    item_propensity: Propensity  # (I,) per-video logit shifts: remix, share, comment, hide
    user_activity: np.ndarray  # (U,) relative volume, power law
    user_profile: np.ndarray  # (U,) hour-of-day profile index
    user_doom: np.ndarray  # (U,) bool: doomscroll-prone
    user_created_ms: np.ndarray
    tz_offset_ms: np.ndarray  # (timezones + 1, days) local minus UTC per day; last row UTC


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def _tz_offsets(start: datetime, days: int) -> np.ndarray:
    """Local-minus-UTC offset per timezone and day, DST included; the last row (null) is UTC."""
    table = np.zeros((len(TIMEZONES) + 1, days), dtype=np.int64)
    for k, (name, _, _) in enumerate(TIMEZONES):
        zone = ZoneInfo(name)
        for d in range(days):
            noon = (start + timedelta(days=d, hours=12)).astimezone(zone)
            table[k, d] = int(noon.utcoffset().total_seconds() * 1000)
    return table


def _users(rng: np.random.Generator, n: int, end: datetime, start_ms: int, days: int) -> dict:
    end_day = np.datetime64(end.date(), "D")
    band = rng.choice(5, size=n, p=[0.78, 0.08, 0.07, 0.02, 0.05])  # adult 13-15 16-17 <13 ?
    lo = np.array([18, 13, 16, 9, 18])[band]
    hi = np.array([66, 16, 18, 13, 66])[band]
    adult_age = 18 + rng.gamma(2.0, 7.0, n).clip(0, 47)  # skewed to the 18-34s
    age = np.where(band == 0, adult_age, lo + rng.random(n) * (hi - lo))
    age = np.minimum(age, hi - 1e-3)
    birth = end_day - (age * 365.2425).astype("timedelta64[D]") - 1
    birth_known = band != 4
    assurance = rng.choice(3, size=n, p=[0.7, 0.2, 0.1])
    teen = (band == 1) | (band == 2)

    tz_w = np.array([w for _, _, w in TIMEZONES], dtype=float)
    tz_idx = rng.choice(len(TIMEZONES), size=n, p=tz_w / tz_w.sum())
    tz_idx[rng.random(n) < 0.02] = len(TIMEZONES)  # null timezone: treated as UTC
    country_known = rng.random(n) > 0.03

    # Most accounts predate the window; ~12% sign up during it.
    new = rng.random(n) < 0.12
    created = np.where(
        new,
        start_ms + (rng.random(n) * 0.9 * days * DAY_MS).astype(np.int64),
        start_ms - (rng.random(n) * 400 * DAY_MS).astype(np.int64) - DAY_MS,
    )
    parent = teen & (rng.random(n) < 0.25)
    u = rng.random((5, n))
    return {
        "band": band, "birth_date": birth, "birth_known": birth_known,
        "age_assurance": assurance, "tz_idx": tz_idx, "country_known": country_known,
        "created_ms": created, "teen": teen,
        "personalized_off": u[0] < 0.03,
        "daily_limit": np.where((u[1] < 0.05) | (parent & (u[1] < 0.6)),
                                rng.choice([30, 45, 60, 90, 120], size=n), 0),
        "quiet": np.where((u[2] < 0.04) | (parent & (u[2] < 0.5)),
                          rng.integers(1, 4, size=n), 0),
        "sensitive": np.where(u[3] < 0.06, 2, np.where(u[3] < 0.10, 1, 0)),
        "parent_managed": np.where(parent, 1, np.where(teen & (u[4] < 0.5), 2, 0)),
    }


def build_world(rng: np.random.Generator, n_users: int, n_items: int, days: int,
                end: datetime) -> World:
    """Draw users, creators, items and consents for a window of ``days`` ending at ``end``."""
    end = end.astimezone(UTC) if end.tzinfo else end.replace(tzinfo=UTC)
    start = end - timedelta(days=days)
    start_ms = int(start.timestamp() * 1000)
    end_ms = int(end.timestamp() * 1000)
    users = _users(rng, n_users, end, start_ms, days)
    n_topics = len(TOPICS)
    topic_vec = _unit(rng.normal(size=(n_topics, DIM)))
    sens_idx = np.array([TOPICS.index(t) for t in SENSITIVE_TOPICS])
    topic_pop = rng.pareto(1.5, n_topics) + 0.3
    topic_pop[sens_idx] *= 0.35

    # Users: a sparse mixture of favourite topics.
    pref = rng.dirichlet(np.full(n_topics, 0.15), size=n_users) + 1e-9
    pref *= topic_pop
    user_vec = _unit(pref @ topic_vec + 0.25 * rng.normal(size=(n_users, DIM)))
    # Heavy-tailed but bounded: a few power users, no single user dominating a small world.
    activity = rng.lognormal(0.0, 1.1, n_users) * np.where(users["teen"], 1.4, 1.0)
    doom = rng.random(n_users) < 0.08
    activity *= np.where(doom, 2.5, 1.0)
    profile = np.where(users["teen"], 1, np.where(rng.random(n_users) < 0.12, 2, 0))
    profile[doom & (rng.random(n_users) < 0.5)] = 2

    items, item_vec, quality, weight, sensitive, consents = build_items(
        rng, n_items, users, topic_vec, topic_pop, start_ms, end_ms, days
    )
    # Drawn last so every other entity is the same draw as before the propensities existed.
    propensity = draw_propensity(rng, quality, items["topics"])
    return World(
        start_ms=start_ms, end_ms=end_ms, users=users, items=items, consents=consents,
        user_vec=user_vec.astype(np.float32), item_vec=item_vec.astype(np.float32),
        item_quality=quality, item_weight=weight, item_sensitive=sensitive,
        item_propensity=propensity, user_activity=activity, user_profile=profile,
        user_doom=doom, user_created_ms=users["created_ms"],
        tz_offset_ms=_tz_offsets(start, days),
    )
