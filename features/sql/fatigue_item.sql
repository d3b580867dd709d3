-- fatigue_item: recent hides and reports of a user on one video, decayed over weeks.
-- Kept across feed resets: a hide or report is a safety preference, not personalization.
with

source as (
    select user_id, item_id, type, age_h
    from stg_events
    where type in ('hide', 'report') and item_id is not null
),

aggregated as (
    select
        user_id,
        item_id,
        count_if(type = 'hide' and age_h < 24) as hides_1d,
        count_if(type = 'hide' and age_h < 168) as hides_7d,
        count_if(type = 'hide' and age_h < 672) as hides_28d,
        count_if(type = 'report' and age_h < 24) as reports_1d,
        count_if(type = 'report' and age_h < 168) as reports_7d,
        count_if(type = 'report' and age_h < 672) as reports_28d,
        sum(pow(0.5, age_h / $half_life_hours) * case type when 'report' then 3.0 else 1.0 end)
            as fatigue,
        min(age_h) as last_negative_hours_ago
    from source
    group by user_id, item_id
),

final as (
    select * from aggregated
)

select * from final
