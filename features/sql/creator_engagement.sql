-- creator_engagement: a creator's audience (distinct viewers, net followers) and how it
-- responds to their videos (rates per view). Rows: creators with an item created before now.
-- Computed at $now from part_item (joined to the items' current creator) and part_user_creator.
with

daily as (
    select
        i.creator_id,
        least(floor(greatest(date_diff('microsecond', p.bucket, $now::timestamp), 0) / 86400e6), 28)
            ::integer as day,
        p.views,
        p.completion_sum,
        p.completion_n,
        p.likes + p.shares + p.remixes + p.comments as engagements,
        p.hides + p.reports as negatives,
        p.skips,
        p.views_decay * pow(0.5, date_diff('microsecond', p.bucket, $now::timestamp) / 3600e6
            / $engagement_half_life_hours) as views_decayed
    from part_item as p
    join items as i on i.item_id = p.item_id
    where i.creator_id is not null
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
        -- NULL for a follower who never viewed (greatest() would skip the NULL)
        case when last_view_bucket is not null then least(floor(greatest(
            date_diff('microsecond', last_view_bucket, $now::timestamp), 0) / 86400e6), 28)
        end::integer as last_view_day,
        case when last_follow_ts > coalesce(last_unfollow_ts, last_follow_ts - interval 1 day)
            then 'follow' end as follow_state
    from (
        select
            creator_id,
            user_id,
            max(bucket) filter (where all_views > 0) as last_view_bucket,
            max(last_follow_ts) as last_follow_ts,
            max(last_unfollow_ts) as last_unfollow_ts
        from part_user_creator
        where all_views > 0 or last_follow_ts is not null or last_unfollow_ts is not null
        group by creator_id, user_id
    )
),

audience as (
    select
        creator_id,
        count_if(last_view_day < 1)::bigint as viewers_1d,
        count_if(last_view_day < 7)::bigint as viewers_7d,
        count_if(last_view_day < 28)::bigint as viewers_28d,
        count_if(follow_state = 'follow')::bigint as followers
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
