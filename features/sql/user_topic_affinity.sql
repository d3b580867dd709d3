-- user_topic_affinity: user_creator_affinity's scoring per topic of the items involved.
-- Scored per (user, item) first, then spread over the item's topics (far fewer rows to unnest).
-- Ignores the user's events before their latest reset.
with

source as (
    -- interactions only, as in user_creator_affinity (impressions are not engagement)
    select * from stg_events where personal and item_id is not null and type <> 'impression'
),

per_item as (
    select
        user_id,
        item_id,
        sum(pow(0.5, age_h / $half_life_hours) * case type
            when 'view' then coalesce(completion, 0.5)
            when 'like' then 1.0
            when 'comment' then 1.0
            when 'share' then 2.0
            when 'remix' then 2.0
            else 0.0
        end) as positive,
        sum(pow(0.5, age_h / $half_life_hours) * case type
            when 'skip' then 0.5
            when 'unlike' then 1.0
            when 'hide' then 3.0
            when 'report' then 5.0
            else 0.0
        end) as negative,
        count_if(type = 'view' and age_h < 24) as views_1d,
        count_if(type = 'view' and age_h < 168) as views_7d,
        count_if(type = 'view' and age_h < 672) as views_28d,
        min(age_h) as last_h
    from source
    group by user_id, item_id
),

user_totals as (
    select
        user_id,
        sum(views_1d)::bigint as total_1d,
        sum(views_7d)::bigint as total_7d,
        sum(views_28d)::bigint as total_28d
    from per_item
    group by user_id
),

topics as (
    select p.*, unnest(i.topics) as topic
    from per_item as p
    join items as i on i.item_id = p.item_id
    where len(i.topics) > 0
),

aggregated as (
    select
        user_id,
        topic,
        sum(positive) as positive,
        sum(negative) as negative,
        sum(views_1d)::bigint as views_1d,
        sum(views_7d)::bigint as views_7d,
        sum(views_28d)::bigint as views_28d,
        min(last_h) as last_interaction_hours_ago
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
