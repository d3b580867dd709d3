"""Validated, idempotent ingest of a data directory into the DuckDB store.

Every row read is accounted for: ``read = accepted + quarantined + duplicates``. Rows that
break the contract land in ``quarantine`` with a reason; exact re-deliveries are counted as
duplicates and stored once. The whole load is one transaction, so a failure writes nothing.

Each table's files are typed and checked by one projection, the view ``_batch`` (typed
columns, the quarantine reason, file and row number). A Parquet batch is not copied: one
survey pass proves that its valid keys are unique and miss the stored range, and one
``INSERT ... SELECT`` moves it from the files to the table (into an empty table both passes
run at once, on two connections). Text files, likely re-loads and batches whose keys clash
are materialized in ``_checked``; only the rows whose key repeats in the batch or is stored
get a verdict row by row, in the narrow ``_resolved`` table.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from features._readers import SourceFile, find_sources, reader_sql, source_columns
from features._validate import (
    content_hash_expr,
    fast_hash_expr,
    parse_error_expr,
    reason_expr,
    typed_expr,
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


@dataclass
class _Staged:
    """One table's batch: typed and checked rows in ``rel``, a view or a temp table."""

    files: list[SourceFile]
    # Some file has unknown columns, so the batch has an ``extra`` JSON column.
    with_extra: bool
    # ``_batch`` (a view that reads the files) or ``_checked`` (the batch materialized).
    rel: str = "_batch"
    # Rows that break the contract (they carry a ``_reason``).
    bad: int = 0
    # Some valid rows repeat or share a stored key: their verdicts are in ``_resolved``.
    resolved: bool = False
    # The query behind ``_batch`` (a temp view is not visible to a second connection).
    sql: str = ""
    # The accepted rows are already in the table.
    written: bool = False


def _q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _file_select(spec: TableSpec, src: SourceFile, cols: dict[str, str], idx: int,
                 with_extra: bool) -> str:
    known = {c.name for c in spec.columns}
    typed = [f"{typed_expr(c, cols.get(c.name))} AS {c.name}" for c in spec.columns]
    extras = [c for c in cols if c not in known]
    extra = ""
    if with_extra and extras:
        pairs = ", ".join(f"{_q(c)}, s.\"{c.replace(chr(34), chr(34) * 2)}\"" for c in extras)
        extra = f"CAST(json_object({pairs}) AS JSON) AS extra, "
    elif with_extra:
        extra = "CAST(NULL AS JSON) AS extra, "
    # Parquet numbers its rows as it reads; other formats need a window.
    row = "s.file_row_number + 1" if src.fmt == "parquet" else "row_number() OVER ()"
    # The path is not staged per row: the write names it from _file (see _source_sql).
    return (
        f"SELECT {', '.join(typed)}, {extra}{parse_error_expr(spec, cols)} AS _parse_error, "
        f"{idx} AS _file, {row} AS _row FROM {reader_sql(src, row_numbers=True)} s"
    )


def _file_select_empty(spec: TableSpec) -> str:
    typed = ", ".join(f"CAST(NULL AS {c.sql_type}) AS {c.name}" for c in spec.columns)
    return (f"SELECT {typed}, CAST(NULL AS VARCHAR) AS _parse_error, "
            "0 AS _file, CAST(0 AS BIGINT) AS _row LIMIT 0")


