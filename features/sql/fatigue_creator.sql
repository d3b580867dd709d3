-- fatigue_creator: recent hides and reports of a user on a creator's videos, and blocks of
-- the creator, decayed over weeks. Kept across feed resets (a safety preference).
with

source as (
    select user_id, creator_id, type, age_h
    from stg_events
    where type in ('hide', 'report', 'block') and creator_id is not null
),

aggregated as (
    select
        user_id,
        creator_id,
        count_if(type = 'hide' and age_h < 24) as hides_1d,
        count_if(type = 'hide' and age_h < 168) as hides_7d,
        count_if(type = 'hide' and age_h < 672) as hides_28d,
        count_if(type = 'report' and age_h < 24) as reports_1d,
        count_if(type = 'report' and age_h < 168) as reports_7d,
        count_if(type = 'report' and age_h < 672) as reports_28d,
        count_if(type = 'block' and age_h < 24) as blocks_1d,
        count_if(type = 'block' and age_h < 168) as blocks_7d,
        count_if(type = 'block' and age_h < 672) as blocks_28d,
        sum(pow(0.5, age_h / $half_life_hours) * case type
            when 'report' then 3.0 when 'block' then 10.0 else 1.0 end) as fatigue,
        min(age_h) as last_negative_hours_ago
    from source
    group by user_id, creator_id
),

final as (
    select * from aggregated
)

select * from final
