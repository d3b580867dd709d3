"""``feedwell serve``: the HTTP service (FastAPI + uvicorn, OpenAPI docs at /docs)."""

from __future__ import annotations

import argparse
import ipaddress
import logging
import sys

from features.errors import ConfigError

__all__ = ["register", "is_loopback"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="serve feeds over HTTP (OpenAPI docs at /docs)")
    p.add_argument("--host", default="127.0.0.1", help="bind address (default: %(default)s)")
    p.add_argument("--port", type=int, default=8000, help="port (default: %(default)s)")
    p.add_argument("--reload-every", type=float, default=10.0, metavar="SECONDS",
                   help="check for a newly published model this often (default: %(default)s)")
    p.add_argument("--redis", metavar="URL",
                   help="keep session state in Redis (several instances), e.g. "
                        "redis://127.0.0.1:6379/0 (default: in process)")
    p.add_argument("--replay", action="store_true",
                   help="honour a client-supplied `now` for quiet hours, daily budgets and "
                        "breaks (replays, tests); off: a `now` more than 5 minutes from the "
                        "server clock is refused. Age bands use the younger clock either way")
    p.add_argument("--max-body-bytes", type=int, default=1_000_000, metavar="N",
                   help="largest request body accepted, larger gets 413 (default: %(default)s)")
    p.add_argument("--objective", metavar="FILE",
                   help="serve these action weights (JSON or YAML: action -> weight) instead "
                        "of the published version's, without retraining")
    p.add_argument("--no-compile", action="store_true",
                   help="predict with LightGBM itself instead of compiling the served "
                        "boosters to machine code in the background (the same scores)")
    p.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))
    p.set_defaults(func=handler)


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address or ``localhost``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def handler(args: argparse.Namespace) -> int:
    import uvicorn

    from ranking.service import ServiceConfig, create_app, load_tokens

    tokens = load_tokens()
    if not tokens.enabled:
        if not is_loopback(args.host):
            raise ConfigError(
                f"refusing to bind {args.host} without a token: set FEEDWELL_TOKEN and "
                "FEEDWELL_ADMIN_TOKEN (or *_FILE), or bind 127.0.0.1")
        print("feedwell serve: no token configured: open access, bound to loopback only",
              file=sys.stderr)
    elif tokens.admin is None:
        print("feedwell serve: no admin token configured: settings, consents, reset and "
              "reload are refused", file=sys.stderr)
    logging.basicConfig(level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.max_body_bytes < 1:
        raise ConfigError(f"--max-body-bytes must be positive, got {args.max_body_bytes}")
    if args.replay:
        print("feedwell serve: --replay: client-supplied `now` is honoured for time-based "
              "rules; do not use it for real users", file=sys.stderr)
    objective = None
    if args.objective:
        from ranking.ltr.objective import load_objective

        objective = load_objective(args.objective)
    cfg = ServiceConfig(args.db, tokens, reload_every_s=args.reload_every, redis_url=args.redis,
                        replay=args.replay, max_body_bytes=args.max_body_bytes,
                        objective=objective, compile_forests=not args.no_compile)
    app = create_app(cfg)
    # The app writes its own access log (logger feedwell.access: method, path, status, time;
    # no bodies, no headers, no tokens), so uvicorn's is off.
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level,
                access_log=False)
    return 0
