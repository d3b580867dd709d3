"""SQL expressions that type one source column into its contract column and name what broke."""

from __future__ import annotations

from features.contract import EARLIEST_TS, Column, TableSpec

__all__ = ["typed_expr", "parse_error_expr", "reason_expr", "content_hash_expr", "fast_hash_expr"]

_INT_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
              "UINTEGER", "UBIGINT")


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def typed_expr(col: Column, src_type: str | None) -> str:
    """Cast source column ``col.name`` (of DuckDB type ``src_type``) to the contract type.

    A value that cannot be read becomes NULL here; ``parse_error_expr`` flags it.
    """
    if src_type is None:
        return f"CAST(NULL AS {col.sql_type})"
    s = f"s.{_ident(col.name)}"
    t = col.sql_type
    st = src_type.upper()
    if t == "VARCHAR":
        e = f"NULLIF(trim(CAST({s} AS VARCHAR)), '')"
        return f"lower({e})" if col.accepted else e
    if t == "TIMESTAMP":
        if st.startswith("TIMESTAMP WITH TIME ZONE"):
            return f"({s} AT TIME ZONE 'UTC')"
        if st.startswith("TIMESTAMP") or st == "DATE":
            return f"CAST({s} AS TIMESTAMP)"
        if st in _INT_TYPES or st in ("DOUBLE", "FLOAT"):
            # Epoch seconds, or milliseconds when the number is too large for seconds.
            return (f"(to_timestamp(CASE WHEN abs({s}) < 100000000000 THEN {s} "
                    f"ELSE {s} / 1000.0 END) AT TIME ZONE 'UTC')")
        text = f"NULLIF(trim(CAST({s} AS VARCHAR)), '')"
        return f"(TRY_CAST({text} AS TIMESTAMPTZ) AT TIME ZONE 'UTC')"
    if t == "DATE":
        if st.startswith("TIMESTAMP") or st == "DATE":
            return f"CAST({s} AS DATE)"
        return f"TRY_CAST(NULLIF(trim(CAST({s} AS VARCHAR)), '') AS DATE)"
    if t in ("BIGINT", "INTEGER"):
        if st in _INT_TYPES:
            return f"TRY_CAST({s} AS {t})"
        return f"TRY_CAST(round(TRY_CAST(NULLIF(trim(CAST({s} AS VARCHAR)), '') AS DOUBLE)) AS {t})"
    if t == "BOOLEAN":
        if st == "BOOLEAN":
            return s
        return f"TRY_CAST(lower(NULLIF(trim(CAST({s} AS VARCHAR)), '')) AS BOOLEAN)"
    if col.is_list:
        if st.endswith("[]"):
            return f"list_transform({s}, lambda v: CAST(v AS VARCHAR))"
        v = f"trim(CAST({s} AS VARCHAR))"
        # CSV lists are '|'-separated; '[]' is an explicit empty list, an empty cell is NULL
        # and a quoted "" an empty list.
        return (
            f"CASE WHEN {s} IS NULL THEN NULL WHEN {v} IN ('', '[]') THEN CAST([] AS VARCHAR[]) "
            f"WHEN starts_with({v}, '[') "
            f"THEN TRY_CAST(from_json({v}, '[\"VARCHAR\"]') AS VARCHAR[]) "
            f"ELSE list_filter(list_transform(string_split({v}, '|'), lambda x: trim(x)), "
            f"lambda x: x <> '') END"
        )
    return f"TRY_CAST({s} AS {t})"


def _cannot_fail(col: Column, src_type: str) -> bool:
    """True when ``typed_expr`` of a present value of this source type is never NULL."""
    st = src_type.upper()
    t = col.sql_type
    if t in ("TIMESTAMP", "DATE"):
        return st.startswith("TIMESTAMP") or st == "DATE"
    if t == "BIGINT":
        return st in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT",
                      "UINTEGER")
    if t == "INTEGER":
        return st in ("TINYINT", "SMALLINT", "INTEGER", "UTINYINT", "USMALLINT")
    if t == "BOOLEAN":
        return st == "BOOLEAN"
    return col.is_list and st.endswith("[]")


