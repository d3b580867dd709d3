-- user_creator_affinity: decayed positive engagement of a user with a creator, with negative
-- feedback (skip, unlike, hide, unfollow, report, block) counted against it.
-- Ignores the user's events before their latest reset.
with

source as (
    -- interactions only: being shown a video (an impression) is not engaging with its creator
    select * from stg_events where personal and creator_id is not null and type <> 'impression'
),

weighted as (
    select
        user_id,
        creator_id,
        type,
        age_h,
        pow(0.5, age_h / $half_life_hours) as decay,
        case type
            when 'view' then coalesce(completion, 0.5)
            when 'like' then 1.0
            when 'comment' then 1.0
            when 'share' then 2.0
            when 'remix' then 2.0
            when 'follow' then 3.0
            else 0.0
        end as pos_w,
        case type
            when 'skip' then 0.5
            when 'unlike' then 1.0
            when 'hide' then 3.0
            when 'unfollow' then 3.0
            when 'report' then 5.0
            when 'block' then 10.0
            else 0.0
        end as neg_w
    from source
),

aggregated as (
    select
        user_id,
        creator_id,
        sum(pos_w * decay) as positive,
        sum(neg_w * decay) as negative,
        count_if(type = 'view' and age_h < 24) as views_1d,
        count_if(type = 'view' and age_h < 168) as views_7d,
        count_if(type = 'view' and age_h < 672) as views_28d,
        count_if(neg_w > 0 and age_h < 24) as negatives_1d,
        count_if(neg_w > 0 and age_h < 168) as negatives_7d,
        count_if(neg_w > 0 and age_h < 672) as negatives_28d,
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
