"""Time normalisation: every time the project stores or compares is naive UTC.

The one place that turns a datetime (aware or naive) or a time written as text into the
store's convention. Ingest reads times in SQL with the same rules (ISO 8601 with any offset,
or epoch seconds; milliseconds from 12 digits on; nothing before 1970).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from features.contract import EARLIEST_TS
from features.errors import DataError

__all__ = ["to_utc_naive", "utc_now", "parse_time"]

_EPOCH_MS = 100_000_000_000  # as ingest reads numbers: this large or more is milliseconds
_NUMBER = re.compile(r"[+-]?\d+(\.\d*)?")


def to_utc_naive(ts: datetime) -> datetime:
    """``ts`` as naive UTC, the store's convention (a naive time is taken to be UTC already).

    Raises:
        OverflowError: an aware time at the edge of the calendar has no UTC equivalent.
    """
    return ts.astimezone(UTC).replace(tzinfo=None) if ts.tzinfo else ts


def utc_now() -> datetime:
    """The wall clock now, as naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


def _from_epoch(v: float | str, what: str) -> datetime:
    x = float(v)
    seconds = x / 1000 if abs(x) >= _EPOCH_MS else x
    try:
        return EARLIEST_TS + timedelta(seconds=seconds)
    except OverflowError:
        raise DataError(f"{what} {v} is not a time: beyond year 9999") from None


def parse_time(v: object, default: datetime | None = None, what: str = "time"
               ) -> datetime | None:
    """A time as the data contract reads one, as naive UTC; empty is ``default``.

    Args:
        v: a datetime, ISO 8601 text (any offset, ``Z`` for UTC; none means UTC) or epoch
            seconds (milliseconds when the number has 12 or more digits), from 1970 on.
        default: returned for None or empty text.
        what: names the value in the error message (``--now``, ``row 3: now``).

    Raises:
        DataError: naming ``what`` and the value, and what a time should look like.
    """
    if v is None or v == "":
        return default
    if isinstance(v, int | float) and not isinstance(v, bool):
        v = _from_epoch(v, what)
    elif not isinstance(v, datetime):
        text = str(v).strip()
        if _NUMBER.fullmatch(text):
            v = _from_epoch(text, what)
        else:
            try:
                v = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                raise DataError(f"{what} {text!r} is not a time: use ISO 8601 "
                                "(2026-11-01T12:00:00Z) or epoch seconds") from None
    try:
        t = to_utc_naive(v)
    except OverflowError:
        raise DataError(f"{what} {v} is out of range") from None
    if t < EARLIEST_TS:
        raise DataError(f"{what} {v} is before {EARLIEST_TS:%Y-%m-%d}, the earliest time the "
                        "store takes")
    return t
