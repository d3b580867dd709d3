"""FEEDWELL_MEMORY_LIMIT bounds every store connection, and a bad value is a clear error."""

from __future__ import annotations

import pytest

from features.errors import ConfigError
from features.store import MEMORY_ENV, connect


def test_memory_limit_applies_to_store_connections(monkeypatch):
    monkeypatch.setenv(MEMORY_ENV, "300MB")
    con = connect(":memory:")
    limit = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
    con.close()
    assert limit.startswith("286")  # 300 MB in MiB


def test_bad_memory_limit_names_the_variable(monkeypatch):
    monkeypatch.setenv(MEMORY_ENV, "lots")
    with pytest.raises(ConfigError, match=MEMORY_ENV):
        connect(":memory:")
