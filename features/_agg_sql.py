"""SQL for ``agg_events``: every event folded into (user, item, session, 15-minute bucket) rows.

One row holds counts per event type, view watch time, completion sums, first/last times and
decay sums relative to the bucket start ``q``: ``g<h> = sum(2 ** (hours from q to ts / h))``.
A set's decayed sum as of ``now`` is ``g<h> * 0.5 ** (hours from q to now / h)``, which equals
the per-event ``sum(0.5 ** (age_h / h))`` exactly, so decay never needs the raw events again.
Rows may repeat a key (increments are appended); every reader sums them, and compaction merges.
"""

from __future__ import annotations

__all__ = ["KEY", "COLUMNS", "aggregate_sql", "merge_sql"]

KEY = ["user_id", "item_id", "target_user_id", "session_id", "q"]

_TYPES = [
    "impression", "view", "like", "unlike", "share", "remix", "comment",
    "follow", "unfollow", "block", "skip", "hide", "report",
]
_PLURAL = {t: t + ("es" if t == "remix" else "s") for t in _TYPES}
_H = "(date_diff('microsecond', q, ts) / 3600e6)"  # hours from the bucket start to the event
_COMPLETION = (
    "case when type = 'view' and duration_ms > 0 "
    "then least(coalesce(watch_ms, 0) / duration_ms, 1.0) end"
)
_POS = (
    "case type when 'view' then coalesce({c}, 0.5) when 'like' then 1.0 when 'comment' then 1.0 "
    "when 'share' then 2.0 when 'remix' then 2.0 else 0.0 end"
).format(c=_COMPLETION)
_NEG = (
    "case type when 'skip' then 0.5 when 'unlike' then 1.0 when 'hide' then 3.0 "
    "when 'report' then 5.0 else 0.0 end"
)

# (column, aggregate over events, aggregate over rows when merging)
COLUMNS: list[tuple[str, str, str]] = [
    ("events", "count(*)", "sum"),
    *[(_PLURAL[t], f"count_if(type = '{t}')", "sum") for t in _TYPES],
    ("watch_ms", "coalesce(sum(watch_ms) filter (where type = 'view'), 0)::bigint", "sum"),
    ("comp_sum", f"sum({_COMPLETION})", "sum"),
    ("comp_n", f"count({_COMPLETION})", "sum"),
    ("min_ts", "min(ts)", "min"),
    ("max_ts", "max(ts)", "max"),
    ("follow_ts", "max(ts) filter (where type = 'follow')", "max"),
    ("unfollow_ts", "max(ts) filter (where type = 'unfollow')", "max"),
    ("hr_ts", "max(ts) filter (where type in ('hide', 'report'))", "max"),
    ("blk_ts", "max(ts) filter (where type = 'block')", "max"),
    ("v168", f"coalesce(sum(pow(2.0, {_H} / 168)) filter (where type = 'view'), 0)", "sum"),
    ("w168", f"coalesce(sum(coalesce(watch_ms, 0) * pow(2.0, {_H} / 168)) "
             "filter (where type = 'view'), 0)", "sum"),
    ("pos168", f"sum(({_POS}) * pow(2.0, {_H} / 168))", "sum"),
    ("neg168", f"sum(({_NEG}) * pow(2.0, {_H} / 168))", "sum"),
    ("fpos168", f"coalesce(sum(3.0 * pow(2.0, {_H} / 168)) filter (where type = 'follow'), 0)",
     "sum"),
    ("fneg168", f"coalesce(sum(case type when 'unfollow' then 3.0 else 10.0 end "
                f"* pow(2.0, {_H} / 168)) filter (where type in ('unfollow', 'block')), 0)", "sum"),
    ("v24", f"coalesce(sum(pow(2.0, {_H} / 24)) filter (where type = 'view'), 0)", "sum"),
    ("fat336", f"coalesce(sum(case type when 'report' then 3.0 else 1.0 end "
               f"* pow(2.0, {_H} / 336)) filter (where type in ('hide', 'report')), 0)", "sum"),
    ("blk336", f"coalesce(sum(10.0 * pow(2.0, {_H} / 336)) filter (where type = 'block'), 0)",
     "sum"),
]


def aggregate_sql(
    where: str = "true", extra_keys: tuple[tuple[str, str], ...] = (), extra_join: str = ""
) -> str:
    """Aggregate raw ``events`` (joined to item durations) into ``agg_events`` rows.

    Args:
        where: a filter on the events (columns of ``events``, alias-free).
        extra_keys: further ``(expression, name)`` group keys over ``e`` and ``extra_join``.
        extra_join: a join clause appended after the events (the as-of split uses it).
    """
    keys = [
        "user_id", "item_id",
        "case when item_id is null then target_user_id end as target_user_id",
        "session_id", "q", *[name for _, name in extra_keys],
    ]
    inner = "".join(f", {expr} as {name}" for expr, name in extra_keys)
    aggs = ",\n        ".join(f"{expr} as {name}" for name, expr, _ in COLUMNS)
    return f"""
    select {", ".join(keys)},
        {aggs}
    from (
        select e.user_id, e.item_id, e.target_user_id, e.session_id, e.ts, e.type, e.watch_ms,
            i.duration_ms, time_bucket(interval 15 minutes, e.ts) as q{inner}
        from (select * from events where {where}) as e
        left join (select item_id, any_value(duration_ms) as duration_ms from items
                   group by item_id) as i on i.item_id = e.item_id
        {extra_join}
    )
    group by all"""


def _merged(name: str, fn: str) -> str:
    if fn != "sum":
        return f"{fn}({name}) as {name}"
    kind = "double" if name in ("comp_sum",) or name[-3:].isdigit() else "bigint"
    return f"sum({name})::{kind} as {name}"


def merge_sql(source: str) -> str:
    """Merge rows with the same key (compaction)."""
    cols = ", ".join(_merged(name, fn) for name, _, fn in COLUMNS)
    return f"select {', '.join(KEY)}, {cols} from {source} group by all"