def _stage(con: duckdb.DuckDBPyConnection, spec: TableSpec, files: list[SourceFile],
           max_ts: datetime) -> _Staged:
    """Define the view ``_batch``: every file of one table typed, with its quarantine reason.

    Text files are copied into ``_checked`` at once; Parquet is read by each pass instead.
    """
    known = set(spec.names)
    found: list[tuple[int, SourceFile, dict[str, str]]] = []
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
        found.append((i, src, cols))
    # Without unknown columns anywhere, `extra` is a constant NULL at write time, not staged.
    with_extra = any(set(cols) - known for _, _, cols in found)
    selects = [_file_select(spec, src, cols, i, with_extra) for i, src, cols in found]
    union = " UNION ALL BY NAME ".join(selects) if selects else _file_select_empty(spec)
    if spec.name == "events":
        # A missing event_id becomes a stable hash of the row, so re-loads still deduplicate.
        row_hash = content_hash_expr(spec, "s0", skip=("event_id",),
                                     extra=None if with_extra else "NULL")
        union = (f"SELECT * REPLACE (coalesce(event_id, 'h_' || {row_hash}) AS event_id) "
                 f"FROM ({union}) s0")
    _drop(con, "_batch")
    # A view has no parameters: the clock goes in as a literal.
    clock = f"TIMESTAMP '{max_ts.isoformat(sep=' ')}'"
    sql = (f"SELECT * EXCLUDE (_parse_error), {reason_expr(spec, clock)} AS _reason "
           f"FROM ({union}) s1")
    con.execute(f"CREATE TEMP VIEW _batch AS {sql}")
    st = _Staged(files=files, with_extra=with_extra, sql=sql)
    if any(src.fmt != "parquet" for _, src, _ in found):
        # Text formats are parsed once, not once per pass.
        _materialize(con, st)
    return st


def _materialize(con: duckdb.DuckDBPyConnection, st: _Staged) -> None:
    """Copy the batch into the temp table ``_checked`` (for text files, or to resolve clashes)."""
    _drop(con, "_checked")
    con.execute("CREATE TEMP TABLE _checked AS SELECT * FROM _batch")
    st.rel = "_checked"


