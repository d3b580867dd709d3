"""Validated, idempotent ingest of a data directory into the DuckDB store.

Every row read is accounted for: ``read = accepted + quarantined + duplicates``. Rows that
break the contract land in ``quarantine`` with a reason; exact re-deliveries are counted as
duplicates and stored once. The whole load is one transaction, so a failure writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from features._readers import SourceFile, find_sources, reader_sql, source_columns
from features._validate import (
    content_hash_expr, fast_hash_expr, parse_error_expr, reason_expr, typed_expr,
)
from features.contract import CONTRACT, TableSpec
from features.errors import DataError
from features.store import ensure_schema

__all__ = ["TableReport", "ingest_dir", "CLOCK_SKEW"]

# Events stamped a little ahead of our clock are tolerated; beyond this they are quarantined.
CLOCK_SKEW = timedelta(minutes=5)
# Contract tables whose rows are history (append, conflicts quarantined) vs. entities (upsert).
_HISTORY = ("events", "consents")


@dataclass
class TableReport:
    """What one table's load did; ``read == accepted + quarantined + duplicates``."""

    read: int = 0
    accepted: int = 0
    quarantined: int = 0
    duplicates: int = 0
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "read": self.read, "accepted": self.accepted, "quarantined": self.quarantined,
            "duplicates": self.duplicates, "quarantine_reasons": dict(self.quarantine_reasons),
            "files": list(self.files),
        }


def _file_select(spec: TableSpec, src: SourceFile, cols: dict[str, str], idx: int) -> str:
    known = {c.name for c in spec.columns}
    typed = [f"{typed_expr(c, cols.get(c.name))} AS {c.name}" for c in spec.columns]
    extras = [c for c in cols if c not in known]
    if extras:
        pairs = ", ".join(f"'{c.replace(chr(39), chr(39) * 2)}', s.\"{c}\"" for c in extras)
        extra = f"CAST(json_object({pairs}) AS JSON)"
    else:
        extra = "CAST(NULL AS JSON)"
    source = str(src.path).replace("'", "''")
    # Parquet numbers its rows as it reads (parallel); other formats need a window.
    row = ("s.file_row_number + 1" if src.fmt == "parquet" else "row_number() OVER ()")
    return (
        f"SELECT {', '.join(typed)}, {extra} AS extra, "
        f"{parse_error_expr(spec, cols)} AS _parse_error, '{source}' AS _source, "
        f"{idx} AS _file, {row} AS _row FROM {reader_sql(src, row_numbers=True)} s"
    )


def _stage(con: duckdb.DuckDBPyConnection, spec: TableSpec, files: list[SourceFile],
           max_ts: datetime) -> None:
    """Type every file of one table into ``_checked`` with a reason and a content hash."""
    selects = []
    for i, src in enumerate(files):
        cols = source_columns(con, src)
        if not cols:
            continue
        missing = [c for c in spec.required_columns if c not in cols]
        if missing:
            raise DataError(
                f"{src.path}: missing required column {', '.join(repr(m) for m in missing)} "
                f"for table '{spec.name}' (found: {', '.join(cols)})"
            )
        selects.append(_file_select(spec, src, cols, i))
    union = " UNION ALL BY NAME ".join(selects) if selects else _file_select_empty(spec)
    if spec.name == "events":
        # A missing event_id becomes a stable hash of the row, so re-loads still deduplicate.
        union = (f"SELECT * REPLACE (coalesce(event_id, 'h_' || "
                 f"{content_hash_expr(spec, 's0', skip=('event_id',))}) AS event_id) "
                 f"FROM ({union}) s0")
    _drop(con, "_checked")
    try:
        con.execute(
            f"CREATE TEMP TABLE _checked AS SELECT *, {reason_expr(spec)} AS _reason "
            f"FROM ({union}) s1",
            {"max_ts": max_ts} if spec.name in ("events", "users", "consents") else None,
        )
    except duckdb.Error as exc:
        raise DataError(f"cannot read table '{spec.name}': {str(exc).splitlines()[0]}") from exc


def _file_select_empty(spec: TableSpec) -> str:
    typed = ", ".join(f"CAST(NULL AS {c.sql_type}) AS {c.name}" for c in spec.columns)
    return (f"SELECT {typed}, CAST(NULL AS JSON) AS extra, CAST(NULL AS VARCHAR) AS _parse_error, "
            "'' AS _source, 0 AS _file, CAST(0 AS BIGINT) AS _row LIMIT 0")


