"""Every mart on the tiny world (tests/analysts/conftest.py) against hand-counted numbers."""

from __future__ import annotations

from datetime import date

import pytest

from features.marts import create_marts, load_marts
from features.store import connect


def rows(con, sql: str) -> list[dict]:
    return con.sql(sql).pl().to_dicts()


def test_every_mart_documents_exactly_its_columns(marts):
    for m in load_marts():
        actual = [r[0] for r in marts.execute(f"DESCRIBE {m.name}").fetchall()]
        assert m.description, m.name
        assert list(m.columns) == actual, m.name


def test_create_marts_is_idempotent(world):
    create_marts(world)
    before = rows(world, "SELECT * FROM mart_daily_engagement")
    create_marts(world)
    assert rows(world, "SELECT * FROM mart_daily_engagement") == before


def test_marts_work_on_an_empty_store_without_audit_log_or_registry(tmp_path):
    con = connect(tmp_path / "empty.duckdb")
    names = [m.name for m in create_marts(con)]
    assert {"mart_interventions", "mart_model_quality", "mart_removals"} <= set(names)
    for name in names:
        assert con.execute(f"SELECT count(*) FROM {name}").fetchall() == [(0,)], name
    con.close()


def test_daily_engagement(marts):
    d20, d21 = rows(marts, "SELECT * FROM mart_daily_engagement")
    assert d20 == pytest.approx({
        "day": date(2026, 10, 20), "active_users": 3, "views": 5, "watch_minutes": 55 / 60,
        "likes": 1, "shares": 1, "skips": 1, "hides": 1, "reports": 0, "completion_rate": 0.8})
    assert (d21["active_users"], d21["views"], d21["reports"]) == (2, 2, 1)
    assert d21["watch_minutes"] == pytest.approx(0.25)
    assert d21["completion_rate"] == pytest.approx(0.75)


def test_sessions_age_band_at_session_time_and_late_night(marts):
    s = {(r["user_id"], str(r["session_start"])[:16]): r for r in rows(
        marts, "SELECT * FROM mart_sessions")}
    assert len(s) == 6
    first = s[("u_teen", "2026-10-20 10:00")]
    assert (first["videos"], first["events"], first["minutes"]) == (2, 4, 6.0)
    assert first["skip_rate"] == 0.5 and first["late_night_share"] == 0.0
    assert s[("u_teen", "2026-10-20 23:00")]["late_night_share"] == 1.0
    # turns 16 on 2026-10-21
    assert s[("u_bday", "2026-10-20 20:00")]["age_band"] == "teen_13_15"
    assert s[("u_bday", "2026-10-21 09:00")]["age_band"] == "teen_16_17"
    # invalid timezone falls back to UTC: 03:00 is late night
    assert s[("u_unknown", "2026-10-21 03:00")]["late_night_share"] == 1.0
    assert s[("u_unknown", "2026-10-21 03:00")]["age_band"] == "unknown"
    assert s[("u_adult", "2026-10-20 12:00")]["age_band"] == "adult"


def test_usage_by_age_hour_uses_local_time(marts):
    u = {(r["age_band"], r["local_hour"]): r for r in rows(
        marts, "SELECT * FROM mart_usage_by_age_hour")}
    assert ("adult", 8) in u and ("adult", 12) not in u  # 12:00 UTC is 08:00 in New York
    assert u[("teen_13_15", 10)]["minutes"] == pytest.approx(25 / 60)
    assert u[("teen_13_15", 10)]["users"] == 1
    assert set(u) == {("adult", 8), ("teen_13_15", 10), ("teen_13_15", 20), ("teen_13_15", 23),
                      ("teen_16_17", 9), ("unknown", 3)}


def test_interventions_and_removals_from_audit_log(marts):
    i = rows(marts, "SELECT * FROM mart_interventions")
    assert [(str(r["day"]), r["rule"], r["policy_version"], r["interventions"], r["users"],
             r["requests"]) for r in i] == [
        ("2026-10-20", "break", "wb-1", 2, 1, 2),
        ("2026-10-20", "quiet_hours", "wb-1", 1, 1, 1),
        ("2026-10-21", "daily_limit", "wb-2", 1, 1, 1),
    ]
    r = rows(marts, "SELECT * FROM mart_removals")
    assert [(str(x["day"]), x["reason"], x["policy_version"], x["removals"], x["users"],
             x["items"]) for x in r] == [
        ("2026-10-20", "minor_banned_label", "wb-1", 2, 1, 1),
        ("2026-10-21", "minor_banned_label", "wb-2", 1, 1, 1),
    ]


def test_teen_sensitive_exposure(marts):
    t = rows(marts, "SELECT * FROM mart_teen_sensitive_exposure")
    assert len(t) == 2  # the unknown-age and adult views are not teen views
    d20, d21 = t
    assert (d20["age_band"], d20["viewers"], d20["views"]) == ("teen_13_15", 2, 4)
    assert (d20["sensitive_views"], d20["sensitive_topic_views"], d20["banned_label_views"]) == (
        3, 2, 1)
    assert d20["sensitive_share"] == 0.75 and d20["sensitive_viewers"] == 2
    assert (d21["age_band"], d21["views"], d21["banned_label_views"]) == ("teen_16_17", 1, 1)


def test_creator_stats(marts):
    c = {r["creator_id"]: r for r in rows(marts, "SELECT * FROM mart_creator_stats")}
    assert (c["c1"]["videos"], c["c1"]["views"], c["c1"]["viewers"]) == (2, 5, 4)
    assert (c["c1"]["likes"], c["c1"]["shares"], c["c1"]["hides"]) == (1, 1, 1)
    assert c["c1"]["negative_rate"] == pytest.approx(0.2)
    assert (c["c2"]["videos"], c["c2"]["removed_videos"], c["c2"]["views"], c["c2"]["reports"]) \
        == (1, 1, 2, 1)


def test_negative_feedback(marts):
    n = {(str(r["day"]), r["age_band"]): r for r in rows(
        marts, "SELECT * FROM mart_negative_feedback")}
    assert n[("2026-10-20", "adult")]["hides"] == 1
    assert n[("2026-10-20", "adult")]["hides_per_1k_views"] == 1000.0
    assert n[("2026-10-21", "teen_16_17")]["reports"] == 1
    assert n[("2026-10-21", "teen_16_17")]["users_negative"] == 1


def test_model_quality_per_version_and_model(marts):
    m = rows(marts, "SELECT version, status, model, ndcg_at_10, lift_vs_model, gate_passed "
                    "FROM mart_model_quality")
    assert [(r["version"], r["model"]) for r in m] == [
        ("v1", "ranker"), ("v1", "als"), ("v1", "popularity"),
        ("v2", "ranker"), ("v2", "als"), ("v2", "popularity"),
    ]  # v3 has no evaluation yet
    v2_pop = next(r for r in m if r["version"] == "v2" and r["model"] == "popularity")
    assert v2_pop["ndcg_at_10"] == 0.2 and v2_pop["lift_vs_model"] == pytest.approx(0.8)
    assert v2_pop["status"] == "published" and v2_pop["gate_passed"] is True
