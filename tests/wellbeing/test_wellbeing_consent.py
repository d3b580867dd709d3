"""Cameo consent: audiences, the subject themself, and revocation (latest row wins)."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from _wellbeing_world import CFG, NOW, item, viewer

from wellbeing import (
    Consent,
    consent_allows,
    item_verdict,
    latest_consents,
    policy_for,
)

T0 = datetime(2026, 6, 1)


def _c(audience, status="granted", approved=None):
    return Consent("s1", T0, status, audience, approved)


def _verdict(ctx, it, consents, now, cfg):
    """The feed's verdict (every rule's result) on one item."""
    return item_verdict(policy_for(ctx, cfg), ctx, it, it.item_id, consents, now, cfg)


@pytest.mark.parametrize(
    ("consent", "viewer_kw", "allowed"),
    [
        (_c("everyone"), {}, True),
        (_c("everyone", "revoked"), {}, False),
        (None, {}, False),
        (_c("mutuals"), {"following": frozenset({"s1"}), "followers": frozenset({"s1"})}, True),
        (_c("mutuals"), {"following": frozenset({"s1"})}, False),  # one-way follow
        (_c("mutuals"), {"followers": frozenset({"s1"})}, False),
        (_c("only_me"), {}, False),
        (_c("approved", approved=frozenset({"u1"})), {}, True),
        (_c("approved", approved=frozenset({"u2"})), {}, False),
        (_c("approved"), {}, False),  # no list given: nobody
        (_c(None), {}, False),  # unknown audience fails closed
    ],
)
def test_audiences(consent, viewer_kw, allowed):
    ctx = viewer("adult", **viewer_kw)
    assert consent_allows(consent, "s1", ctx) is allowed
    it = item(cameo_subjects=("s1",), realistic_person=True)
    v = _verdict(ctx, it, {"s1": consent} if consent else {}, NOW, CFG)
    assert v.kept is allowed
    if not allowed:
        assert v.reason == "cameo_consent"


def test_subject_always_sees_themself_even_revoked():
    ctx = viewer("adult", user_id="s1")
    assert consent_allows(_c("only_me", "revoked"), "s1", ctx)


def test_every_subject_must_allow():
    ctx = viewer("adult")
    it = item(cameo_subjects=("s1", "s2"), realistic_person=True)
    consents = {"s1": _c("everyone")}
    assert _verdict(ctx, it, consents, NOW, CFG).reason == "cameo_consent"


@pytest.mark.parametrize("band", ["teen_13_15", "unknown", "adult"])
def test_unknown_cameo_subjects_on_realistic_item_dropped(band):
    it = item(cameo_subjects=None, realistic_person=True)
    v = _verdict(viewer(band), it, {}, NOW, CFG)
    assert not v.kept and v.reason == "missing_fact:cameo_consent_ok"


def test_unknown_cameo_subjects_on_non_realistic_item_is_no_cameo():
    it = item(cameo_subjects=None, realistic_person=False)
    assert _verdict(viewer("teen_13_15"), it, {}, NOW, CFG).kept


def _insert(con, rows):
    con.executemany(
        "INSERT INTO consents (subject_id, ts, status, audience, extra) VALUES (?, ?, ?, ?, ?)",
        rows,
    )


def test_latest_row_wins_and_revocation_applies(con):
    _insert(
        con,
        [
            ("s1", datetime(2026, 1, 1), "granted", "everyone", None),
            ("s1", datetime(2026, 6, 10), "revoked", "everyone", None),
            ("s2", datetime(2026, 1, 1), "revoked", "everyone", None),
            ("s2", datetime(2026, 6, 10), "granted", "approved", json.dumps({"approved": ["u1"]})),
            ("s3", datetime(2026, 7, 1), "granted", "everyone", None),  # after now: not in force
        ],
    )
    got = latest_consents(con, NOW)
    assert got["s1"].status == "revoked"
    assert got["s2"].status == "granted" and got["s2"].approved == frozenset({"u1"})
    assert "s3" not in got
    before = latest_consents(con, datetime(2026, 6, 9))
    assert before["s1"].status == "granted"


def test_same_instant_revocation_wins(con):
    t = datetime(2026, 6, 1)
    _insert(con, [("s1", t, "granted", "everyone", None), ("s1", t, "revoked", "everyone", None)])
    assert latest_consents(con, NOW)["s1"].status == "revoked"
