"""Loaders, feed reset, explain and the audit log against a small DuckDB store."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest

from wellbeing import (
    ItemVerdict,
    WellbeingConfig,
    ensure_audit_table,
    item_verdict,
    item_verdicts,
    latest_consents,
    load_item_facts,
    load_viewer_context,
    policy_for,
    record,
    session_interventions,
)

NOW = datetime(2026, 6, 15, 16, 0)
CFG = WellbeingConfig()


@pytest.fixture()
def world(con):
    con.executemany(
        """INSERT INTO users (user_id, birth_date, timezone, parent_managed, daily_limit_minutes,
               sensitive_content, extra) VALUES (?, ?, ?, ?, ?, ?, ?)""",
        [
            ("teen", date(2011, 1, 1), "America/New_York", False, None, None, None),
            (
                "adult",
                date(1990, 1, 1),
                "Europe/Paris",
                None,
                None,
                "less",
                json.dumps({"break_after_minutes": 15}),
            ),
            ("kid", date(2017, 1, 1), None, None, None, None, None),
            ("s1", date(1990, 1, 1), None, None, None, None, None),
        ],
    )
    con.executemany(
        """INSERT INTO items (item_id, creator_id, status, maturity, labels, topics,
               realistic_person, cameo_subjects, provenance) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [
            ("safe", "c1", "active", "general", [], ["cooking"], False, [], True),
            ("mature", "c1", "active", "mature", [], ["cooking"], False, [], True),
            ("nolabels", "c1", "active", "general", None, ["cooking"], False, [], True),
            ("gone", "c1", "removed", "general", [], ["cooking"], False, [], True),
            ("bad1", "cbad", None, "general", [], ["pets"], False, [], True),
            ("bad2", "cbad", "active", "general", [], ["pets"], False, [], True),
            ("blockedc", "cblocked", "active", "general", [], ["pets"], False, [], True),
            ("cameo", "c2", "active", "general", [], ["dance"], True, ["s1"], True),
            ("sad", "c3", "active", "teen", [], ["sadness"], False, [], True),
        ],
    )
    ev = []

    def add(user, ts, type_, item=None, target=None, watch_ms=None):
        ev.append((f"e{len(ev)}", user, ts, type_, item, target, watch_ms))

    add("adult", NOW - timedelta(days=3), "hide", "bad1")
    add("adult", NOW - timedelta(days=2), "block", target="cblocked")
    add("adult", NOW - timedelta(days=2), "follow", target="s1")
    add("s1", NOW - timedelta(days=2), "follow", target="adult")
    add("adult", NOW + timedelta(hours=1), "block", target="c1")  # in the future: ignored
    add("teen", NOW - timedelta(days=1), "report", "bad2")
    for k in range(61):  # 61 minutes watched between 10:00 and 11:01 New York time today
        add(
            "teen",
            NOW - timedelta(minutes=120 - k),
            "view",
            "sad" if k < 3 else "safe",
            None,
            60_000,
        )
    con.executemany(
        """INSERT INTO events (event_id, user_id, ts, type, item_id, target_user_id, watch_ms)
           VALUES (?, ?, ?, ?, ?, ?, ?)""",
        ev,
    )
    con.execute("INSERT INTO user_resets VALUES ('adult', ?)", [NOW - timedelta(days=1)])
    con.execute(
        "INSERT INTO consents (subject_id, ts, status, audience) "
        "VALUES ('s1', ?, 'granted', 'mutuals')",
        [NOW - timedelta(days=5)],
    )
    return con


def test_item_facts_keep_unknowns(world):
    items = load_item_facts(world)
    assert items["nolabels"].labels is None and items["safe"].labels == ()
    assert items["bad1"].status == "active"  # NULL status reads as active
    assert items["cameo"].cameo_subjects == ("s1",)
    assert set(load_item_facts(world, ["safe", "nope"])) == {"safe"}
    assert load_item_facts(world, []) == {}


def test_viewer_context_and_reset(world):
    ctx = load_viewer_context(world, "adult", NOW, cfg=CFG)
    assert ctx.age_band == "adult" and ctx.timezone == "Europe/Paris"
    assert ctx.settings.sensitive_content == "less" and ctx.settings.break_after_minutes == 15
    assert ctx.blocked_creators == {"cblocked"}  # the future block does not count
    assert "s1" in ctx.following and "s1" in ctx.followers
    # The reset forgot the creator penalty from the hide, but not the hide itself.
    assert ctx.hidden_items == {"bad1"} and ctx.creator_penalties == {}
    before = load_viewer_context(world, "adult", NOW - timedelta(days=1, hours=1), cfg=CFG)
    assert before.creator_penalties["cbad"] == pytest.approx(0.5 ** ((2 - 1 / 24) / 14))


def test_unknown_user_gets_unknown_age_and_defaults(world):
    ctx = load_viewer_context(world, "nobody", NOW, cfg=CFG)
    assert (
        ctx.age_band == "unknown" and not ctx.known and ctx.settings.sensitive_content == "standard"
    )


