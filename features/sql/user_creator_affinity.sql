-- user_creator_affinity: decayed positive engagement of a user with a creator, with negative
-- feedback (skip, unlike, hide, unfollow, report, block) counted against it.
-- Ignores the user's events before their latest reset. Read from stg_events' units: the
-- weighted decay sums (pos168/neg168 for item events, fpos168/fneg168 for follow, unfollow
-- and block) are per-event exact at a 168-hour half-life.
with

source as (
    select * from stg_events where personal and creator_id is not null
),

weighted as (
    select
        user_id,
        creator_id,
        in_1d,
        in_7d,
        in_28d,
        age_h,
        views,
        skips + unlikes + hides + unfollows + reports + blocks as negatives,
        (pos168 + fpos168) * dk168 as positive,
        (neg168 + fneg168) * dk168 as negative
    from source
),

aggregated as (
    select
        user_id,
        creator_id,
        sum(positive) as positive,
        sum(negative) as negative,
        coalesce(sum(views) filter (where in_1d), 0)::bigint as views_1d,
        coalesce(sum(views) filter (where in_7d), 0)::bigint as views_7d,
        coalesce(sum(views) filter (where in_28d), 0)::bigint as views_28d,
        coalesce(sum(negatives) filter (where in_1d), 0)::bigint as negatives_1d,
        coalesce(sum(negatives) filter (where in_7d), 0)::bigint as negatives_7d,
        coalesce(sum(negatives) filter (where in_28d), 0)::bigint as negatives_28d,
        min(age_h) as last_interaction_hours_ago
    from weighted
    group by user_id, creator_id
),

final as (
    select
        user_id,
        creator_id,
        positive - negative as affinity,
        positive,
        negative,
        views_1d, views_7d, views_28d,
        negatives_1d, negatives_7d, negatives_28d,
        last_interaction_hours_ago
    from aggregated
)

select * from final
