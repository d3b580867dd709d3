"""Guardrail metrics with known answers."""

from __future__ import annotations

from datetime import datetime

import pytest
from _wellbeing_world import item

from wellbeing import (
    ServedPage,
    compare_guardrails,
    late_night_minutes,
    minutes_past_budget,
    teen_exposure,
)


def _p(user, ts, band, minutes, items=(), tz="UTC", limit=None):
    return ServedPage(user, ts, band, list(items), minutes, tz, limit)


def test_minutes_past_budget_per_local_day():
    pages = [_p("t", datetime(2026, 6, 1, 10 + k), "teen_13_15", 25) for k in range(4)]  # 100 min
    pages += [_p("t", datetime(2026, 6, 2, 10), "teen_13_15", 50)]  # new day, under budget
    pages += [_p("a", datetime(2026, 6, 1, 10), "adult", 500)]  # adults: no budget
    pages += [_p("b", datetime(2026, 6, 1, 10), "adult", 50, limit=30)]
    assert minutes_past_budget(pages) == pytest.approx(40 + 20)


def test_late_night_minutes_in_local_time():
    pages = [
        _p("t", datetime(2026, 6, 1, 3, 30), "teen_13_15", 10, tz="America/New_York"),  # 23:30
        _p("t", datetime(2026, 6, 1, 23, 30), "teen_13_15", 7, tz="America/New_York"),  # 19:30
        _p("a", datetime(2026, 6, 1, 1, 0), "adult", 5),
    ]
    assert late_night_minutes(pages) == pytest.approx(15)
    assert late_night_minutes(pages, minors_only=True) == pytest.approx(10)


def test_teen_exposure_counts_only_minors():
    bad = [
        item("a", topics=("sadness",)),
        item("b", labels=("self_harm",)),
        item("c", labels=None, maturity=None),
        item("d", maturity="mature"),
    ]
    pages = [
        _p("t", datetime(2026, 6, 1), "unknown", 1, bad),
        _p("a", datetime(2026, 6, 1), "adult", 1, bad),
    ]
    assert teen_exposure(pages) == {
        "items": 4,
        "sensitive_topic": 1,
        "banned_label": 1,
        "unlabelled": 1,
        "unrated": 1,
        "mature": 1,
    }


def test_compare_reports_delta():
    with_p = [_p("t", datetime(2026, 6, 1, 10), "teen_13_15", 60)]
    without = [_p("t", datetime(2026, 6, 1, 10), "teen_13_15", 90, [item(labels=("sexual",))])]
    out = compare_guardrails(with_p, without)
    assert out["minutes_past_budget"] == {"with": 0.0, "without": 30.0, "delta": -30.0}
    assert out["minor_banned_label"]["delta"] == -1
