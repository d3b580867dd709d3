-- stg_events: every event strictly before $now, with the facts later sets need.
-- `personal` is false for a user's events before their latest reset at or before $now.
with

source as (
    select user_id, ts, type, item_id, target_user_id, watch_ms, session_id
    from events
    where ts < $now
),

items_of_record as (
    select item_id, creator_id, duration_ms, topics from items
),

resets as (
    select user_id, max(ts) as reset_ts
    from user_resets
    where ts <= $now
    group by user_id
),

joined as (
    select
        s.user_id,
        s.ts,
        s.type,
        s.item_id,
        s.session_id,
        s.watch_ms,
        -- follow/unfollow/block name the creator directly
        coalesce(i.creator_id, case when s.item_id is null then s.target_user_id end) as creator_id,
        i.duration_ms,
        i.topics,
        r.reset_ts is null or s.ts >= r.reset_ts as personal,
        date_diff('microsecond', s.ts, $now::timestamp) / 3600e6 as age_h
    from source as s
    left join items_of_record as i on i.item_id = s.item_id
    left join resets as r on r.user_id = s.user_id
),

final as (
    select
        *,
        -- day bucket relative to now: 0 = the last 24h; capped since only 28d windows exist
        least(floor(age_h / 24), 28)::integer as day,
        -- the end of the event's hour (of its $bucket_hours bucket): partial aggregates' grain
        time_bucket(to_hours($bucket_hours::bigint), ts - interval 1 microsecond)
            + to_hours($bucket_hours::bigint) as bucket,
        case
            when type = 'view' and duration_ms > 0 then least(coalesce(watch_ms, 0) / duration_ms, 1.0)
        end as completion
    from joined
)

select * from final