def _drop(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Drop this load's temp object ``name`` (``_batch`` is a view, the others tables)."""
    con.execute(f"DROP {'VIEW' if name == '_batch' else 'TABLE'} IF EXISTS temp.{name}")


def _survey(con: duckdb.DuckDBPyConnection, spec: TableSpec,
            rel: str) -> tuple[int, bool, object, object, int]:
    """One pass over the batch ``rel``: ``(valid rows, keys may repeat, min key, max key,
    rows breaking the contract)``.

    Keys that rise strictly in batch order cannot repeat; that is proven with ``lag`` in the
    same pass (logs keyed by sequence or time-ordered ids). Only otherwise are the keys
    grouped, in a second pass.
    """
    key, first = ", ".join(spec.key), spec.key[0]
    valid, rising, lo, hi, bad = con.execute(
        f"SELECT count(*) FILTER (WHERE _ok), coalesce(bool_and(_k > _p), true), "
        f"min({first}) FILTER (WHERE _ok), max({first}) FILTER (WHERE _ok), "
        f"count(*) FILTER (WHERE NOT _ok) FROM (SELECT {first}, _reason IS NULL AS _ok, "
        f"({key}) AS _k, lag(({key})) OVER () AS _p FROM {rel})"
    ).fetchall()[0]
    # With contract breaks in between, neighbours are not all valid rows: group instead.
    repeated = valid > 1 and not (rising and not bad)
    if repeated:
        repeated = bool(con.execute(
            f"SELECT {key} FROM {rel} WHERE _reason IS NULL GROUP BY ALL "
            "HAVING count(*) > 1 LIMIT 1").fetchall())
    return int(valid), repeated, lo, hi, int(bad)


def _write_while_surveying(con: duckdb.DuckDBPyConnection, spec: TableSpec, st: _Staged,
                           loaded_at: datetime) -> tuple[int, bool, object, object]:
    """Into an empty table: write the whole batch while a second connection surveys it.

    The two passes over the files run on two cores. If the survey finds a contract break or
    a repeated key, the rows just written (the only ones this transaction sees) are deleted
    and the batch goes the careful way; a first load of messy data pays the write twice.
    """
    cur = con.cursor()
    # Text times without an offset are read in the session time zone: use the same one.
    tz = con.execute("SELECT current_setting('TimeZone')").fetchall()[0][0]
    cur.execute(f"SET TimeZone = {_q(tz)}")
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            survey = pool.submit(_survey, cur, spec, f"({st.sql})")
            try:
                _write(con, spec, st, loaded_at)
            finally:
                valid, repeated, lo, hi, st.bad = survey.result()
    finally:
        cur.close()
    st.written = not (repeated or st.bad)
    if not st.written:
        con.execute(f"DELETE FROM {spec.name}")
    return valid, repeated, lo, hi


def _in_range(con: duckdb.DuckDBPyConnection, spec: TableSpec, lo: object, hi: object) -> bool:
    """Whether any stored row has a key in the batch's range (zone maps make this cheap)."""
    return lo is not None and bool(con.execute(
        f"SELECT 1 FROM {spec.name} WHERE {spec.key[0]} BETWEEN $lo AND $hi LIMIT 1",
        {"lo": lo, "hi": hi}).fetchall())


def _likely_reload(con: duckdb.DuckDBPyConnection, spec: TableSpec, st: _Staged) -> bool:
    """Whether the batch's first valid key is already stored: then skip straight to resolving."""
    key = ", ".join(spec.key)
    return bool(con.execute(
        f"SELECT 1 FROM {spec.name} WHERE ({key}) IN (SELECT ({key}) FROM {st.rel} "
        f"WHERE _reason IS NULL LIMIT 1)").fetchall())


def _find_clashes(con: duckdb.DuckDBPyConnection, spec: TableSpec, repeated: bool,
                  lo: object, hi: object) -> tuple[int, int]:
    """Fill ``_rep`` (keys repeated in ``_checked``) and ``_old`` (stored rows sharing a key).

    ``_old`` holds only key and content hash; stored row groups outside the batch's key range
    are skipped by their zone maps.
    """
    key, first = ", ".join(spec.key), spec.key[0]
    valid = "FROM _checked WHERE _reason IS NULL"
    having = "HAVING count(*) > 1" if repeated else "LIMIT 0"
    con.execute(f"CREATE TEMP TABLE _rep AS SELECT {key} {valid} GROUP BY ALL {having}")
    con.execute(
        f"CREATE TEMP TABLE _old AS SELECT {key}, {fast_hash_expr(spec, 't')} AS _shash "
        f"FROM {spec.name} t WHERE {first} BETWEEN $lo AND $hi "
        f"AND ({key}) IN (SELECT ({key}) {valid})", {"lo": lo, "hi": hi})
    (rep,), (old,) = (con.execute(f"SELECT count(*) FROM {t}").fetchall()[0]
                      for t in ("_rep", "_old"))
    return int(rep), int(old)


def _classify(con: duckdb.DuckDBPyConnection, spec: TableSpec, st: _Staged,
              rep: TableReport, loaded_at: datetime) -> None:
    """Decide accept | duplicate | quarantine for every row of the batch; count them in ``rep``.

    Most batches are new rows: each valid key is seen once and no stored key falls in the
    batch's key range. One aggregate pass proves it, and the rows go from the files to the
    table in one ``INSERT``. Otherwise the batch is materialized and only the rows whose key
    repeats or is stored get a verdict, in the narrow ``_resolved`` (file, row, key, status,
    reason).
    """
    for t in ("_rep", "_old", "_resolved"):
        _drop(con, t)
    stored_any = bool(con.execute(f"SELECT 1 FROM {spec.name} LIMIT 1").fetchall())
    if st.rel == "_batch" and not stored_any:
        valid, repeated, lo, hi = _write_while_surveying(con, spec, st, loaded_at)
    else:
        if st.rel == "_batch" and _likely_reload(con, spec, st):
            _materialize(con, st)
        valid, repeated, lo, hi, st.bad = _survey(con, spec, st.rel)
    in_range = stored_any and _in_range(con, spec, lo, hi)
    reasons: dict[str, int] = {}
    if st.bad:
        reasons = {r: int(n) for r, n in con.execute(
            f"SELECT _reason, count(*) FROM {st.rel} WHERE _reason IS NOT NULL GROUP BY ALL"
        ).fetchall()}
    if repeated or in_range:
        if st.rel == "_batch":
            _materialize(con, st)
        n_rep, n_old = _find_clashes(con, spec, repeated, lo, hi)
        if n_rep or n_old:
            _resolve(con, spec, st, n_rep > 0)
            st.resolved = True
            for status, reason, n in con.execute(
                "SELECT _status, _reason, count(*) FROM _resolved WHERE _status <> 'accept' "
                "GROUP BY ALL"
            ).fetchall():
                if status == "duplicate":
                    rep.duplicates += int(n)
                else:
                    reasons[reason] = reasons.get(reason, 0) + int(n)
                valid -= int(n)
    rep.accepted = valid
    rep.quarantined = sum(reasons.values())
    rep.quarantine_reasons = dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])))
    rep.read = rep.accepted + rep.duplicates + rep.quarantined