def parse_error_expr(spec: TableSpec, src_types: dict[str, str]) -> str:
    """First column whose value is present but unreadable, as ``bad_<column>``, else NULL."""
    checks = []
    for col in spec.columns:
        st = src_types.get(col.name)
        if st is None or col.sql_type == "VARCHAR" or _cannot_fail(col, st):
            continue
        checks.append(
            f"WHEN s.{_ident(col.name)} IS NOT NULL AND "
            f"NULLIF(trim(CAST(s.{_ident(col.name)} AS VARCHAR)), '') IS NOT NULL AND "
            f"({typed_expr(col, st)}) IS NULL THEN 'bad_{col.name}'"
        )
    return f"CASE {' '.join(checks)} END" if checks else "CAST(NULL AS VARCHAR)"


def reason_expr(spec: TableSpec, max_ts: str = "$max_ts") -> str:
    """The quarantine reason of a typed staging row, or NULL when it meets the contract.

    ``max_ts`` is the SQL of the latest acceptable time (a parameter by default; a literal
    where the expression must not depend on parameters, as in a view).
    """
    # An unreadable value is named as such before "missing" (a bad time is not an absent one).
    whens = ["WHEN _parse_error IS NOT NULL THEN _parse_error"]
    whens += [f"WHEN {c.name} IS NULL THEN 'missing_{c.name}'" for c in spec.columns if c.required]
    if spec.name in ("events", "consents"):
        whens.append(f"WHEN ts < TIMESTAMP '{EARLIEST_TS:%Y-%m-%d}' THEN 'bad_ts'")
    for c in spec.columns:
        if c.accepted and c.name != "type":
            vals = ", ".join(f"'{v}'" for v in c.accepted)
            whens.append(f"WHEN {c.name} IS NOT NULL AND {c.name} NOT IN ({vals}) "
                         f"THEN 'unknown_{c.name}'")
    if spec.name == "events":
        types = ", ".join(f"'{v}'" for v in spec.column("type").accepted or ())
        whens += [
            f"WHEN type NOT IN ({types}) THEN 'unknown_event_type'",
            f"WHEN ts > {max_ts} THEN 'future_ts'",
            "WHEN watch_ms < 0 THEN 'negative_watch_ms'",
            "WHEN type IN ('follow', 'unfollow', 'block') AND target_user_id IS NULL "
            "THEN 'missing_target_user_id'",
            "WHEN type NOT IN ('follow', 'unfollow', 'block') AND item_id IS NULL "
            "THEN 'missing_item_id'",
        ]
    if spec.name == "items":
        whens.append("WHEN duration_ms < 0 THEN 'negative_duration_ms'")
    if spec.name == "users":
        whens.append(f"WHEN birth_date > CAST({max_ts} AS DATE) THEN 'future_birth_date'")
        whens.append("WHEN daily_limit_minutes < 0 THEN 'negative_daily_limit_minutes'")
        whens.append(
            "WHEN quiet_hours IS NOT NULL AND NOT regexp_full_match(quiet_hours, "
            "'([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]') THEN 'bad_quiet_hours'"
        )
    if spec.name == "consents":
        whens.append(f"WHEN ts > {max_ts} THEN 'future_ts'")
    return f"CASE {' '.join(whens)} END"


def content_hash_expr(spec: TableSpec, alias: str, skip: tuple[str, ...] = (),
                      extra: str | None = None) -> str:
    """A stable hash of a row's contract content (NULLs kept distinct from empty strings).

    ``extra`` is the SQL of the row's extra-columns JSON when it is not ``{alias}.extra``
    (``"NULL"`` for a batch without unknown columns); the hash is the same either way.
    """
    parts = [
        f"coalesce(CAST({alias}.{c.name} AS VARCHAR), chr(0))"
        for c in spec.columns
        if c.name not in skip
    ]
    parts.append(f"coalesce(CAST({extra or alias + '.extra'} AS VARCHAR), chr(0))")
    return f"md5(concat_ws(chr(31), {', '.join(parts)}))"


def fast_hash_expr(spec: TableSpec, alias: str, extra: str | None = None) -> str:
    """A fast 64-bit hash of a row's content, to compare deliveries under one key in one run.

    ``extra`` as in ``content_hash_expr``; a missing extra hashes like a NULL one.
    """
    cols = [f"{alias}.{c.name}" for c in spec.columns]
    cols.append(f"CAST({extra or alias + '.extra'} AS VARCHAR)")
    return f"hash({', '.join(cols)})"
