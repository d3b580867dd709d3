"""Rows that arrive one by one (``POST /v1/events``, ``POST /v1/items``): file ingest's checks,
durable at return.

A batch is staged as text, typed and checked with the very SQL expressions file ingest uses
(``features._validate``: the same ``bad_<column>``, ``missing_<column>``, ``unknown_<column>``,
``negative_duration_ms``, ``future_ts`` beyond ``CLOCK_SKEW``, ``bad_ts`` before
``EARLIEST_TS``), then classified like a file load of that table:

- events are history: a new ``event_id`` is stored, an identical re-delivery is a duplicate
  (accepted, stored once), a different row under a stored or earlier ``event_id`` is rejected
  as ``conflicting_event_id``;
- items are entities (latest wins): a new or changed ``item_id`` replaces the stored row, an
  identical re-post is a duplicate, and of several rows for one id in a batch the last wins
  (the earlier ones count as duplicates, as in a file).

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
from features.contract import CONTRACT, TableSpec
from features.errors import DataError
from features.ingest import CLOCK_SKEW

__all__ = ["RowBatchResult", "EventBatchResult", "ROW_TABLES", "ingest_rows",
           "ingest_event_rows"]

# The tables rows may be posted to; the classification of each is written below.
ROW_TABLES = ("events", "items")


@dataclass
class RowBatchResult:
    """What happened to a batch: rows stored by it (typed, for the live state: new events, new
    or changed items), duplicates and rejections."""

    new: list[dict[str, Any]] = field(default_factory=list)
    duplicates: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return len(self.new) + self.duplicates


EventBatchResult = RowBatchResult
"""The name ``POST /v1/events`` used first."""


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


def _check_text(spec: TableSpec, idx: int, row: dict[str, Any]) -> None:
    # A file is bytes and cannot hold a lone surrogate; decoded JSON can, and no store or
    # encoder downstream accepts one. Such a batch is refused whole, as an unreadable file is.
    try:
        json.dumps(row, ensure_ascii=False, default=str).encode()
    except UnicodeEncodeError as exc:
        raise DataError(f"{spec.name.removesuffix('s')} {idx}: text is not valid Unicode (a "
                        f"lone surrogate at position {exc.start})") from None


def _stage_frame(spec: TableSpec, rows: list[Any], result: RowBatchResult) -> pl.DataFrame:
    names = spec.names
    times = {c.name for c in spec.columns if c.sql_type == "TIMESTAMP"}
    data: dict[str, list[Any]] = {c: [] for c in (*names, "_extra", "_row")}
    for idx, row in enumerate(rows):
        if not isinstance(row, dict):
            result.rejected.append({"index": idx, "reason": "not_an_object"})
            continue
        _check_text(spec, idx, row)
        for c in names:
            data[c].append(_text(_epoch(row.get(c)) if c in times else row.get(c)))
        extra = {k: v for k, v in row.items() if k not in names}
        data["_extra"].append(json.dumps(extra, default=str) if extra else None)
        data["_row"].append(idx)
    return pl.DataFrame(data, schema={**{c: pl.String for c in (*names, "_extra")},
                                      "_row": pl.Int64})


def _classify_history(spec: TableSpec) -> str:
    """``_api_checked`` for history (events): the first delivery of a key wins, a different
    row under a stored or earlier key is a conflict."""
    key = spec.key[0]
    return f"""
        WITH c AS (SELECT *, {reason_expr(spec)} AS _reason,
                          {content_hash_expr(spec, '_api_stage')} AS _hash FROM _api_stage),
        w AS (SELECT *, row_number() OVER (PARTITION BY {key} ORDER BY _row) AS _n,
                     first_value(_hash) OVER (PARTITION BY {key} ORDER BY _row) AS _first
              FROM c WHERE _reason IS NULL),
        j AS (SELECT w.*, t._stored FROM w LEFT JOIN (
                  SELECT {key}, {content_hash_expr(spec, 't')} AS _stored FROM {spec.name} t
                  WHERE {key} IN (SELECT {key} FROM w)) t USING ({key}))
        SELECT * EXCLUDE (_n, _first, _stored, _reason, _hash), CASE
            WHEN _n > 1 AND _hash = _first THEN 'duplicate'
            WHEN _n > 1 THEN 'quarantine'
            WHEN _stored IS NULL THEN 'accept'
            WHEN _stored = _hash THEN 'duplicate'
            ELSE 'quarantine' END AS _status,
            CASE WHEN _n > 1 AND _hash <> _first OR _stored IS NOT NULL AND _stored <> _hash
                 THEN 'conflicting_{key}' END AS _reason
        FROM j
        UNION ALL BY NAME
        SELECT * EXCLUDE (_hash), 'quarantine' AS _status FROM c WHERE _reason IS NOT NULL"""


def _classify_entity(spec: TableSpec) -> str:
    """``_api_checked`` for entities (items): the last row of a key in the batch wins; it is
    stored unless the latest stored row is identical (a duplicate)."""
    key = spec.key[0]
    return f"""
        WITH c AS (SELECT *, {reason_expr(spec)} AS _reason,
                          {content_hash_expr(spec, '_api_stage')} AS _hash FROM _api_stage),
        w AS (SELECT *, row_number() OVER (PARTITION BY {key} ORDER BY _row DESC) AS _n
              FROM c WHERE _reason IS NULL),
        j AS (SELECT w.*, t._stored FROM w LEFT JOIN (
                  SELECT {key}, {content_hash_expr(spec, 't')} AS _stored FROM {spec.name} t
                  WHERE {key} IN (SELECT {key} FROM w)
                  QUALIFY row_number() OVER (PARTITION BY {key}
                                             ORDER BY _loaded_at DESC NULLS LAST) = 1
              ) t USING ({key}))
        SELECT * EXCLUDE (_n, _stored, _reason, _hash), CASE
            WHEN _n > 1 OR _stored IS NOT DISTINCT FROM _hash THEN 'duplicate'
            ELSE 'accept' END AS _status,
            CAST(NULL AS VARCHAR) AS _reason
        FROM j
        UNION ALL BY NAME
        SELECT * EXCLUDE (_hash), 'quarantine' AS _status FROM c WHERE _reason IS NOT NULL"""


def ingest_rows(con: duckdb.DuckDBPyConnection, table: str, rows: list[Any],
                now: datetime | None = None, source: str = "api") -> RowBatchResult:
    """Validate ``rows`` against the ``table`` contract and store the valid, new ones.

    Args:
        con: the store (the caller serialises access).
        table: ``events`` (history) or ``items`` (entities, latest wins).
        rows: contract rows as decoded JSON objects (lists as lists, booleans as booleans).
        now: the clock for ``future_ts`` (default: wall clock, UTC).
        source: the ``_source`` recorded on stored rows.

    Returns:
        Stored rows (typed, for the live state), the duplicate count and ``{index, reason}``
        per rejected row, reasons as in the ``quarantine`` table.

    Raises:
        DataError: a row holds text that is not valid Unicode; nothing is written.
        ValueError: ``table`` is not one of ``ROW_TABLES``.
    """
    if table not in ROW_TABLES:
        raise ValueError(f"rows can be posted to {', '.join(ROW_TABLES)}, not {table!r}")
    spec = CONTRACT[table]
    names = spec.names
    result = RowBatchResult()
    frame = _stage_frame(spec, rows, result)
    if frame.height == 0:
        return result
    clock = (now or datetime.now(UTC)).replace(tzinfo=None)
    src = {c: "VARCHAR" for c in names}
    typed = ", ".join(f"{typed_expr(c, 'VARCHAR')} AS {c.name}" for c in spec.columns)
    history = table == "events"
    classify = _classify_history(spec) if history else _classify_entity(spec)
    key = spec.key[0]
    con.register("_api_src", frame)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _api_stage AS
            SELECT {typed}, CAST(s._extra AS JSON) AS extra,
                   {parse_error_expr(spec, src)} AS _parse_error, s._row FROM _api_src s""")
        if table == "events":
            # A missing event_id becomes a stable hash of the row, as in file ingest.
            con.execute("UPDATE _api_stage SET event_id = 'h_' || "
                        f"{content_hash_expr(spec, '_api_stage', skip=('event_id',))} "
                        "WHERE event_id IS NULL")
        params = {"max_ts": clock + CLOCK_SKEW} if "$max_ts" in classify else None
        con.execute(f"CREATE OR REPLACE TEMP TABLE _api_checked AS {classify}", params)
        if not history:
            # Latest wins: a changed entity replaces every stored row under its key.
            con.execute(f"""DELETE FROM {table} WHERE {key} IN
                            (SELECT {key} FROM _api_checked WHERE _status = 'accept')""")
        con.execute(f"""INSERT INTO {table} ({', '.join(names)}, extra, _source, _loaded_at)
            SELECT {', '.join(names)}, extra, $source, $at FROM _api_checked
            WHERE _status = 'accept' ORDER BY _row""", {"at": clock, "source": source})
        # Only stored rows come back typed: a rejected row's value may not fit Python's types.
        vals = ", ".join(f"CASE WHEN _status = 'accept' THEN {c} END" for c in names)
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
            result.new.append(dict(zip(names, vals, strict=True)))
        elif status == "duplicate":
            result.duplicates += 1
        else:
            result.rejected.append({"index": idx, "reason": reason})
    result.rejected.sort(key=lambda r: r["index"])
    return result


def ingest_event_rows(con: duckdb.DuckDBPyConnection, rows: list[Any],
                      now: datetime | None = None, source: str = "api") -> RowBatchResult:
    """``ingest_rows(con, "events", rows, now, source)``: the events contract, history rules."""
    return ingest_rows(con, "events", rows, now, source)
