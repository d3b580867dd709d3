"""Schemathesis fuzzes every operation of the OpenAPI schema: no input may cause a 5xx."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from ranking.service import ServiceConfig, Tokens, create_app
from tests.service.conftest import ADMIN, build_store

# Built at import: schemathesis parametrizes from a schema object (its fixture loader does not
# work with this pytest). The store is tiny and lives in a temporary folder.
_DB = Path(tempfile.mkdtemp(prefix="feedwell-fuzz-")) / "fuzz.duckdb"
build_store(_DB)
APP = create_app(ServiceConfig(_DB, Tokens(b"rtok", b"atok"), reload_every_s=0),
                 close_on_shutdown=False)  # the ASGI transport runs the lifespan per call
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.mark.slow  # ~20 s alone, ~50 s on a busy 2-core machine
# Schemathesis's own header and format generators draw from the `random` module; hypothesis
# flags that on some generated cases (seen once in a clean CI run). Nothing of ours is involved.
@pytest.mark.filterwarnings(
    "ignore:Do not use the `random` module inside strategies:"
    "hypothesis.errors.HypothesisDeprecationWarning")
@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_5xx(case):
    response = case.call(headers=ADMIN)
    assert response.status_code < 500, (case.method, case.path, response.text[:300])
