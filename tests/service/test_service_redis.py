"""The Redis session store against a real ``redis-server`` (skipped when it is not installed)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from ranking.service import ServiceConfig, Tokens, create_app
from ranking.service.redis_store import RedisSessionStore
from tests.service.conftest import DAY, READ, feed, iso

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None,
                                reason="redis-server not installed (apt-get install redis-server)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    port = _free_port()
    d = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                             "--save", "", "--appendonly", "no", "--dir", str(d)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import redis

    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(timeout=10)


class _NoHistory:
    def usage_events(self, user_id):
        return []


def test_store_counts_usage_and_seen(redis_url):
    store = RedisSessionStore(_NoHistory(), url=redis_url, prefix="t1")
    for k in range(3):
        store.observe("u", "UTC", {"event_id": f"e{k}", "ts": DAY + timedelta(minutes=k),
                                   "type": "view", "item_id": f"i{k}", "watch_ms": 120_000})
    st = store.usage("u", "UTC", DAY + timedelta(minutes=5))
    assert st.today_minutes(DAY + timedelta(minutes=5)) == pytest.approx(6.0)
    assert store.seen("u") == {"i0", "i1", "i2"}
    assert store.seen("other") == set()


def test_two_instances_share_session_state(db, redis_url):
    cfg = ServiceConfig(db, Tokens(b"rtok", b"atok"), reload_every_s=0, redis_url=redis_url,
                        replay=True)
    app_a = create_app(cfg)
    start = DAY - timedelta(hours=2)
    events = [{"event_id": f"r{k}", "user_id": "teen1", "ts": iso(start + timedelta(minutes=k)),
               "type": "view", "item_id": f"v{k % 30:02d}", "watch_ms": 60_000}
              for k in range(61)]
    with TestClient(app_a) as a:
        assert a.post("/v1/events", json={"events": events}, headers=READ).json()["accepted"] == 61
    # A second instance (started after the writes, sharing Redis) sees the same budget.
    app_b = create_app(cfg)
    with TestClient(app_b) as b:
        body = feed(b, "teen1", start + timedelta(minutes=62))
    assert body["items"] == [] and body["interventions"][0]["type"] == "daily_limit"
