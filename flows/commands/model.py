"""``feedwell train | evaluate | publish | models | restore``: the model lifecycle."""

from __future__ import annotations

import argparse

from features.times import parse_time


def register(sub: argparse._SubParsersAction) -> None:
    t = sub.add_parser("train", help="train the ranker and register a candidate version")
    t.add_argument("--now", help="train as of this time (default: all events)")
    t.add_argument("--executor", choices=("local", "dask"), default="local",
                   help="train the boosters here (default) or on a Dask cluster")
    t.add_argument("--scheduler", help="Dask scheduler address (default: a local 2-worker cluster)")
    t.add_argument("--json", action="store_true")
    t.set_defaults(func=run_train)

    e = sub.add_parser("evaluate", help="ranker vs baselines on a temporal split, plus guardrails")
    e.add_argument("--now", help="evaluate as of this time (default: all events)")
    e.add_argument("--k", type=int, default=10)
    e.add_argument("--version", help="version to record the metrics on (default: newest)")
    e.add_argument("--json", action="store_true")
    e.set_defaults(func=run_evaluate)

    p = sub.add_parser("publish", help="publish the newest version if its evaluation passes (the "
                                       "one recorded on the same data, else a new one)")
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--objective", metavar="FILE",
                   help="action weights to serve (JSON or YAML: action -> weight, a missing "
                        "action weighs 0); judged by the evaluation and recorded with the "
                        "version, no retraining (default: the version's own)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run_publish)

    m = sub.add_parser("models", help="list model versions")
    m.add_argument("--json", action="store_true")
    m.set_defaults(func=run_models)

    r = sub.add_parser("restore", help="publish an earlier model version again")
    r.add_argument("version", nargs="?", help="version (default: the previously published one)")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=run_restore)


def run_train(args: argparse.Namespace) -> int:
    from features.store import connect
    from flows.cli import emit
    from ranking.lifecycle import train_model

    now = parse_time(args.now, None, "--now")
    if args.scheduler and args.executor != "dask":
        from features.errors import ConfigError

        raise ConfigError("--scheduler needs --executor dask")
    con = connect(args.db)
    try:
        if args.executor == "dask":
            from distributed import Client

            from flows.dask import dask_scheduler

            with dask_scheduler(args.scheduler) as address, Client(address) as client:
                res = train_model(con, args.db, now, executor=client)
        else:
            res = train_model(con, args.db, now)
    finally:
        con.close()
    emit(args, {"version": res.version, "path": str(res.path), "report": res.report},
         f"trained {res.version} -> {res.path} ({res.report.get('train_seconds', '?')} s)")
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    from features.store import connect
    from flows.cli import emit
    from ranking.evaluation.guardrails import format_guardrails
    from ranking.evaluation.run import format_table
    from ranking.lifecycle import evaluate_version

    con = connect(args.db)
    res = evaluate_version(con, args.version, parse_time(args.now, None, "--now"), args.k)
    con.close()
    emit(args, res.to_dict(), format_table(res) + f"\ngate: {res.gate.why}\n"
         + format_guardrails(res.guardrails or {}))
    return 0


def run_publish(args: argparse.Namespace) -> int:
    from features.store import connect
    from flows.cli import emit
    from ranking.lifecycle import evaluation_to_publish, publish_version
    from ranking.ltr.objective import load_objective

    # A bad weights file fails before anything is evaluated or changed.
    objective = load_objective(args.objective) if args.objective else None
    con = connect(args.db)
    try:
        res, reused = evaluation_to_publish(con, None, args.k, objective=objective)
        version = publish_version(con, res)
    finally:
        con.close()
    served = res.gate.served
    note = ""
    if objective is not None and served != "actions":
        note = (f"\nthe objective is recorded with {version}; the evaluation serves {served}, "
                "which does not read it (see `feedwell evaluate` for the actions model)")
    how = ("the evaluation recorded on it (same data, k and objective)" if reused
           else f"a new evaluation ({res.seconds} s)")
    emit(args, {"published": version, "gate": res.gate.to_dict(), "objective": res.objective,
                "evaluation": "recorded" if reused else "new",
                "evaluation_seconds": res.seconds},
         f"published {version} (serves {served}) on {how}" + note)
    return 0


def run_models(args: argparse.Namespace) -> int:
    from features.store import connect
    from flows.cli import emit
    from ranking.registry import list_versions

    con = connect(args.db)
    rows = list_versions(con)
    con.close()
    payload = {"models": [_model_row(r) for r in rows]}
    lines = [f"{m['version']}  {m['status']:<10} serves {m['served']['model'] or '-'} "
             f"({m['served']['kind'] or '-'}, fallback {m['served']['fallback'] or '-'})  "
             f"ndcg@10={_metric(m['ndcg@10'])}" for m in payload["models"]]
    emit(args, payload, "\n".join(lines) or "no models yet: run `feedwell train`")
    return 0


def _model_row(r) -> dict:
    """One version as ``models`` reports it: what it serves (the evaluation's choice, written
    into the version at publish) and its features."""
    from ranking.serving import read_choice, read_objective

    choice = read_choice(r.path)
    sel = r.metrics.get("selection") or {}
    served = sel.get("served") or (choice.model if choice else None)
    ndcg = (sel.get("pooled", {}).get(served, {}).get("ndcg") if sel
            else r.metrics.get("ranker", {}).get("ndcg@10"))
    return {"version": r.version, "status": r.status, "created_at": r.created_at,
            "served": (choice.describe() if choice else dict.fromkeys(
                ("model", "kind", "fallback", "backoff_below", "why"))),
            "objective": read_objective(r.path),
            "evaluated_best": served, "ndcg@10": ndcg, "features": r.features, "path": r.path}


def _metric(value: object) -> str:
    """A metric as people read it: four decimals (the evaluation's own precision), or '-'."""
    return f"{value:.4f}" if isinstance(value, int | float) and value == value else "-"


def run_restore(args: argparse.Namespace) -> int:
    from features.store import connect
    from flows.cli import emit
    from ranking.registry import restore

    con = connect(args.db)
    v = restore(con, args.version)
    con.close()
    emit(args, {"published": v}, f"restored {v}")
    return 0
