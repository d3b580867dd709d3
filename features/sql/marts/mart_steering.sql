-- mart_steering: what users ask of their feed in words, per kind and target: how many users ask for it now and ever.
--   kind: more, less, never or mood
--   target: a topic, creator:<id>, maturity:<rating>, or the mood's name
--   users_now: users whose steering in force asks for it (a mood counts until cleared or replaced)
--   users_ever: users who ever asked for it
--   requests: stored steerings that asked for it (the history)
--   steering_users_now: users with any steering in force (the same on every row)
--   steering_users_ever: users who ever set a steering (the same on every row)
with

source as (
    select
        user_id,
        ts,
        steering,
        coalesce(cleared, false) as cleared,
        row_number() over (partition by user_id order by ts desc) = 1 as is_current
    from user_steering
),

kept as (
    select * from source where not cleared and steering is not null
),

targets as (
    select user_id, is_current, 'more' as kind,
           unnest(from_json(steering -> 'more', '["VARCHAR"]')) as target
    from kept
    union all
    select user_id, is_current, 'less',
           unnest(from_json(steering -> 'less', '["VARCHAR"]'))
    from kept
    union all
    select user_id, is_current, 'never',
           unnest(from_json(steering -> 'never', '["VARCHAR"]'))
    from kept
    union all
    select user_id, is_current, 'mood', (steering ->> 'mood')
    from kept
    where (steering ->> 'mood') is not null
),

totals as (
    select
        count(distinct user_id) filter (where is_current) as steering_users_now,
        count(distinct user_id) as steering_users_ever
    from kept
),

final as (
    select
        t.kind,
        regexp_replace(t.target, '^topic:', '') as target,
        count(distinct t.user_id) filter (where t.is_current) as users_now,
        count(distinct t.user_id) as users_ever,
        count(*) as requests,
        any_value(totals.steering_users_now) as steering_users_now,
        any_value(totals.steering_users_ever) as steering_users_ever
    from targets t cross join totals
    group by t.kind, t.target
)

select * from final order by users_now desc, requests desc, kind, target
