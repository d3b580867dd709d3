-- stg_events: the store's events strictly before $now, as partial aggregates ("units").
-- One row per (user, item, session, 15-minute bucket) from agg_events (kept incrementally by
-- features/_agg.py), except the buckets a cut falls inside ($now, $now - 1/7/28 days, a user's
-- reset), which _agg_split re-aggregates from raw events by side of the cut. So every row lies
-- wholly inside each window and on one side of the user's reset; decay is exact per event
-- (g<h> sums are relative to the bucket start q). `personal` is false before the latest reset.
with

cut as (
    select user_id, reset_ts, reset_q from _agg_cut
),

stored as (
    select a.*, c.reset_ts is null or a.q >= c.reset_ts as personal
    from agg_events as a
    left join cut as c on c.user_id = a.user_id
    where a.q < time_bucket(interval 15 minutes, $now::timestamp)
      and a.q <> time_bucket(interval 15 minutes, $now::timestamp - interval 1 day)
      and a.q <> time_bucket(interval 15 minutes, $now::timestamp - interval 7 day)
      and a.q <> time_bucket(interval 15 minutes, $now::timestamp - interval 28 day)
      and (c.reset_q is null or a.q <> c.reset_q)
),

units as (
    select * from stored
    union all by name
    select * exclude (side) from _agg_split
),

creators as (
    select item_id, any_value(creator_id) as creator_id from items group by item_id
),

joined as (
    select
        u.*,
        -- follow/unfollow/block name the creator directly
        coalesce(i.creator_id, case when u.item_id is null then u.target_user_id end) as creator_id,
        date_diff('microsecond', u.max_ts, $now::timestamp) / 3600e6 as age_h,
        date_diff('microsecond', u.min_ts, $now::timestamp) / 3600e6 as first_age_h,
        date_diff('microsecond', u.q, $now::timestamp) / 3600e6 as q_age_h
    from units as u
    left join creators as i on i.item_id = u.item_id
),

final as (
    select
        * exclude (first_age_h, q_age_h),
        -- day bucket relative to now: 0 = the last 24h; capped since only 28d windows exist.
        -- A row spans < 15 minutes, so it covers day (newest event) and at most first_day.
        least(floor(age_h / 24), 28)::integer as day,
        least(floor(first_age_h / 24), 28)::integer as first_day,
        age_h < 24 as in_1d,
        age_h < 168 as in_7d,
        age_h < 672 as in_28d,
        pow(0.5, q_age_h / 24) as dk24,
        pow(0.5, q_age_h / 168) as dk168,
        pow(0.5, q_age_h / 336) as dk336
    from joined
)

select * from final
