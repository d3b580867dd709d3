"""The input data contract: tables, columns, types and allowed values (DESIGN.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

__all__ = [
    "Column",
    "TableSpec",
    "CONTRACT",
    "EVENT_TYPES",
    "EVENT_TYPES_WITHOUT_ITEM",
    "MATURITY",
    "AGE_ASSURANCE",
    "CONSENT_STATUS",
    "CONSENT_AUDIENCE",
    "ITEM_STATUS",
    "SENSITIVE_CONTENT",
    "EARLIEST_TS",
]

EVENT_TYPES = (
    "impression", "view", "like", "unlike", "share", "remix", "comment",
    "follow", "unfollow", "block", "skip", "hide", "report",
)
# These name a user, not a video.
EVENT_TYPES_WITHOUT_ITEM = ("follow", "unfollow", "block")
MATURITY = ("general", "teen", "mature")
AGE_ASSURANCE = ("self_declared", "estimated", "verified")
CONSENT_STATUS = ("granted", "revoked")
CONSENT_AUDIENCE = ("everyone", "mutuals", "approved", "only_me")
ITEM_STATUS = ("active", "removed")
SENSITIVE_CONTENT = ("standard", "less")
# Event and consent times before this are unreadable (``bad_ts``): public interaction logs go
# back to the 1990s, and year-1 values overflow date arithmetic downstream.
EARLIEST_TS = datetime(1970, 1, 1)


@dataclass(frozen=True)
class Column:
    """One contract column.

    Attributes:
        name: column name in the input and in DuckDB.
        sql_type: DuckDB type it lands as (``VARCHAR[]`` for lists).
        required: a null or missing value quarantines the row.
        accepted: allowed values, when the column is an enum.
    """

    name: str
    sql_type: str
    required: bool = False
    accepted: tuple[str, ...] | None = None

    @property
    def is_list(self) -> bool:
        return self.sql_type.endswith("[]")


@dataclass(frozen=True)
class TableSpec:
    """One contract table: its columns, key and how re-loads merge."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    # Columns a file must have; others may be absent and land as null.
    required_columns: tuple[str, ...] = field(default_factory=tuple)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]


USERS = TableSpec(
    name="users",
    columns=(
        Column("user_id", "VARCHAR", required=True),
        Column("birth_date", "DATE"),
        Column("age_assurance", "VARCHAR", accepted=AGE_ASSURANCE),
        Column("timezone", "VARCHAR"),
        Column("country", "VARCHAR"),
        Column("created_at", "TIMESTAMP"),
        Column("personalized", "BOOLEAN"),
        Column("daily_limit_minutes", "INTEGER"),
        Column("quiet_hours", "VARCHAR"),
        Column("sensitive_content", "VARCHAR", accepted=SENSITIVE_CONTENT),
        Column("parent_managed", "BOOLEAN"),
    ),
    key=("user_id",),
    required_columns=("user_id",),
)

ITEMS = TableSpec(
    name="items",
    columns=(
        Column("item_id", "VARCHAR", required=True),
        Column("creator_id", "VARCHAR", required=True),
        Column("created_at", "TIMESTAMP"),
        Column("duration_ms", "BIGINT"),
        Column("topics", "VARCHAR[]"),
        Column("maturity", "VARCHAR", accepted=MATURITY),
        Column("ai_generated", "BOOLEAN"),
        Column("realistic_person", "BOOLEAN"),
        Column("cameo_subjects", "VARCHAR[]"),
        Column("provenance", "BOOLEAN"),
        Column("labels", "VARCHAR[]"),
        Column("status", "VARCHAR", accepted=ITEM_STATUS),
    ),
    key=("item_id",),
    required_columns=("item_id", "creator_id"),
)

EVENTS = TableSpec(
    name="events",
    columns=(
        Column("event_id", "VARCHAR"),
        Column("user_id", "VARCHAR", required=True),
        Column("ts", "TIMESTAMP", required=True),
        Column("type", "VARCHAR", required=True, accepted=EVENT_TYPES),
        Column("item_id", "VARCHAR"),
        Column("target_user_id", "VARCHAR"),
        Column("watch_ms", "BIGINT"),
        Column("session_id", "VARCHAR"),
        Column("surface", "VARCHAR"),
    ),
    key=("event_id",),
    required_columns=("user_id", "ts", "type"),
)

CONSENTS = TableSpec(
    name="consents",
    columns=(
        Column("subject_id", "VARCHAR", required=True),
        Column("ts", "TIMESTAMP", required=True),
        Column("status", "VARCHAR", required=True, accepted=CONSENT_STATUS),
        Column("audience", "VARCHAR", accepted=CONSENT_AUDIENCE),
    ),
    key=("subject_id", "ts"),
    required_columns=("subject_id", "ts", "status"),
)

CONTRACT: dict[str, TableSpec] = {t.name: t for t in (USERS, ITEMS, EVENTS, CONSENTS)}
