-- mart_negative_feedback: negative signals per UTC day and age band, with rates per 1000 views.
-- depends_on: mart_event_facts
--   day: UTC calendar date
--   age_band: the acting user's age band at the event time
--   views: view events
--   skips: skip events
--   hides: hide events
--   reports: report events
--   blocks: block events
--   unfollows: unfollow events
--   users_negative: distinct users with a hide, report or block
--   hides_per_1k_views: hides per 1000 views (NULL without views)
--   reports_per_1k_views: reports per 1000 views (NULL without views)
with

source as (
    select * from mart_event_facts
),

final as (
    select
        day,
        age_band,
        count(*) filter (where type = 'view') as views,
        count(*) filter (where type = 'skip') as skips,
        count(*) filter (where type = 'hide') as hides,
        count(*) filter (where type = 'report') as reports,
        count(*) filter (where type = 'block') as blocks,
        count(*) filter (where type = 'unfollow') as unfollows,
        count(distinct user_id) filter (where type in ('hide', 'report', 'block'))
            as users_negative,
        1000.0 * count(*) filter (where type = 'hide')
            / nullif(count(*) filter (where type = 'view'), 0) as hides_per_1k_views,
        1000.0 * count(*) filter (where type = 'report')
            / nullif(count(*) filter (where type = 'view'), 0) as reports_per_1k_views
    from source
    group by day, age_band
)

select * from final order by day, age_band
