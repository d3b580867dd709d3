"""Bearer-token access: a read token for every endpoint but ``/healthz``, an admin token for
the ones that change a user or the service.

Tokens come from ``FEEDWELL_TOKEN`` / ``FEEDWELL_ADMIN_TOKEN`` or the files named by
``FEEDWELL_TOKEN_FILE`` / ``FEEDWELL_ADMIN_TOKEN_FILE``. They are compared in constant time and
never logged. With no token at all the service is open, and ``serve`` binds to loopback only.
"""

from __future__ import annotations

import hmac
import os
from dataclasses import dataclass
from pathlib import Path

from fastapi import HTTPException, Request

from features.errors import ConfigError

__all__ = ["Tokens", "load_tokens", "check"]


@dataclass(frozen=True, repr=False)
class Tokens:
    """The configured tokens (``repr`` hides them so they cannot reach a log by accident)."""

    read: bytes | None = None
    admin: bytes | None = None

    @property
    def enabled(self) -> bool:
        return self.read is not None or self.admin is not None

    def __repr__(self) -> str:
        return f"Tokens(read={'set' if self.read else 'unset'}, " \
               f"admin={'set' if self.admin else 'unset'})"


def _one(env: dict[str, str], name: str) -> bytes | None:
    value = env.get(name)
    path = env.get(f"{name}_FILE")
    if value and path:
        raise ConfigError(f"set either {name} or {name}_FILE, not both")
    if path:
        try:
            value = Path(path).read_text().strip()
        except OSError as exc:
            raise ConfigError(f"{name}_FILE: cannot read {path}: {exc.strerror}") from exc
        if not value:
            raise ConfigError(f"{name}_FILE: {path} is empty")
    return value.strip().encode() if value and value.strip() else None


def load_tokens(env: dict[str, str] | None = None) -> Tokens:
    """Read the tokens from the environment (or the files it names)."""
    env = dict(os.environ if env is None else env)
    return Tokens(_one(env, "FEEDWELL_TOKEN"), _one(env, "FEEDWELL_ADMIN_TOKEN"))


def _bearer(request: Request) -> bytes | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip().encode()


def _eq(given: bytes, expected: bytes | None) -> bool:
    return expected is not None and hmac.compare_digest(given, expected)


def check(tokens: Tokens, request: Request, admin: bool) -> None:
    """Raise 401 (missing or unknown token) or 403 (valid, but not admin where admin is needed)."""
    if not tokens.enabled:
        return
    given = _bearer(request)
    unauthorized = HTTPException(401, "missing or invalid bearer token",
                                 headers={"WWW-Authenticate": "Bearer"})
    if given is None:
        raise unauthorized
    is_admin = _eq(given, tokens.admin)
    # Evaluate both comparisons every time: timing says nothing about which token matched.
    is_read = _eq(given, tokens.read)
    if not (is_admin or is_read):
        raise unauthorized
    if admin and not is_admin:
        raise HTTPException(403, "this endpoint needs the admin token")