def test_report_penalises_creator_with_half_life(world):
    ctx = load_viewer_context(world, "teen", NOW, cfg=CFG)
    assert ctx.reported_items == {"bad2"}
    assert ctx.creator_penalties["cbad"] == pytest.approx(2 * 0.5 ** (1 / 14))
    later = load_viewer_context(world, "teen", NOW + timedelta(days=28), cfg=CFG)
    assert later.creator_penalties["cbad"] < ctx.creator_penalties["cbad"] / 3


def _split(ctx, items, consents):
    """(kept, removed) as (item_id, verdict), through the feed's one verdict function."""
    verdicts = item_verdicts(policy_for(ctx, CFG), ctx, [(i.item_id, i) for i in items],
                             consents, NOW, CFG)
    pairs = [(i.item_id, v) for i, v in zip(items, verdicts, strict=True)]
    return [p for p in pairs if p[1].kept], [p for p in pairs if not p[1].kept]


def test_verdicts_end_to_end(world):
    items = load_item_facts(world)
    consents = latest_consents(world, NOW)
    teen = load_viewer_context(world, "teen", NOW, cfg=CFG)
    kept, removed = _split(teen, list(items.values()), consents)
    reasons = {i: v.reason for i, v in removed}
    assert reasons == {
        "mature": "minor_maturity",
        "nolabels": "missing_fact:labels",
        "gone": "item_removed",
        "bad2": "reported_by_viewer",
        "cameo": "cameo_consent",
    }
    adult = load_viewer_context(world, "adult", NOW, cfg=CFG)
    kept, removed = _split(adult, list(items.values()), consents)
    assert {i for i, _ in kept} == {"safe", "nolabels", "bad2", "cameo", "sad"}


def test_usage_loaded_from_events_drives_interventions(world):
    teen = load_viewer_context(world, "teen", NOW, cfg=CFG)
    assert teen.usage.today_minutes(NOW) == pytest.approx(61)
    assert teen.sensitive_views_24h(NOW) == 3
    assert session_interventions(teen, NOW, CFG)[0].type == "daily_limit"
    kid = load_viewer_context(world, "kid", NOW, cfg=CFG)
    assert session_interventions(kid, NOW, CFG)[0].type == "no_feed_child"


def test_verdict_lists_every_rule_and_an_unknown_video_fails_closed(world):
    teen = load_viewer_context(world, "teen", NOW, cfg=CFG)
    items, consents = load_item_facts(world), latest_consents(world, NOW)
    v = item_verdict(policy_for(teen, CFG), teen, items["nolabels"], "nolabels", consents, NOW,
                     CFG)
    assert v.policy == "TEEN" and v.version == CFG.policy_version
    assert v.kept is False and v.reason == "missing_fact:labels"
    statuses = {r.rule: r.status for r in v.results}
    assert statuses["minor_banned_label"] == "missing_feature"
    assert statuses["item_removed"] == "evaluated"
    json.dumps([r.as_dict() for r in v.results], default=str)
    unknown = item_verdict(policy_for(teen, CFG), teen, None, "nope", consents, NOW, CFG)
    assert not unknown.kept and unknown.reason == "missing_fact:item"
    assert ItemVerdict.of(unknown).rule == "unknown_item"
    adult = load_viewer_context(world, "adult", NOW, cfg=CFG)
    v = item_verdict(policy_for(adult, CFG), adult, items["safe"], "safe", consents, NOW, CFG)
    assert v.kept is True and v.policy == "ADULT_LESS"
    assert item_verdict(policy_for(adult, CFG), adult, None, "nope", consents, NOW, CFG).kept


def test_record_appends_audit_rows(world):
    ensure_audit_table(world)
    ensure_audit_table(world)
    items = load_item_facts(world)
    teen = load_viewer_context(world, "teen", NOW, cfg=CFG)
    _, removed = _split(teen, list(items.values()), latest_consents(world, NOW))
    base = {"ts": NOW, "request_id": "r1", "user_id": "teen", "policy_version": CFG.policy_version}
    rows = [base | {"item_id": i, "rule": v.rule, "action": v.action, "reason": v.reason}
            for i, v in removed]
    rows += [base | {"item_id": None, "rule": x.type, "action": "intervene", "reason": x.reason}
             for x in session_interventions(teen, NOW, CFG)]
    rows.append(
        {
            "ts": NOW,
            "request_id": "r2",
            "user_id": "teen",
            "item_id": None,
            "rule": "break",
            "action": "intervene",
            "reason": "break",
            "policy_version": CFG.policy_version,
        }
    )
    assert record(world, rows) == len(rows)
    got = world.execute(
        "SELECT rule, action, reason, policy_version FROM audit_log WHERE item_id = 'mature'"
    ).fetchall()
    assert got == [("minor_maturity", "drop", "minor_maturity", "wb-2026.11.1")]
    assert (
        world.execute(
            "SELECT count(*) FROM audit_log WHERE reason = 'daily_limit' AND item_id IS NULL"
        ).fetchall()[0][0]
        == 1
    )
    assert record(world, []) == 0
