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
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (DataError, ConfigError, PipelineError, FileNotFoundError) as exc:
        if getattr(args, "json", False):
            print(json.dumps({"error": type(exc).__name__, "message": str(exc)}))
        print(f"feedwell {args.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
