"""Page caps: sensitive topics in a row, per page, per rolling day; diversification."""

from __future__ import annotations

from datetime import timedelta

from _wellbeing_world import CFG, NOW, item, viewer

from wellbeing import Reason, UsageState, apply_page_caps, policy_for


def _page(spec):
    """'S' = sensitive topic item, 'n' = neutral; creators all distinct."""
    return [
        (
            f"i{k}",
            item(f"i{k}", creator_id=f"c{k}", topics=("sadness",) if ch == "S" else (f"t{k}",)),
        )
        for k, ch in enumerate(spec)
    ]


def test_teen_sensitive_in_row_deferred_then_page_cap_removes():
    kept, removed = apply_page_caps(_page("SSnSnnS"), viewer("teen_13_15"), CFG, now=NOW)
    # i1 waits for a neutral slot; i3 goes over the per-page cap of 2; i6 too.
    assert kept == ["i0", "i2", "i1", "i4", "i5"]
    assert removed == [("i3", Reason.SENSITIVE_PAGE_CAP), ("i6", Reason.SENSITIVE_PAGE_CAP)]


def test_in_row_removed_when_no_slot_opens():
    kept, removed = apply_page_caps(_page("SS"), viewer("teen_16_17"), CFG, now=NOW)
    assert kept == ["i0"] and removed == [("i1", Reason.SENSITIVE_IN_ROW_CAP)]


def test_daily_cap_counts_recent_views():
    s = UsageState(cfg=CFG)
    for k in range(5):
        s.observe(
            {
                "ts": NOW - timedelta(hours=3, minutes=k),
                "type": "view",
                "watch_ms": 1000,
                "topics": ["body_image"],
            }
        )
    ctx = viewer("teen_13_15", usage=s.advance(NOW))
    kept, removed = apply_page_caps(_page("SnSn"), ctx, CFG, now=NOW)
    assert kept == ["i0", "i1", "i3"]
    assert removed == [("i2", Reason.SENSITIVE_DAILY_CAP)]


def test_adults_uncapped_unless_less():
    assert apply_page_caps(_page("SSSS"), viewer("adult"), CFG, now=NOW)[1] == []
    _, removed = apply_page_caps(
        _page("SSSS"), viewer("adult", sensitive_content="less"), CFG, now=NOW
    )
    assert [r for _, r in removed] == [Reason.SENSITIVE_IN_ROW_CAP] * 3


def test_diversify_limits_creator_and_topic_runs():
    ranked = [
        ("a1", item("a1", creator_id="A", topics=("x",))),
        ("a2", item("a2", creator_id="A", topics=("y",))),
        ("b1", item("b1", creator_id="B", topics=("y",))),
        ("c1", item("c1", creator_id="C", topics=("z",))),
    ]
    kept, removed = apply_page_caps(ranked, viewer("adult"), CFG, diversify=True, now=NOW)
    # a2 cannot follow a1 (same creator) nor b1 (same primary topic "y").
    assert kept == ["a1", "b1", "c1", "a2"] and removed == []
    kept, _ = apply_page_caps(ranked, viewer("adult"), CFG, diversify=False, now=NOW)
    assert kept == ["a1", "a2", "b1", "c1"]
    _, removed = apply_page_caps(ranked[:2], viewer("adult"), CFG, diversify=True, now=NOW)
    assert removed == [("a2", Reason.DIVERSIFY_CREATOR)]


def test_page_caps_are_declared_with_their_audience_and_rule_names():
    from wellbeing.selection import CAP_RULES, page_caps_in_force

    assert page_caps_in_force(viewer("adult"), CFG) == []
    teen = {c.name for c in page_caps_in_force(viewer("teen_13_15"), CFG, now=NOW)}
    assert teen == {"sensitive_page_cap", "sensitive_daily_cap", "sensitive_in_row_cap"}
    diversifying = {c.name for c in page_caps_in_force(viewer("adult"), CFG, diversify=True)}
    assert diversifying == {"diversify_creator", "diversify_topic"}
    assert CAP_RULES[Reason.SENSITIVE_IN_ROW_CAP.value] == "sensitive_in_row_cap"


def test_the_daily_cap_on_a_page_is_the_policys_own_condition():
    from wellbeing.policies import SENSITIVE_OVER_DAY
    from wellbeing.selection import PAGE_CAPS

    daily = next(c for c in PAGE_CAPS if c.name == "sensitive_daily_cap")
    assert daily.over is SENSITIVE_OVER_DAY and daily.limit is None
    teen_rules = {r.name: r.when for r in policy_for(viewer("teen_13_15"), CFG).rules}
    assert teen_rules["sensitive_daily_cap"] is SENSITIVE_OVER_DAY


def test_session_topic_cap_keeps_a_live_session_from_one_topic_rabbit_hole():
    # An adult's session: 9 pets videos and 1 cooking video watched in the last half hour.
    s = UsageState(cfg=CFG)
    for k in range(10):
        s.observe({"ts": NOW - timedelta(minutes=30 - k), "type": "view", "watch_ms": 20_000,
                   "session_id": "s1", "topics": ["pets" if k < 9 else "cooking"]})
    ctx = viewer("adult", usage=s.advance(NOW))
    ranked = [(f"p{k}", item(f"p{k}", creator_id=f"c{k}", topics=("pets",))) for k in range(8)]
    ranked += [(f"o{k}", item(f"o{k}", creator_id=f"d{k}", topics=(f"t{k}",))) for k in range(8)]
    kept, removed = apply_page_caps(ranked, ctx, CFG, now=NOW)
    pets = sum(i.startswith("p") for i in kept)
    assert (9 + pets) / (10 + len(kept)) <= CFG.session_topic_max_share + 1e-9
    assert {r for _, r in removed} == {Reason.SESSION_TOPIC_CAP}
    # the same list for a viewer with no live session is served as ranked
    kept_cold, removed_cold = apply_page_caps(ranked, viewer("adult"), CFG, now=NOW)
    assert kept_cold == [i for i, _ in ranked] and not removed_cold
