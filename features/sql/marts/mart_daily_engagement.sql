-- mart_daily_engagement: engagement per UTC day.
-- depends_on: mart_event_facts
--   day: UTC calendar date
--   active_users: distinct users with any event that day
--   views: view events
--   watch_minutes: total watch time of views in minutes
--   likes: like events
--   shares: share events
--   skips: skip events
--   hides: hide events
--   reports: report events
--   completion_rate: mean of min(watch / duration, 1) over views of videos with a known length
with

source as (
    select * from mart_event_facts
),

final as (
    select
        day,
        count(distinct user_id) as active_users,
        count(*) filter (where type = 'view') as views,
        coalesce(sum(watch_ms) filter (where type = 'view'), 0) / 60000.0 as watch_minutes,
        count(*) filter (where type = 'like') as likes,
        count(*) filter (where type = 'share') as shares,
        count(*) filter (where type = 'skip') as skips,
        count(*) filter (where type = 'hide') as hides,
        count(*) filter (where type = 'report') as reports,
        avg(completion) as completion_rate
    from source
    group by day
)

select * from final order by day
