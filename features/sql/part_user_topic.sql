-- part_user_topic: per (user, topic, hour bucket) affinity sums, scored as in
-- part_user_creator and spread over the item's topics. Events after the latest reset only.
with

source as (
    select * from stg_events
    where personal and item_id is not null and type <> 'impression' and len(topics) > 0
),

scored as (
    select
        user_id,
        topics,
        bucket,
        ts,
        type = 'view' as is_view,
        pow(0.5, date_diff('microsecond', ts, bucket) / 3600e6 / $engagement_half_life_hours)
            * case type
                when 'view' then coalesce(completion, 0.5)
                when 'like' then 1.0
                when 'comment' then 1.0
                when 'share' then 2.0
                when 'remix' then 2.0
                else 0.0
            end as positive,
        pow(0.5, date_diff('microsecond', ts, bucket) / 3600e6 / $engagement_half_life_hours)
            * case type
                when 'skip' then 0.5
                when 'unlike' then 1.0
                when 'hide' then 3.0
                when 'report' then 5.0
                else 0.0
            end as negative
    from source
),

topics as (
    select user_id, unnest(topics) as topic, bucket, ts, is_view, positive, negative
    from scored
),

aggregated as (
    select
        user_id,
        topic,
        bucket,
        sum(positive) as positive_decay,
        sum(negative) as negative_decay,
        count_if(is_view) as views,
        max(ts) as last_ts
    from topics
    where topic is not null
    group by user_id, topic, bucket
),

final as (
    select * from aggregated
)

select * from final
