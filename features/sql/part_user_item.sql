-- part_user_item: per (user, item, hour bucket) hides and reports. Every event counts: a hide
-- or report is a safety preference, kept across feed resets.
with

source as (
    select user_id, item_id, bucket, ts, type
    from stg_events
    where type in ('hide', 'report') and item_id is not null
),

aggregated as (
    select
        user_id,
        item_id,
        bucket,
        count_if(type = 'hide') as hides,
        count_if(type = 'report') as reports,
        sum(pow(0.5, date_diff('microsecond', ts, bucket) / 3600e6 / $fatigue_half_life_hours)
            * case type when 'report' then 3.0 else 1.0 end) as fatigue_decay,
        max(ts) as last_ts
    from source
    group by user_id, item_id, bucket
),

final as (
    select * from aggregated
)

select * from final
