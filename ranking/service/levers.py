"""The user's levers over HTTP: steering in words and wellbeing check-ins.

``PUT /v1/users/{id}/steering`` understands ``{"text": ...}`` against the catalog, stores it
with its history and answers with what was understood (422 with an explanation when nothing
usable was said); ``DELETE`` clears it. ``POST /v1/users/{id}/checkin`` records a check-in
answer, which may lower the daily budget, turn on quiet hours or become a steering. Each write
is stored first, then put in the live state: the next feed request applies it, no request
reads DuckDB, and a restart loads it again.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator

from features.errors import DataError
from features.times import utc_now
from ranking.service.auth import check
from ranking.service.user_writes import save_settings
from wellbeing.config import parse_window
from wellbeing.levers_store import (
    clear_steering,
    save_checkin,
    save_steering,
    vocabulary_from_facts,
)
from wellbeing.limits import daily_limit_minutes
from wellbeing.steering import Steering, parse_steering

__all__ = ["router", "SteeringIn", "SteeringOut", "CheckinIn", "CheckinOut"]

UserId = Annotated[str, Path(min_length=1, max_length=256, pattern=r"^[^\x00/]+$")]


async def _admin(request: Request) -> None:
    check(request.app.state.service.cfg.tokens, request, admin=True)


router = APIRouter(tags=["levers"], dependencies=[Depends(_admin)])


class SteeringIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=2000, description='What the user wants, in '
                      'English: "more pets and sports, less dance", "never diet videos", '
                      '"something calm tonight".')


class SteeringOut(BaseModel):
    user_id: str
    more: list[str] = Field(description="Boosted: topics, or creator:<id> / maturity:<m>.")
    less: list[str]
    never: list[str] = Field(description="Muted: never shown (a filter with a reason).")
    mood: str | None
    mood_topics: list[str]
    expires: str | None = Field(description="When the mood ends (UTC); the rest stays.")
    ignored: list[str] = Field(description="Words that were not understood.")


class CheckinIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rating: int = Field(ge=1, le=5, description="How do you feel about your feed? 1-5.")
    text: str | None = Field(None, max_length=2000, description="Optional words; when they "
                             "name topics, creators or a mood they become a steering.")
    daily_limit_minutes: int | None = Field(None, ge=1, le=1440, description="Lower the "
                                            "daily budget to this (never raises it).")
    quiet_hours: str | None = Field(None, max_length=11, description="Turn on quiet hours, "
                                    "HH:MM-HH:MM local time (adults; minors already have them).")

    @field_validator("quiet_hours")
    @classmethod
    def _window(cls, v: str | None) -> str | None:
        if v is not None:
            parse_window(v)
        return v


class CheckinOut(BaseModel):
    user_id: str
    rating: int
    applied: dict[str, Any] = Field(description="What the answer changed.")
    notes: list[str]


_vocab: dict[int, tuple[Any, tuple[set[str], set[str]]]] = {}


def _vocabulary(svc: Any) -> tuple[set[str], set[str]]:
    # One scan of the catalog per catalog load (a reload replaces the dict), not per request.
    facts = svc.engine.item_facts
    hit = _vocab.get(id(svc))
    if hit is None or hit[0] is not facts:
        hit = _vocab[id(svc)] = (facts, vocabulary_from_facts(facts.values()))
    return hit[1]


def _parse(svc: Any, user_id: str, text: str) -> Steering:
    topics, creators = _vocabulary(svc)
    p = svc.state.profiles.get(user_id)
    return parse_steering(text, topics, creators, utc_now(),
                          p.timezone if p else "UTC", svc.engine.cfg.steer_mood_hours)


def _store_steering(svc: Any, user_id: str, steering: Steering, source: str) -> None:
    with svc.engine.lock:
        save_steering(svc.engine.con, user_id, steering, utc_now(), source)
    svc.state.set_steering(user_id, steering)


@router.put("/v1/users/{user_id}/steering", response_model=SteeringOut,
            responses={422: {"description": "Nothing usable was said; the detail explains."}})
def put_steering(user_id: UserId, body: SteeringIn, request: Request) -> dict:
    """Steer a user's feed in words; answered with what was understood. Applied from the
    next feed request; it never widens the user's wellbeing policy."""
    svc = request.app.state.service
    try:
        steering = _parse(svc, user_id, body.text)
    except DataError as exc:
        raise HTTPException(422, str(exc)) from exc
    _store_steering(svc, user_id, steering, "api")
    return {"user_id": user_id, **steering.echo(), "ignored": list(steering.ignored)}


@router.delete("/v1/users/{user_id}/steering")
def delete_steering(user_id: UserId, request: Request) -> dict:
    """Remove a user's steering (kept in the history as cleared)."""
    svc = request.app.state.service
    with svc.engine.lock:
        had = clear_steering(svc.engine.con, user_id, utc_now(), "api")
    svc.state.set_steering(user_id, None)
    return {"user_id": user_id, "cleared": had}


@router.post("/v1/users/{user_id}/checkin", response_model=CheckinOut)
def checkin(user_id: UserId, body: CheckinIn, request: Request) -> dict:
    """Answer a wellbeing check-in: a rating, and optionally a lower daily budget, quiet
    hours, or words that become a steering."""
    svc = request.app.state.service
    now = utc_now()
    viewer = svc.engine.viewer(user_id, now)
    applied: dict[str, Any] = {}
    notes: list[str] = []
    changes: dict[str, Any] = {}
    if body.daily_limit_minutes is not None:
        current = daily_limit_minutes(viewer, svc.engine.cfg)
        if current is None or body.daily_limit_minutes < current:
            changes["daily_limit_minutes"] = body.daily_limit_minutes
        else:
            notes.append(f"daily budget kept at {current} minutes (a check-in only lowers it)")
    if body.quiet_hours is not None:
        if viewer.minor:
            notes.append("quiet hours unchanged: the teen quiet hours already apply")
        else:
            changes["quiet_hours"] = body.quiet_hours
    if changes:
        with svc.engine.lock:
            row = save_settings(svc.engine.con, user_id, changes, now)
        svc.state.set_settings(user_id, row)
        applied.update(changes)
    if body.text:
        try:
            steering = _parse(svc, user_id, body.text)
        except DataError:
            notes.append("the words were kept as feedback (no topic, creator or mood named)")
        else:
            # A check-in adds to the steering in force rather than replacing it.
            current = svc.state.steering(user_id)
            steering = current.merged(steering) if current is not None else steering
            _store_steering(svc, user_id, steering, "checkin")
            applied["steering"] = steering.echo()
    with svc.engine.lock:
        save_checkin(svc.engine.con, user_id, now, body.rating, body.text, applied)
    svc.state.set_checkin(user_id, now)
    return {"user_id": user_id, "rating": body.rating, "applied": applied, "notes": notes}
