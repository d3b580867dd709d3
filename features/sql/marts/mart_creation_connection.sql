-- mart_creation_connection: creation and connection per UTC day: views that led the viewer to
-- create (remix, share or comment on the video) and views of creators the viewer followed or had
-- interacted with before.
-- depends_on: mart_event_facts
--   day: UTC calendar date
--   views: view events
--   created_views: views the same user later (or at once) remixed, shared or commented on
--   connected_views: views of a creator the viewer followed at the time, or had liked, shared, remixed or commented on before
--   creation_rate: created_views / views (NULL without views)
--   connection_share: connected_views / views (NULL without views)
with

source as (
    select * from mart_event_facts
),

views as (
    select user_id, ts, day, item_id, creator_id
    from source
    where type = 'view'
),

creations as (
    select user_id, item_id, max(ts) as last_created
    from source
    where type in ('remix', 'share', 'comment') and item_id is not null
    group by user_id, item_id
),

follow_changes as (
    select user_id, creator_id, ts, type
    from source
    where type in ('follow', 'unfollow') and creator_id is not null
),

first_touch as (
    select user_id, creator_id, min(ts) as first_ts
    from source
    where type in ('like', 'share', 'remix', 'comment') and creator_id is not null
    group by user_id, creator_id
),

flagged as (
    select
        v.day,
        c.last_created is not null and c.last_created >= v.ts as created,
        coalesce(f.type = 'follow', false)
            or coalesce(t.first_ts < v.ts, false) as connected
    from views as v
    left join creations as c on c.user_id = v.user_id and c.item_id = v.item_id
    -- the follow state in force at the view: the latest follow/unfollow before it
    asof left join follow_changes as f
        on f.user_id = v.user_id and f.creator_id = v.creator_id and v.ts >= f.ts
    left join first_touch as t on t.user_id = v.user_id and t.creator_id = v.creator_id
),

final as (
    select
        day,
        count(*) as views,
        count(*) filter (where created) as created_views,
        count(*) filter (where connected) as connected_views,
        count(*) filter (where created) / nullif(count(*), 0) as creation_rate,
        count(*) filter (where connected) / nullif(count(*), 0) as connection_share
    from flagged
    group by day
)

select * from final order by day
