"""Prefect settings for the CLI: local ephemeral API, quiet logs. Call before importing prefect."""

from __future__ import annotations

import os
import warnings

__all__ = ["quiet_prefect", "mute_run_tracebacks"]


def quiet_prefect(level: str = "WARNING") -> None:
    """Log Prefect at ``level`` and keep third-party chatter off the terminal.

    With no ``PREFECT_API_URL`` set, Prefect runs each flow against a temporary local server
    (no configuration); with it set (``prefect server start``), runs are recorded there.
    """
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", level)
    os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", level)
    os.environ.setdefault("PREFECT_LOGGING_LOG_PRINTS", "false")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")  # no network calls
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", level.lower())  # also in worker processes
    # A busy machine can take longer than the 20 s default to start the temporary API server.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
    # Known, harmless warnings of the ranker's libraries on every training run.
    warnings.filterwarnings("ignore", message=".*Overriding the parameters from Reference.*")
    warnings.filterwarnings("ignore", message=".*expects CSR input.*")


def mute_run_tracebacks() -> None:
    """Hide Prefect's own traceback of a failed run: the CLI prints the reason (call after import).

    The failure is still recorded on the run (visible in the UI) and re-raised to the caller.
    """
    import logging

    for name in ("prefect.flow_runs", "prefect.task_runs"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
