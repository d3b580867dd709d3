-- fatigue_creator: recent hides and reports of a user on a creator's videos, and blocks of
-- the creator, decayed over weeks. Kept across feed resets (a safety preference).
-- fat336 + blk336 is stg_events' exact decay sum of hides + 3 x reports + 10 x blocks.
with

source as (
    select user_id, creator_id, hides, reports, blocks, in_1d, in_7d, in_28d,
        (fat336 + blk336) * dk336 as fatigue,
        date_diff('microsecond', greatest(hr_ts, blk_ts), $now::timestamp) / 3600e6 as age_h
    from stg_events
    where hides + reports + blocks > 0 and creator_id is not null
),

aggregated as (
    select
        user_id,
        creator_id,
        coalesce(sum(hides) filter (where in_1d), 0)::bigint as hides_1d,
        coalesce(sum(hides) filter (where in_7d), 0)::bigint as hides_7d,
        coalesce(sum(hides) filter (where in_28d), 0)::bigint as hides_28d,
        coalesce(sum(reports) filter (where in_1d), 0)::bigint as reports_1d,
        coalesce(sum(reports) filter (where in_7d), 0)::bigint as reports_7d,
        coalesce(sum(reports) filter (where in_28d), 0)::bigint as reports_28d,
        coalesce(sum(blocks) filter (where in_1d), 0)::bigint as blocks_1d,
        coalesce(sum(blocks) filter (where in_7d), 0)::bigint as blocks_7d,
        coalesce(sum(blocks) filter (where in_28d), 0)::bigint as blocks_28d,
        sum(fatigue) as fatigue,
        min(age_h) as last_negative_hours_ago
    from source
    group by user_id, creator_id
),

final as (
    select * from aggregated
)

select * from final
