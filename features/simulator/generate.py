"""Write a synthetic Sora-style AI-video world as a contract data directory.

Users, creators, videos, cameo consents and feed events come from latent tastes: users and
videos carry topic vectors, video quality and creator pull follow power laws, and watch time
and likes rise with user-video affinity, so a ranker has something real to learn. Each video
also has its own heavy-tailed creation pull (remix, share, comment) and hide pull, so some
videos are created from far more than others at the same watch affinity (``_propensity``
documents the draw). Output is a pure function of the arguments (``end`` is fixed, never the
wall clock): the same seed gives byte-identical files.
"""

from __future__ import annotations

import shutil
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from features.errors import ConfigError
from features.simulator._events import TYPE_CODE, chunk_events, plan_chunks
from features.simulator._io import FORMATS, TableSink, write_table
from features.simulator._tables import consents_table, events_table, items_table, users_table
from features.simulator._world import build_world

__all__ = ["simulate", "DEFAULT_END", "CHUNK_ROWS"]

DEFAULT_END = datetime(2026, 11, 1, tzinfo=UTC)
# Events are generated and written this many rows at a time; above it, one part file each.
CHUNK_ROWS = 1_000_000
_TABLES = ("users", "items", "events", "consents")


def _check(users: int, items: int, events: int, days: int, fmt: str) -> None:
    if fmt not in FORMATS:
        raise ConfigError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    for name, value, low in (("users", users, 1), ("items", items, 1), ("events", events, 0),
                             ("days", days, 1)):
        if value < low:
            raise ConfigError(f"{name} must be at least {low}, got {value}")


def _clear(out: Path) -> None:
    """Remove earlier simulated tables so a rerun never mixes old and new files."""
    for name in _TABLES:
        for ext in FORMATS.values():
            (out / f"{name}.{ext}").unlink(missing_ok=True)
        if (out / name).is_dir():
            shutil.rmtree(out / name)


def _age_counts(users: pa.Table, end: datetime) -> dict[str, int]:
    birth = users.column("birth_date").to_numpy(zero_copy_only=False)
    known = ~np.isnat(birth)
    end_day = np.datetime64(end.date(), "D")
    days = (end_day - birth[known]).astype(np.int64)
    age = days / 365.2425
    return {
        "adults": int((age >= 18).sum()),
        "teens": int(((age >= 13) & (age < 18)).sum()),
        "teens_13_15": int(((age >= 13) & (age < 16)).sum()),
        "teens_16_17": int(((age >= 16) & (age < 18)).sum()),
        "children_under_13": int((age < 13).sum()),
        "unknown_age": int((~known).sum()),
    }


def simulate(out_dir: str | Path, users: int = 2000, items: int = 3000, events: int = 300_000,
             days: int = 28, seed: int = 7, fmt: str = "parquet",
             end: datetime | None = None) -> dict:
    """Write ``users``, ``items``, ``events`` and ``consents`` tables to ``out_dir``.

    Args:
        out_dir: the data directory (created; earlier simulated tables in it are replaced).
        users: number of users (creators and cameo subjects are among them).
        items: number of videos.
        events: approximate total number of event rows.
        days: length of the event window, ending at ``end``.
        seed: random seed; the same arguments give byte-identical files.
        fmt: ``parquet``, ``csv`` (lists ``|``-joined) or ``jsonl``.
        end: end of the window (UTC); defaults to 2026-11-01T00:00Z, never the wall clock.

    Returns:
        A summary: rows and files per table, the event time range, age bands, item and
        consent counts, and event counts by type.
    """
    _check(users, items, events, days, fmt)
    end = end or DEFAULT_END
    end = end.astimezone(UTC) if end.tzinfo else end.replace(tzinfo=UTC)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _clear(out)
    seeds = np.random.SeedSequence(seed)
    world = build_world(np.random.default_rng(seeds.spawn(1)[0]), users, items, days, end)
    plan = plan_chunks(world, events, CHUNK_ROWS)
    chunk_seeds = seeds.spawn(len(plan))

    tables = {"users": users_table(world), "items": items_table(world),
              "consents": consents_table(world)}
    files = {name: write_table(t, out, name, fmt) for name, t in tables.items()}
    sink = TableSink(out, "events", fmt, folder=events > CHUNK_ROWS)
    n_events, n_sessions, first_session = 0, 0, 0
    types: Counter[str] = Counter()
    ts_min, ts_max, schema = None, None, None
    for (lo, hi, target), ss in zip(plan, chunk_seeds, strict=True):
        ch = chunk_events(world, np.random.default_rng(ss), lo, hi, target)
        t = events_table(world, ch, n_events, first_session)
        schema = t.schema
        first_session += int(ch.session.max()) + 1 if len(ch.session) else 0
        n_sessions += len(np.unique(ch.session[ch.session >= 0]))
        n_events += t.num_rows
        counts = np.bincount(ch.type, minlength=len(TYPE_CODE))
        types.update({name: int(counts[code]) for name, code in TYPE_CODE.items()})
        if t.num_rows:
            lo_ts, hi_ts = int(ch.ts_ms.min()), int(ch.ts_ms.max())
            ts_min = lo_ts if ts_min is None else min(ts_min, lo_ts)
            ts_max = hi_ts if ts_max is None else max(ts_max, hi_ts)
        sink.write(t)
    if schema is None:
        schema = events_table(world, chunk_events(world, np.random.default_rng(0), 0, 0, 0.0),
                              0, 0).schema
    files["events"] = sink.close(schema)

    it, co = tables["items"], tables["consents"]

    def stamp(ms: int | None) -> str | None:
        return None if ms is None else datetime.fromtimestamp(ms / 1000, UTC).isoformat()

    return {
        "out_dir": str(out), "format": fmt, "seed": seed,
        "rows": {"users": users, "items": items, "events": n_events, "consents": co.num_rows},
        "files": {k: [str(p) for p in v] for k, v in files.items()},
        "window": {"start": stamp(world.start_ms), "end": stamp(world.end_ms)},
        "events_time_range": {"min": stamp(ts_min), "max": stamp(ts_max)},
        "ages": _age_counts(tables["users"], end),
        "creators": len(pc.unique(it.column("creator_id"))),
        "items_detail": {
            "removed": int(pc.sum(pc.equal(it.column("status"), "removed")).as_py() or 0),
            "unrated": it.column("maturity").null_count,
            "unlabelled": it.column("labels").null_count,
            "realistic_person": int(pc.sum(it.column("realistic_person")).as_py() or 0),
            "with_cameo": int(pc.sum(pc.greater(pc.list_value_length(
                it.column("cameo_subjects")), 0)).as_py() or 0),
        },
        "consents_detail": {
            "subjects": len(pc.unique(co.column("subject_id"))),
            "revoked_rows": int(pc.sum(pc.equal(co.column("status"), "revoked")).as_py() or 0),
        },
        "sessions": n_sessions,
        "event_types": {k: v for k, v in sorted(types.items()) if v},
    }
