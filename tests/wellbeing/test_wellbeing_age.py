"""Age bands: birthdays, leap days, unknown and future birth dates."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from wellbeing import Audience, WellbeingConfig, age_band, audience_for


@pytest.mark.parametrize(
    ("birth", "at", "band"),
    [
        (date(2013, 5, 10), datetime(2026, 5, 9, 23, 59), "child"),  # day before 13th birthday
        (date(2013, 5, 10), datetime(2026, 5, 10, 0, 0), "teen_13_15"),  # on the birthday
        (date(2010, 5, 10), datetime(2026, 5, 9), "teen_13_15"),
        (date(2010, 5, 10), datetime(2026, 5, 10), "teen_16_17"),
        (date(2008, 5, 10), datetime(2026, 5, 9), "teen_16_17"),
        (date(2008, 5, 10), datetime(2026, 5, 10), "adult"),
        # Born on 29 February: a year older on 1 March in common years.
        (date(2008, 2, 29), datetime(2026, 2, 28, 23, 0), "teen_16_17"),
        (date(2008, 2, 29), datetime(2026, 3, 1), "adult"),
        (date(2008, 2, 29), datetime(2024, 2, 29), "teen_16_17"),  # turns 16 on a leap day
        (date(2011, 2, 28), datetime(2024, 2, 28), "teen_13_15"),
        (date(2011, 3, 1), datetime(2024, 2, 29), "child"),
        (None, datetime(2026, 1, 1), "unknown"),
        (date(2030, 1, 1), datetime(2026, 1, 1), "unknown"),  # future birth date is not an age
    ],
)
def test_age_band_edges(birth, at, band):
    assert age_band(birth, at) == band


def test_aware_datetime_is_read_in_utc():
    # 13th birthday starts at UTC midnight: 23:30 the day before in New York is already it.
    at = datetime(2026, 5, 9, 20, 30, tzinfo=timezone(timedelta(hours=-4)))
    assert age_band(date(2013, 5, 10), at) == "teen_13_15"


def test_thresholds_come_from_config():
    cfg = WellbeingConfig(child_age=16)
    assert age_band(date(2011, 1, 1), datetime(2026, 6, 1), cfg) == "child"


def test_unknown_age_gets_its_own_fail_closed_audience():
    assert audience_for("unknown") is Audience.UNKNOWN_AGE
    assert audience_for("teen_16_17") is Audience.TEEN
    assert audience_for("child") is Audience.CHILD
