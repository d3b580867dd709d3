-- mart_creator_stats: one row per creator: catalogue and audience response, all time.
-- depends_on: mart_event_facts
--   creator_id: the creator
--   videos: videos in the catalogue
--   removed_videos: videos with status 'removed'
--   ai_generated_videos: videos marked ai_generated
--   views: view events on the creator's videos
--   viewers: distinct viewers
--   watch_minutes: total watch time in minutes
--   completion_rate: mean completion of views of videos with a known length
--   likes: like events
--   shares: share events
--   hides: hide events
--   reports: report events
--   follows: follow events naming the creator
--   like_rate: likes / views
--   negative_rate: (hides + reports) / views
with

catalogue as (
    select
        creator_id,
        count(*) as videos,
        count(*) filter (where status = 'removed') as removed_videos,
        count(*) filter (where ai_generated) as ai_generated_videos
    from items
    group by creator_id
),

engagement as (
    select
        creator_id,
        count(*) filter (where type = 'view') as views,
        count(distinct user_id) filter (where type = 'view') as viewers,
        coalesce(sum(watch_ms) filter (where type = 'view'), 0) / 60000.0 as watch_minutes,
        avg(completion) as completion_rate,
        count(*) filter (where type = 'like') as likes,
        count(*) filter (where type = 'share') as shares,
        count(*) filter (where type = 'hide') as hides,
        count(*) filter (where type = 'report') as reports,
        count(*) filter (where type = 'follow') as follows
    from mart_event_facts
    where creator_id is not null
    group by creator_id
),

final as (
    select
        coalesce(c.creator_id, e.creator_id) as creator_id,
        coalesce(c.videos, 0) as videos,
        coalesce(c.removed_videos, 0) as removed_videos,
        coalesce(c.ai_generated_videos, 0) as ai_generated_videos,
        coalesce(e.views, 0) as views,
        coalesce(e.viewers, 0) as viewers,
        coalesce(e.watch_minutes, 0) as watch_minutes,
        e.completion_rate,
        coalesce(e.likes, 0) as likes,
        coalesce(e.shares, 0) as shares,
        coalesce(e.hides, 0) as hides,
        coalesce(e.reports, 0) as reports,
        coalesce(e.follows, 0) as follows,
        e.likes / nullif(e.views, 0) as like_rate,
        (e.hides + e.reports) / nullif(e.views, 0) as negative_rate
    from catalogue as c
    full outer join engagement as e on e.creator_id = c.creator_id
)

select * from final order by views desc, creator_id
