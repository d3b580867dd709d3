"""Rows that arrive one by one (``POST /v1/events``): file ingest's checks, durable at return.

A batch is staged as text, typed and checked with the very SQL expressions file ingest uses
(``features._validate``: the same ``bad_<column>``, ``missing_<column>``, ``future_ts`` beyond
``CLOCK_SKEW``, ``bad_ts`` before ``EARLIEST_TS``), then classified like a file load: a new
``event_id`` is stored, an identical re-delivery is a duplicate (accepted, stored once), a
different row under a stored or earlier ``event_id`` is rejected as ``conflicting_event_id``.
The insert is one transaction: a batch that fails writes nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import duckdb
import polars as pl

from features._validate import content_hash_expr, parse_error_expr, reason_expr, typed_expr
from features.contract import CONTRACT
from features.errors import DataError
from features.ingest import CLOCK_SKEW

__all__ = ["EventBatchResult", "ingest_event_rows"]

_SPEC = CONTRACT["events"]
_NAMES = _SPEC.names


@dataclass
class EventBatchResult:
    """What happened to a batch: new rows (for the live state), duplicates and rejections."""

    new: list[dict[str, Any]] = field(default_factory=list)
    duplicates: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return len(self.new) + self.duplicates


def _text(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (dict, list)):
        return json.dumps(v)
    return str(v).replace("\x00", "")


def _epoch(v: Any) -> Any:
    # JSON numbers are epoch seconds, or milliseconds when too large for seconds (as ingest).
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        try:
            secs = v if abs(v) < 100_000_000_000 else v / 1000.0
            return datetime.fromtimestamp(secs, UTC).replace(tzinfo=None).isoformat()
        except (OverflowError, OSError, ValueError):
            return "bad"
    return v


def _check_text(idx: int, row: dict[str, Any]) -> None:
    # A file is bytes and cannot hold a lone surrogate; decoded JSON can, and no store or
    # encoder downstream accepts one. Such a batch is refused whole, as an unreadable file is.
    try:
        json.dumps(row, ensure_ascii=False, default=str).encode()
    except UnicodeEncodeError as exc:
        raise DataError(f"event {idx}: text is not valid Unicode (a lone surrogate at "
                        f"position {exc.start})") from None


def _stage_frame(rows: list[Any], result: EventBatchResult) -> pl.DataFrame:
    data: dict[str, list[Any]] = {c: [] for c in (*_NAMES, "_extra", "_row")}
    for idx, row in enumerate(rows):
        if not isinstance(row, dict):
            result.rejected.append({"index": idx, "reason": "not_an_object"})
            continue
        _check_text(idx, row)
        for c in _NAMES:
            data[c].append(_text(_epoch(row.get(c)) if c == "ts" else row.get(c)))
        extra = {k: v for k, v in row.items() if k not in _NAMES}
        data["_extra"].append(json.dumps(extra, default=str) if extra else None)
        data["_row"].append(idx)
    return pl.DataFrame(data, schema={**{c: pl.String for c in (*_NAMES, "_extra")},
                                      "_row": pl.Int64})


def ingest_event_rows(con: duckdb.DuckDBPyConnection, rows: list[Any],
                      now: datetime | None = None, source: str = "api") -> EventBatchResult:
    """Validate ``rows`` against the events contract and store the valid, new ones.

    Args:
        con: the store (the caller serialises access).
        rows: events-contract rows as decoded JSON objects.
        now: the clock for ``future_ts`` (default: wall clock, UTC).
        source: the ``_source`` recorded on stored rows.

    Returns:
        New rows (typed, for the live state), the duplicate count and ``{index, reason}`` per
        rejected row, reasons as in the ``quarantine`` table.

    Raises:
        DataError: a row holds text that is not valid Unicode; nothing is written.
    """
    result = EventBatchResult()
    frame = _stage_frame(rows, result)
    if frame.height == 0:
        return result
    clock = (now or datetime.now(UTC)).replace(tzinfo=None)
    src = {c: "VARCHAR" for c in _NAMES}
    typed = ", ".join(f"{typed_expr(c, 'VARCHAR')} AS {c.name}" for c in _SPEC.columns)
    con.register("_api_src", frame)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _api_stage AS
            SELECT {typed}, CAST(s._extra AS JSON) AS extra,
                   {parse_error_expr(_SPEC, src)} AS _parse_error, s._row FROM _api_src s""")
        con.execute("UPDATE _api_stage SET event_id = 'h_' || "
                    f"{content_hash_expr(_SPEC, '_api_stage', skip=('event_id',))} "
                    "WHERE event_id IS NULL")
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _api_checked AS
            WITH c AS (SELECT *, {reason_expr(_SPEC)} AS _reason,
                              {content_hash_expr(_SPEC, '_api_stage')} AS _hash FROM _api_stage),
            w AS (SELECT *, row_number() OVER (PARTITION BY event_id ORDER BY _row) AS _n,
                         first_value(_hash) OVER (PARTITION BY event_id ORDER BY _row) AS _first
                  FROM c WHERE _reason IS NULL),
            j AS (SELECT w.*, CASE WHEN t.user_id IS NULL THEN NULL
                                   ELSE {content_hash_expr(_SPEC, 't')} END AS _stored
                  FROM w LEFT JOIN (SELECT * FROM events WHERE event_id IN
                                    (SELECT event_id FROM w)) t ON t.event_id = w.event_id)
            SELECT * EXCLUDE (_n, _first, _stored, _reason, _hash), CASE
                WHEN _n > 1 AND _hash = _first THEN 'duplicate'
                WHEN _n > 1 THEN 'quarantine'
                WHEN _stored IS NULL THEN 'accept'
                WHEN _stored = _hash THEN 'duplicate'
                ELSE 'quarantine' END AS _status,
                CASE WHEN _n > 1 AND _hash <> _first OR _stored IS NOT NULL AND _stored <> _hash
                     THEN 'conflicting_event_id' END AS _reason
            FROM j
            UNION ALL BY NAME
            SELECT * EXCLUDE (_hash), 'quarantine' AS _status FROM c WHERE _reason IS NOT NULL
        """, {"max_ts": clock + CLOCK_SKEW})
        con.execute(f"""INSERT INTO events ({', '.join(_NAMES)}, extra, _source, _loaded_at)
            SELECT {', '.join(_NAMES)}, extra, $source, $at FROM _api_checked
            WHERE _status = 'accept' ORDER BY _row""", {"at": clock, "source": source})
        # Only stored rows come back typed: a rejected row's value may not fit Python's types.
        vals = ", ".join(f"CASE WHEN _status = 'accept' THEN {c} END" for c in _NAMES)
        out = con.execute(f"""SELECT _row, _status, _reason, {vals}
                              FROM _api_checked ORDER BY _row""").fetchall()
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.unregister("_api_src")
    for idx, status, reason, *vals in out:
        if status == "accept":
            result.new.append(dict(zip(_NAMES, vals, strict=True)))
        elif status == "duplicate":
            result.duplicates += 1
        else:
            result.rejected.append({"index": idx, "reason": reason})
    result.rejected.sort(key=lambda r: r["index"])
    return result
