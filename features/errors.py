"""Project exceptions, in one place (lenskit's diagnostics module)."""

from __future__ import annotations

__all__ = ["DataError", "ConfigError", "PipelineError", "DataWarning"]


class DataError(ValueError):
    """Input data that cannot be used as given; the message says what to change."""


class ConfigError(ValueError):
    """A configuration that does not validate (unknown names, bad values)."""


class PipelineError(RuntimeError):
    """A pipeline stage that cannot run (missing model, failed gate)."""


class DataWarning(UserWarning):
    """A problem in the data that the code recovered from."""
