"""Which clock a request runs on: the server's, unless ``--replay`` lets a client's ``now`` in.

Safety must not depend on a time the client chose. Without replay a client ``now`` is only
accepted within ``CLOCK_SKEW`` of the server's clock, and time-based rules (quiet hours, daily
budget, breaks) run on the server's clock. With replay (tests, replays of logged traffic) they
run on the client's ``now``. In both modes the age band is computed at both clocks and the
younger age wins, so no ``now`` can make a child an adult. Times written to the store (consent
and reset times) are bounded by the server's clock in both modes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fastapi.exceptions import RequestValidationError

from features.contract import EARLIEST_TS
from features.ingest import CLOCK_SKEW
from features.times import to_utc_naive, utc_now

__all__ = ["RequestClock", "LATEST_REPLAY_TS"]

# A replayed ``now`` past this is refused: nothing plausible is replayed from further ahead,
# and date arithmetic near year 9999 overflows.
LATEST_REPLAY_TS = datetime(2200, 1, 1)


def _invalid(loc: tuple[str, ...], msg: str, value: datetime) -> RequestValidationError:
    # Shaped like pydantic's errors, so every 422 has one schema.
    return RequestValidationError([{"loc": loc, "msg": f"time {msg}",
                                    "type": "time_out_of_range", "input": value.isoformat()}])


def _naive(value: datetime, loc: tuple[str, ...]) -> datetime:
    try:
        return to_utc_naive(value)
    except OverflowError:  # year 1 or 9999 with an offset: no UTC time exists
        raise _invalid(loc, "is out of range", value) from None


@dataclass(frozen=True)
class RequestClock:
    """Resolves client-supplied times against the server's clock.

    Attributes:
        replay: honour a client ``now`` for time-based rules (``feedwell serve --replay``).
    """

    replay: bool = False

    def feed_times(self, client_now: datetime | None,
                   loc: tuple[str, ...] = ("body", "now")) -> tuple[datetime, datetime | None]:
        """The rules' clock and the second clock for the age band, for a request's ``now``.

        Returns:
            ``(now, age_at)``: ``age_at`` is None when there is only one clock.

        Raises:
            RequestValidationError: ``now`` before 1970, beyond the skew without replay, or
                after ``LATEST_REPLAY_TS`` with it.
        """
        server = utc_now()
        if client_now is None:
            return server, None
        now = _naive(client_now, loc)
        if now < EARLIEST_TS:
            raise _invalid(loc, f"must not be before {EARLIEST_TS:%Y-%m-%d}", now)
        if self.replay:
            if now >= LATEST_REPLAY_TS:
                raise _invalid(loc, f"must be before {LATEST_REPLAY_TS:%Y-%m-%d}", now)
            return now, server
        if abs(now - server) > CLOCK_SKEW:
            raise _invalid(loc, f"is more than {CLOCK_SKEW} from the server's clock "
                                "(client times are honoured only by `feedwell serve --replay`)",
                           now)
        # Within the skew: the rules still run on the server's clock; the client's only counts
        # if it makes the viewer younger.
        return server, now

    def write_time(self, ts: datetime | None,
                   loc: tuple[str, ...] = ("body", "ts")) -> datetime:
        """A time to store (consent, reset): the server's clock by default; a given one must be
        from 1970 on and no later than the skew ahead of the server, as file ingest requires.
        """
        server = utc_now()
        if ts is None:
            return server
        t = _naive(ts, loc)
        if t < EARLIEST_TS:
            raise _invalid(loc, f"must not be before {EARLIEST_TS:%Y-%m-%d}", t)
        if t > server + CLOCK_SKEW:
            raise _invalid(loc, f"is in the future (more than {CLOCK_SKEW} ahead of the "
                                "server's clock)", t)
        return t
