"""Turn the simulated arrays into Arrow tables with the contract's columns and types."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from features.simulator._events import TYPE_CODE, Chunk
from features.simulator._vocab import LABELS, TIMEZONES, TOPICS
from features.simulator._world import World

__all__ = ["ids", "users_table", "items_table", "consents_table", "events_table"]

_TS = pa.timestamp("ms")
_QUIET = (None, "22:00-07:00", "23:00-06:30", "21:30-07:00")
_SURFACES = pa.array(["feed", "following", "search", "profile"])
_MATURITY = pa.array(["general", "teen", "mature"])
_TYPES = pa.array(sorted(TYPE_CODE, key=TYPE_CODE.get))


def ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """``prefix`` + zero-padded number, e.g. ``u000042``; a negative number gives null."""
    arr = pa.array(numbers, mask=numbers < 0, type=pa.int64())
    padded = pc.utf8_lpad(pc.cast(arr, pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(prefix, padded, "")


def _width(n: int) -> int:
    return max(6, len(str(max(n - 1, 0))))


def _take(values: list | pa.Array, codes: np.ndarray) -> pa.Array:
    """Dictionary decode: ``codes`` index ``values``; a negative code gives null."""
    values = values if isinstance(values, pa.Array) else pa.array(values)
    return values.take(pa.array(codes, mask=codes < 0, type=pa.int64()))


def _lists(mask: np.ndarray, values: pa.Array, null: np.ndarray | None = None) -> pa.Array:
    """A list column from a row x choice boolean mask (row-major order)."""
    offsets = np.r_[0, np.cumsum(mask.sum(1))].astype(np.int32)
    flat = values.take(pa.array(np.nonzero(mask)[1], type=pa.int64()))
    return pa.ListArray.from_arrays(
        pa.array(offsets), flat, mask=None if null is None else pa.array(null)
    )


def users_table(world: World) -> pa.Table:
    u = world.users
    n = len(u["band"])
    uid = ids("u", np.arange(n), _width(n))
    tz_names = [name for name, _, _ in TIMEZONES] + [None]
    countries = [c for _, c, _ in TIMEZONES] + [None]
    known = u["birth_known"]
    return pa.table({
        "user_id": uid,
        "birth_date": pa.array(u["birth_date"], mask=~known, type=pa.date32()),
        "age_assurance": _take(["self_declared", "estimated", "verified"],
                               np.where(known, u["age_assurance"], -1)),
        "timezone": _take(tz_names, u["tz_idx"]),
        "country": _take(countries, np.where(u["country_known"], u["tz_idx"], len(TIMEZONES))),
        "created_at": pa.array(u["created_ms"], type=_TS),
        "personalized": pa.array(np.zeros(n, bool), mask=~u["personalized_off"]),
        "daily_limit_minutes": pa.array(u["daily_limit"], mask=u["daily_limit"] == 0,
                                        type=pa.int32()),
        "quiet_hours": _take(list(_QUIET), u["quiet"]),
        "sensitive_content": _take([None, "standard", "less"], u["sensitive"]),
        "parent_managed": pa.array(u["parent_managed"] == 1, mask=u["parent_managed"] == 0),
    })


def items_table(world: World) -> pa.Table:
    it = world.items
    n, n_users = len(it["creator"]), len(world.users["band"])
    uw = _width(n_users)
    cams = np.stack([it["cam1"], it["cam2"]], 1)
    cam_mask = np.stack([it["has_cameo"], it["two_cameos"]], 1)
    cam_values = ids("u", cams[cam_mask], uw)
    cam_offsets = np.r_[0, np.cumsum(cam_mask.sum(1))].astype(np.int32)
    return pa.table({
        "item_id": ids("v", np.arange(n), _width(n)),
        "creator_id": ids("u", it["creator"], uw),
        "created_at": pa.array(it["created_ms"], type=_TS),
        "duration_ms": pa.array(it["duration_ms"], type=pa.int64()),
        "topics": _lists(it["topics"], pa.array(TOPICS)),
        "maturity": _take(_MATURITY, it["maturity"]),
        "ai_generated": pa.array(it["ai_generated"]),
        "realistic_person": pa.array(it["realistic"]),
        "cameo_subjects": pa.ListArray.from_arrays(pa.array(cam_offsets), cam_values),
        "provenance": pa.array(it["provenance"]),
        "labels": _lists(it["labels"], pa.array(LABELS), it["labels_null"]),
        "status": _take(["active", "removed"], it["status"]),
    })


def consents_table(world: World) -> pa.Table:
    c = world.consents
    return pa.table({
        "subject_id": ids("u", c["subject"], _width(len(world.users["band"]))),
        "ts": pa.array(c["ts_ms"], type=_TS),
        "status": _take(["granted", "revoked"], c["status"]),
        "audience": _take(["everyone", "mutuals", "approved", "only_me"], c["audience"]),
    })


def events_table(world: World, ch: Chunk, first_event: int, first_session: int) -> pa.Table:
    n_users, n_items = len(world.users["band"]), len(world.items["creator"])
    uw = _width(n_users)
    return pa.table({
        "event_id": ids("e", first_event + np.arange(len(ch.user)), 10),
        "user_id": ids("u", ch.user, uw),
        "ts": pa.array(ch.ts_ms, type=_TS),
        "type": _take(_TYPES, ch.type.astype(np.int64)),
        "item_id": ids("v", ch.item, _width(n_items)),
        "target_user_id": ids("u", ch.target, uw),
        "watch_ms": pa.array(ch.watch_ms, mask=ch.watch_ms < 0, type=pa.int64()),
        "session_id": ids("s", np.where(ch.session >= 0, ch.session + first_session, -1), 8),
        "surface": _take(_SURFACES, ch.surface),
    })