def _resolve(con: duckdb.DuckDBPyConnection, spec: TableSpec, st: _Staged,
             repeated: bool) -> None:
    """Build ``_resolved``: the valid rows whose key repeats in the batch or is stored."""
    key = ", ".join(spec.key)
    history = spec.name in _HISTORY
    row_hash = fast_hash_expr(spec, "c", None if st.with_extra else "CAST(NULL AS VARCHAR)")
    conflict = f"conflicting_{'_'.join(spec.key)}"
    # A changed stored row is a conflict for history and an update for entities.
    changed = "'quarantine'" if history else "'accept'"
    if not repeated:
        # Only stored keys (a re-load): one join of the batch with their hashes, no window.
        con.execute(f"""
            CREATE TEMP TABLE _resolved AS
            SELECT c._file, c._row, {', '.join('c.' + k for k in spec.key)}, true AS _stored,
                CASE WHEN o._shash = {row_hash} THEN 'duplicate' ELSE {changed} END AS _status,
                CASE WHEN o._shash <> {row_hash} AND {str(history).upper()}
                     THEN '{conflict}' END AS _reason
            FROM _checked c JOIN _old o USING ({key}) WHERE c._reason IS NULL
        """)
        return
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
        CREATE TEMP TABLE _resolved AS
        WITH v AS (
            SELECT c._file, c._row, {', '.join('c.' + k for k in spec.key)}, {row_hash} AS _hash
            FROM _checked c
            WHERE c._reason IS NULL AND (({key}) IN (SELECT ({key}) FROM _rep)
                                         OR ({key}) IN (SELECT ({key}) FROM _old))
        ),
        w AS (
            SELECT v.*, 'accept' AS _within FROM v ANTI JOIN _rep USING ({key})
            UNION ALL
            SELECT v.*, {within} AS _within FROM v SEMI JOIN _rep USING ({key})
        ),
        j AS (SELECT w.*, o._shash FROM w LEFT JOIN _old o USING ({key}))
        SELECT _file, _row, {key}, _shash IS NOT NULL AS _stored,
            CASE
                WHEN _within = 'duplicate' THEN 'duplicate'
                WHEN _within = 'conflict' THEN 'quarantine'
                WHEN _shash IS NULL THEN 'accept'
                WHEN _shash = _hash THEN 'duplicate'
                ELSE {changed}
            END AS _status,
            CASE WHEN _within = 'conflict' OR (_within = 'accept' AND _shash <> _hash
                                               AND {str(history).upper()})
                 THEN '{conflict}' END AS _reason
        FROM j
    """)


def _source_sql(files: list[SourceFile]) -> str:
    """The ``_source`` of a staged row, from its ``_file`` index (a constant for one file)."""
    paths = [_q(str(f.path)) for f in files]
    return paths[0] if len(paths) == 1 else f"[{', '.join(paths)}][_file + 1]"


def _write(con: duckdb.DuckDBPyConnection, spec: TableSpec, st: _Staged,
           loaded_at: datetime) -> None:
    """One ``INSERT ... SELECT`` of the accepted rows (and, for entities, the replaced ones out)."""
    cols = ", ".join(f"c.{n}" for n in spec.names)
    # Without contract breaks the filter is left out: it would type every row a second time.
    accepted = f"FROM {st.rel} c" + (" WHERE c._reason IS NULL" if st.bad else "")
    if st.resolved:
        accepted = (f"FROM {st.rel} c ANTI JOIN (SELECT _file, _row FROM _resolved "
                    "WHERE _status <> 'accept') r USING (_file, _row) WHERE c._reason IS NULL")
        if spec.name not in _HISTORY:
            on = " AND ".join(f"{spec.name}.{k} = a.{k}" for k in spec.key)
            con.execute(f"DELETE FROM {spec.name} USING (SELECT {', '.join(spec.key)} "
                        f"FROM _resolved WHERE _status = 'accept' AND _stored) a WHERE {on}")
    extra = "c.extra" if st.with_extra else "CAST(NULL AS JSON)"
    con.execute(
        f"INSERT INTO {spec.name} ({', '.join(spec.names)}, extra, _source, _loaded_at) "
        f"SELECT {cols}, {extra}, {_source_sql(st.files)}, $at {accepted}",
        {"at": loaded_at},
    )


def _quarantine(con: duckdb.DuckDBPyConnection, spec: TableSpec, st: _Staged,
                loaded_at: datetime) -> None:
    """Store each quarantined row as read, once: re-loading the same bad file adds nothing."""
    bad = f"SELECT _file, _row, _reason FROM {st.rel} WHERE _reason IS NOT NULL"
    if st.resolved:
        bad += " UNION ALL SELECT _file, _row, _reason FROM _resolved WHERE _status = 'quarantine'"
    for (idx,) in con.execute(f"SELECT DISTINCT _file FROM ({bad})").fetchall():
        src = st.files[idx]
        source = _q(str(src.path))
        if src.fmt == "parquet":
            read = (f"(SELECT s AS rec, file_row_number + 1 AS _qrow "
                    f"FROM {reader_sql(src, row_numbers=True)} s)")
        else:
            read = f"(SELECT s AS rec, row_number() OVER () AS _qrow FROM {reader_sql(src)} s)"
        con.execute(f"""
            INSERT INTO quarantine
            SELECT '{spec.name}', {source}, q._row, q._reason, CAST(to_json(r.rec) AS JSON), $at
            FROM ({bad}) q JOIN {read} r ON r._qrow = q._row
            WHERE q._file = {idx} AND NOT EXISTS (
                SELECT 1 FROM quarantine x WHERE x.table_name = '{spec.name}'
                  AND x.source = {source} AND x.row_number = q._row AND x.reason = q._reason)
        """, {"at": loaded_at})


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
            reports[name] = rep = TableReport(files=[str(f.path) for f in files])
            try:
                staged = _stage(con, spec, files, clock + CLOCK_SKEW)
                _classify(con, spec, staged, rep, loaded_at)
                if not staged.written:
                    _write(con, spec, staged, loaded_at)
                if rep.quarantined:
                    _quarantine(con, spec, staged, loaded_at)
            except duckdb.Error as exc:
                raise DataError(
                    f"cannot read table '{name}': {str(exc).splitlines()[0]}") from exc
            con.execute(
                "INSERT INTO ingest_log VALUES (?, ?, ?, ?, ?, ?, ?)",
                [loaded_at, name, str(root), rep.read, rep.accepted, rep.quarantined,
                 rep.duplicates],
            )
            if progress:
                progress(name, i + 1, len(plan))
        for t in ("_resolved", "_old", "_rep", "_checked", "_batch"):
            _drop(con, t)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return reports
