"""Rules: the shared contract for every rule of every policy, then one test per rule."""

from __future__ import annotations

import itertools

import pytest
from _wellbeing_world import CFG, facts, item, viewer

from wellbeing import (
    ADULT,
    CHILD,
    TEEN,
    UNKNOWN_AGE,
    Audience,
    Downrank,
    Drop,
    IsTrue,
    Label,
    Policy,
    Reason,
    Rule,
    build_policy,
    evaluate,
    policy_for,
)
from wellbeing.facts import FACT_NAMES

ALL_POLICIES = [
    build_policy(a, pm, less, CFG)
    for a, pm, less in itertools.product(Audience, (False, True), (False, True))
]
ALL_RULES = [(p, r) for p in ALL_POLICIES for r in p.rules]
_ids = [f"{p.name}:{r.name}" for p, r in ALL_RULES]


class TestRuleContract:
    """Every rule in every policy passes these."""

    @pytest.mark.parametrize(("policy", "rule"), ALL_RULES, ids=_ids)
    def test_declares_a_reason_and_known_facts(self, policy, rule):
        assert isinstance(rule.reason, Reason)
        assert set(rule.facts) <= set(FACT_NAMES)

    @pytest.mark.parametrize(("policy", "rule"), ALL_RULES, ids=_ids)
    def test_evaluates_on_complete_facts(self, policy, rule):
        v = evaluate(policy, facts())
        res = next(r for r in v.results if r.rule == rule.name)
        assert res.status == "evaluated"

    @pytest.mark.parametrize(("policy", "rule"), ALL_RULES, ids=_ids)
    def test_reports_missing_feature(self, policy, rule):
        for name in rule.facts:
            f = facts()
            f[name] = None
            v = evaluate(policy, f)
            res = next(r for r in v.results if r.rule == rule.name)
            assert res.status == "missing_feature" and name in res.missing
            if policy.fail_closed or rule.fail_closed:
                assert not v.kept and v.reason == f"missing_fact:{name}"

    def test_policy_version_is_stamped(self):
        assert {p.version for p in ALL_POLICIES} == {CFG.policy_version}
        assert evaluate(TEEN, facts()).version == "wb-2026.11.1"


def test_safe_item_is_kept_unchanged_for_every_non_child_policy():
    for p in ALL_POLICIES:
        v = evaluate(p, facts())
        assert v.kept is (p.name != "CHILD"), p.name
        if p.name != "CHILD":
            assert v.action is None and v.factor == 1.0 and v.labels == ()


EVERYONE = [ADULT, TEEN, UNKNOWN_AGE]


@pytest.mark.parametrize("policy", EVERYONE, ids=lambda p: p.name)
@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"status": "removed"}, Reason.ITEM_REMOVED),
        ({"creator_blocked": True}, Reason.CREATOR_BLOCKED),
        ({"cameo_consent_ok": False}, Reason.CAMEO_CONSENT),
        ({"hidden_by_viewer": True}, Reason.HIDDEN_BY_VIEWER),
        ({"reported_by_viewer": True}, Reason.REPORTED_BY_VIEWER),
    ],
)
def test_everyone_rules_drop(policy, change, reason):
    v = evaluate(policy, facts() | change)
    assert not v.kept and isinstance(v.action, Drop) and v.action.reason is reason


def test_child_gets_no_feed():
    v = evaluate(CHILD, facts())
    assert not v.kept and v.reason == "no_feed_child"


@pytest.mark.parametrize("policy", [TEEN, UNKNOWN_AGE], ids=lambda p: p.name)
@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"maturity": "mature"}, "minor_maturity"),
        ({"maturity": None}, "missing_fact:maturity"),
        ({"labels": ("political", "self_harm")}, "minor_banned_label"),
        ({"labels": None}, "missing_fact:labels"),
        ({"realistic_person": True, "provenance": False}, "minor_realistic_no_provenance"),
        ({"realistic_person": None}, "missing_fact:realistic_person"),
        ({"cameo_consent_ok": None}, "missing_fact:cameo_consent_ok"),
        ({"sensitive_topic": True, "sensitive_views_24h": 6}, "sensitive_daily_cap"),
    ],
)
def test_minor_rules_drop_with_reason(policy, change, reason):
    v = evaluate(policy, facts() | change)
    assert not v.kept and v.reason == reason


