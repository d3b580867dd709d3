-- creator_engagement: a creator's audience (distinct viewers, net followers) and how it
-- responds to their videos (rates per view). Rows: creators with an item created before now.
with

source as (
    select * from stg_events where creator_id is not null
),

daily as (
    select
        creator_id,
        day,
        count_if(type = 'view') as views,
        sum(completion) as completion_sum,
        count(completion) as completion_n,
        count_if(type in ('like', 'share', 'remix', 'comment')) as engagements,
        count_if(type in ('hide', 'report')) as negatives,
        count_if(type = 'skip') as skips,
        sum(pow(0.5, age_h / $half_life_hours)) filter (where type = 'view') as views_decayed
    from source
    where item_id is not null and type <> 'impression'  -- impressions count in none of these
    group by creator_id, day
),

windowed as (
    select
        creator_id,
        sum(views) filter (where day < 1)::bigint as views_1d,
        sum(views) filter (where day < 7)::bigint as views_7d,
        sum(views) filter (where day < 28)::bigint as views_28d,
        sum(engagements) filter (where day < 1)::bigint as engagements_1d,
        sum(engagements) filter (where day < 7)::bigint as engagements_7d,
        sum(engagements) filter (where day < 28)::bigint as engagements_28d,
        sum(negatives) filter (where day < 1)::bigint as negatives_1d,
        sum(negatives) filter (where day < 7)::bigint as negatives_7d,
        sum(negatives) filter (where day < 28)::bigint as negatives_28d,
        sum(skips) filter (where day < 1)::bigint as skips_1d,
        sum(skips) filter (where day < 7)::bigint as skips_7d,
        sum(skips) filter (where day < 28)::bigint as skips_28d,
        sum(completion_sum) filter (where day < 1) / sum(completion_n) filter (where day < 1) as completion_rate_1d,
        sum(completion_sum) filter (where day < 7) / sum(completion_n) filter (where day < 7) as completion_rate_7d,
        sum(completion_sum) filter (where day < 28) / sum(completion_n) filter (where day < 28) as completion_rate_28d,
        sum(views_decayed) as views_decayed
    from daily
    group by creator_id
),

per_viewer as (
    select
        creator_id,
        user_id,
        min(day) filter (where type = 'view') as last_view_day,
        arg_max(type, ts) filter (where type in ('follow', 'unfollow')) as follow_state
    from source
    where type in ('view', 'follow', 'unfollow')
    group by creator_id, user_id
),

audience as (
    select
        creator_id,
        count_if(last_view_day < 1) as viewers_1d,
        count_if(last_view_day < 7) as viewers_7d,
        count_if(last_view_day < 28) as viewers_28d,
        count_if(follow_state = 'follow') as followers
    from per_viewer
    group by creator_id
),

creators as (
    select creator_id, count(*) as items
    from items
    where created_at < $now or created_at is null
    group by creator_id
),

final as (
    select
        c.creator_id,
        c.items,
        coalesce(a.followers, 0) as followers,
        coalesce(a.viewers_1d, 0) as viewers_1d,
        coalesce(a.viewers_7d, 0) as viewers_7d,
        coalesce(a.viewers_28d, 0) as viewers_28d,
        coalesce(w.views_1d, 0) as views_1d,
        coalesce(w.views_7d, 0) as views_7d,
        coalesce(w.views_28d, 0) as views_28d,
        engagements_1d / nullif(views_1d, 0) as engagement_rate_1d,
        engagements_7d / nullif(views_7d, 0) as engagement_rate_7d,
        engagements_28d / nullif(views_28d, 0) as engagement_rate_28d,
        negatives_1d / nullif(views_1d, 0) as negative_rate_1d,
        negatives_7d / nullif(views_7d, 0) as negative_rate_7d,
        negatives_28d / nullif(views_28d, 0) as negative_rate_28d,
        skips_1d / nullif(views_1d, 0) as skip_rate_1d,
        skips_7d / nullif(views_7d, 0) as skip_rate_7d,
        skips_28d / nullif(views_28d, 0) as skip_rate_28d,
        completion_rate_1d, completion_rate_7d, completion_rate_28d,
        coalesce(w.views_decayed, 0) as views_decayed
    from creators as c
    left join windowed as w on w.creator_id = c.creator_id
    left join audience as a on a.creator_id = c.creator_id
)

select * from final
