-- mart_teen_sensitive_exposure: what teens (13-17 at the view time) watched of sensitive videos,
-- per UTC day, teen band and origin. Served banned-label and unrated views should stay at zero:
-- the teen policy drops them. Ingested history may predate the policy and show some.
-- depends_on: mart_event_facts
--   day: UTC calendar date
--   age_band: teen_13_15 or teen_16_17
--   origin: served (events the feed service received) or history (ingested logs)
--   viewers: distinct teens with a view
--   views: view events
--   sensitive_views: views of videos with a sensitive topic or any moderation label
--   sensitive_topic_views: views of videos with a sensitive topic (body image, dieting, ...)
--   banned_label_views: views of videos with a label never shown to minors
--   unrated_views: views of videos with unknown maturity or unknown labels
--   sensitive_viewers: distinct teens with a sensitive view
--   sensitive_share: sensitive_views / views
with

source as (
    select * from mart_event_facts
    where type = 'view' and age_band in ('teen_13_15', 'teen_16_17')
),

final as (
    select
        day,
        age_band,
        origin,
        count(distinct user_id) as viewers,
        count(*) as views,
        count(*) filter (where sensitive) as sensitive_views,
        count(*) filter (where sensitive_topic) as sensitive_topic_views,
        count(*) filter (where banned_label) as banned_label_views,
        count(*) filter (where maturity is null or labels is null) as unrated_views,
        count(distinct user_id) filter (where sensitive) as sensitive_viewers,
        count(*) filter (where sensitive) / count(*) as sensitive_share
    from source
    group by day, age_band, origin
)

select * from final order by day, age_band, origin
