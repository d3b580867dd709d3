-- fatigue_item: recent hides and reports of a user on one video, decayed over weeks.
-- Kept across feed resets: a hide or report is a safety preference, not personalization.
-- Computed at $now from part_user_item.
with

source as (
    select
        *,
        least(floor(greatest(date_diff('microsecond', bucket, $now::timestamp), 0) / 86400e6), 28)
            ::integer as day,
        pow(0.5, date_diff('microsecond', bucket, $now::timestamp) / 3600e6
            / $fatigue_half_life_hours) as scale
    from part_user_item
),

aggregated as (
    select
        user_id,
        item_id,
        coalesce(sum(hides) filter (where day < 1), 0)::bigint as hides_1d,
        coalesce(sum(hides) filter (where day < 7), 0)::bigint as hides_7d,
        coalesce(sum(hides) filter (where day < 28), 0)::bigint as hides_28d,
        coalesce(sum(reports) filter (where day < 1), 0)::bigint as reports_1d,
        coalesce(sum(reports) filter (where day < 7), 0)::bigint as reports_7d,
        coalesce(sum(reports) filter (where day < 28), 0)::bigint as reports_28d,
        sum(hides)::bigint as hides_total,
        sum(reports)::bigint as reports_total,
        sum(fatigue_decay * scale) as fatigue,
        date_diff('microsecond', max(last_ts), $now::timestamp) / 3600e6
            as last_negative_hours_ago
    from source
    group by user_id, item_id
),

final as (
    select * from aggregated
)

select * from final
