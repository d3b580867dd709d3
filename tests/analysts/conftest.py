"""A tiny analyst world with hand-countable numbers (see each test for the expected values).

Four users: a 14-year-old in UTC, an adult in New York, a user who turns 16 on 2026-10-21 and
a user with no birth date and an invalid timezone. Three videos: a comedy clip, a dieting clip
(sensitive topic) and a removed news clip labelled self_harm (banned for minors).
"""

from __future__ import annotations

import json
import shutil
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from features.store import connect
from ranking.registry import ensure_registry
from wellbeing.audit import ensure_audit_table

USERS = [  # user_id, birth_date, timezone
    ("u_teen", date(2012, 6, 1), "UTC"),
    ("u_adult", date(1990, 1, 1), "America/New_York"),
    ("u_bday", date(2010, 10, 21), "UTC"),
    ("u_unknown", None, "Not/AZone"),
]
ITEMS = [  # item_id, creator_id, duration_ms, topics, labels, maturity, status
    ("i1", "c1", 10_000, ["comedy"], [], "general", "active"),
    ("i2", "c1", 20_000, ["dieting"], [], "teen", "active"),
    ("i3", "c2", 10_000, ["news"], ["self_harm"], "general", "removed"),
]
D20, D21 = "2026-10-20", "2026-10-21"
EVENTS = [  # user_id, ts, type, item_id, watch_ms
    ("u_teen", f"{D20} 10:00:00", "view", "i1", 5_000),
    ("u_teen", f"{D20} 10:00:10", "like", "i1", None),
    ("u_teen", f"{D20} 10:05:00", "view", "i2", 20_000),
    ("u_teen", f"{D20} 10:06:00", "skip", "i1", None),
    ("u_teen", f"{D20} 23:00:00", "view", "i3", 10_000),
    ("u_adult", f"{D20} 12:00:00", "view", "i1", 10_000),
    ("u_adult", f"{D20} 12:01:00", "share", "i1", None),
    ("u_adult", f"{D20} 12:02:00", "hide", "i2", None),
    ("u_bday", f"{D20} 20:00:00", "view", "i2", 10_000),
    ("u_bday", f"{D21} 09:00:00", "view", "i3", 5_000),
    ("u_bday", f"{D21} 09:01:00", "report", "i3", None),
    ("u_unknown", f"{D21} 03:00:00", "view", "i1", 10_000),
]
AUDIT = [  # ts, request_id, user_id, item_id, rule, action, reason, policy_version
    (f"{D20} 10:30:00", "r1", "u_teen", None, "break", "intervene", "break", "wb-1"),
    (f"{D20} 10:31:00", "r2", "u_teen", None, "break", "intervene", "break", "wb-1"),
    (f"{D20} 23:00:00", "r3", "u_teen", None, "quiet_hours", "intervene", "quiet_hours", "wb-1"),
    (f"{D21} 09:00:00", "r4", "u_bday", None, "daily_limit", "intervene", "daily_limit", "wb-2"),
    (f"{D20} 10:00:00", "r1", "u_teen", "i3", "TeenBannedLabel", "drop", "minor_banned_label",
     "wb-1"),
    (f"{D20} 10:31:00", "r2", "u_teen", "i3", "TeenBannedLabel", "drop", "minor_banned_label",
     "wb-1"),
    (f"{D21} 09:00:00", "r4", "u_bday", "i3", "TeenBannedLabel", "drop", "minor_banned_label",
     "wb-2"),
    (f"{D20} 12:00:00", "r5", "u_adult", "i2", "LessSensitive", "downrank", "less_sensitive_topic",
     "wb-1"),
]
MODELS = [  # version, created_at, status, metrics
    ("v1", f"{D20} 00:00:00", "archived", {"ranker": {"ndcg@10": 0.30, "recall@10": 0.2},
                                            "popularity": {"ndcg@10": 0.20},
                                            "als": {"ndcg@10": 0.25},
                                            "gate": {"passed": True, "why": "ok"}}),
    ("v2", f"{D21} 00:00:00", "published", {"ranker": {"ndcg@10": 0.36},
                                             "popularity": {"ndcg@10": 0.20},
                                             "als": {"ndcg@10": 0.30},
                                             "gate": {"passed": True, "why": "ok"},
                                             "action_figures": {"random": {"tradeoff": {
                                                 "points": [
                                                     {"factor": 0.0, "ndcg@10": 0.36,
                                                      "creation@10": 0.010},
                                                     {"factor": 1.0, "ndcg@10": 0.355,
                                                      "creation@10": 0.014},
                                                     {"factor": 4.0, "ndcg@10": 0.33,
                                                      "creation@10": 0.019}]}}}}),
    ("v3", f"{D21} 12:00:00", "candidate", {}),
]


def tiny_booster(path: Path) -> None:
    """Save a small LightGBM model with named features to ``path/lgbm.txt``."""
    import lightgbm as lgb
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3))
    y = (x[:, 0] * 2 + x[:, 1] > 0).astype(int)
    ds = lgb.Dataset(x, y, feature_name=["affinity", "creator_pull", "noise"])
    booster = lgb.train({"objective": "binary", "verbose": -1, "num_leaves": 4}, ds, 10)
    path.mkdir(parents=True, exist_ok=True)
    booster.save_model(str(path / "lgbm.txt"))


def fill(con: duckdb.DuckDBPyConnection, models_dir: Path, lgbm: Path) -> None:
    """Insert the tiny world into a store with the raw schema; ``lgbm`` is the model file the
    published version gets."""
    con.executemany("INSERT INTO users (user_id, birth_date, timezone) VALUES (?, ?, ?)", USERS)
    con.executemany(
        "INSERT INTO items (item_id, creator_id, duration_ms, topics, labels, maturity, status) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)", ITEMS)
    con.executemany(
        "INSERT INTO events (event_id, user_id, ts, type, item_id, watch_ms) "
        "VALUES (?, ?, ?, ?, ?, ?)", [(f"e{i}", *e) for i, e in enumerate(EVENTS)])
    ensure_audit_table(con)
    con.executemany("INSERT INTO audit_log VALUES (?, ?, ?, ?, ?, ?, ?, ?)", AUDIT)
    ensure_registry(con)
    for version, created, status, metrics in MODELS:
        path = models_dir / version
        if status == "published":
            path.mkdir(parents=True, exist_ok=True)
            shutil.copy(lgbm, path / "lgbm.txt")
        con.execute(
            "INSERT INTO model_registry (version, created_at, status, path, metrics, params, "
            "features, published_at) VALUES (?, ?, ?, ?, ?, '{}', '[]', ?)",
            [version, created, status, str(path), json.dumps(metrics),
             datetime(2026, 10, 21, 1) if status == "published" else None])


@pytest.fixture(scope="session")
def lgbm_file(tmp_path_factory) -> Path:
    """One tiny LightGBM model file per session (training it is the slow part of the world)."""
    path = tmp_path_factory.mktemp("tiny_model")
    tiny_booster(path)
    return path / "lgbm.txt"


@pytest.fixture()
def world(con, tmp_path, lgbm_file):
    """The `con` store filled with the tiny world."""
    fill(con, tmp_path / "test_models", lgbm_file)
    return con


@pytest.fixture(scope="module")
def marts(tmp_path_factory, lgbm_file):
    """A tiny-world store with the marts created, shared by a module's read-only tests."""
    from features.marts import create_marts

    base = tmp_path_factory.mktemp("marts")
    con = connect(base / "marts.duckdb")
    fill(con, base / "models", lgbm_file)
    create_marts(con)
    yield con
    con.close()
