-- part_user_creator: per (user, creator, hour bucket) interactions (impressions excluded).
-- Affinity sums count only events after the user's latest reset; the audience (views, follow
-- state) and fatigue (hides, reports, blocks: a safety preference) count every event.
with

source as (
    select * from stg_events where creator_id is not null and type <> 'impression'
),

weighted as (
    select
        user_id,
        creator_id,
        bucket,
        ts,
        type,
        personal,
        item_id,
        date_diff('microsecond', ts, bucket) / 3600e6 as to_end_h,
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
        bucket,
        count_if(personal) as interactions,
        coalesce(sum(pos_w * pow(0.5, to_end_h / $engagement_half_life_hours))
            filter (where personal), 0) as positive_decay,
        coalesce(sum(neg_w * pow(0.5, to_end_h / $engagement_half_life_hours))
            filter (where personal), 0) as negative_decay,
        count_if(personal and type = 'view') as views,
        count_if(personal and neg_w > 0) as negatives,
        max(ts) filter (where personal) as last_ts,
        count_if(type = 'view' and item_id is not null) as all_views,
        max(ts) filter (where type = 'follow') as last_follow_ts,
        max(ts) filter (where type = 'unfollow') as last_unfollow_ts,
        count_if(type = 'hide') as hides,
        count_if(type = 'report') as reports,
        count_if(type = 'block') as blocks,
        coalesce(sum(pow(0.5, to_end_h / $fatigue_half_life_hours) * case type
            when 'report' then 3.0 when 'block' then 10.0 else 1.0 end)
            filter (where type in ('hide', 'report', 'block')), 0) as fatigue_decay,
        max(ts) filter (where type in ('hide', 'report', 'block')) as last_negative_ts
    from weighted
    group by user_id, creator_id, bucket
),

final as (
    select * from aggregated
)

select * from final