def _drop(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Drop a temp table or view of that name, whichever it is."""
    kind = con.execute(
        "SELECT 'VIEW' FROM duckdb_views() WHERE view_name = ? AND temporary "
        "UNION ALL SELECT 'TABLE' FROM duckdb_tables() WHERE table_name = ? AND temporary",
        [name, name]).fetchall()
    for (k,) in kind:
        con.execute(f"DROP {k} {name}")


def _classify(con: duckdb.DuckDBPyConnection, spec: TableSpec) -> None:
    """Build ``_classified``: each checked row with ``_status`` accept | duplicate | quarantine.

    Most rows have a key seen once in the batch and never before: they are accepted without
    any window. Only keys repeated in the batch or already stored are resolved row by row.
    """
    key = ", ".join(spec.key)
    history = spec.name in _HISTORY
    _drop(con, "_classified")
    repeated = con.execute(
        f"SELECT count(*) FROM (SELECT {key} FROM _checked WHERE _reason IS NULL "
        f"GROUP BY {key} HAVING count(*) > 1)").fetchall()[0][0]
    stored = con.execute(
        f"SELECT count(*) FROM {spec.name} WHERE ({key}) IN "
        f"(SELECT ({key}) FROM _checked WHERE _reason IS NULL)").fetchall()[0][0]
    if not repeated and not stored:
        # The common case, a batch of new rows: nothing to resolve, nothing to copy.
        con.execute("CREATE TEMP VIEW _classified AS SELECT *, CASE WHEN _reason IS NULL "
                    "THEN 'accept' ELSE 'quarantine' END AS _status FROM _checked")
        return
    stored_hash = fast_hash_expr(spec, "t")
    conflict = f"conflicting_{'_'.join(spec.key)}"
    if history:
        # History: the first delivery of a key wins; an identical re-delivery is a duplicate,
        # a different one under the same key is a conflict and is quarantined.
        order = f"PARTITION BY {key} ORDER BY _file, _row"
        within = (f"CASE WHEN row_number() OVER ({order}) = 1 THEN 'accept' "
                  f"WHEN _hash = first_value(_hash) OVER ({order}) THEN 'duplicate' "
                  "ELSE 'conflict' END")
    else:
        # Entities: the last delivery of a key wins (latest wins); earlier ones are superseded.
        order = f"PARTITION BY {key} ORDER BY _file DESC, _row DESC"
        within = f"CASE WHEN row_number() OVER ({order}) = 1 THEN 'accept' ELSE 'duplicate' END"
    con.execute(f"""
        CREATE TEMP TABLE _classified AS
        WITH v AS (SELECT *, {fast_hash_expr(spec, "_checked")} AS _hash
                   FROM _checked WHERE _reason IS NULL),
        rep AS (SELECT {key} FROM v GROUP BY {key} HAVING count(*) > 1),
        old AS (
            SELECT {key}, {stored_hash} AS _stored_hash FROM {spec.name} t
            WHERE ({key}) IN (SELECT ({key}) FROM v)
        ),
        once AS (
            SELECT v.*, 'accept' AS _within FROM v ANTI JOIN rep USING ({key})
        ),
        many AS (
            SELECT v.*, {within} AS _within FROM v SEMI JOIN rep USING ({key})
        ),
        j AS (
            SELECT c.*, o._stored_hash
            FROM (SELECT * FROM once UNION ALL SELECT * FROM many) c LEFT JOIN old o USING ({key})
        )
        SELECT * EXCLUDE (_within, _stored_hash, _reason, _hash),
            CASE WHEN _within = 'conflict' OR (_within = 'accept' AND _stored_hash IS NOT NULL
                      AND _stored_hash <> _hash AND {str(history).upper()})
                 THEN '{conflict}' END AS _reason,
            CASE
                WHEN _within = 'duplicate' THEN 'duplicate'
                WHEN _within = 'conflict' THEN 'quarantine'
                WHEN _stored_hash IS NULL THEN 'accept'
                WHEN _stored_hash = _hash THEN 'duplicate'
                WHEN {str(history).upper()} THEN 'quarantine'
                ELSE 'accept'
            END AS _status
        FROM j
        UNION ALL BY NAME
        SELECT *, 'quarantine' AS _status FROM _checked WHERE _reason IS NOT NULL
    """)


def _write(con: duckdb.DuckDBPyConnection, spec: TableSpec, loaded_at: datetime) -> None:
    cols = ", ".join(spec.names + ["extra", "_source"])
    accepted = "FROM _classified WHERE _status = 'accept'"
    if spec.name not in _HISTORY:
        on = " AND ".join(f"{spec.name}.{k} = a.{k}" for k in spec.key)
        con.execute(f"DELETE FROM {spec.name} USING (SELECT {', '.join(spec.key)} {accepted}) a "
                    f"WHERE {on}")
    con.execute(
        f"INSERT INTO {spec.name} ({cols}, _loaded_at) SELECT {cols}, $at {accepted}",
        {"at": loaded_at},
    )


def _quarantine(con: duckdb.DuckDBPyConnection, spec: TableSpec, files: list[SourceFile],
                loaded_at: datetime) -> None:
    """Store each quarantined row as read, once: re-loading the same bad file adds nothing."""
    bad = con.execute(
        "SELECT DISTINCT _file FROM _classified WHERE _status = 'quarantine'"
    ).fetchall()
    for (idx,) in bad:
        src = files[idx]
        con.execute(f"""
            INSERT INTO quarantine
            SELECT '{spec.name}', q._source, q._row, q._reason, CAST(to_json(r.rec) AS JSON), $at
            FROM _classified q
            JOIN (SELECT s AS rec, row_number() OVER () AS _qrow
                  FROM {reader_sql(src)} s) r ON r._qrow = q._row
            WHERE q._status = 'quarantine' AND q._file = {idx}
              AND NOT EXISTS (
                SELECT 1 FROM quarantine x WHERE x.table_name = '{spec.name}'
                  AND x.source = q._source AND x.row_number = q._row AND x.reason = q._reason)
        """, {"at": loaded_at})


def _report(con: duckdb.DuckDBPyConnection, files: list[SourceFile]) -> TableReport:
    rep = TableReport(files=[str(f.path) for f in files])
    for status, n in con.execute(
        "SELECT _status, count(*) FROM _classified GROUP BY 1"
    ).fetchall():
        setattr(rep, {"accept": "accepted", "duplicate": "duplicates",
                      "quarantine": "quarantined"}[status], int(n))
    rep.read = rep.accepted + rep.duplicates + rep.quarantined
    rows = con.execute(
        "SELECT _reason, count(*) FROM _classified WHERE _status = 'quarantine' "
        "GROUP BY 1 ORDER BY 2 DESC, 1"
    ).fetchall()
    rep.quarantine_reasons = {r: int(n) for r, n in rows}
    return rep


def ingest_dir(
    con: duckdb.DuckDBPyConnection,
    data_dir: str | Path,
    now: datetime | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, TableReport]:
    """Load every contract table found in ``data_dir`` into the store.

    Args:
        con: an open store connection.
        data_dir: folder holding ``users``, ``items``, ``events``, ``consents`` as
            ``NAME.parquet|csv|jsonl`` or a folder ``NAME/`` of such files.
        now: the clock used to reject future times (default: the wall clock, UTC).
        progress: optional callback ``(table, done, total)`` after each table.

    Returns:
        A report per table found; tables with no file are left out.

    Raises:
        DataError: the folder is missing or holds no contract table, a file cannot be read,
            or a required column is missing. Nothing is written in that case.
    """
    root = Path(data_dir)
    if not root.is_dir():
        raise DataError(f"data directory not found: {root} (expected a folder with "
                        "users/items/events/consents as .parquet, .csv or .jsonl)")
    plan = {name: find_sources(root, name) for name in CONTRACT}
    plan = {name: files for name, files in plan.items() if files}
    if not plan:
        raise DataError(f"no contract table in {root}: expected files named users, items, "
                        "events or consents (.parquet, .csv, .jsonl) or folders of them")
    clock = (now or datetime.now(UTC)).replace(tzinfo=None)
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    ensure_schema(con)
    reports: dict[str, TableReport] = {}
    con.execute("BEGIN TRANSACTION")
    try:
        for i, (name, files) in enumerate(plan.items()):
            spec = CONTRACT[name]
            _stage(con, spec, files, clock + CLOCK_SKEW)
            _classify(con, spec)
            _write(con, spec, loaded_at)
            _quarantine(con, spec, files, loaded_at)
            reports[name] = rep = _report(con, files)
            con.execute(
                "INSERT INTO ingest_log VALUES (?, ?, ?, ?, ?, ?, ?)",
                [loaded_at, name, str(root), rep.read, rep.accepted, rep.quarantined,
                 rep.duplicates],
            )
            if progress:
                progress(name, i + 1, len(plan))
        _drop(con, "_classified")
        _drop(con, "_checked")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return reports
