"""Prefect settings for the CLI: local ephemeral API, quiet logs. Call before importing prefect."""

from __future__ import annotations

import os
import warnings

__all__ = ["quiet_prefect"]


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
    # A busy machine can take longer than the 20 s default to start the temporary API server.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
    # Known, harmless warnings of the ranker's libraries on every training run.
    warnings.filterwarnings("ignore", message=".*Overriding the parameters from Reference.*")
    warnings.filterwarnings("ignore", message=".*expects CSR input.*")
