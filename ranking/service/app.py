"""The HTTP API (FastAPI): feed, events, items, settings, consents, reset, explain, health,
metrics.

``create_app(cfg)`` builds the app around one ``Service``. The feed handler is ``async`` and
reads memory only, so it runs on the event loop without a thread hop; handlers that touch
DuckDB are plain functions (FastAPI runs them in its thread pool) and take ``engine.lock``.
App-wide, so that every router included later is covered too: the request guard (413, 415,
400), the error handlers (bounded 422s, never a traceback), the access log, and the statuses
declared in the OpenAPI document. Client times go through ``svc.clock`` (``clock.py``).
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import Annotated

import orjson
from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from features.rows import ingest_event_rows, ingest_rows
from features.times import utc_now
from ranking.feed.types import FeedRequest
from ranking.service import schemas as s
from ranking.service.auth import check
from ranking.service.errors import install_error_handlers
from ranking.service.guard import RequestGuardMiddleware
from ranking.service.levers import router as levers_router
from ranking.service.metrics import LatencyMiddleware
from ranking.service.runtime import Service, ServiceConfig
from ranking.service.user_writes import save_consent, save_reset, save_settings
from wellbeing import Consent

__all__ = ["create_app"]

log = logging.getLogger("feedwell.service")

UserId = Annotated[str, Path(min_length=1, max_length=256, pattern=r"^[^\x00/]+$")]
QueryId = Annotated[str, Query(min_length=1, max_length=256, pattern=r"^[^\x00]+$")]

_ERR = {"model": s.ErrorOut}
# Declared for every operation (routers included later too): the guard and the token check
# can answer any request with these.
_RESPONSES: dict[int | str, dict] = {
    400: {**_ERR, "description": "Malformed JSON body (not UTF-8, lone surrogate, NaN)"},
    401: {**_ERR, "description": "Missing or unknown bearer token"},
    403: {**_ERR, "description": "The admin token is needed"},
    404: {**_ERR, "description": "No such path (e.g. a user id containing '/')"},
    413: {**_ERR, "description": "Request body too large"},
    415: {**_ERR, "description": "Request body is not JSON"},
}
# Every operation but these needs a token (routers included later check it themselves).
_OPEN_PATHS = ("/healthz",)
_bearer = HTTPBearer(auto_error=False, scheme_name="bearer",
                     description="The read token, or the admin token where noted.")
Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _svc(request: Request) -> Service:
    return request.app.state.service


# The token checks are async although they never await: FastAPI runs a plain ``def``
# dependency in its thread pool, one thread hop per request for a few microseconds of work.
# ``_`` (the parsed header) is unused: it declares the bearer scheme in the OpenAPI document.
async def require_read(request: Request, _: Bearer = None) -> None:
    check(_svc(request).cfg.tokens, request, admin=False)


async def require_admin(request: Request, _: Bearer = None) -> None:
    check(_svc(request).cfg.tokens, request, admin=True)


def _json(payload: object, status: int = 200) -> Response:
    return Response(orjson.dumps(payload, default=str), status_code=status,
                    media_type="application/json")


def _declare_security(app: FastAPI) -> None:
    """Name the bearer scheme on every operation that checks a token, routers included."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = build()
            for path, ops in schema.get("paths", {}).items():
                for op in ops.values():
                    if path not in _OPEN_PATHS:
                        op.setdefault("security", [{"bearer": []}])
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(cfg: ServiceConfig, service: Service | None = None,
               close_on_shutdown: bool = True) -> FastAPI:
    """Build the app (loads the engine and viewer state now; starts the background thread
    when the app starts, and closes the store when it stops unless told not to)."""
    svc = service or Service(cfg)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        svc.start()
        yield
        if close_on_shutdown:
            svc.close()

    app = FastAPI(title="feedwell", version="1", lifespan=lifespan, responses=_RESPONSES,
                  description="Feed ranking with the wellbeing policy always on.")
    app.state.service = svc
    install_error_handlers(app)
    _declare_security(app)
    # Added first = innermost: the access log and latency (outer) also see the guard's 413s.
    app.add_middleware(RequestGuardMiddleware, max_body_bytes=cfg.max_body_bytes)
    app.add_middleware(LatencyMiddleware, metrics=svc.metrics)
    read, admin = [Depends(require_read)], [Depends(require_admin)]
    app.include_router(levers_router)  # steering in words, check-ins

    @app.post("/v1/feed", response_model=s.FeedOut, dependencies=read, tags=["feed"])
    async def feed(body: s.FeedIn) -> Response:
        """The next page of a user's feed: ranked items with reasons, and interventions."""
        now, age_at = svc.clock.feed_times(body.now)
        svc.replayed(now)
        req = FeedRequest(body.user_id, now, body.limit, body.session_id, body.request_id,
                          age_at=age_at, exclude_ids=frozenset(body.exclude_ids))
        resp = svc.engine.feed(req)
        svc.metrics.observe_feed(resp)
        return _json(resp.as_dict())

    @app.post("/v1/events", response_model=s.EventsOut, dependencies=read, tags=["events"])
    def events(body: s.EventsIn) -> Response:
        """Store a batch of events (durable before the reply); valid ones count at once."""
        with svc.engine.lock:
            res = ingest_event_rows(svc.engine.con, body.events)
        svc.state.observe(res.new)
        svc.engine.observe(res.new)
        svc.replayed(max((e["ts"] for e in res.new), default=None), events=True)
        svc.metrics.events.labels("accepted").inc(len(res.new))
        svc.metrics.events.labels("duplicate").inc(res.duplicates)
        svc.metrics.events.labels("rejected").inc(len(res.rejected))
        return _json({"accepted": res.accepted, "duplicates": res.duplicates,
                      "rejected": res.rejected})

    @app.post("/v1/items", response_model=s.ItemsOut, dependencies=admin, tags=["items"])
    def items(body: s.ItemsIn) -> Response:
        """Add or update videos (durable before the reply; latest wins), checked as
        `feedwell ingest` checks an items file. The next feed request serves them with their
        facts: a removal, a rating or a cameo counts at once."""
        with svc.engine.lock:
            res = ingest_rows(svc.engine.con, "items", body.items)
            svc.engine.upsert_items(res.new, svc.post_time())
        return _json({"accepted": res.accepted, "duplicates": res.duplicates,
                      "rejected": res.rejected})

    @app.put("/v1/users/{user_id}/settings", dependencies=admin, tags=["users"])
    def settings(user_id: UserId, body: s.SettingsIn) -> dict:
        """Change a user's settings; only the fields sent change."""
        changes = body.model_dump(include=body.model_fields_set)
        with svc.engine.lock:
            row = save_settings(svc.engine.con, user_id, changes, utc_now())
        svc.state.set_settings(user_id, row)
        return {"user_id": user_id, "settings": {k: row.get(k) for k in
                                                 ("personalized", "daily_limit_minutes",
                                                  "quiet_hours", "sensitive_content",
                                                  "parent_managed")}}

    @app.post("/v1/consents", dependencies=admin, tags=["users"],
              responses={409: {**_ERR, "description": "A different grant at this time"}})
    def consents(body: s.ConsentIn) -> dict:
        """Record a cameo consent; in force from the next request if it is the latest. A
        revocation is always in force from the next request: if a row with a later time is
        stored, it is recorded just after that row (the answer's ``ts``)."""
        c = Consent(body.subject_id, svc.clock.write_time(body.ts), body.status, body.audience,
                    frozenset(body.approved) if body.approved is not None else None)
        with svc.engine.lock:
            stored = save_consent(svc.engine.con, c, utc_now())
        if stored is None:
            raise HTTPException(409, "a different consent is already stored for this "
                                     "subject_id and ts")
        c = stored
        svc.engine.set_consent(c)
        return {"subject_id": c.subject_id, "status": c.status, "audience": c.audience,
                "ts": c.ts.isoformat()}

    @app.post("/v1/users/{user_id}/reset", dependencies=admin, tags=["users"])
    def reset(user_id: UserId, body: s.ResetIn | None = None) -> dict:
        """Permanently reset a user's feed: personalization before now is forgotten."""
        ts = svc.clock.write_time(body.ts if body else None)
        with svc.engine.lock:
            save_reset(svc.engine.con, user_id, ts)
        svc.state.set_reset(user_id, ts)
        return {"user_id": user_id, "reset_at": ts.isoformat()}

    @app.get("/v1/explain", dependencies=read, tags=["feed"])
    def explain(user_id: QueryId, item_id: QueryId,
                now: Annotated[s.Time | None, Query(description=(
                    "ISO 8601; the same rules as the feed's `now`"))] = None) -> Response:
        """Why a video is or is not in a user's feed: every rule's result and the ranking."""
        from ranking.explain import explain_pair

        at, age_at = svc.clock.feed_times(now, loc=("query", "now"))
        return _json(jsonable_encoder(explain_pair(svc.engine, user_id, item_id, at,
                                                   age_at=age_at)))

    @app.post("/v1/admin/reload", dependencies=admin, tags=["admin"])
    def reload() -> dict:
        """Reload the catalog, consents, popularity and the published model."""
        svc.reload(full=True)
        return {"model_version": svc.engine.model_version, "items": len(svc.engine.item_facts)}

    @app.get("/healthz", tags=["admin"])
    async def healthz() -> dict:
        """Liveness and what is being served (no token needed)."""
        done, forests = svc.forests_compiled()
        return {"status": "ok", "model_version": svc.engine.model_version,
                "served": svc.engine.served_kind, "policy_version": svc.engine.policy_version,
                "forests": {"compiled": done, "of": forests}}

    @app.get("/metrics", dependencies=read, tags=["admin"])
    async def metrics() -> Response:
        """Prometheus metrics."""
        return Response(svc.metrics.render(), media_type="text/plain; version=0.0.4")

    return app
