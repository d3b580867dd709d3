"""The running service: the engine with live viewer state, its DuckDB lock, background work.

One ``Service`` per process. Feed requests read memory only; every DuckDB access (event and
settings writes, audit flushes, reload checks) goes through ``engine.lock``, because a DuckDB
connection must not be used from two threads at once. A daemon thread checks the registry for a
newly published model every ``reload_every_s`` seconds and flushes the audit buffer.
"""

from __future__ import annotations

import gc
import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from features.ingest import CLOCK_SKEW
from features.times import utc_now
from ranking.feed.engine import FeedEngine
from ranking.service.auth import Tokens
from ranking.service.clock import RequestClock
from ranking.service.metrics import Metrics
from ranking.service.session_store import InMemorySessionStore, SessionStore
from ranking.service.viewer_state import ViewerState

__all__ = ["ServiceConfig", "Service"]

log = logging.getLogger("feedwell.service")


@dataclass(frozen=True)
class ServiceConfig:
    """How the service runs.

    Attributes:
        db_path: the DuckDB store.
        tokens: bearer tokens (none: open, loopback only).
        reload_every_s: seconds between checks for a newly published model (0: never).
        audit_flush_s: seconds between audit-log flushes.
        redis_url: keep session state in Redis at this URL (default: in process).
        freeze_heap: at start, move everything loaded so far out of the cyclic garbage
            collector's reach (``gc.freeze``; undone at close). The loaded state is hundreds of
            thousands of long-lived objects: without this, each full collection walks them all
            (~300 ms on the 5000-user bench world), a pause that lands on some request.
        replay: honour a client-supplied ``now`` for time-based rules (replays, tests); off,
            a ``now`` beyond the clock skew is refused. Age bands never use a later clock
            than the server's either way (``ranking.service.clock``).
        max_body_bytes: the largest request body accepted (larger: 413).
        compile_forests: compile the served version's boosters to machine code in the
            background after it loads, kept in the version's folder (``feedwell serve``;
            ``ranking.ltr._compiled``): the same scores, several times faster.
    """

    db_path: str | Path
    tokens: Tokens = field(default_factory=Tokens)
    reload_every_s: float = 10.0
    audit_flush_s: float = 1.0
    redis_url: str | None = None
    freeze_heap: bool = True
    replay: bool = False
    max_body_bytes: int = 1_000_000
    objective: dict[str, float] | None = None
    """Action weights served instead of each version's own (``serve --objective FILE``)."""
    compile_forests: bool = False


class Service:
    """The engine, the live viewer state, metrics and the background thread."""

    def __init__(self, cfg: ServiceConfig) -> None:
        self.cfg = cfg
        # The service flushes audit rows itself, off the request path.
        self.engine = FeedEngine(cfg.db_path, audit_batch=10**9, objective=cfg.objective)
        # Per-video catalog features follow the posted events (the tiles shared with batch).
        self.engine.enable_live_features()
        self.metrics = Metrics()
        self.clock = RequestClock(cfg.replay)
        if cfg.replay:
            log.warning("replay mode: client-supplied `now` is honoured for quiet hours, daily "
                        "budgets and breaks (age bands still use the younger clock)")
        else:
            log.info("client-supplied `now` accepted within %s of the server clock only "
                     "(no --replay)", CLOCK_SKEW)
        with self.engine.lock:
            self.state = ViewerState(self.engine.con, lambda: self.engine.item_facts,
                                     self.engine.cfg, self._store_factory())
            self.state.seed_recent(self.engine.con, self._data_to())
        self.engine.viewers = self.state
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._frozen = False
        # Under --replay: the latest feed ``now`` the replay has reached, the service's "now"
        # for writes that carry no time of their own (an event's ``ts`` may run ahead of other
        # viewers' replayed pages, so it does not move this clock).
        self._replayed: datetime | None = None
        self._replayed_events: datetime | None = None
        self._set_model_metric()
        self.compiling: threading.Thread | None = None
        self._compile()
        log.info("loaded %d items, %d viewer profiles; session store: %s",
                 len(self.engine.item_facts), len(self.state.profiles),
                 getattr(self.state.store, "name", "?"))

    def _store_factory(self):
        if self.cfg.redis_url:
            from ranking.service.redis_store import RedisSessionStore

            url = self.cfg.redis_url
            return lambda h: RedisSessionStore(h, url=url, cfg=self.engine.cfg)
        return lambda h: InMemorySessionStore(h, self.engine.cfg)

    @property
    def store(self) -> SessionStore:
        return self.state.store

    def _set_model_metric(self) -> None:
        self.metrics.model.clear()
        self.metrics.model.labels(self.engine.model_version or "none").set(1)

    def replayed(self, t: datetime | None, events: bool = False) -> None:
        """Move the replay clock forward to a feed's ``now`` (or, ``events``, a posted
        event's ``ts``: the clock until the first feed request); only under --replay."""
        if not self.cfg.replay or t is None:
            return
        if events:
            self._replayed_events = max(t, self._replayed_events or t)
        else:
            self._replayed = max(t, self._replayed or t)

    def post_time(self) -> datetime:
        """When a row posted now arrived: the server's clock, or under --replay the time the
        replay has reached (a replayed video is posted in the replay's past)."""
        if not self.cfg.replay:
            return utc_now()
        return self._replayed or self._replayed_events or utc_now()

    def _compile(self) -> None:
        """Compile the served version's boosters on a background thread (``compile_forests``)."""
        ranker, rec = self.engine.ranker, self.engine.model_record
        if not self.cfg.compile_forests or ranker is None:
            return
        from ranking.ltr import compile_in_background

        cache = Path(rec.path) / "compiled" if rec is not None and rec.path else None
        self.compiling = compile_in_background(ranker.forests(), cache, self._stop)

    def forests_compiled(self) -> tuple[int, int]:
        """(compiled, all) boosters of the served version."""
        ranker = self.engine.ranker
        if ranker is None:
            return 0, 0
        from ranking.ltr import compiled_count

        forests = ranker.forests()
        return compiled_count(forests), len(forests)

    def _data_to(self):
        ranker = self.engine.ranker
        return ranker.data_to if ranker is not None else None

    def reload(self, full: bool = True) -> bool:
        """Reload catalog and model (``full``), or only pick up a newly published model."""
        changed = self.engine.reload() if full else self.engine.reload_if_published()
        if changed:
            self._set_model_metric()
            self._compile()
            with self.engine.lock:
                # The new model's data ends later: only events after it stay live.
                self.state.seed_recent(self.engine.con, self._data_to())
        return changed

    def start(self) -> None:
        if self.cfg.freeze_heap and not self._frozen:
            gc.collect()
            gc.freeze()
            self._frozen = True
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="feedwell-bg", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        since_check = 0.0
        tick = max(0.05, min(self.cfg.audit_flush_s, self.cfg.reload_every_s or 1e9))
        while not self._stop.wait(tick):
            try:
                self.engine.flush_audit()
                since_check += tick
                if self.cfg.reload_every_s and since_check >= self.cfg.reload_every_s:
                    since_check = 0.0
                    self.reload(full=False)
            except Exception:  # the loop must survive a failed check; the next one retries
                log.exception("background reload/flush failed")

    def close(self) -> None:
        self._stop.set()  # the background loop, and any compile between two boosters
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self.compiling is not None:
            self.compiling.join(timeout=5)
        self.engine.close()
        if self._frozen:
            gc.unfreeze()
            self._frozen = False
