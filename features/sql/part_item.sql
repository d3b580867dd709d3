-- part_item: per (item, hour bucket) sums of the events on an item (every user; resets do not
-- apply to what a video's audience did). Decayed sums are decayed to the bucket's end.
with

source as (
    select * from stg_events where item_id is not null
),

aggregated as (
    select
        item_id,
        bucket,
        count_if(type = 'view') as views,
        count_if(type = 'impression') as impressions,
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
        sum(pow(0.5, date_diff('microsecond', ts, bucket) / 3600e6 / $trending_half_life_hours))
            filter (where type = 'view') as views_decay_trending,
        sum(pow(0.5, date_diff('microsecond', ts, bucket) / 3600e6 / $engagement_half_life_hours))
            filter (where type = 'view') as views_decay
    from source
    group by item_id, bucket
),

final as (
    select * from aggregated
)

select * from final