def test_minor_keeps_teen_rated_labelled_provenanced_items():
    f = facts() | {"maturity": "teen", "labels": ("political",), "realistic_person": True}
    assert evaluate(TEEN, f).kept


def test_adult_realistic_without_provenance_is_labelled():
    v = evaluate(ADULT, facts() | {"realistic_person": True, "provenance": False})
    assert v.kept and isinstance(v.action, Label)
    assert v.labels == ("AI-generated realistic content",)
    assert v.reason == "realistic_no_provenance"


@pytest.mark.parametrize("missing", ["maturity", "labels", "realistic_person"])
def test_adult_missing_fact_skips_the_rule(missing):
    v = evaluate(ADULT, facts() | {missing: None})
    assert v.kept


def test_adult_missing_consent_fact_still_drops():
    v = evaluate(ADULT, facts() | {"cameo_consent_ok": None})
    assert not v.kept and v.reason == "missing_fact:cameo_consent_ok"


def test_adult_sees_mature_and_banned_labels_by_default():
    assert evaluate(ADULT, facts() | {"maturity": "mature", "labels": ("sexual",)}).kept


def test_adult_less_sensitive_drops_mature_and_downranks_sensitive_topics():
    pol = policy_for(viewer("adult", sensitive_content="less"), CFG)
    assert pol.name == "ADULT_LESS"
    assert evaluate(pol, facts() | {"maturity": "mature"}).reason == "less_sensitive_mature"
    v = evaluate(pol, facts() | {"sensitive_topic": True})
    assert v.kept and isinstance(v.action, Downrank) and v.factor == CFG.less_sensitive_topic_factor
    v = evaluate(pol, facts() | {"sensitive_topic": True, "sensitive_views_24h": 6})
    assert v.reason == "sensitive_daily_cap"


def test_teen_less_drops_sensitive_topics():
    pol = policy_for(viewer("teen_13_15", sensitive_content="less"), CFG)
    assert evaluate(pol, facts() | {"sensitive_topic": True}).reason == "less_sensitive_topic"


def test_parent_managed_only_general():
    pol = policy_for(viewer("teen_16_17", parent_managed=True), CFG)
    assert pol.name == "TEEN_PARENT_MANAGED"
    assert evaluate(pol, facts() | {"maturity": "teen"}).reason == "parent_managed_maturity"
    assert evaluate(pol, facts()).kept


def test_creator_negative_feedback_downranks_with_recovery():
    ctx = viewer("adult", creator_penalties={"c1": 1.0})
    v = evaluate(ADULT, facts(item(), ctx))
    assert v.kept and v.reason == "creator_negative_feedback" and v.factor == pytest.approx(0.5)
    # A faded weight below the threshold stops applying.
    v = evaluate(ADULT, facts(item(), viewer("adult", creator_penalties={"c1": 0.01})))
    assert v.action is None and v.factor == 1.0


def test_most_severe_action_wins_and_factors_multiply():
    ctx = viewer("adult", creator_penalties={"c1": 1.0}, sensitive_content="less")
    f = facts(item(topics=("sadness",), realistic_person=True, provenance=False), ctx)
    v = evaluate(policy_for(ctx, CFG), f)
    assert isinstance(v.action, Downrank) and v.factor == pytest.approx(0.25)
    assert v.labels == ("AI-generated realistic content",)
    assert len(v.fired) == 3


def test_failing_rule_fails_closed_for_teens_and_open_for_adults():
    boom = Rule("boom", IsTrue("labels"), Drop(Reason.MINOR_BANNED_LABEL))

    class Bad:
        def __bool__(self):
            raise RuntimeError("broken fact")

    teen = evaluate(Policy("T", (boom,), fail_closed=True), {"labels": Bad()})
    adult = evaluate(Policy("A", (boom,), fail_closed=False), {"labels": Bad()})
    assert teen.results[0].status == "failed" and teen.reason == "rule_failed:boom"
    assert adult.results[0].status == "failed" and adult.kept


def test_disabled_rule_reports_disabled():
    r = Rule("off", IsTrue("labels"), Drop(Reason.MINOR_BANNED_LABEL), enabled=False)
    v = evaluate(Policy("T", (r,), fail_closed=True), {})
    assert v.kept and v.results[0].status == "disabled"


def test_duplicate_rule_names_rejected():
    r = Rule("x", IsTrue("labels"), Drop(Reason.MINOR_BANNED_LABEL))
    with pytest.raises(ValueError, match="twice"):
        Policy("T", (r, r), fail_closed=True)
