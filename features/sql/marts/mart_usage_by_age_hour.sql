-- mart_usage_by_age_hour: when each age band watches, by hour of day in the user's own timezone.
-- depends_on: mart_event_facts
--   age_band: child, teen_13_15, teen_16_17, adult or unknown (at the event time)
--   local_hour: hour of day 0-23 in the user's timezone
--   users: distinct users active in that band and hour (any day)
--   views: view events
--   minutes: total watch time of views in minutes
--   minutes_per_user: minutes / users
--   late_night: the hour is in the late-night window
with

source as (
    select * from mart_event_facts
),

final as (
    select
        age_band,
        local_hour,
        count(distinct user_id) as users,
        count(*) filter (where type = 'view') as views,
        coalesce(sum(watch_ms) filter (where type = 'view'), 0) / 60000.0 as minutes,
        coalesce(sum(watch_ms) filter (where type = 'view'), 0) / 60000.0
            / count(distinct user_id) as minutes_per_user,
        any_value(late_night) as late_night
    from source
    group by age_band, local_hour
)

select * from final order by age_band, local_hour
