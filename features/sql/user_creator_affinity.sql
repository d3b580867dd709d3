-- user_creator_affinity: decayed positive engagement of a user with a creator, with negative
-- feedback (skip, unlike, hide, unfollow, report, block) counted against it.
-- Ignores the user's events before their latest reset. Computed at $now from part_user_creator.
with

source as (
    select
        *,
        least(floor(greatest(date_diff('microsecond', bucket, $now::timestamp), 0) / 86400e6), 28)
            ::integer as day,
        pow(0.5, date_diff('microsecond', bucket, $now::timestamp) / 3600e6
            / $engagement_half_life_hours) as scale
    from part_user_creator
),

aggregated as (
    select
        user_id,
        creator_id,
        sum(positive_decay * scale) as positive,
        sum(negative_decay * scale) as negative,
        sum(views) filter (where day < 1) as views_1d,
        sum(views) filter (where day < 7) as views_7d,
        sum(views) filter (where day < 28) as views_28d,
        sum(negatives) filter (where day < 1) as negatives_1d,
        sum(negatives) filter (where day < 7) as negatives_7d,
        sum(negatives) filter (where day < 28) as negatives_28d,
        date_diff('microsecond', max(last_ts), $now::timestamp) / 3600e6
            as last_interaction_hours_ago,
        sum(views) as views_total,
        -- the latest follow or unfollow over every event (a follow is not undone by a reset)
        coalesce(max(last_follow_ts) > coalesce(max(last_unfollow_ts), '-infinity'::timestamp),
                 false)::integer as following
    from source
    group by user_id, creator_id
    -- a pair is a row once the user interacted with the creator after their latest reset
    having sum(interactions) > 0
),

final as (
    select
        user_id,
        creator_id,
        positive - negative as affinity,
        positive,
        negative,
        coalesce(views_1d, 0)::bigint as views_1d,
        coalesce(views_7d, 0)::bigint as views_7d,
        coalesce(views_28d, 0)::bigint as views_28d,
        coalesce(negatives_1d, 0)::bigint as negatives_1d,
        coalesce(negatives_7d, 0)::bigint as negatives_7d,
        coalesce(negatives_28d, 0)::bigint as negatives_28d,
        last_interaction_hours_ago,
        views_total::bigint as views_total,
        following
    from aggregated
)

select * from final
