"""Request and response bodies of the HTTP API (pydantic; they are the OpenAPI schema)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from features.contract import CONSENT_AUDIENCE
from wellbeing.config import parse_window

__all__ = [
    "FeedIn", "FeedOut", "EventsIn", "EventsOut", "ItemsIn", "ItemsOut", "SettingsIn",
    "ConsentIn", "ResetIn", "ErrorOut", "Time", "MAX_EVENTS", "MAX_ITEMS", "QUIET_HOURS_PATTERN",
]

_ID = Field(min_length=1, max_length=256, pattern=r"^[^\x00]+$")
MAX_EVENTS = 10_000
MAX_ITEMS = 10_000
QUIET_HOURS_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$"
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}([T ]|$)")


def _iso_text(v: Any) -> Any:
    # Only ISO 8601 text is a time here: pydantic would also read 0, true or "0" as epochs.
    if not isinstance(v, str) or not _ISO.match(v):
        raise ValueError("expected an ISO 8601 date-time string, e.g. 2026-06-01T20:00:00Z")
    return v


Time = Annotated[datetime, Field(strict=False), BeforeValidator(_iso_text)]
"""An ISO 8601 time (an offset is honoured; none means UTC)."""


class _Strict(BaseModel):
    # Strict: "20" is not a limit and true is not a number.
    model_config = ConfigDict(extra="forbid", strict=True)


class ErrorOut(BaseModel):
    """A refused request (400, 401, 403, 404, 409, 413, 415)."""

    detail: str


class FeedIn(_Strict):
    user_id: str = _ID
    limit: int = Field(20, ge=1, le=200, description="Page size, 1..200.")
    now: Time | None = Field(None, description="Request time, ISO 8601 (default: now). "
                             "A time without an offset is UTC. Refused (422) unless within 5 "
                             "minutes of the server's clock, except under `serve --replay`; "
                             "the age band never uses a later time than the server's.")
    session_id: str | None = Field(None, max_length=256)
    request_id: str | None = Field(None, max_length=256)
    exclude_ids: list[str] = Field(default_factory=list, max_length=1000,
                                   description="Video ids never to return on this page.")


class FeedItemOut(BaseModel):
    item_id: str
    score: float
    reasons: list[str]
    source: str | None = None
    labels: list[str] = []


class InterventionOut(BaseModel):
    type: str = Field(description="daily_limit, quiet_hours, break, diversify, no_feed_child, "
                      "checkin (answer with POST /v1/users/{id}/checkin), non_personalized, "
                      "end_of_feed (a guardian's scroll limit: the page ends here)")
    message: str


class FeedOut(BaseModel):
    user_id: str
    items: list[FeedItemOut]
    interventions: list[InterventionOut]
    model_version: str | None
    policy_version: str
    policy: str


class EventsIn(_Strict):
    events: list[dict[str, Any]] = Field(
        max_length=MAX_EVENTS, description="Rows of the events contract (event_id, user_id, ts, "
        "type, item_id, target_user_id, watch_ms, session_id, surface).")


class Rejected(BaseModel):
    index: int
    reason: str


class EventsOut(BaseModel):
    accepted: int = Field(description="Rows stored, including identical re-deliveries.")
    duplicates: int
    rejected: list[Rejected]


class ItemsIn(_Strict):
    items: list[dict[str, Any]] = Field(
        max_length=MAX_ITEMS, description="Rows of the items contract (item_id, creator_id, "
        "created_at, duration_ms, topics, maturity, ai_generated, realistic_person, "
        "cameo_subjects, provenance, labels, status): lists as JSON lists, booleans as JSON "
        "booleans. Checked as `feedwell ingest` checks an items file; latest wins.")


class ItemsOut(BaseModel):
    accepted: int = Field(description="Rows stored (new or changed videos), including "
                          "identical re-posts and rows superseded later in the batch.")
    duplicates: int
    rejected: list[Rejected]


class SettingsIn(_Strict):
    """Only the fields sent are changed; ``null`` clears a limit."""

    personalized: bool | None = None
    daily_limit_minutes: int | None = Field(None, ge=0, le=1440)
    quiet_hours: str | None = Field(None, pattern=QUIET_HOURS_PATTERN,
                                    description="HH:MM-HH:MM local time, e.g. 22:00-07:00")
    sensitive_content: Literal["standard", "less"] | None = None
    parent_managed: bool | None = None
    guardian_personalized: bool | None = Field(
        None, description="Guardian setting (minors only): false turns personalisation off.")
    guardian_session_items: int | None = Field(
        None, ge=1, le=1000, description="Guardian setting (minors only): turns continuous "
        "scroll off; the feed ends (end_of_feed) after this many videos per session. null "
        "turns continuous scroll back on.")

    @field_validator("quiet_hours")
    @classmethod
    def _window(cls, v: str | None) -> str | None:
        if v is not None:
            parse_window(v)
        return v


class ConsentIn(_Strict):
    subject_id: str = _ID
    status: Literal["granted", "revoked"]
    audience: Literal[CONSENT_AUDIENCE] | None = None  # type: ignore[valid-type]
    ts: Time | None = Field(None, description="When it was given (default: now); not more "
                            "than 5 minutes ahead of the server's clock. A revocation is in "
                            "force from when it is received, whatever its time.")
    approved: list[Annotated[str, _ID]] | None = Field(None, max_length=10_000,
                                       description="User ids of an 'approved' audience.")


class ResetIn(_Strict):
    ts: Time | None = Field(None, description="Reset time (default: now); not more than 5 "
                            "minutes ahead of the server's clock.")

