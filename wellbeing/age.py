"""Age bands from a birth date, and the policy audience each band gets."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Literal

from wellbeing.config import WellbeingConfig

__all__ = ["AgeBand", "Audience", "age_band", "age_years", "audience_for", "is_minor",
           "younger_band"]

AgeBand = Literal["child", "teen_13_15", "teen_16_17", "adult", "unknown"]


class Audience(StrEnum):
    """Which base policy a viewer gets; unknown age is treated like a teen (fail closed)."""

    CHILD = "CHILD"
    TEEN = "TEEN"
    ADULT = "ADULT"
    UNKNOWN_AGE = "UNKNOWN_AGE"


def age_years(birth_date: date, on: date) -> int:
    """Completed years on a date; someone born on 29 February turns a year older on 1 March
    in common years (the legal convention in most jurisdictions)."""
    years = on.year - birth_date.year
    if (on.month, on.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def age_band(birth_date: date | None, at: datetime, cfg: WellbeingConfig | None = None) -> AgeBand:
    """The viewer's age band at a moment.

    Args:
        birth_date: the user's birth date, or None when unknown.
        at: the moment (naive = UTC); the UTC calendar date is used, which errs on the
            younger side for users east of UTC only on their birthday itself.
        cfg: thresholds (child_age, teen_max_age).

    Returns:
        ``child`` below ``child_age``, ``teen_13_15``/``teen_16_17`` up to ``teen_max_age``,
        ``adult`` above, ``unknown`` without a birth date or with one in the future.
    """
    cfg = cfg or WellbeingConfig()
    if birth_date is None:
        return "unknown"
    if isinstance(birth_date, datetime):
        birth_date = birth_date.date()
    on = at.astimezone(UTC).date() if at.tzinfo else at.date()
    if birth_date > on:
        return "unknown"
    years = age_years(birth_date, on)
    if years < cfg.child_age:
        return "child"
    if years <= 15:
        return "teen_13_15"
    if years <= cfg.teen_max_age:
        return "teen_16_17"
    return "adult"


_YOUNGEST_FIRST: tuple[AgeBand, ...] = ("child", "teen_13_15", "teen_16_17", "adult")


def younger_band(birth_date: date | None, moments: tuple[datetime, ...],
                 cfg: WellbeingConfig | None = None) -> AgeBand:
    """The youngest age band the viewer has at any of ``moments``.

    A request may carry a clock that disagrees with the server's; the age must never come out
    older than either clock says. A moment before the birth date does not count (it would turn
    a known child into ``unknown``, a laxer policy); if every moment is, the band is ``unknown``.

    Args:
        birth_date: the user's birth date, or None when unknown.
        moments: the candidate clocks (naive = UTC).
        cfg: thresholds (child_age, teen_max_age).
    """
    bands = {age_band(birth_date, at, cfg) for at in moments}
    return next((b for b in _YOUNGEST_FIRST if b in bands), "unknown")


def audience_for(band: AgeBand) -> Audience:
    """Map an age band to its base policy audience."""
    if band == "child":
        return Audience.CHILD
    if band in ("teen_13_15", "teen_16_17"):
        return Audience.TEEN
    if band == "adult":
        return Audience.ADULT
    return Audience.UNKNOWN_AGE


def is_minor(band: AgeBand) -> bool:
    """True for every band that gets minor protections (child, teens and unknown age)."""
    return band != "adult"
