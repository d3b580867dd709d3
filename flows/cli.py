"""The ``feedwell`` command line.

Each subcommand lives in its own module under ``flows/commands/`` and exposes
``register(subparsers)``; they are discovered here so adding one touches no other file.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import sys

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # implicit warns and slows with threaded BLAS

from features.errors import ConfigError, DataError, PipelineError  # noqa: E402
from features.store import DEFAULT_DB  # noqa: E402

__all__ = ["main", "build_parser", "emit"]


def emit(args: argparse.Namespace, payload: dict, text: str | None = None) -> None:
    """Print a command's result: one JSON object with ``--json``, else readable text."""
    if getattr(args, "json", False):
        print(json.dumps(payload, default=str))
    else:
        print(text if text is not None else json.dumps(payload, indent=2, default=str))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="feedwell",
        description="Recommendation and engagement-wellbeing engine for short-form AI-video feeds.",
    )
    parser.add_argument("--db", default=DEFAULT_DB, help="DuckDB file (default: %(default)s)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    import flows.commands as pkg

    for mod in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if not mod.name.startswith("_"):
            importlib.import_module(f"flows.commands.{mod.name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; every failure ends as one line on stderr and exit code 1.

    Project errors, DuckDB errors and OS errors print their message; anything else prints its
    type too (``FEEDWELL_DEBUG=1`` re-raises it, traceback included). Output cut short by a
    closed pipe (``feedwell sql ... | head``) ends quietly, as Python's docs recommend.
    """
    from flows._guard import run_command

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        try:
            return run_command(args)
        except KeyboardInterrupt:
            print(f"feedwell {args.command}: interrupted", file=sys.stderr)
            return 130
        except BrokenPipeError:
            raise
        except Exception as exc:
            if os.environ.get("FEEDWELL_DEBUG"):
                raise
            _print_error(args, exc)
            return 1
    except BrokenPipeError:
        # The reader went away (`| head`). Python flushes stdout again at exit: point it at
        # devnull so that flush does not fail too.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _print_error(args: argparse.Namespace, exc: Exception) -> None:
    import duckdb

    from flows._guard import one_line

    message = one_line(exc)
    if not isinstance(exc, DataError | ConfigError | PipelineError | OSError | duckdb.Error):
        message = f"{type(exc).__name__}: {message}"
    print(f"feedwell {args.command}: error: {message}", file=sys.stderr)
    if getattr(args, "json", False):
        print(json.dumps({"error": type(exc).__name__, "message": message}))


if __name__ == "__main__":
    sys.exit(main())
