"""``feedwell deploy``: serve the daily flow on a cron schedule with Prefect's ``flow.serve``.

This process is the runner: it registers a deployment and starts each scheduled run itself,
until stopped (Ctrl-C pauses the schedule). Serving needs a persistent API to hold the schedule:
start one with ``prefect server start`` and export ``PREFECT_API_URL=http://127.0.0.1:4200/api``
(the runs then show up in the UI at http://127.0.0.1:4200).
"""

from __future__ import annotations

import argparse
import os


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("deploy", help="serve the daily flow on a cron schedule (Prefect)")
    p.add_argument("--cron", default="0 3 * * *", help="schedule, UTC (default: %(default)s)")
    p.add_argument("--name", default="feedwell-daily", help="deployment name")
    p.add_argument("--data", help="a data directory each run ingests first")
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--executor", choices=("local", "dask"), default="local")
    p.add_argument("--scheduler", help="Dask scheduler address (required with --executor dask)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from features.errors import ConfigError
    from flows._settings import quiet_prefect

    quiet_prefect()
    if args.executor == "dask" and not args.scheduler:
        # A scheduled run cannot own a throwaway local cluster across runs: name a real one.
        raise ConfigError("deploy --executor dask needs --scheduler tcp://HOST:8786")
    if not os.environ.get("PREFECT_API_URL"):
        raise ConfigError(
            "deploy needs a Prefect server to hold the schedule: run `prefect server start` "
            "and `export PREFECT_API_URL=http://127.0.0.1:4200/api`, then retry")
    from flows.daily import daily

    flow = daily
    if args.executor == "dask":
        from prefect_dask import DaskTaskRunner

        flow = daily.with_options(task_runner=DaskTaskRunner(address=args.scheduler))
    params = {"db_path": os.path.abspath(args.db), "k": args.k,
              "data_dir": os.path.abspath(args.data) if args.data else None,
              "scheduler": args.scheduler if args.executor == "dask" else None}
    print(f"serving {args.name}: daily flow on cron {args.cron!r} (UTC), db {params['db_path']}")
    flow.serve(name=args.name, cron=args.cron, parameters=params, print_starting_message=False)
    return 0
