"""Task policies shared by the flows: retry backoff for I/O, and which failures not to retry."""

from __future__ import annotations

from typing import Any

from features.errors import ConfigError, DataError, PipelineError

__all__ = ["IO_RETRIES", "IO_RETRY_DELAYS", "retry_transient"]

IO_RETRIES = 3
IO_RETRY_DELAYS = [2, 5, 15]

# A bad file, a bad config or a failed publish gate fails the same way every time: retrying
# only delays the visible failure by 22 s.
_PERMANENT = (DataError, ConfigError, PipelineError, FileNotFoundError)


def retry_transient(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect ``retry_condition_fn``: retry unless the failure is a permanent project error."""
    try:
        exc = state.result(raise_on_failure=False)
    except Exception:  # noqa: BLE001 - an unreadable result is treated as transient
        return True
    return not isinstance(exc, _PERMANENT)
