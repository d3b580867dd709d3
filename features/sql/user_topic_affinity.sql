-- user_topic_affinity: user_creator_affinity's scoring per topic of the items involved.
-- Each interaction is scored once and spread over its item's topics (stg_events carries them),
-- so there is no (user, item) pass: that grain hardly groups anything in a feed log.
-- Ignores the user's events before their latest reset.
with

source as (
    -- interactions only, as in user_creator_affinity (impressions are not engagement)
    select * from stg_events where personal and item_id is not null and type <> 'impression'
),

scored as (
    select
        user_id,
        topics,
        pow(0.5, age_h / $half_life_hours) * case type
            when 'view' then coalesce(completion, 0.5)
            when 'like' then 1.0
            when 'comment' then 1.0
            when 'share' then 2.0
            when 'remix' then 2.0
            else 0.0
        end as positive,
        pow(0.5, age_h / $half_life_hours) * case type
            when 'skip' then 0.5
            when 'unlike' then 1.0
            when 'hide' then 3.0
            when 'report' then 5.0
            else 0.0
        end as negative,
        type = 'view' and age_h < 24 as view_1d,
        type = 'view' and age_h < 168 as view_7d,
        type = 'view' and age_h < 672 as view_28d,
        age_h
    from source
),

user_totals as (
    select
        user_id,
        count_if(view_1d) as total_1d,
        count_if(view_7d) as total_7d,
        count_if(view_28d) as total_28d
    from scored
    group by user_id
),

topics as (
    select user_id, unnest(topics) as topic, positive, negative, view_1d, view_7d, view_28d, age_h
    from scored
    where len(topics) > 0
),

aggregated as (
    select
        user_id,
        topic,
        sum(positive) as positive,
        sum(negative) as negative,
        count_if(view_1d) as views_1d,
        count_if(view_7d) as views_7d,
        count_if(view_28d) as views_28d,
        min(age_h) as last_interaction_hours_ago
    from topics
    where topic is not null
    group by user_id, topic
),

final as (
    select
        a.user_id,
        a.topic,
        a.positive - a.negative as affinity,
        a.positive,
        a.negative,
        a.views_1d, a.views_7d, a.views_28d,
        a.views_1d / nullif(t.total_1d, 0) as view_share_1d,
        a.views_7d / nullif(t.total_7d, 0) as view_share_7d,
        a.views_28d / nullif(t.total_28d, 0) as view_share_28d,
        a.last_interaction_hours_ago
    from aggregated as a
    join user_totals as t on t.user_id = a.user_id
)

select * from final
