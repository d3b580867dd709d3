-- mart_event_facts: one row per event with the viewer's age band at the event time, the
-- viewer's local time and the video's facts; the base the other marts read.
--   event_id: the event's id
--   user_id: the acting user
--   ts: event time (naive UTC)
--   day: UTC calendar date of the event
--   type: event type (impression, view, like, share, skip, hide, report, ...)
--   item_id: the video (NULL for follow/unfollow/block)
--   creator_id: the video's creator (or the target user of follow/unfollow/block)
--   watch_ms: watch time of a view in milliseconds
--   duration_ms: the video's length in milliseconds (NULL when unknown)
--   completion: watch_ms / duration_ms capped at 1, for views of videos with a known length
--   age_band: child, teen_13_15, teen_16_17, adult or unknown, at the event time
--   local_hour: hour of day 0-23 in the user's timezone (UTC when unknown or invalid)
--   maturity: the video's maturity rating (NULL = unrated)
--   topics: the video's topics
--   labels: the video's moderation labels (NULL = unknown, [] = none)
--   origin: served (sent to the feed service, about feeds it served) or history (ingested)
--   late_night: local_hour in the late-night window [late_start_hour, late_end_hour)
--   sensitive_topic: the video has a topic from the wellbeing config's sensitive topics
--   banned_label: the video has a label never shown to minors (teen_banned_labels)
--   sensitive: sensitive_topic, or any moderation label at all
with

users_of_record as (
    select user_id, any_value(birth_date) as birth_date, any_value(timezone) as timezone
    from users
    group by user_id
),

zones as (
    -- unknown or missing zones fall back to UTC rather than failing every query
    select u.user_id, u.birth_date, coalesce(z.name, 'UTC') as tz
    from users_of_record as u
    left join pg_timezone_names() as z on z.name = u.timezone
),

items_of_record as (
    select item_id, any_value(creator_id) as creator_id, any_value(duration_ms) as duration_ms,
           any_value(maturity) as maturity, any_value(topics) as topics,
           any_value(labels) as labels
    from items
    group by item_id
),

joined as (
    select
        e.event_id,
        e.user_id,
        e.ts,
        e.ts::date as day,
        e.type,
        e.item_id,
        coalesce(i.creator_id, case when e.item_id is null then e.target_user_id end)
            as creator_id,
        e.watch_ms,
        i.duration_ms,
        case
            when e.type = 'view' and i.duration_ms > 0
                then least(coalesce(e.watch_ms, 0) / i.duration_ms, 1.0)
        end as completion,
        fw_age_band(z.birth_date, e.ts) as age_band,
        hour(timezone(coalesce(z.tz, 'UTC'), timezone('UTC', e.ts))) as local_hour,
        i.maturity,
        i.topics,
        i.labels,
        case when e._source = 'api' then 'served' else 'history' end as origin
    from events as e
    left join zones as z on z.user_id = e.user_id
    left join items_of_record as i on i.item_id = e.item_id
),

final as (
    select
        *,
        local_hour >= $late_start_hour or local_hour < $late_end_hour as late_night,
        coalesce(len(list_intersect(topics, $sensitive_topics)) > 0, false) as sensitive_topic,
        coalesce(len(list_intersect(labels, $teen_banned_labels)) > 0, false) as banned_label
    from joined
)

select *, sensitive_topic or coalesce(len(labels) > 0, false) as sensitive from final
