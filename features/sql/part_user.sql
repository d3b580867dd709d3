-- part_user: per (user, hour bucket) sums of the user's events after their latest reset.
-- Decayed sums are decayed to the bucket's end; the public sets scale them to the as-of time.
with

source as (
    select * from stg_events where personal
),

aggregated as (
    select
        user_id,
        bucket,
        count(*) as events,
        count_if(type = 'view') as views,
        coalesce(sum(watch_ms) filter (where type = 'view'), 0) as watch_ms,
        sum(completion) as completion_sum,
        count(completion) as completion_n,
        count_if(type = 'like') as likes,
        count_if(type = 'share') as shares,
        count_if(type = 'remix') as remixes,
        count_if(type = 'comment') as comments,
        count_if(type = 'skip') as skips,
        count_if(type = 'hide') as hides,
        count_if(type = 'report') as reports,
        sum(pow(0.5, date_diff('microsecond', ts, bucket) / 3600e6 / $engagement_half_life_hours))
            filter (where type = 'view') as views_decay,
        sum(coalesce(watch_ms, 0)
            * pow(0.5, date_diff('microsecond', ts, bucket) / 3600e6 / $engagement_half_life_hours))
            filter (where type = 'view') as watch_ms_decay,
        max(ts) as last_ts
    from source
    group by user_id, bucket
),

final as (
    select * from aggregated
)

select * from final
