-- fatigue_item: recent hides and reports of a user on one video, decayed over weeks.
-- Kept across feed resets: a hide or report is a safety preference, not personalization.
-- fat336 is stg_events' per-event exact decay sum of hides + 3 x reports (336-hour half-life).
with

source as (
    select user_id, item_id, hides, reports, in_1d, in_7d, in_28d, fat336 * dk336 as fatigue,
        date_diff('microsecond', hr_ts, $now::timestamp) / 3600e6 as age_h
    from stg_events
    where hides + reports > 0 and item_id is not null
),

aggregated as (
    select
        user_id,
        item_id,
        coalesce(sum(hides) filter (where in_1d), 0)::bigint as hides_1d,
        coalesce(sum(hides) filter (where in_7d), 0)::bigint as hides_7d,
        coalesce(sum(hides) filter (where in_28d), 0)::bigint as hides_28d,
        coalesce(sum(reports) filter (where in_1d), 0)::bigint as reports_1d,
        coalesce(sum(reports) filter (where in_7d), 0)::bigint as reports_7d,
        coalesce(sum(reports) filter (where in_28d), 0)::bigint as reports_28d,
        sum(fatigue) as fatigue,
        min(age_h) as last_negative_hours_ago
    from source
    group by user_id, item_id
),

final as (
    select * from aggregated
)

select * from final
