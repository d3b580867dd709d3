-- user_topic_affinity: user_creator_affinity's scoring per topic of the items involved.
-- Computed at $now from part_user_topic; the user's view totals come from part_user (a view
-- always names an item). Ignores the user's events before their latest reset.
with

source as (
    select
        *,
        least(floor(greatest(date_diff('microsecond', bucket, $now::timestamp), 0) / 86400e6), 28)
            ::integer as day,
        pow(0.5, date_diff('microsecond', bucket, $now::timestamp) / 3600e6
            / $engagement_half_life_hours) as scale
    from part_user_topic
),

user_totals as (
    select
        user_id,
        coalesce(sum(views) filter (where day < 1), 0) as total_1d,
        coalesce(sum(views) filter (where day < 7), 0) as total_7d,
        coalesce(sum(views) filter (where day < 28), 0) as total_28d
    from (
        select
            user_id,
            views,
            least(floor(greatest(date_diff('microsecond', bucket, $now::timestamp), 0)
                / 86400e6), 28)::integer as day
        from part_user
        where views > 0
    )
    group by user_id
),

aggregated as (
    select
        user_id,
        topic,
        sum(positive_decay * scale) as positive,
        sum(negative_decay * scale) as negative,
        coalesce(sum(views) filter (where day < 1), 0)::bigint as views_1d,
        coalesce(sum(views) filter (where day < 7), 0)::bigint as views_7d,
        coalesce(sum(views) filter (where day < 28), 0)::bigint as views_28d,
        date_diff('microsecond', max(last_ts), $now::timestamp) / 3600e6
            as last_interaction_hours_ago
    from source
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
    left join user_totals as t on t.user_id = a.user_id
)

select * from final
