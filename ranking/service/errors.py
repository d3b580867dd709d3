"""Error answers: every refusal is a short JSON body, never a traceback or an echo of the input.

FastAPI's own 422 echoes each offending value whole (a 50 MB body came back as a 50 MB error)
and fails to encode text the request smuggled in (a lone surrogate: 500). Here each echoed
value is cut to ``ECHO_CHARS`` and made encodable; ``DataError`` from the library is a 422;
anything unexpected is a logged 500 with no detail.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError

from features.errors import DataError

__all__ = ["install_error_handlers", "ECHO_CHARS"]

log = logging.getLogger("feedwell.service")

ECHO_CHARS = 200


def _text(value: Any, limit: int = ECHO_CHARS) -> str:
    s = value if isinstance(value, str) else repr(value)
    if len(s) > limit:
        s = s[:limit] + f"... ({len(s)} characters)"
    # Lone surrogates cannot be encoded as UTF-8; show them escaped.
    return s.encode("utf-8", "backslashreplace").decode("utf-8")


def _echo(value: Any) -> Any:
    if value is None or isinstance(value, (bool, float)):
        return value
    if isinstance(value, int) and abs(value) < 2**53:
        return value
    # Text, containers, huge integers: a bounded string, never the whole input.
    return _text(value)


def _error(err: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": _text(err.get("type", "value_error"), 64),
        "loc": [p if isinstance(p, int) else _text(p, 64) for p in err.get("loc", ())][:8],
        "msg": _text(err.get("msg", "")),
    }
    if "input" in err:
        out["input"] = _echo(err["input"])
    return out


def _json(status: int, payload: Any) -> Response:
    return Response(orjson.dumps(payload), status_code=status, media_type="application/json")


async def _validation(request: Request, exc: RequestValidationError) -> Response:
    errors = exc.errors()
    detail = [_error(e) for e in errors[:20]]
    return _json(422, {"detail": detail})


async def _data_error(request: Request, exc: DataError) -> Response:
    return _json(422, {"detail": [{"type": "data_error", "loc": ["body"],
                                   "msg": _text(str(exc))}]})


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.error("unhandled error on %s %s", request.method, _text(request.url.path, 100),
              exc_info=exc)
    return _json(500, {"detail": "internal error (logged)"})


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers on ``app`` (they cover every router it includes)."""
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(DataError, _data_error)
    app.add_exception_handler(Exception, _unexpected)
