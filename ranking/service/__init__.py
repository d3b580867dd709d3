"""The feedwell HTTP service: the feed ranking service's entry point into the engine."""

from ranking.service.app import create_app
from ranking.service.auth import Tokens, load_tokens
from ranking.service.runtime import Service, ServiceConfig
from ranking.service.session_store import InMemorySessionStore, SessionStore

__all__ = ["create_app", "Service", "ServiceConfig", "Tokens", "load_tokens", "SessionStore",
           "InMemorySessionStore"]
